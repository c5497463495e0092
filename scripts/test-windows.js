#!/usr/bin/env node
// Cross-compiles the native core and its CTest suite for Windows (mingw-w64)
// and runs every test executable under wine: the IOCP/AFD poller and the
// Winsock socket_ops, checked on a Linux machine. `npm run test:windows`.
//
// Needs x86_64-w64-mingw32-g++-posix and wine (Debian: g++-mingw-w64-x86-64,
// wine, wine64); installs them with apt-get when missing and running as root
// (CI). The build goes to build-windows/ and wine's prefix to
// build-windows/wineprefix (both gitignored); the first run initialises the
// prefix, which takes a minute. Options: --no-build (run what is built),
// --only=NAME (one test, e.g. --only=poller_test).
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const buildDir = path.join(root, 'build-windows');
const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const only = (args.find((a) => a.startsWith('--only=')) || '').slice('--only='.length);
const jobs = String(Math.max(1, require('node:os').availableParallelism?.() ?? 2));

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function ensureTools() {
  const missing = ['x86_64-w64-mingw32-g++-posix', 'wine', 'cmake'].filter((c) => !have(c));
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !have('apt-get')) {
    console.error(`test-windows: missing ${missing.join(', ')}; install g++-mingw-w64-x86-64 wine wine64 cmake`);
    process.exit(2);
  }
  console.log(`test-windows: installing ${missing.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', 'g++-mingw-w64-x86-64', 'wine', 'wine64', 'cmake'],
    { stdio: 'inherit', env });
}

function build() {
  const run = (cmd, a) => execFileSync(cmd, a, { cwd: root, stdio: 'inherit' });
  run('cmake', ['-S', root, '-B', buildDir, '-DCMAKE_BUILD_TYPE=RelWithDebInfo', '-DPN_ASSERTS=ON',
    `-DCMAKE_TOOLCHAIN_FILE=${path.join(root, 'cmake', 'mingw-w64.cmake')}`]);
  run('cmake', ['--build', buildDir, '--parallel', jobs]);
}

const wineEnv = {
  ...process.env,
  WINEPREFIX: path.join(buildDir, 'wineprefix'),
  WINEDEBUG: '-all',
  // No Mono/Gecko download prompts while the prefix is created.
  WINEDLLOVERRIDES: 'mscoree,mshtml=',
};

function initPrefix() {
  if (fs.existsSync(path.join(wineEnv.WINEPREFIX, 'system.reg'))) return;
  console.log('test-windows: creating the wine prefix (first run, ~1 min)');
  spawnSync('wineboot', ['--init'], { env: wineEnv, stdio: 'ignore', timeout: 300_000 });
}

function main() {
  if (!noBuild) {
    ensureTools();
    build();
  }
  initPrefix();
  const tests = fs.readdirSync(buildDir)
    .filter((f) => f.endsWith('_test.exe'))
    .filter((f) => !only || f === `${only}.exe`)
    .sort();
  let passed = 0;
  const failed = [];
  for (const exe of tests) {
    const t0 = Date.now();
    const r = spawnSync('wine', [path.join(buildDir, exe)], {
      env: wineEnv, encoding: 'utf8', timeout: 180_000, maxBuffer: 16 << 20,
    });
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const out = `${r.stdout || ''}${r.stderr || ''}`.replace(/\r/g, '');
    if (r.status === 0) {
      passed++;
      console.log(`ok    ${exe} (${secs}s)`);
      // Skips and wine notes are printed by the tests as "  (...)" lines.
      for (const line of out.split('\n')) if (/^\s+\(/.test(line)) console.log(`      ${line.trim()}`);
    } else {
      failed.push(exe);
      const why = r.error ? r.error.message : `exit ${r.status}${r.signal ? ` ${r.signal}` : ''}`;
      console.log(`FAIL  ${exe} (${secs}s, ${why})\n${out.replace(/^/gm, '      ')}`);
    }
  }
  // Stop this prefix's wineserver now rather than leave it lingering.
  spawnSync('wineserver', ['-k'], { env: wineEnv, stdio: 'ignore' });
  console.log(`windows: ${passed} passed, ${failed.length} failed${failed.length ? ` (${failed.join(', ')})` : ''}`);
  process.exit(failed.length === 0 && tests.length > 0 ? 0 : 1);
}

main();
