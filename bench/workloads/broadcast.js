'use strict';
// broadcast.js - a game server's send side: `conns` clients, and every tick
// (`hz` per second, `secs` seconds) the server writes one `size`-byte message
// to each of them; with `burnMs`, every tick first burns that much CPU in JS
// (the simulation step). The server reports its event-loop utilization, CPU
// per message and how late its ticks started; the client checks each
// connection's messages arrive complete and in order, and counts them.
//
// Driver commands: server "go" starts the ticks (answers "done" with its
// numbers at the end); client "report" answers with what it received.
const { performance } = require('node:perf_hooks');
const { parseArgs, send, commands, now, utilization } = require('../lib/worker');

const { role, net, opts } = parseArgs();

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function burn(ms) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  return x;
}

if (role === 'server') {
  const { size, hz, secs, burnMs = 0 } = opts;  // and conns: how many clients come
  const socks = [];
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => {});
    socks.push(sock);
  });
  server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () => send('ready', { port: server.address().port }));

  const run = () => {
    const msg = Buffer.alloc(size, 0x62);
    const period = 1000 / hz;
    const ticks = Math.round(secs * hz);
    const late = [];
    let written = 0;
    let tick = 0;
    const t0 = performance.now();
    const elu0 = performance.eventLoopUtilization?.();
    const cpu0 = process.cpuUsage();
    const step = () => {
      const due = t0 + tick * period;
      late.push(performance.now() - due);
      if (burnMs > 0) burn(burnMs);
      for (const sock of socks) {
        // Each message is its own Buffer: it carries the tick number the
        // client checks for order.
        const m = Buffer.from(msg);
        m.writeUInt32LE(tick, 0);
        sock.write(m);
        written++;
      }
      tick++;
      if (tick < ticks) {
        setTimeout(step, Math.max(0, t0 + tick * period - performance.now()));
        return;
      }
      const cpu = process.cpuUsage(cpu0);
      const elu = utilization(elu0);
      late.sort((a, b) => a - b);
      send('done', {
        written, ticks, elu, cpuUs: cpu.user + cpu.system,
        lateP50ms: percentile(late, 50), lateP99ms: percentile(late, 99), lateMaxms: late[late.length - 1],
        seconds: (performance.now() - t0) / 1000,
      });
    };
    setTimeout(step, 0);
  };
  // A client's 'connect' can come before this side has accepted it: start
  // the ticks only once every connection is in, so each gets every tick.
  const whenAllIn = (deadline) => {
    if (socks.length >= opts.conns || Date.now() > deadline) run();
    else setTimeout(whenAllIn, 5, deadline);
  };
  commands((cmd) => { if (cmd === 'go') whenAllIn(Date.now() + 10000); });
} else if (role === 'client') {
  const { conns, size, port } = opts;
  let connected = 0;
  let received = 0;
  let disorder = 0;
  let firstAt = 0;
  let lastAt = 0;
  const socks = [];
  let opening = 0;
  let next = 0;
  // At most 100 connects in flight, as a crowd of players would arrive.
  const open = () => {
    while (opening < 100 && next < conns) {
      next++;
      opening++;
      const sock = net.connect(port, '127.0.0.1');
      socks.push(sock);
      let expect = 0;
      let pending = Buffer.alloc(0);
      sock.on('error', (err) => { throw err; });
      sock.on('connect', () => {
        opening--;
        if (++connected === conns) send('connected');
        open();
      });
      sock.on('data', (chunk) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        let off = 0;
        while (pending.length - off >= size) {
          const tick = pending.readUInt32LE(off);
          if (tick !== expect) disorder++;
          expect = tick + 1;
          off += size;
          received++;
          lastAt = now();
          if (firstAt === 0) firstAt = lastAt;
        }
        pending = pending.subarray(off);
      });
    }
  };
  open();
  commands((cmd) => {
    if (cmd !== 'report') return;
    send('report', { received, disorder, seconds: lastAt - firstAt });
    for (const s of socks) s.destroy();
  });
}
