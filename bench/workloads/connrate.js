'use strict';
// connrate.js - `count` short connections, at most `inflight` at once; the
// server writes one byte and ends each connection first.
const { parseArgs, send, commands, now } = require('../lib/worker');

const { role, net, opts } = parseArgs();

if (role === 'server') {
  const server = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.resume();
    sock.end('x');
  });
  server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, () => send('ready', { port: server.address().port }));
  commands();
} else if (role === 'client') {
  const { count, inflight } = opts;
  let started = 0;
  let closed = 0;
  let errors = 0;
  const t0 = now();
  const one = () => {
    started++;
    const sock = net.connect(opts.port, '127.0.0.1');
    sock.on('error', () => { errors++; });
    sock.resume();
    sock.on('close', () => {
      closed++;
      if (started < count) one();
      else if (closed === count) {
        const secs = now() - t0;
        send('result', { connsPerSec: count / secs, errors });
        process.exit(0);
      }
    });
  };
  for (let i = 0; i < Math.min(inflight, count); i++) one();
} else {
  throw new Error(`bad role ${role}`);
}
