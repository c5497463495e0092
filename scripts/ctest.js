#!/usr/bin/env node
// Builds the native core and its tests with plain cmake (no Node headers needed)
// and runs them with CTest. Used by `npm test` (test:native).
//
// Options (before any cmake argument): --build-dir=DIR puts the build in DIR
// (relative to the repository root) instead of build/native-tests, so that
// sanitizer builds (scripts/sanitize.js) live apart. Every other argument goes
// to cmake's configure step (e.g. -DCMAKE_CXX_FLAGS=...).
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const jobs = String(Math.max(1, require('node:os').availableParallelism?.() ?? 2));
let extra = process.argv.slice(2);
let buildDir = path.join(root, 'build', 'native-tests');
const dirArg = extra.find((a) => a.startsWith('--build-dir='));
if (dirArg) {
  buildDir = path.resolve(root, dirArg.slice('--build-dir='.length));
  extra = extra.filter((a) => a !== dirArg);
}

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
}

try {
  // Optimized as shipped, with the core's invariants checked (PN_ASSERT).
  run('cmake', ['-S', root, '-B', buildDir, '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '-DPN_ASSERTS=ON', ...extra]);
  run('cmake', ['--build', buildDir, '--parallel', jobs]);
  run('ctest', ['--test-dir', buildDir, '--output-on-failure', '--timeout', '120']);
} catch (err) {
  process.exit(typeof err.status === 'number' && err.status !== 0 ? err.status : 1);
}
