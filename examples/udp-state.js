// A game-style state server over UDP: players send their inputs, and 20 times
// a second every player gets a snapshot of the whole world.
//   node examples/udp-state.js            (PORT=7003 by default; PORT=0 picks a free port)
//   node examples/udp-state-client.js     (in several terminals; see that file)
//
// Datagrams (all little-endian):
//   client -> server  'J'                          join (or rejoin)
//                     'I' seq:u32 dx:i8 dy:i8 t:f64  an input; t is echoed for RTT
//                     'L'                          leave
//   server -> client  'S' tick:u32 count:u16 then per player: id:u16 x:f32 y:f32,
//                     then the sender's last input: seq:u32 t:f64 (its ack)
// A player silent for 3 s is dropped; the world is 1000 x 1000.
'use strict';
const dgram = require('protonet/dgram');

const port = Number(process.env.PORT ?? 7003);
const TICK_HZ = 20;
const TIMEOUT_MS = 3000;
const SPEED = 5;

const players = new Map(); // "address|port" -> { id, address, port, x, y, lastSeq, lastT, seen }
let nextId = 1;
let tick = 0;

const socket = dgram.createSocket('udp4');

function playerOf(rinfo) {
  const key = `${rinfo.address}|${rinfo.port}`;
  let p = players.get(key);
  if (!p) {
    p = { id: nextId++, address: rinfo.address, port: rinfo.port, x: 500, y: 500, lastSeq: 0, lastT: 0, seen: 0 };
    players.set(key, p);
    console.log(`player ${p.id} joined from ${key} (${players.size} playing)`);
  }
  p.seen = Date.now();
  return p;
}

socket.on('message', (msg, rinfo) => {
  if (msg.length < 1) return;
  const kind = String.fromCharCode(msg[0]);
  if (kind === 'J') {
    playerOf(rinfo);
  } else if (kind === 'I' && msg.length >= 15) {
    const p = playerOf(rinfo);
    const seq = msg.readUInt32LE(1);
    if (seq <= p.lastSeq) return; // late or duplicated: UDP keeps no order
    p.lastSeq = seq;
    p.lastT = msg.readDoubleLE(7);
    p.x = Math.min(1000, Math.max(0, p.x + msg.readInt8(5) * SPEED));
    p.y = Math.min(1000, Math.max(0, p.y + msg.readInt8(6) * SPEED));
  } else if (kind === 'L') {
    const key = `${rinfo.address}|${rinfo.port}`;
    const p = players.get(key);
    if (p) {
      players.delete(key);
      console.log(`player ${p.id} left (${players.size} playing)`);
    }
  }
});

function broadcast() {
  tick++;
  const now = Date.now();
  for (const [key, p] of players) {
    if (now - p.seen > TIMEOUT_MS) {
      players.delete(key);
      console.log(`player ${p.id} timed out (${players.size} playing)`);
    }
  }
  const body = Buffer.allocUnsafe(7 + players.size * 10);
  body.write('S', 0, 'latin1');
  body.writeUInt32LE(tick, 1);
  body.writeUInt16LE(players.size, 5);
  let off = 7;
  for (const p of players.values()) {
    body.writeUInt16LE(p.id, off);
    body.writeFloatLE(p.x, off + 2);
    body.writeFloatLE(p.y, off + 6);
    off += 10;
  }
  for (const p of players.values()) {
    const ack = Buffer.allocUnsafe(12);
    ack.writeUInt32LE(p.lastSeq, 0);
    ack.writeDoubleLE(p.lastT, 4);
    socket.send([body, ack], p.port, p.address); // one datagram from two pieces
  }
}

socket.bind(port, '127.0.0.1', () => {
  console.log(`udp-state listening on 127.0.0.1:${socket.address().port}, ${TICK_HZ} snapshots/s`);
  const timer = setInterval(broadcast, 1000 / TICK_HZ);
  const stop = () => {
    clearInterval(timer);
    socket.close(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
});
