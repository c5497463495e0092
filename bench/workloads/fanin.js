'use strict';
// fanin.js - `conns` connections to one echo server, each with one `size`-byte
// message in flight. The client counts echoed messages over `secs`; the
// server reports its event-loop delay p99 over the same window
// (driver commands: "mark" starts the window, "report" ends it).
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { parseArgs, send, commands, now } = require('../lib/worker');

const { role, net, opts } = parseArgs();

if (role === 'server') {
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.on('data', (buf) => sock.write(buf));
  });
  const h = monitorEventLoopDelay({ resolution: 1 });
  server.listen(0, '127.0.0.1', () => send('ready', { port: server.address().port }));
  commands((cmd) => {
    if (cmd === 'mark') {
      h.reset();
      h.enable();
      send('marked');
    } else if (cmd === 'report') {
      h.disable();
      send('report', { eldP99ms: h.percentile(99) / 1e6, eldMaxMs: h.max / 1e6 });
    }
  });
} else if (role === 'client') {
  const { conns, size, secs } = opts;
  const msg = Buffer.alloc(size, 0x63);
  let connected = 0;
  let running = false;
  let msgs = 0;
  const socks = [];
  for (let c = 0; c < conns; c++) {
    const sock = net.connect(opts.port, '127.0.0.1');
    socks.push(sock);
    let got = 0;
    sock.on('error', (err) => { throw err; });
    sock.on('connect', () => { if (++connected === conns) send('connected'); });
    sock.on('data', (buf) => {
      got += buf.length;
      while (got >= size) {
        got -= size;
        if (!running) return;
        msgs++;
        sock.write(msg);
      }
    });
  }
  commands((cmd) => {
    if (cmd !== 'go') return;
    running = true;
    const t0 = now();
    const cpu0 = process.cpuUsage();
    for (const s of socks) s.write(msg);
    setTimeout(() => {
      running = false;
      const elapsed = now() - t0;
      const cpu = process.cpuUsage(cpu0);
      send('result', { msgsPerSec: msgs / elapsed, msgs, clientCpuUs: cpu.user + cpu.system });
      for (const s of socks) s.destroy();
      process.exit(0);
    }, secs * 1000);
  });
} else {
  throw new Error(`bad role ${role}`);
}
