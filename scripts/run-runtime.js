#!/usr/bin/env node
// run-runtime.js - runs scripts/runtime-smoke.cjs under Bun or Deno, using the
// binary the `bun` / `deno` dev dependencies installed (their install
// scripts are not run by npm here, so the executables are called directly).
// Usage: node scripts/run-runtime.js bun|deno
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const which = process.argv[2];
// Deno is fetched on first use into .runtimes/ rather than being a dev
// dependency: its npm package lists every platform's binary as optional, and
// the registry reachable here lacks the non-Linux ones, so a lockfile with it
// cannot be completed (npm ci would refuse it).
const DENO_PACKAGE = '@deno/linux-x64-glibc@2.9.6';
const candidates = {
  bun: ['node_modules/bun/bin/bun.exe', 'node_modules/@oven/bun-linux-x64/bin/bun',
    'node_modules/@oven/bun-linux-x64-baseline/bin/bun'],
  deno: ['.runtimes/node_modules/@deno/linux-x64-glibc/deno'],
}[which];
if (which === 'deno' && process.platform === 'linux' && process.arch === 'x64'
  && !fs.existsSync(path.join(root, candidates[0]))) {
  console.log(`deno: installing ${DENO_PACKAGE} into .runtimes/`);
  spawnSync('npm', ['install', '--prefix', path.join(root, '.runtimes'), '--no-save', '--no-audit', '--no-fund',
    '--no-package-lock', DENO_PACKAGE], { cwd: root, stdio: 'inherit', timeout: 300000 });
}
if (!candidates) {
  console.error('usage: node scripts/run-runtime.js bun|deno');
  process.exit(2);
}

// The first candidate that exists and answers --version.
let bin = null;
for (const rel of candidates) {
  const file = path.join(root, rel);
  if (!fs.existsSync(file)) continue;
  try { fs.chmodSync(file, 0o755); } catch { /* read-only is fine if executable */ }
  const probe = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20000 });
  if (probe.status === 0) {
    bin = file;
    console.log(`${which}: ${probe.stdout.trim().split('\n')[0]} (${rel})`);
    break;
  }
}
if (!bin) {
  console.error(`${which}: no working binary found in ${candidates.join(', ')}`);
  console.log(`${which}: 0 passed, 1 failed`);
  process.exit(1);
}

const script = path.join(__dirname, 'runtime-smoke.cjs');
const args = which === 'deno' ? ['run', '-A', script] : [script];
const run = spawnSync(bin, args, { cwd: root, stdio: 'inherit', timeout: 180000 });
process.exit(run.status === null ? 1 : run.status);
