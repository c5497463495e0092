'use strict';
// udp-fanin.js - `clients` sockets in one process send `size`-byte datagrams
// at a fixed total `rate` per second to one server socket, which answers each.
// The server reports its event-loop utilization and loop delay p99 over the
// window the driver marks ("mark" starts it, "report" ends it); the clients
// report what they sent and got back.
const { monitorEventLoopDelay, performance } = require('node:perf_hooks');
const { parseArgs, send, commands, now, utilization } = require('../lib/worker');

const { role, dgram, opts } = parseArgs();

if (role === 'server') {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
  const h = monitorEventLoopDelay({ resolution: 1 });
  let elu0 = null;
  sock.bind(0, '127.0.0.1', () => send('ready', { port: sock.address().port }));
  commands((cmd) => {
    if (cmd === 'mark') {
      h.reset();
      h.enable();
      elu0 = performance.eventLoopUtilization?.();
      send('marked');
    } else if (cmd === 'report') {
      h.disable();
      const elu = utilization(elu0);
      send('report', { elu, eldP99ms: h.percentile(99) / 1e6 });
    }
  });
} else if (role === 'client') {
  const { clients, size, rate, secs } = opts;
  const msg = Buffer.alloc(size, 0x63);
  const socks = [];
  let bound = 0;
  let answers = 0;
  for (let c = 0; c < clients; c++) {
    const s = dgram.createSocket('udp4');
    s.on('message', () => { answers++; });
    s.connect(opts.port, '127.0.0.1', () => { if (++bound === clients) send('connected'); });
    socks.push(s);
  }
  commands((cmd) => {
    if (cmd !== 'go') return;
    // Every millisecond tick sends what is due, round robin over the sockets.
    const t0 = now();
    let sent = 0;
    let next = 0;
    const timer = setInterval(() => {
      const elapsed = now() - t0;
      const due = Math.floor(rate * Math.min(elapsed, secs)) - sent;
      for (let i = 0; i < due; i++) {
        socks[next].send(msg);
        next = (next + 1) % clients;
      }
      sent += Math.max(0, due);
      if (elapsed >= secs) {
        clearInterval(timer);
        // Let the last answers arrive.
        setTimeout(() => send('result', { sent, answers, secs: elapsed }), 300);
      }
    }, 1);
  });
} else {
  throw new Error(`bad role ${role}`);
}
