// runtimes.js - the Bun and Deno binaries the tests run: Bun is a dev
// dependency; Deno is fetched on first use into the gitignored .runtimes/.
// Used by scripts/run-runtime.js and test/prebuild.test.ts.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// Deno is not a dev dependency: its npm package lists every platform's binary
// as optional, and the registry reachable here lacks the non-Linux ones, so a
// lockfile with it cannot be completed (npm ci would refuse it).
const DENO_PACKAGE = '@deno/linux-x64-glibc@2.9.6';

const CANDIDATES = {
  bun: ['node_modules/bun/bin/bun.exe', 'node_modules/@oven/bun-linux-x64/bin/bun',
    'node_modules/@oven/bun-linux-x64-baseline/bin/bun'],
  deno: ['.runtimes/node_modules/@deno/linux-x64-glibc/deno'],
};

/**
 * The first binary of `which` ('bun' | 'deno') under `root` that answers
 * --version, as { bin, rel, version }, or null. Deno is installed first if
 * missing (Linux x64 only); `log` reports that.
 */
function findRuntime(which, root, log = () => undefined) {
  const candidates = CANDIDATES[which];
  if (!candidates) throw new Error(`unknown runtime ${which}`);
  if (which === 'deno' && process.platform === 'linux' && process.arch === 'x64'
    && !fs.existsSync(path.join(root, candidates[0]))) {
    log(`deno: installing ${DENO_PACKAGE} into .runtimes/`);
    spawnSync('npm', ['install', '--prefix', path.join(root, '.runtimes'), '--no-save', '--no-audit', '--no-fund',
      '--no-package-lock', DENO_PACKAGE], { cwd: root, stdio: 'inherit', timeout: 300000 });
  }
  for (const rel of candidates) {
    const file = path.join(root, rel);
    if (!fs.existsSync(file)) continue;
    try { fs.chmodSync(file, 0o755); } catch { /* read-only is fine if executable */ }
    const probe = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20000 });
    if (probe.status === 0) return { bin: file, rel, version: probe.stdout.trim().split('\n')[0] };
  }
  return null;
}

module.exports = { CANDIDATES, DENO_PACKAGE, findRuntime };
