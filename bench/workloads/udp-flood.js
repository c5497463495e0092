'use strict';
// udp-flood.js - one sender process, one receiver process, `size`-byte
// datagrams on loopback. The driver steps the sender's offered rate up; the
// receiver counts what arrives. Receiver commands: "count" (datagrams so
// far). Sender commands: "rate <per second> <seconds>" (paced sending, then
// a "sent" report of how many went out and over how long).
const { parseArgs, send, commands, now } = require('../lib/worker');

const { role, dgram, opts } = parseArgs();
const BUFFER = 1 << 20; // both sides, both implementations

if (role === 'receiver') {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: BUFFER });
  let count = 0;
  sock.on('message', () => { count++; });
  sock.bind(0, '127.0.0.1', () => send('ready', { port: sock.address().port }));
  commands((cmd) => {
    if (cmd === 'count') send('count', { count });
  });
} else if (role === 'sender') {
  const msg = Buffer.alloc(opts.size, 0x66);
  const sock = dgram.createSocket({ type: 'udp4', sendBufferSize: BUFFER });
  sock.connect(opts.port, '127.0.0.1', () => send('connected'));
  // Paced: each turn sends what the clock says is due (at most 1,000 at
  // once), then yields with setImmediate so the loop keeps turning.
  const run = (rate, secs) => {
    const t0 = now();
    let sent = 0;
    const turn = () => {
      const elapsed = now() - t0;
      if (elapsed >= secs) { send('sent', { sent, secs: elapsed }); return; }
      const due = Math.min(1000, Math.floor(rate * elapsed) - sent);
      for (let i = 0; i < due; i++) sock.send(msg);
      sent += Math.max(0, due);
      setImmediate(turn);
    };
    turn();
  };
  commands((cmd) => {
    const [word, rate, secs] = cmd.split(' ');
    if (word === 'rate') run(Number(rate), Number(secs));
  });
} else {
  throw new Error(`bad role ${role}`);
}
