#!/usr/bin/env node
// prebuild-all.js - the prebuilt addon for every platform an npm user installs
// on, written in node-gyp-build's layout (`npm run prebuild:all`):
//   prebuilds/linux-x64/protonet.node     prebuildify --napi --strip (npm run prebuild)
//   prebuilds/linux-arm64/protonet.node   g++-aarch64-linux-gnu  (scripts/build-cross.js)
//   prebuilds/darwin-x64/protonet.node    zig c++ x86_64-macos   (scripts/build-cross.js)
//   prebuilds/darwin-arm64/protonet.node  zig c++ aarch64-macos  (scripts/build-cross.js)
//   prebuilds/win32-x64/protonet.node     mingw-w64              (scripts/build-windows.js)
// Each file is checked to be a shared object of its platform's format and CPU
// (ELF / Mach-O / PE header), then listed. One Node-API binary per platform
// serves every Node version (and Bun and Deno), so there is no ABI tag.
//
// Usage: node scripts/prebuild-all.js [--only=a,b]   (default: all five)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { buildTarget } = require('./build-cross');
const { root } = require('./lib/tools');

const PLATFORMS = ['linux-x64', 'linux-arm64', 'win32-x64', 'darwin-x64', 'darwin-arm64'];
// The Windows addon's build script (cross-compiled with mingw-w64). Its
// buildAddon() writes prebuilds/win32-x64/protonet.node itself.
const WINDOWS_BUILD_SCRIPT = path.join(__dirname, 'build-windows.js');

const prebuildsDir = path.join(root, 'prebuilds');
const target = (platform) => path.join(prebuildsDir, platform, 'protonet.node');

async function build(platform) {
  if (platform === 'linux-x64') {
    execFileSync('npm', ['run', 'prebuild'], { cwd: root, stdio: 'inherit' });
  } else if (platform === 'win32-x64') {
    if (!fs.existsSync(WINDOWS_BUILD_SCRIPT)) {
      throw new Error(`win32-x64: no ${path.relative(root, WINDOWS_BUILD_SCRIPT)} in this checkout to build the Windows addon`);
    }
    await require(WINDOWS_BUILD_SCRIPT).buildAddon();
  } else {
    const built = await buildTarget(platform, { strip: true });
    fs.mkdirSync(path.dirname(target(platform)), { recursive: true });
    fs.copyFileSync(built, target(platform));
  }
  if (!fs.existsSync(target(platform))) throw new Error(`${platform}: ${path.relative(root, target(platform))} was not written`);
}

/** "ELF x86-64", "Mach-O arm64", "PE x86-64"... from the file's header; the platform it is for. */
function identify(file) {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) === 0x7f454c46) {
    const machine = b.readUInt16LE(18);
    const cpu = { 0x3e: 'x64', 0xb7: 'arm64' }[machine];
    return { what: `ELF ${cpu ?? `machine ${machine}`} shared object`, platform: b.readUInt16LE(16) === 3 && cpu ? `linux-${cpu}` : null };
  }
  if (b.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = { 0x01000007: 'x64', 0x0100000c: 'arm64' }[b.readUInt32LE(4)];
    // dlopen() loads an MH_DYLIB (6) or an MH_BUNDLE (8, what node-gyp links).
    const kind = { 6: 'dylib', 8: 'bundle' }[b.readUInt32LE(12)];
    return { what: `Mach-O ${cpu ?? 'unknown CPU'} ${kind ?? `filetype ${b.readUInt32LE(12)}`}`, platform: cpu && kind ? `darwin-${cpu}` : null };
  }
  if (b.toString('latin1', 0, 2) === 'MZ') {
    const pe = b.readUInt32LE(0x3c);
    const cpu = { 0x8664: 'x64', 0xaa64: 'arm64' }[b.readUInt16LE(pe + 4)];
    const dll = (b.readUInt16LE(pe + 22) & 0x2000) !== 0;
    return { what: `PE ${cpu ?? 'unknown CPU'} ${dll ? 'DLL' : 'executable'}`, platform: cpu && dll ? `win32-${cpu}` : null };
  }
  return { what: 'unknown format', platform: null };
}

async function main() {
  const only = (process.argv.find((a) => a.startsWith('--only=')) || '').slice('--only='.length);
  const platforms = only ? only.split(',') : PLATFORMS;
  for (const p of platforms) if (!PLATFORMS.includes(p)) throw new Error(`unknown platform ${p} (${PLATFORMS.join(', ')})`);
  if (!only) fs.rmSync(prebuildsDir, { recursive: true, force: true });
  const failed = [];
  for (const p of platforms) {
    try {
      await build(p);
    } catch (err) {
      console.error(`prebuild-all: ${p}: ${err.message}`);
      failed.push(p);
    }
  }
  console.log('\nprebuild-all:');
  for (const p of platforms) {
    if (!fs.existsSync(target(p))) { console.log(`  ${p.padEnd(13)} MISSING`); continue; }
    const id = identify(target(p));
    const ok = id.platform === p;
    if (!ok && !failed.includes(p)) failed.push(p);
    console.log(`  ${path.relative(root, target(p)).padEnd(38)} ${String(fs.statSync(target(p)).size).padStart(8)} B  ${id.what}${ok ? '' : `  (WRONG: not ${p})`}`);
  }
  if (failed.length) {
    console.error(`prebuild-all: failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}

module.exports = { PLATFORMS, identify };

if (require.main === module) {
  main().catch((err) => {
    console.error(`prebuild-all: ${err.message}`);
    process.exit(1);
  });
}
