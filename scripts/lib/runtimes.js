// runtimes.js - where the JavaScript runtimes other than the running Node come
// from, and how a script is started in each. Shared by the runtime test
// subsets (scripts/run-runtime.js) and the benchmark (bench/run.js).
//
// Bun is a dev dependency (npm 11 blocks its postinstall, so its binary is
// found inside the package rather than where that script would put it). Deno
// is fetched on first use into .runtimes/ rather than being a dev dependency:
// its npm package lists every platform's binary as optional, and the registry
// reachable here lacks the non-Linux ones, so a lockfile with it cannot be
// completed (npm ci would refuse it).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const DENO_PACKAGE = '@deno/linux-x64-glibc@2.9.6';

const CANDIDATES = {
  bun: ['node_modules/bun/bin/bun.exe', 'node_modules/@oven/bun-linux-x64/bin/bun',
    'node_modules/@oven/bun-linux-x64-baseline/bin/bun'],
  deno: ['.runtimes/node_modules/@deno/linux-x64-glibc/deno'],
};

/** How each runtime runs a CommonJS script file with its arguments. */
const SCRIPT_ARGS = {
  node: (script, { exposeGc } = {}) => [...(exposeGc ? ['--expose-gc'] : []), script],
  bun: (script) => [script],
  deno: (script, { exposeGc } = {}) => ['run', '-A', ...(exposeGc ? ['--v8-flags=--expose-gc'] : []), script],
};

// Deno keeps V8's compiled code per file in DENO_DIR, and V8 checks a cached
// entry against the source's length only: a rebuilt dist/ file of the same
// length (a moved comment) ran stale code and threw a SyntaxError when a
// function first compiled lazily (seen, then reproduced by swapping two
// lines of the same length). So each run gets a DENO_DIR of its own, which
// every Deno it starts inherits (the processes its tests spawn too), removed
// when this process exits.
function freshDenoDir() {
  if (process.env.DENO_DIR) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protonet-deno-'));
  process.env.DENO_DIR = dir;
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
}

function installDeno(log) {
  if (process.platform !== 'linux' || process.arch !== 'x64') return;
  if (fs.existsSync(path.join(root, CANDIDATES.deno[0]))) return;
  log(`deno: installing ${DENO_PACKAGE} into .runtimes/`);
  spawnSync('npm', ['install', '--prefix', path.join(root, '.runtimes'), '--no-save', '--no-audit', '--no-fund',
    '--no-package-lock', DENO_PACKAGE], { cwd: root, stdio: 'inherit', timeout: 300000 });
}

/**
 * The runtime's binary, its version line, and scriptArgs(script, opts) for
 * starting a script in it; throws when no working binary can be had.
 * 'node' is the running Node itself.
 */
function resolveRuntime(name, { log = (s) => console.log(s) } = {}) {
  if (name === 'node') {
    return { name, bin: process.execPath, version: `Node ${process.version}`, scriptArgs: SCRIPT_ARGS.node };
  }
  const candidates = CANDIDATES[name];
  if (!candidates) throw new Error(`unknown runtime: ${name} (node, bun or deno)`);
  if (name === 'deno') {
    installDeno(log);
    freshDenoDir();
  }
  for (const rel of candidates) {
    const file = path.join(root, rel);
    if (!fs.existsSync(file)) continue;
    try { fs.chmodSync(file, 0o755); } catch { /* read-only is fine if executable */ }
    const probe = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20000 });
    if (probe.status === 0) {
      const line = probe.stdout.trim().split('\n')[0];
      const version = line.startsWith(name) ? line : `${name} ${line}`;
      return { name, bin: file, rel, version, scriptArgs: SCRIPT_ARGS[name] };
    }
  }
  throw new Error(`no working ${name} binary found in ${candidates.join(', ')}`);
}

module.exports = { resolveRuntime, root };
