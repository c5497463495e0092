// mocha-subset.js - running a subset of the mocha suite in another runtime or
// under an emulator, with named exclusions: each left-out test is given by its
// full title (or a RegExp over titles) and a reason, and every exclusion must
// match a test of the subset, so none goes stale silently.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const mochaJs = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');

/** Runs cmd, collecting stdout (echoed when `echo`); SIGKILL after timeoutMs. */
function runCapture(cmd, args, { env = process.env, timeoutMs, echo = false, tag }) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      if (echo) process.stdout.write(d);
      out += d.toString('utf8');
      if (out.length > 4e6) out = out.slice(-2e6);
    });
    const timer = setTimeout(() => {
      console.error(`${tag}: ${path.basename(cmd)} timed out after ${timeoutMs / 1000} s`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out }); });
  });
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The full titles of `files` (mocha --dry-run under this Node) and the
 * `--grep` pattern that matches exactly the excluded ones. Throws when an
 * exclusion matches nothing.
 */
async function resolveExclusions(files, exclude, { config, tag }) {
  const dry = await runCapture(process.execPath, [mochaJs, '--config', config, '--dry-run', '--reporter', 'json', ...files],
    { timeoutMs: 120000, tag });
  const titles = JSON.parse(dry.out.slice(dry.out.indexOf('{'))).tests.map((t) => t.fullTitle);
  const excluded = new Set();
  for (const e of exclude) {
    const hits = titles.filter((t) => (typeof e.match === 'string' ? t === e.match : e.match.test(t))
      && !(e.excludeIf && e.excludeIf.test(t)));
    if (hits.length === 0) throw new Error(`the exclusion ${String(e.match)} matches no test: update the list`);
    for (const t of hits) excluded.add(t);
  }
  const grep = excluded.size ? `^(?:${[...excluded].map(escapeRe).join('|')})$` : null;
  return { titles, excluded, grep };
}

/** mocha's "N passing" / "N failing" counts from its spec output (colours removed). */
function mochaCounts(out) {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const count = (word) => {
    const m = new RegExp(`^\\s*(\\d+) ${word}`, 'm').exec(plain);
    return m ? Number(m[1]) : 0;
  };
  return { passed: count('passing'), failed: count('failing'), pending: count('pending') };
}

module.exports = { mochaJs, runCapture, resolveExclusions, mochaCounts };
