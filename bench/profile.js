#!/usr/bin/env node
'use strict';
// profile.js - runs one workload's server under a profiler, loaded by its
// usual client (not profiled), then stops the server so the profiler writes
// its report.
//
//   node bench/profile.js WORKLOAD IMPL [key=value ...] -- PROFILER ARGS...
//   node bench/profile.js pingpong protonet count=20000 -- strace -c -f -o /tmp/pp.txt
//   node bench/profile.js fanin node secs=3 -- perf record -e cpu-clock -g -o /tmp/f.data
//   node bench/profile.js bulk protonet --runtime bun -- perf record -g -o /tmp/b.data
//
// --runtime bun|deno runs both ends in that runtime (PROFILE_NODE_ARGS applies
// to Node only).
// WORKLOAD: bulk, pingpong, fanin, connrate, udp-pingpong, udp-fanin (client options as key=value).
// Prints the client's result and the profiler's exit status.
const path = require('node:path');
const { start } = require('./lib/proc');
const { SINGLE_RUN_DEFAULTS: DEFAULTS, singleRunOptions } = require('./lib/single_run');
const { resolveRuntime } = require('../scripts/lib/runtimes');

async function main() {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  if (dash < 2) throw new Error('usage: node bench/profile.js WORKLOAD IMPL [k=v ...] -- PROFILER ARGS...');
  const [name, impl, ...rest] = argv.slice(0, dash);
  const at = rest.indexOf('--runtime');
  const runtime = resolveRuntime(at >= 0 ? rest[at + 1] : 'node', { log: (s) => console.error(s) });
  const kv = at >= 0 ? [...rest.slice(0, at), ...rest.slice(at + 2)] : rest;
  const wrapper = argv.slice(dash + 1);
  if (!DEFAULTS[name]) throw new Error(`workload must be one of ${Object.keys(DEFAULTS).join(', ')}`);
  const opts = singleRunOptions(name, kv);
  const script = path.join(__dirname, 'workloads', `${name}.js`);
  const timeoutMs = 300000;
  const nodeArgs = runtime.name === 'node' ? (process.env.PROFILE_NODE_ARGS || '').split(' ').filter(Boolean) : [];
  const cmd = [...wrapper, runtime.bin, ...nodeArgs, ...runtime.scriptArgs(script), 'server', impl, JSON.stringify(opts)];
  const server = start(cmd[0], cmd.slice(1), { timeoutMs, label: 'profiled server' });
  try {
    const { port } = await server.wait('ready');
    const client = start(runtime.bin, [...runtime.scriptArgs(script), 'client', impl, JSON.stringify({ ...opts, port })], { timeoutMs, label: 'client' });
    if (name === 'fanin' || name === 'udp-fanin') {
      await client.wait('connected');
      client.send('go');
    }
    const r = await client.wait('result');
    await client.stop();
    console.log(JSON.stringify(r));
  } finally {
    const ex = await server.stop(30000);
    console.log(`profiler exit: ${JSON.stringify(ex)}`);
    if (server.stderr.trim()) console.log(server.stderr.trim().split('\n').slice(-40).join('\n'));
  }
}

main().catch((err) => { console.error(err.message); process.exit(1); });
