'use strict';
// httpload.js - the fallback when wrk is missing: `conns` keep-alive
// connections (always node:net), one GET in flight each, for `secs`.
// Reports req/s and p99 latency like wrk does.
const net = require('node:net');
const { percentile } = require('../lib/stats');

const { port, conns, secs } = JSON.parse(process.argv[2]);
const req = Buffer.from(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
const lat = [];
let done = 0;
let running = true;
const now = () => Number(process.hrtime.bigint()) / 1e9;

for (let c = 0; c < conns; c++) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  let buf = '';
  let tSend = 0;
  const fire = () => { tSend = now(); sock.write(req); };
  sock.on('connect', fire);
  sock.on('error', () => {});
  sock.setEncoding('latin1');
  sock.on('data', (text) => {
    buf += text;
    for (;;) {
      const head = buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const m = /content-length:\s*(\d+)/i.exec(buf.slice(0, head));
      const end = head + 4 + (m ? Number(m[1]) : 0);
      if (buf.length < end) return;
      buf = buf.slice(end);
      if (!running) return;
      done++;
      lat.push(now() - tSend);
      fire();
    }
  });
}
const t0 = now();
setTimeout(() => {
  running = false;
  const elapsed = now() - t0;
  process.stdout.write(`${JSON.stringify({ type: 'result', reqPerSec: done / elapsed, requests: done, p99ms: percentile(lat, 99) * 1e3 })}\n`);
  process.exit(0);
}, secs * 1000);
