// A client that stays connected: when its server goes away it reconnects with exponential
// backoff (1 s, doubling, at most 30 s), and the delay starts over after a good connection.
//   node examples/reconnect.js [port] [host]     (default 7000 127.0.0.1: the echo example)
// RECONNECT_BASE_MS and RECONNECT_MAX_MS change the delays (1000 and 30000).
'use strict';
const net = require('protonet');

const port = Number(process.argv[2] ?? process.env.PORT ?? 7000);
const host = process.argv[3] ?? '127.0.0.1';
const baseMs = Number(process.env.RECONNECT_BASE_MS ?? 1000);
const maxMs = Number(process.env.RECONNECT_MAX_MS ?? 30000);

let delay = baseMs;
let stopping = false;
let socket = null;
let timer = null;

function connect() {
  timer = null;
  console.log(`connecting to ${host}:${port}`);
  socket = net.connect(port, host);
  socket.setEncoding('utf8');
  socket.on('connect', () => {
    delay = baseMs; // a successful connection resets the backoff
    console.log('connected');
    socket.write(`hello from pid ${process.pid}\n`);
  });
  socket.on('data', (text) => {
    for (const line of text.split('\n')) if (line) console.log(`received: ${line}`);
  });
  socket.on('error', (err) => console.log(`error: ${err.code ?? err.message}`));
  socket.on('close', () => {
    socket = null;
    if (stopping) return;
    console.log(`disconnected; retrying in ${delay} ms`);
    timer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, maxMs);
  });
}

function stop() {
  stopping = true;
  if (timer) clearTimeout(timer);
  if (socket) socket.end();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

connect();
