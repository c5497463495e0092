'use strict';
// pingpong.js - one noDelay connection, `size`-byte request, same-size
// response, `count` timed round trips after `warmup` untimed ones.
const { parseArgs, send, commands, now } = require('../lib/worker');
const { percentile } = require('../lib/stats');

const { role, net, opts } = parseArgs();

if (role === 'server') {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => {});
    sock.on('data', (buf) => sock.write(buf));
  });
  server.listen(0, '127.0.0.1', () => send('ready', { port: server.address().port }));
  commands();
} else if (role === 'client') {
  const { size, count, warmup } = opts;
  const msg = Buffer.alloc(size, 0x62);
  const rtts = new Float64Array(count);
  const sock = net.connect(opts.port, '127.0.0.1');
  sock.setNoDelay(true);
  let i = -warmup;
  let got = 0;
  let tStart = 0;
  let tSend = 0;
  const next = () => { tSend = now(); sock.write(msg); };
  sock.on('connect', next);
  sock.on('data', (buf) => {
    got += buf.length;
    if (got < size) return;
    got -= size;
    const t = now();
    if (i >= 0) rtts[i] = t - tSend;
    else if (i === -1) tStart = t;
    i++;
    if (i < count) { next(); return; }
    const secs = now() - tStart;
    sock.destroy();
    send('result', {
      rtps: count / secs,
      p50us: percentile(rtts, 50) * 1e6,
      p99us: percentile(rtts, 99) * 1e6,
    });
    process.exit(0);
  });
  sock.on('error', (err) => { throw err; });
} else {
  throw new Error(`bad role ${role}`);
}
