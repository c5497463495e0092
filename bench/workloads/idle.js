'use strict';
// idle.js - server RSS per idle connection. server (run with --expose-gc):
// baseline RSS after GC at start, "report" -> RSS after GC once `conns`
// connections are in. client: opens `conns` idle connections, says
// "connected", then waits.
const { parseArgs, send, commands } = require('../lib/worker');

const { role, net, opts } = parseArgs();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Node and Deno expose V8's gc() with --expose-gc; Bun has its own.
const gc = typeof globalThis.gc === 'function' ? globalThis.gc
  : typeof Bun !== 'undefined' ? () => Bun.gc(true) : null; // eslint-disable-line no-undef

async function settledRss() {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(50);
  }
  return process.memoryUsage().rss;
}

if (role === 'server') {
  if (!gc) throw new Error('run with --expose-gc');
  const held = new Set();
  const server = net.createServer((sock) => {
    held.add(sock);
    sock.on('error', () => {});
    sock.on('data', () => {});
    sock.on('close', () => held.delete(sock));
  });
  server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, async () => {
    const base = await settledRss();
    send('ready', { port: server.address().port, base });
    commands(async (cmd) => {
      if (cmd !== 'report') return;
      for (let i = 0; i < 200 && held.size < opts.conns; i++) await sleep(25);
      const rss = await settledRss();
      send('report', { bytesPerConn: (rss - base) / opts.conns, held: held.size, base, rss });
    });
  });
} else if (role === 'client') {
  const { conns, port } = opts;
  const socks = [];
  let connected = 0;
  let opening = 0;
  const batch = 200;
  const open = () => {
    const sock = net.connect(port, '127.0.0.1');
    socks.push(sock);
    opening++;
    sock.on('error', (err) => { throw err; });
    sock.on('connect', () => {
      opening--;
      if (++connected === conns) send('connected');
      else if (socks.length < conns && opening < batch) open();
    });
  };
  for (let i = 0; i < Math.min(batch, conns); i++) open();
  commands();
} else {
  throw new Error(`bad role ${role}`);
}
