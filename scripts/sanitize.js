#!/usr/bin/env node
// Sanitizer and valgrind runs of the native core tests (and of the addon under
// the JS suite). Every build lives in build-san/<mode>, apart from build/
// (which `node-gyp rebuild` wipes).
//
//   node scripts/sanitize.js asan [--native-only]
//       core tests with -fsanitize=address,undefined (leak checking on); then
//       the addon built with ASan+UBSan, loaded by a mocha subset through
//       PROTONET_ADDON (scripts/addon-override.js) with libasan preloaded into node.
//   node scripts/sanitize.js tsan       core tests with -fsanitize=thread
//   node scripts/sanitize.js valgrind   core tests under
//       valgrind --leak-check=full --error-exitcode=1
//
// Uses g++'s sanitizers (no extra packages); CXX=clang++ works as well.
// Env: SAN_MOCHA_SPEC (space-separated test-dist/... files) runs only those
// mocha files against the ASan addon instead of the whole suite.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const mode = process.argv[2];
const nativeOnly = process.argv.includes('--native-only');
const sanRoot = path.join(root, 'build-san');
const cxx = process.env.CXX || 'g++';

const SAN_ENV = {
  // Leaks are errors for the core tests; UBSan findings abort the test.
  ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  TSAN_OPTIONS: 'halt_on_error=1:second_deadlock_stack=1',
};

function run(cmd, args, opts = {}) {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
}

function ctest(dir, flags, env) {
  run(process.execPath, [
    path.join(__dirname, 'ctest.js'),
    `--build-dir=${path.relative(root, dir)}`,
    '-DCMAKE_BUILD_TYPE=Debug',
    `-DCMAKE_CXX_COMPILER=${cxx}`,
    `-DCMAKE_CXX_FLAGS=${flags}`,
  ], { env: { ...process.env, ...env } });
}

/** The test executables CTest knows in `dir`, as [name, argv]. */
function listTests(dir) {
  const out = execFileSync('ctest', ['--test-dir', dir, '--show-only=json-v1'], { encoding: 'utf8' });
  return JSON.parse(out).tests.map((t) => [t.name, t.command]);
}

function buildAsanAddon(outDir) {
  const addonApi = require(require.resolve('node-addon-api', { paths: [root] })).include_dir;
  const napiHeaders = require(require.resolve('node-api-headers', { paths: [root] })).include_dir;
  const core = fs.readdirSync(path.join(root, 'native/core'))
    .filter((f) => f.endsWith('.cc') && !/^poller_/.test(f) && !/_win\.cc$/.test(f)).map((f) => `native/core/${f}`);
  const napi = fs.readdirSync(path.join(root, 'native/napi'))
    .filter((f) => f.endsWith('.cc')).map((f) => `native/napi/${f}`);
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, 'protonet.node');
  run(cxx, [
    '-std=c++17', '-fPIC', '-shared', '-g', '-O1', '-fno-omit-frame-pointer', '-fno-exceptions',
    '-fsanitize=address,undefined', '-fno-sanitize-recover=undefined',
    '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
    `-I${addonApi.replace(/"/g, '')}`, `-I${napiHeaders}`, '-Inative/core',
    ...core, 'native/core/poller_epoll.cc', ...napi, '-pthread', '-o', out,
  ]);
  return out;
}

function runtimeLib(name) {
  const p = execFileSync(cxx, [`-print-file-name=${name}`], { encoding: 'utf8' }).trim();
  if (!path.isAbsolute(p) || !fs.existsSync(p)) throw new Error(`${cxx} has no ${name}`);
  return fs.realpathSync(p);
}

function asanJs(addon) {
  const preload = [runtimeLib('libasan.so'), runtimeLib('libubsan.so')].join(':');
  // Default: the whole suite (.mocharc's spec); it takes well under a minute under ASan.
  const specs = (process.env.SAN_MOCHA_SPEC || '').split(/\s+/).filter(Boolean);
  run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.test.json']);
  const env = {
    ...process.env,
    PROTONET_ADDON: addon,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS || ''} --require ${path.join(__dirname, 'addon-override.js')}`.trim(),
    LD_PRELOAD: preload,
    // node itself is not instrumented: its own allocations look like leaks.
    ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=0:verify_asan_link_order=0',
    UBSAN_OPTIONS: SAN_ENV.UBSAN_OPTIONS,
  };
  // Prove the override works before trusting a green run.
  const probe = spawnSync(process.execPath, ['-e',
    "const s = require('protonet').createServer().listen(0, '127.0.0.1', () => {" +
    " console.log(Object.keys(require.cache).filter((k) => k.endsWith('.node')).join(','));" +
    " s.close(); });"],
  { cwd: root, env, encoding: 'utf8', timeout: 30_000 });
  const loaded = probe.stdout.trim();
  console.log(`addon loaded: ${loaded || '(none)'} ${probe.stderr.trim()}`);
  if (path.resolve(loaded) !== path.resolve(addon)) throw new Error('the ASan addon was not the one loaded');
  run(process.execPath, [path.join(root, 'node_modules/mocha/bin/mocha.js'), '--timeout', '60000',
    ...(specs.length ? ['--no-config', ...specs] : [])], { env });
}

function valgrind(dir) {
  let failed = 0;
  for (const [name, argv] of listTests(dir)) {
    const r = spawnSync('valgrind', ['--leak-check=full', '--error-exitcode=1', '--quiet',
      '--track-fds=no', ...argv], { stdio: 'inherit', timeout: 600_000 });
    const ok = r.status === 0;
    if (!ok) failed++;
    console.log(`valgrind ${name}: ${ok ? 'ok' : `FAILED (status ${r.status}, signal ${r.signal})`}`);
  }
  console.log(`valgrind: ${failed} of ${listTests(dir).length} failed`);
  if (failed) process.exit(1);
}

try {
  switch (mode) {
    case 'asan': {
      ctest(path.join(sanRoot, 'asan'),
        '-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1 -g', SAN_ENV);
      if (!nativeOnly) asanJs(buildAsanAddon(path.join(sanRoot, 'asan-addon')));
      break;
    }
    case 'tsan':
      ctest(path.join(sanRoot, 'tsan'), '-fsanitize=thread -O1 -g', SAN_ENV);
      break;
    case 'valgrind': {
      const dir = path.join(sanRoot, 'valgrind');
      ctest(dir, '-O1 -g', {});
      valgrind(dir);
      break;
    }
    default:
      console.error('usage: node scripts/sanitize.js asan [--native-only] | tsan | valgrind');
      process.exit(2);
  }
} catch (err) {
  if (err.message && typeof err.status !== 'number') console.error(err.message);
  process.exit(typeof err.status === 'number' && err.status !== 0 ? err.status : 1);
}
