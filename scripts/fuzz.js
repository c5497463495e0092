#!/usr/bin/env node
// libFuzzer runs over the native core (clang++ -fsanitize=fuzzer,address,undefined):
//   test/fuzz/address_fuzz.cc  addr_from_ip / addr_to_ip round trips, addr_from_path
//   test/fuzz/loop_fuzz.cc     command/event sequences against a fresh pn::Loop
//
//   node scripts/fuzz.js [--seconds N] [name...]     (N per harness, default 60)
// Builds into build-san/fuzz; corpora persist in build-san/fuzz/corpus-<name>.
// Needs clang (Debian: apt-get install -y clang libclang-rt-14-dev).
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'build-san', 'fuzz');
const args = process.argv.slice(2);
const si = args.indexOf('--seconds');
const seconds = si >= 0 ? Number(args.splice(si, 2)[1]) : 60;
const names = args.length ? args : ['address_fuzz', 'loop_fuzz'];
const cxx = process.env.CXX_FUZZ || 'clang++';

const core = fs.readdirSync(path.join(root, 'native/core'))
  .filter((f) => f.endsWith('.cc') && !/^poller_/.test(f)).map((f) => path.join(root, 'native/core', f));
core.push(path.join(root, 'native/core/poller_epoll.cc'));

fs.mkdirSync(out, { recursive: true });
let failed = 0;
for (const name of names) {
  const bin = path.join(out, name);
  const corpus = path.join(out, `corpus-${name}`);
  fs.mkdirSync(corpus, { recursive: true });
  console.log(`building ${name}`);
  execFileSync(cxx, ['-std=c++17', '-g', '-O1', '-fno-exceptions',
    '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=undefined',
    `-I${path.join(root, 'native/core')}`, path.join(root, 'test/fuzz', `${name}.cc`), ...core,
    '-pthread', '-o', bin], { stdio: 'inherit' });
  console.log(`fuzzing ${name} for ${seconds} s`);
  const r = spawnSync(bin, [corpus, `-max_total_time=${seconds}`, '-timeout=20', '-rss_limit_mb=2048',
    `-artifact_prefix=${out}/${name}-`, '-print_final_stats=1'],
  { stdio: 'inherit', timeout: (seconds + 120) * 1000,
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1' } });
  const ok = r.status === 0;
  if (!ok) failed++;
  console.log(`${name}: ${ok ? 'no findings' : `FAILED (status ${r.status}, signal ${r.signal}); artifacts in ${out}`}`);
}
process.exit(failed ? 1 : 0);
