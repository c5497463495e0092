'use strict';
// load.js - the HTTP load generator: wrk when installed, else httpload.js
// (node:net, separate process). Same generator for both implementations.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { start } = require('./proc');

function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its banner
    return err.code !== 'ENOENT' && err.status !== undefined;
  }
}

const UNIT = { us: 1e-3, ms: 1, s: 1e3 };

function parseWrk(text) {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(text);
  const total = /^\s*(\d+) requests in /m.exec(text);
  if (!rps) throw new Error(`cannot parse wrk output:\n${text}`);
  return {
    reqPerSec: Number(rps[1]),
    p99ms: p99 ? Number(p99[1]) * UNIT[p99[2]] : NaN,
    requests: total ? Number(total[1]) : NaN,
  };
}

function makeHttpLoad(timeoutMs) {
  const wrk = hasWrk();
  const name = wrk ? 'wrk (1 thread)' : 'built-in node:net keep-alive generator (bench/workloads/httpload.js)';
  async function httpLoad(port, secs, conns) {
    if (wrk) {
      const p = start('wrk', ['-t1', `-c${conns}`, `-d${secs}s`, '--latency', `http://127.0.0.1:${port}/`],
        { timeoutMs, label: 'wrk' });
      const ex = await p.finish();
      if (ex.code !== 0) throw new Error(`wrk exited ${ex.code}: ${p.stderr}`);
      return parseWrk(p.stdout);
    }
    const script = path.join(__dirname, '..', 'workloads', 'httpload.js');
    const p = start(process.execPath, [script, JSON.stringify({ port, conns, secs })], { timeoutMs, label: 'httpload' });
    const r = await p.wait('result');
    await p.stop();
    return r;
  }
  return { httpLoad, name };
}

module.exports = { makeHttpLoad, parseWrk };
