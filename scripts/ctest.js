#!/usr/bin/env node
// Builds the native core and its tests with plain cmake (no Node headers needed)
// and runs them with CTest. Used by `npm test` (test:native).
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const buildDir = path.join(root, 'build', 'native-tests');
const jobs = String(Math.max(1, require('node:os').availableParallelism?.() ?? 2));
const extra = process.argv.slice(2);

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
}

try {
  run('cmake', ['-S', root, '-B', buildDir, '-DCMAKE_BUILD_TYPE=RelWithDebInfo', ...extra]);
  run('cmake', ['--build', buildDir, '--parallel', jobs]);
  run('ctest', ['--test-dir', buildDir, '--output-on-failure', '--timeout', '120']);
} catch (err) {
  process.exit(typeof err.status === 'number' && err.status !== 0 ? err.status : 1);
}
