'use strict';
// udp-pingpong.js - a `size`-byte datagram to an echo server and back,
// `count` timed round trips after `warmup` untimed ones (connected client).
const { parseArgs, send, commands, now } = require('../lib/worker');
const { percentile } = require('../lib/stats');

const { role, dgram, opts } = parseArgs();

if (role === 'server') {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
  sock.bind(0, '127.0.0.1', () => send('ready', { port: sock.address().port }));
  commands();
} else if (role === 'client') {
  const { size, count, warmup } = opts;
  const msg = Buffer.alloc(size, 0x62);
  const rtts = new Float64Array(count);
  const sock = dgram.createSocket('udp4');
  let i = -warmup;
  let tStart = 0;
  let tSend = 0;
  const next = () => { tSend = now(); sock.send(msg); };
  sock.on('message', () => {
    const t = now();
    if (i >= 0) rtts[i] = t - tSend;
    else if (i === -1) tStart = t;
    i++;
    if (i < count) { next(); return; }
    const secs = now() - tStart;
    sock.close();
    send('result', { rtps: count / secs, p50us: percentile(rtts, 50) * 1e6, p99us: percentile(rtts, 99) * 1e6 });
    process.exit(0);
  });
  // A datagram lost on loopback would stall the exchange: resend after a while.
  setInterval(() => { if (now() - tSend > 0.2) next(); }, 200).unref();
  sock.connect(opts.port, '127.0.0.1', next);
} else {
  throw new Error(`bad role ${role}`);
}
