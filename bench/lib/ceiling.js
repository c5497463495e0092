'use strict';
// ceiling.js - compiles bench/ceiling.c (cc, else g++) into bench/results/
// and runs it: the machine's raw loopback bulk MB/s and ping-pong RTT.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { start } = require('./proc');

const SRC = path.join(__dirname, '..', 'ceiling.c');
const BIN = path.join(__dirname, '..', 'results', 'ceiling');

function compile() {
  const fresh = fs.existsSync(BIN) && fs.statSync(BIN).mtimeMs >= fs.statSync(SRC).mtimeMs;
  if (fresh) return BIN;
  fs.mkdirSync(path.dirname(BIN), { recursive: true });
  let lastErr;
  for (const [cc, extra] of [['cc', []], ['g++', ['-x', 'c']]]) {
    try {
      execFileSync(cc, [...extra, '-O2', '-pthread', '-o', BIN, SRC], { stdio: 'pipe', timeout: 60000 });
      return BIN;
    } catch (err) { lastErr = err; }
  }
  throw new Error(`cannot compile ${SRC}: ${lastErr && lastErr.message}`);
}

async function runCeiling({ quick, timeoutMs }) {
  const bin = compile();
  const bytes = (quick ? 256 : 1024) * 1024 * 1024;
  const p = start(bin, [String(bytes), String(quick ? 10000 : 50000)], { timeoutMs, label: 'ceiling' });
  const r = await p.wait('result');
  await p.stop();
  return r;
}

module.exports = { runCeiling };
