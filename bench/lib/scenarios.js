'use strict';
// scenarios.js - how each workload is driven: which worker processes to
// start, in what order, and which numbers come back. One entry per workload;
// run(impl, ctx) resolves to { metricKey: number }.
const path = require('node:path');
const { start } = require('./proc');

const W = (name) => path.join(__dirname, '..', 'workloads', `${name}.js`);

/** A workload script in the runtime under test (ctx.runtime: scripts/lib/runtimes.js). */
function worker(name, role, impl, opts, ctx, runOpts = {}) {
  const { bin, scriptArgs } = ctx.runtime;
  return start(bin, [...scriptArgs(W(name), runOpts), role, impl, JSON.stringify(opts)], {
    timeoutMs: ctx.timeoutMs,
    label: `${name} ${role} (${impl})`,
  });
}

/** The server's CPU time (µs, all its threads) so far. */
async function cpuOf(server) {
  server.send('cpu');
  return (await server.wait('cpu')).us;
}

/**
 * Server in one process, client in another; the client's result is the
 * metrics, plus serverCpuUs: the server's CPU time while the client ran. CPU
 * per unit of work is steadier than a rate on a shared machine: it does not
 * count time spent waiting for a core.
 */
async function serverClient(name, impl, ctx, clientOpts, serverOpts = {}) {
  const server = worker(name, 'server', impl, serverOpts, ctx);
  try {
    const { port } = await server.wait('ready');
    const cpu0 = await cpuOf(server);
    const client = worker(name, 'client', impl, { ...clientOpts, port }, ctx);
    const result = await client.wait('result');
    const serverCpuUs = (await cpuOf(server)) - cpu0;
    await client.stop();
    return { ...result, serverCpuUs };
  } finally {
    await server.stop();
  }
}

/**
 * A target per setting: Node with the sockets on its own loop (the default),
 * Node with PROTONET_IO_THREADS set, and Bun/Deno (always I/O threads).
 * Omitted settings have no target.
 */
const T = (node, threads, other) => ({ node, threads, bun: other, deno: other });

const cpuMetric = (unit) => ({ key: 'cpu', label: `server CPU µs/${unit}`, better: 'lower' });

const MiB = 1024 * 1024;

/**
 * 1,000 clients, the server writing 256 B to each 60 times a second for 10 s
 * (burnMs: the CPU each tick burns in JS first). Every message must arrive,
 * in order, or the run fails.
 */
function broadcast(name, burnMs) {
  return {
    name,
    title: `broadcast, 1,000 clients x 256 B x 60/s${burnMs ? `, ${burnMs} ms of JS per tick` : ''}`,
    metrics: [
      // Bun measures no event-loop utilization (its reading stays at zero).
      { key: 'elu', label: 'server event-loop utilization', better: 'lower', target: burnMs ? undefined : T(0.5), optional: true },
      { key: 'lateP99ms', label: 'tick lateness p99 ms', better: 'lower', target: burnMs ? T(0.5) : undefined },
      { key: 'msgsPerSec', label: 'delivered msgs/s', better: 'higher' },
      cpuMetric('msg'),
    ],
    async run(impl, ctx) {
      const conns = 1000;
      const opts = { size: 256, hz: 60, secs: ctx.quick ? 3 : 10, burnMs, conns };
      const server = worker('broadcast', 'server', impl, opts, ctx);
      let client;
      try {
        const { port } = await server.wait('ready');
        client = worker('broadcast', 'client', impl, { conns, size: opts.size, port }, ctx);
        await client.wait('connected');
        const cpu0 = await cpuOf(server);
        server.send('go');
        const s = await server.wait('done');
        const cpuUs = (await cpuOf(server)) - cpu0;
        // Let what the server wrote last arrive before counting.
        await new Promise((r) => setTimeout(r, 500));
        client.send('report');
        const c = await client.wait('report');
        if (c.received !== s.written || c.disorder !== 0) {
          throw new Error(`${c.received} of ${s.written} messages arrived, ${c.disorder} out of order`);
        }
        return { elu: s.elu, lateP99ms: s.lateP99ms, msgsPerSec: c.received / s.seconds, cpu: cpuUs / s.written };
      } finally {
        if (client) await client.stop();
        await server.stop();
      }
    },
  };
}

/**
 * UDP flood: the sender's offered rate steps up (x1.25 from 25,000/s, 1 s
 * each) until the receiver gets less than 99% of what was sent; the result is
 * the highest rate the receiver held, in datagrams/s.
 */
async function udpFlood(impl, ctx) {
  const receiver = worker('udp-flood', 'receiver', impl, {}, ctx);
  let sender;
  try {
    const { port } = await receiver.wait('ready');
    sender = worker('udp-flood', 'sender', impl, { port, size: 64 }, ctx);
    await sender.wait('connected');
    const secs = ctx.quick ? 0.5 : 1;
    // One step at an offered rate: what arrived per second, whether at least
    // 99% of what went out arrived, and whether the sender kept up.
    const step = async (rate) => {
      receiver.send('count');
      const before = (await receiver.wait('count')).count;
      sender.send(`rate ${rate} ${secs}`);
      const { sent, secs: took } = await sender.wait('sent');
      await new Promise((r) => setTimeout(r, 200)); // what is in flight lands
      receiver.send('count');
      const got = (await receiver.wait('count')).count - before;
      return { held: got >= 0.99 * sent, perSec: got / took, senderKeptUp: sent >= 0.9 * rate * took };
    };
    // Steps of 25% find the bracket; bisecting it then resolves the highest
    // rate held to about 2% (steps alone would make every ratio a power of
    // 1.25: 1.56, 1.95, 2.44).
    let held = 0;
    let lastHeld = 0;
    let failed = 0;
    for (let rate = 25000; rate < 20e6; rate = Math.round(rate * 1.25)) {
      const r = await step(rate);
      if (!r.held) { failed = rate; break; }
      held = Math.max(held, r.perSec);
      lastHeld = rate;
      // The sender cannot offer more: what it reached is the result.
      if (!r.senderKeptUp) break;
    }
    for (let i = 0; i < 4 && lastHeld > 0 && failed > 0; i++) {
      const mid = Math.round((lastHeld + failed) / 2);
      const r = await step(mid);
      if (!r.held) { failed = mid; continue; }
      held = Math.max(held, r.perSec);
      lastHeld = mid;
      if (!r.senderKeptUp) break;
    }
    return { held };
  } finally {
    if (sender) await sender.stop();
    await receiver.stop();
  }
}

const scenarios = [
  {
    name: 'bulk',
    title: 'bulk, 1 connection, 64 KiB writes',
    metrics: [{ key: 'mbps', label: 'MB/s', better: 'higher', target: T(1.1, 1.0, 1.0) }, cpuMetric('MB')],
    async run(impl, ctx) {
      const bytes = (ctx.quick ? 256 : 1024) * MiB;
      const r = await serverClient('bulk', impl, ctx, { bytes }, { bytes });
      return { mbps: r.mbps, cpu: r.serverCpuUs / (bytes / 1e6) };
    },
  },
  {
    name: 'bulk-inproc',
    title: 'bulk, client and server in one process',
    metrics: [{ key: 'mbps', label: 'MB/s', better: 'higher', target: T(1.4, 1.0, 1.0) }],
    async run(impl, ctx) {
      const bytes = (ctx.quick ? 256 : 1024) * MiB;
      const p = worker('bulk', 'inproc', impl, { bytes }, ctx);
      const r = await p.wait('result');
      await p.stop();
      return { mbps: r.mbps };
    },
  },
  {
    name: 'pingpong',
    title: 'ping-pong, 64 B, noDelay',
    latency: true,
    metrics: [
      { key: 'rtps', label: 'round trips/s', better: 'higher', target: T(1.0, 0.9, 1.0) },
      { key: 'p50us', label: 'p50 µs', better: 'lower' },
      { key: 'p99us', label: 'p99 µs', better: 'lower' },
      cpuMetric('round trip'),
    ],
    async run(impl, ctx) {
      const count = ctx.quick ? 10000 : 50000;
      const warmup = 1000;
      const r = await serverClient('pingpong', impl, ctx, { size: 64, count, warmup });
      return { rtps: r.rtps, p50us: r.p50us, p99us: r.p99us, cpu: r.serverCpuUs / (count + warmup) };
    },
  },
  {
    name: 'fanin',
    title: 'fan-in, 100 connections echoing 1 KiB',
    metrics: [
      { key: 'msgsPerSec', label: 'msgs/s', better: 'higher', target: T(1.35, 1.0, 1.2) },
      { key: 'eldP99ms', label: 'server loop delay p99 ms', better: 'lower', target: T(0.7) },
      cpuMetric('msg'),
    ],
    async run(impl, ctx) {
      const server = worker('fanin', 'server', impl, {}, ctx);
      try {
        const { port } = await server.wait('ready');
        const secs = ctx.quick ? 1.5 : 5;
        const client = worker('fanin', 'client', impl, { port, conns: 100, size: 1024, secs }, ctx);
        await client.wait('connected');
        server.send('mark');
        await server.wait('marked');
        const cpu0 = await cpuOf(server);
        client.send('go');
        const r = await client.wait('result');
        const cpuUs = (await cpuOf(server)) - cpu0;
        server.send('report');
        const s = await server.wait('report');
        await client.stop();
        return { msgsPerSec: r.msgsPerSec, eldP99ms: s.eldP99ms, cpu: cpuUs / r.msgs };
      } finally {
        await server.stop();
      }
    },
  },
  broadcast('broadcast', 0),
  broadcast('broadcast-busy', 8),
  {
    name: 'connrate',
    title: 'connection rate, ≤50 in flight, server closes first',
    metrics: [{ key: 'connsPerSec', label: 'conns/s', better: 'higher', target: T(1.25, 1.0, 1.0) }, cpuMetric('conn')],
    async run(impl, ctx) {
      const count = ctx.quick ? 2000 : 10000;
      const r = await serverClient('connrate', impl, ctx, { count, inflight: 50 });
      if (r.errors) ctx.note(`connrate ${impl}: ${r.errors} client errors`);
      return { connsPerSec: r.connsPerSec, cpu: r.serverCpuUs / count };
    },
  },
  {
    name: 'http',
    title: 'http via emit(connection), 50 keep-alive conns',
    latency: true,
    metrics: [
      { key: 'reqPerSec', label: 'req/s', better: 'higher', target: T(1.1, 1.0, 1.1) },
      { key: 'p99ms', label: 'p99 ms', better: 'lower' },
      cpuMetric('req'),
    ],
    async run(impl, ctx) {
      const server = worker('http', 'server', impl, {}, ctx);
      try {
        const { port } = await server.wait('ready');
        const secs = ctx.quick ? 2 : 10;
        const cpu0 = await cpuOf(server);
        const r = await ctx.httpLoad(port, secs, 50);
        const cpuUs = (await cpuOf(server)) - cpu0;
        return { reqPerSec: r.reqPerSec, p99ms: r.p99ms, cpu: cpuUs / r.requests };
      } finally {
        await server.stop();
      }
    },
  },
  {
    name: 'udp-flood',
    title: 'UDP flood, 64 B datagrams, sender and receiver processes',
    metrics: [{ key: 'held', label: 'highest rate held (≥99% received), datagrams/s', better: 'higher', target: T(2.0, 2.0) }],
    run: udpFlood,
  },
  {
    name: 'udp-pingpong',
    title: 'UDP ping-pong, 64 B request/response',
    latency: true,
    metrics: [
      { key: 'rtps', label: 'round trips/s', better: 'higher', target: T(1.0, 1.0) },
      { key: 'p50us', label: 'p50 µs', better: 'lower' },
      { key: 'p99us', label: 'p99 µs', better: 'lower' },
      cpuMetric('round trip'),
    ],
    async run(impl, ctx) {
      const count = ctx.quick ? 10000 : 50000;
      const warmup = 1000;
      const r = await serverClient('udp-pingpong', impl, ctx, { size: 64, count, warmup });
      return { rtps: r.rtps, p50us: r.p50us, p99us: r.p99us, cpu: r.serverCpuUs / (count + warmup) };
    },
  },
  {
    name: 'udp-fanin',
    title: 'UDP fan-in, 100 sockets x 200 B, 50,000/s total, each answered',
    metrics: [
      // Bun measures no event-loop utilization (its reading stays at zero).
      { key: 'elu', label: 'server event-loop utilization', better: 'lower', target: T(0.6, 0.6), optional: true },
      { key: 'eldP99ms', label: 'server loop delay p99 ms', better: 'lower' },
      { key: 'answered', label: 'answered / sent', better: 'higher' },
      cpuMetric('datagram'),
    ],
    async run(impl, ctx) {
      const server = worker('udp-fanin', 'server', impl, {}, ctx);
      let client;
      try {
        const { port } = await server.wait('ready');
        const secs = ctx.quick ? 2 : 5;
        client = worker('udp-fanin', 'client', impl, { port, clients: 100, size: 200, rate: 50000, secs }, ctx);
        await client.wait('connected');
        server.send('mark');
        await server.wait('marked');
        const cpu0 = await cpuOf(server);
        client.send('go');
        const r = await client.wait('result');
        const cpuUs = (await cpuOf(server)) - cpu0;
        server.send('report');
        const s = await server.wait('report');
        return { elu: s.elu, eldP99ms: s.eldP99ms, answered: r.answers / r.sent, cpu: cpuUs / r.sent };
      } finally {
        if (client) await client.stop();
        await server.stop();
      }
    },
  },
  {
    name: 'idle',
    title: 'idle connections, server RSS after GC (client: node:net)',
    metrics: [{ key: 'bytesPerConn', label: 'RSS bytes/conn', better: 'lower', target: T(0.6) }],
    async run(impl, ctx) {
      const conns = ctx.quick ? 2000 : 5000;
      const server = worker('idle', 'server', impl, { conns }, ctx, { exposeGc: true });
      let client;
      try {
        const { port } = await server.wait('ready');
        client = worker('idle', 'client', 'node', { port, conns }, ctx);
        await client.wait('connected');
        server.send('report');
        const s = await server.wait('report');
        if (s.held !== conns) ctx.note(`idle ${impl}: server holds ${s.held}/${conns}`);
        return { bytesPerConn: s.bytesPerConn };
      } finally {
        if (client) await client.stop();
        await server.stop();
      }
    },
  },
];

/** The setting a run's targets are read for (see T). */
function settingOf(runtimeName, env = process.env) {
  if (runtimeName !== 'node') return runtimeName;
  const threads = env.PROTONET_IO_THREADS;
  return threads !== undefined && threads !== '' && threads !== '0' ? 'threads' : 'node';
}

module.exports = { scenarios, settingOf };
