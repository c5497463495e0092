#!/usr/bin/env node
'use strict';
// run.js - protonet vs node:net, alternating in one invocation.
//
//   node bench/run.js [--runtime node|bun|deno] [--quick] [--only bulk,pingpong] [--rounds N] [--json FILE]
//
// --runtime runs every workload process in that runtime (Bun, or Deno fetched
// on first use): protonet against that runtime's own node:net. The HTTP load
// generator and the C ceiling are the same whatever the runtime.
//
// Each workload runs node, protonet, node, protonet, ... (3 rounds, 5 for
// latency workloads), every process with a hard timeout. Prints a markdown
// table of medians (min–max) and protonet/node ratios, writes
// bench/results/latest.json and latest.svg (and --json FILE).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { scenarios, settingOf } = require('./lib/scenarios');
const { summary } = require('./lib/stats');
const { makeHttpLoad } = require('./lib/load');
const { runCeiling } = require('./lib/ceiling');
const { markdown } = require('./lib/table');
const { chart } = require('./lib/svg');
const { killAll } = require('./lib/proc');
const { resolveRuntime } = require('../scripts/lib/runtimes');

const IMPLS = ['node', 'protonet'];
const RESULTS = path.join(__dirname, 'results');

function parseArgs(argv) {
  const a = { quick: false, only: null, rounds: null, json: null, ceiling: true, runtime: 'node' };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${k} needs a value`); return argv[++i]; };
    if (k === '--quick') a.quick = true;
    else if (k === '--only') a.only = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (k === '--rounds') a.rounds = Number(val());
    else if (k === '--json') a.json = val();
    else if (k === '--no-ceiling') a.ceiling = false;
    else if (k === '--runtime') a.runtime = val();
    else if (k === '--help' || k === '-h') {
      console.log('usage: node bench/run.js [--runtime node|bun|deno] [--quick] [--only a,b] [--rounds N] [--json FILE] [--no-ceiling]');
      console.log(`workloads: ${scenarios.map((s) => s.name).join(', ')}`);
      process.exit(0);
    } else throw new Error(`unknown argument: ${k}`);
  }
  // `npm run bench --quick` hands the flag to npm, which passes it on as npm_config_quick.
  if (process.env.npm_config_quick === 'true') a.quick = true;
  if (a.rounds !== null && !(Number.isInteger(a.rounds) && a.rounds >= 1)) throw new Error('--rounds must be a positive integer');
  return a;
}

function progress(text) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
  else process.stderr.write(`${text}\n`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const chosen = args.only ? scenarios.filter((s) => args.only.includes(s.name)) : scenarios;
  if (args.only) {
    const unknown = args.only.filter((n) => !scenarios.some((s) => s.name === n));
    if (unknown.length) throw new Error(`unknown workload(s): ${unknown.join(', ')}`);
  }
  const timeoutMs = args.quick ? 60000 : 180000;
  const notes = [];
  const load = makeHttpLoad(timeoutMs);
  const runtime = resolveRuntime(args.runtime, { log: progress });
  const setting = settingOf(runtime.name);
  const ctx = { quick: args.quick, timeoutMs, runtime, httpLoad: load.httpLoad, note: (s) => notes.push(s) };
  const roundsOf = (s) => args.rounds ?? (s.latency ? 5 : 3);
  const steps = chosen.reduce((n, s) => n + roundsOf(s) * IMPLS.length, 0) + (args.ceiling ? 1 : 0);
  const t0 = Date.now();
  let step = 0;
  const tick = (what) => {
    step++;
    progress(`[${step}/${steps}] ${what}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  };

  const results = {
    date: new Date().toISOString(),
    quick: args.quick,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, kernel: os.release() },
    runtime: { name: runtime.name, version: runtime.version, targets: setting },
    loadavgAtStart: os.loadavg()[0],
    httpLoad: chosen.some((s) => s.name === 'http') ? load.name : undefined,
    ceiling: null,
    workloads: [],
    notes,
  };

  if (args.ceiling) {
    tick('ceiling (C)');
    try { results.ceiling = await runCeiling(ctx); } catch (err) { results.ceiling = { error: err.message }; notes.push(`ceiling: ${err.message}`); }
  }

  for (const s of chosen) {
    const raw = Object.fromEntries(IMPLS.map((impl) => [impl, Object.fromEntries(s.metrics.map((m) => [m.key, []]))]));
    const rounds = roundsOf(s);
    for (let r = 1; r <= rounds; r++) {
      for (const impl of IMPLS) {
        tick(`${s.name}: ${impl}, round ${r}/${rounds}`);
        let got = {};
        try { got = await s.run(impl, ctx); } catch (err) { notes.push(`${s.name} ${impl} round ${r}: ${err.message}`); }
        for (const m of s.metrics) raw[impl][m.key].push(Number.isFinite(got[m.key]) ? got[m.key] : NaN);
      }
    }
    results.workloads.push({
      name: s.name,
      title: s.title,
      rounds,
      metrics: s.metrics.map(({ target, ...m }) => {
        const node = summary(raw.node[m.key]);
        const protonet = summary(raw.protonet[m.key]);
        return {
          ...m, target: target?.[setting], node, protonet, ratio: protonet.median / node.median,
          raw: { node: raw.node[m.key], protonet: raw.protonet[m.key] },
        };
      }),
    });
  }
  results.loadavgAtEnd = os.loadavg()[0];
  if (results.loadavgAtStart > 0.5) {
    notes.push(`the machine was busy at the start (1-min load average ${results.loadavgAtStart.toFixed(2)}): numbers are noisier than usual`);
  }
  progress(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (process.stderr.isTTY) process.stderr.write('\n');

  const table = markdown(results);
  console.log(`\n${results.date} — ${results.machine.cpus} cores (${results.machine.model}), ${runtime.version}${args.quick ? ', --quick' : ''}`);
  console.log('Both ends use the implementation under test, except http (load generator) and idle (client: node:net).');
  if (results.httpLoad) console.log(`http load generator: ${results.httpLoad}`);
  console.log(`\n${table}\n`);
  for (const n of notes) console.log(`note: ${n}`);

  fs.mkdirSync(RESULTS, { recursive: true });
  const json = `${JSON.stringify({ ...results, table }, null, 2)}\n`;
  fs.writeFileSync(path.join(RESULTS, 'latest.json'), json);
  if (args.json) fs.writeFileSync(args.json, json);
  fs.writeFileSync(path.join(RESULTS, 'latest.svg'), chart(results));
  const unmeasured = (m) => m.optional && m.raw.node.every(Number.isNaN) && m.raw.protonet.every(Number.isNaN);
  const failed = results.workloads.some((w) => w.metrics.some((m) => !Number.isFinite(m.ratio) && !unmeasured(m)));
  return failed ? 1 : 0;
}

main().then((code) => { killAll(); process.exit(code); }, (err) => {
  console.error(err && err.stack ? err.stack : err);
  killAll();
  process.exit(2);
});
