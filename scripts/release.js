#!/usr/bin/env node
// release.js - the release tarball, built but never published
// (`npm run release`): the TypeScript build, every platform's prebuild
// (scripts/prebuild-all.js), then `npm pack` into release/. The tarball is
// checked to hold all five prebuilds, the JavaScript and the sources a
// fallback node-gyp build needs. Publishing it stays a deliberate human step
// (`npm publish release/protonet-<version>.tgz`).
//
// A release is built from a clean work tree whose HEAD is tagged
// v<package.json version>; --snapshot builds from anything (for a try run).
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { PLATFORMS } = require('./prebuild-all');
const { root } = require('./lib/tools');

const snapshot = process.argv.includes('--snapshot');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function fail(message) {
  console.error(`release: ${message}`);
  process.exit(1);
}

function git(args) {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

if (!snapshot) {
  if (git(['status', '--porcelain', '--untracked-files=no']) !== '') fail('the work tree has changes (or --snapshot)');
  const tags = (git(['tag', '--points-at', 'HEAD']) || '').split('\n');
  if (!tags.includes(`v${version}`)) fail(`HEAD is not tagged v${version} (or --snapshot)`);
}

const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
run('npm', ['run', 'build:ts']);
run(process.execPath, [path.join(__dirname, 'prebuild-all.js')]);

const out = path.join(root, 'release');
fs.mkdirSync(out, { recursive: true });
// --ignore-scripts: prepack would rebuild the linux-x64 prebuild just written.
const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out],
  { cwd: root, encoding: 'utf8' }));
const tarball = path.join(out, packed[0].filename);
const files = new Set(packed[0].files.map((f) => f.path));
const want = [...PLATFORMS.map((p) => `prebuilds/${p}/protonet.node`), 'package.json', 'dist/index.js', 'dist/index.mjs',
  'dist/index.d.ts', 'binding.gyp', 'native/core/loop.cc', 'native/napi/addon.cc'];
const missing = want.filter((f) => !files.has(f));
if (missing.length) fail(`${path.relative(root, tarball)} lacks ${missing.join(', ')}`);
console.log(`release: ${path.relative(root, tarball)} (${packed[0].size} B packed, ${packed[0].entryCount} files; `
  + `prebuilds: ${PLATFORMS.join(', ')})${snapshot ? ' [snapshot]' : ''}`);
