#!/usr/bin/env node
'use strict';
// ab.js - protonet against protonet: the same workload from two checkouts,
// alternating (A B A B ...), so a change is judged against the build without
// it in the same minutes of this noisy machine. Prints each round and the
// medians of the rate and of the server's CPU per unit (steadier than rates).
//
//   git worktree add --detach /work/base <commit> && (cd /work/base && npm ci)
//   node bench/ab.js WORKLOAD /work/base . [--rounds N] [--runtime node|bun|deno] [key=value ...]
//   node bench/ab.js WORKLOAD . . --env-a PROTONET_X=0 --env-b PROTONET_X=1   (one tree, two settings)
//
// WORKLOAD: bulk, pingpong, fanin, connrate. Each tree runs its own
// bench/workloads/WORKLOAD.js (server and client, separate processes), which
// loads that tree's protonet. Environment variables pass through to both.
const path = require('node:path');
const { start } = require('./lib/proc');
const { median } = require('./lib/stats');
const { SINGLE_RUN_DEFAULTS: DEFAULTS, singleRunOptions } = require('./lib/single_run');
const { resolveRuntime } = require('../scripts/lib/runtimes');

// Units of work per run (for CPU per unit) and the rate a result reports.
const UNITS = {
  bulk: (o) => o.bytes / 1e6,
  pingpong: (o) => o.count + o.warmup,
  fanin: (o, r) => r.msgs,
  connrate: (o) => o.count,
  'udp-pingpong': (o) => o.count + o.warmup,
};
const RATE = { bulk: 'mbps', pingpong: 'rtps', fanin: 'msgsPerSec', connrate: 'connsPerSec', 'udp-pingpong': 'rtps' };

async function once(runtime, tree, name, opts, env) {
  const script = path.join(path.resolve(tree), 'bench', 'workloads', `${name}.js`);
  const timeoutMs = 300000;
  const run = (role, o) => start(runtime.bin, [...runtime.scriptArgs(script), role, 'protonet', JSON.stringify(o)],
    { timeoutMs, label: `${tree} ${role}`, env: { ...process.env, ...env } });
  const server = run('server', opts);
  try {
    const { port } = await server.wait('ready');
    server.send('cpu');
    const before = (await server.wait('cpu')).us;
    const client = run('client', { ...opts, port });
    if (name === 'fanin') {
      await client.wait('connected');
      client.send('go');
    }
    const r = await client.wait('result');
    await client.stop();
    server.send('cpu');
    const after = (await server.wait('cpu')).us;
    return { rate: r[RATE[name]], cpuPerUnit: (after - before) / UNITS[name](opts, r) };
  } finally {
    await server.stop();
  }
}

async function main() {
  const args = process.argv.slice(2);
  const [name, treeA, treeB] = args;
  if (!DEFAULTS[name] || !treeA || !treeB) {
    throw new Error(`usage: node bench/ab.js ${Object.keys(DEFAULTS).join('|')} TREE_A TREE_B [--rounds N] [--runtime node|bun|deno] [key=value ...]`);
  }
  let rounds = 4;
  let runtimeName = 'node';
  const envs = { A: {}, B: {} };
  const pairs = [];
  for (let i = 3; i < args.length; i++) {
    if (args[i] === '--rounds') rounds = Number(args[++i]);
    else if (args[i] === '--runtime') runtimeName = args[++i];
    else if (args[i] === '--env-a' || args[i] === '--env-b') {
      const [k, ...v] = args[++i].split('=');
      envs[args[i - 1] === '--env-a' ? 'A' : 'B'][k] = v.join('=');
    }
    else pairs.push(args[i]);
  }
  const runtime = resolveRuntime(runtimeName, { log: (s) => console.error(s) });
  const opts = singleRunOptions(name, pairs);
  const res = { A: [], B: [] };
  const trees = { A: treeA, B: treeB };
  for (let i = 0; i < rounds; i++) {
    for (const t of ['A', 'B']) {
      const r = await once(runtime, trees[t], name, opts, envs[t]);
      res[t].push(r);
      console.log(`${t} round ${i + 1}: rate ${r.rate.toFixed(0)}, server CPU per unit ${r.cpuPerUnit.toFixed(2)} us`);
    }
  }
  for (const t of ['A', 'B']) {
    const rate = median(res[t].map((r) => r.rate));
    const cpu = median(res[t].map((r) => r.cpuPerUnit));
    const env = Object.entries(envs[t]).map(([k, v]) => ` ${k}=${v}`).join('');
    console.log(`${t} (${trees[t]}${env}): median rate ${rate.toFixed(0)}, server CPU per unit ${cpu.toFixed(2)} us`);
  }
}

main().catch((err) => { console.error(err.message); process.exit(1); });
