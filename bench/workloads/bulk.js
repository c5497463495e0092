'use strict';
// bulk.js - one connection, `bytes` sent in 64 KiB writes that honour write()'s
// return value and 'drain'. Roles: server (counts, acks the last byte),
// client (sends, times until the ack), inproc (both in this process).
const { parseArgs, send, commands, now } = require('../lib/worker');

const { role, net, opts } = parseArgs();
const total = opts.bytes;
const chunk = Buffer.alloc(64 * 1024, 0x61);

function serve(onReady) {
  const server = net.createServer((sock) => {
    let got = 0;
    sock.on('error', () => {});
    sock.on('data', (buf) => {
      got += buf.length;
      if (got >= total) sock.end('k');
    });
  });
  server.listen(0, '127.0.0.1', () => onReady(server, server.address().port));
}

function client(port, done) {
  const sock = net.connect(port, '127.0.0.1');
  let t0 = 0;
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      sent += chunk.length;
      if (!sock.write(chunk)) { sock.once('drain', pump); return; }
    }
  };
  sock.on('connect', () => { t0 = now(); pump(); });
  sock.once('data', () => {
    const secs = now() - t0;
    sock.destroy();
    done({ mbps: total / 1e6 / secs, secs });
  });
  sock.on('error', (err) => { throw err; });
}

if (role === 'server') {
  serve((server, port) => send('ready', { port }));
  commands();
} else if (role === 'client') {
  client(opts.port, (r) => { send('result', r); process.exit(0); });
} else if (role === 'inproc') {
  serve((server, port) => client(port, (r) => { send('result', r); process.exit(0); }));
} else {
  throw new Error(`bad role ${role}`);
}
