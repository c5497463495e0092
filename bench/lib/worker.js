'use strict';
// worker.js - what every workload script shares: arguments, the net module
// under test, messages to the driver, commands from it.
const path = require('node:path');
const readline = require('node:readline');

function loadNet(impl) {
  if (impl === 'node') return require('node:net');
  if (impl === 'protonet') return require(path.join(__dirname, '..', '..'));
  throw new Error(`unknown implementation: ${impl}`);
}

/** The dgram module under test: node:dgram (the runtime's own) or protonet/dgram. */
function loadDgram(impl) {
  if (impl === 'node') return require('node:dgram');
  if (impl === 'protonet') return require(path.join(__dirname, '..', '..', 'dist', 'dgram.js'));
  throw new Error(`unknown implementation: ${impl}`);
}

/** argv: <role> <impl> [options as JSON] */
function parseArgs() {
  const [role, impl, json] = process.argv.slice(2);
  return {
    role, impl, opts: json ? JSON.parse(json) : {},
    get net() { return loadNet(impl); },
    get dgram() { return loadDgram(impl); },
  };
}

function send(type, data = {}) {
  process.stdout.write(`${JSON.stringify({ type, ...data })}\n`);
}

/**
 * Calls onLine for each stdin line; the process exits when stdin closes.
 * Every worker also answers "cpu" with its CPU time so far (all threads, µs),
 * which the driver turns into CPU per unit of work.
 */
function commands(onLine = () => {}) {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'cpu') {
      const { user, system } = process.cpuUsage();
      send('cpu', { us: user + system });
      return;
    }
    onLine(cmd);
  });
  rl.on('close', () => process.exit(0));
}

function fail(err) {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

const now = () => Number(process.hrtime.bigint()) / 1e9; // seconds

/**
 * Event-loop utilization since `start` (a reading of performance.eventLoopUtilization()),
 * NaN where the runtime does not measure it (Bun and Deno answer zeros).
 */
function utilization(start) {
  const elu = performance.eventLoopUtilization?.(start);
  if (!elu || (elu.idle === 0 && elu.active === 0)) return NaN;
  return elu.utilization;
}

module.exports = { loadDgram, parseArgs, send, commands, fail, now, utilization };
