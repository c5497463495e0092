#!/usr/bin/env node
// Soak: mixed loopback traffic on protonet (connect churn, bulk, echo, half-close,
// resets) for a while, sampling RSS, open fds and threads; fails if any of them
// trends upward (least-squares slope over the samples after warm-up), or if the
// traffic itself goes wrong (short echo, unexpected error).
//
//   node --expose-gc scripts/soak.js [--seconds N]     (default 300)
//
// Samples every 10 s, or every 5 s for runs shorter than 2 minutes.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const net = require(path.resolve(__dirname, '..'));

const argi = process.argv.indexOf('--seconds');
const seconds = argi > 0 ? Number(process.argv[argi + 1]) : 300;
if (!(seconds >= 10)) {
  console.error('--seconds must be >= 10');
  process.exit(2);
}
const every = seconds < 120 ? 5 : 10;
const deadline = Date.now() + seconds * 1000;
const stats = { churn: 0, bulk: 0, echo: 0, half: 0, reset: 0, failures: [] };
const EXPECTED = new Set(['ECONNRESET', 'EPIPE', 'ECANCELED']);

const fail = (what) => { if (stats.failures.length < 20) stats.failures.push(what); };
const onErr = (where) => (e) => { if (!EXPECTED.has(e.code)) fail(`${where}: ${e.code || e.message}`); };

// The server picks a behaviour from the first byte of a connection.
const BULK = Buffer.alloc(4 << 20, 0x5a);
const server = net.createServer({ allowHalfOpen: true }, (s) => {
  s.on('error', onErr('server'));
  s.once('data', (first) => {
    const kind = String.fromCharCode(first[0]);
    if (kind === 'B') { s.end(BULK); return; }
    if (kind === 'H') {
      // Half-close: answer with the byte count once the client has ended.
      let n = first.length - 1;
      s.on('data', (d) => { n += d.length; });
      s.on('end', () => s.end(`${n}`));
      return;
    }
    // 'E' echo, 'C' churn, 'R' reset: echo everything.
    s.write(first.subarray(1));
    s.pipe(s);
  });
});

function conn(kind, body, onDone) {
  return new Promise((resolve) => {
    const c = net.connect(server.address().port, '127.0.0.1');
    let got = 0;
    let text = '';
    c.on('error', onErr(kind));
    c.on('data', (d) => { got += d.length; if (kind === 'H') text += d; });
    c.on('close', () => { onDone(got, text); resolve(); });
    c.on('connect', () => body(c));
  });
}

const loops = {
  churn: () => conn('C', (c) => c.end('Chello'), (got) => { if (got > 5) fail('churn: extra bytes'); stats.churn++; }),
  bulk: () => conn('B', (c) => c.end('B'), (got) => { if (got !== BULK.length) fail(`bulk: ${got} bytes`); stats.bulk++; }),
  echo: () => {
    const size = 1 + Math.floor(Math.random() * 256 * 1024);
    return conn('E', (c) => {
      c.write('E');
      c.write(Buffer.alloc(size, 1));
      c.on('data', () => { if (c.bytesRead >= size) c.end(); });
    }, (got) => { if (got !== size) fail(`echo: ${got} of ${size}`); stats.echo++; });
  },
  half: () => {
    const size = Math.floor(Math.random() * 128 * 1024);
    return conn('H', (c) => { c.write('H'); c.end(Buffer.alloc(size, 2)); },
      (got, text) => { if (text !== String(size)) fail(`half-close: '${text}' for ${size}`); stats.half++; });
  },
  reset: () => conn('R', (c) => {
    c.write('R');
    const b = Buffer.alloc(64 * 1024, 3);
    for (let i = 0; i < 8; i++) c.write(b);
    setTimeout(() => c.resetAndDestroy(), Math.random() * 5);
  }, () => { stats.reset++; }),
};

async function driver(name, concurrency) {
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) await loops[name]();
  }));
}

function sample() {
  global.gc?.();
  return {
    t: (Date.now() - start) / 1000,
    rssMiB: process.memoryUsage().rss / 1048576,
    fds: fs.readdirSync('/proc/self/fd').length,
    threads: fs.readdirSync('/proc/self/task').length,
  };
}

function slope(points, key) {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p[key], 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) { num += (p.t - mx) * (p[key] - my); den += (p.t - mx) ** 2; }
  return den === 0 ? 0 : num / den; // per second
}

const start = Date.now();
const samples = [];
server.listen(0, '127.0.0.1', async () => {
  const timer = setInterval(() => {
    const s = sample();
    samples.push(s);
    console.log(`t=${s.t.toFixed(0)}s rss=${s.rssMiB.toFixed(1)}MiB fds=${s.fds} threads=${s.threads} ` +
      `conns churn=${stats.churn} bulk=${stats.bulk} echo=${stats.echo} half=${stats.half} reset=${stats.reset}`);
  }, every * 1000);
  await Promise.all([driver('churn', 8), driver('bulk', 2), driver('echo', 4), driver('half', 4), driver('reset', 4)]);
  clearInterval(timer);
  server.close();
  await new Promise((r) => setTimeout(r, 500));
  const end = sample(); // after the traffic: not part of the trend
  console.log(`after the traffic: rss=${end.rssMiB.toFixed(1)}MiB fds=${end.fds} threads=${end.threads}`);

  // The first third is warm-up (JIT, allocator pools, the outbox cap growing).
  const steady = samples.slice(Math.max(1, Math.floor(samples.length / 3)));
  const span = steady.length > 1 ? steady[steady.length - 1].t - steady[0].t : 0;
  const verdicts = [];
  if (steady.length < 3) verdicts.push('too few samples');
  const rssSlope = slope(steady, 'rssMiB') * 60;
  const fdSlope = slope(steady, 'fds') * 60;
  const thrSlope = slope(steady, 'threads') * 60;
  // Allowed noise: RSS may wander by a few MiB (GC, allocator); fds and threads
  // fluctuate with the connections in flight (~22 sockets) but must not climb.
  const rssGrowth = (rssSlope * span) / 60;
  if (rssGrowth > Math.max(16, 0.1 * steady[0].rssMiB)) verdicts.push(`RSS grows ${rssSlope.toFixed(2)} MiB/min`);
  if ((fdSlope * span) / 60 > 20) verdicts.push(`fds grow ${fdSlope.toFixed(2)}/min`);
  if ((thrSlope * span) / 60 > 1) verdicts.push(`threads grow ${thrSlope.toFixed(2)}/min`);
  verdicts.push(...stats.failures);
  console.log(`soak ${seconds}s: slopes per minute rss=${rssSlope.toFixed(3)}MiB fds=${fdSlope.toFixed(3)} ` +
    `threads=${thrSlope.toFixed(3)}; connections ${JSON.stringify({ ...stats, failures: undefined })}`);
  if (verdicts.length) {
    console.log(`soak FAILED: ${verdicts.join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log('soak passed');
  }
  // Anything still open would keep us alive: bound the exit.
  setTimeout(() => { console.log('soak: still alive 5 s after the end (leaked handle?)'); process.exit(1); }, 5000).unref();
});
