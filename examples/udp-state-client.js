// A player for examples/udp-state.js: sends an input 30 times a second (a
// random walk), reads the 20-per-second snapshots, and every second prints
// the round-trip time (from an input to the first snapshot acknowledging it:
// up to one 50 ms tick of waiting is part of it) and how many
// snapshots were lost (gaps in the tick numbers).
//   node examples/udp-state-client.js [port] [host] [seconds]
//   (port 7003 and host 127.0.0.1 by default; without seconds it runs until Ctrl-C)
'use strict';
const dgram = require('protonet/dgram');

const port = Number(process.argv[2] ?? 7003);
const host = process.argv[3] ?? '127.0.0.1';
const seconds = process.argv[4] ? Number(process.argv[4]) : Infinity;
const INPUT_HZ = 30;

const socket = dgram.createSocket('udp4');
const sentAt = new Map(); // seq -> time sent (ms), for the RTT of each acknowledged input
let seq = 0;
let lastTick = 0;
let snapshots = 0;
let lost = 0;
let players = 0;
let rtts = [];
let total = { snapshots: 0, lost: 0, rtts: [] };

socket.on('message', (msg) => {
  if (msg.length < 7 || msg[0] !== 0x53 /* 'S' */) return;
  const tick = msg.readUInt32LE(1);
  if (lastTick && tick > lastTick + 1) lost += tick - lastTick - 1;
  if (tick <= lastTick) return; // late: an older snapshot than one already seen
  lastTick = tick;
  snapshots++;
  players = msg.readUInt16LE(5);
  const ackAt = 7 + players * 10;
  const acked = msg.readUInt32LE(ackAt);
  const t = msg.readDoubleLE(ackAt + 4);
  if (acked && sentAt.has(acked)) {
    rtts.push(performance.now() - t);
    sentAt.delete(acked);
  }
});

function sendInput() {
  const b = Buffer.alloc(15);
  b.write('I', 0, 'latin1');
  b.writeUInt32LE(++seq, 1);
  b.writeInt8(Math.floor(Math.random() * 3) - 1, 5);
  b.writeInt8(Math.floor(Math.random() * 3) - 1, 6);
  const now = performance.now();
  b.writeDoubleLE(now, 7);
  sentAt.set(seq, now);
  if (sentAt.size > 1000) sentAt.delete(sentAt.keys().next().value);
  socket.send(b);
}

function report() {
  rtts.sort((a, b) => a - b);
  const med = rtts.length ? rtts[rtts.length >> 1].toFixed(2) : '-';
  const p99 = rtts.length ? rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * 0.99))].toFixed(2) : '-';
  console.log(`snapshots ${snapshots}/s, lost ${lost}, players ${players}, rtt median ${med} ms, p99 ${p99} ms`);
  total.snapshots += snapshots;
  total.lost += lost;
  total.rtts.push(...rtts);
  snapshots = 0;
  lost = 0;
  rtts = [];
}

socket.connect(port, host, () => {
  socket.send('J');
  const inputs = setInterval(sendInput, 1000 / INPUT_HZ);
  const reports = setInterval(report, 1000);
  const stop = () => {
    clearInterval(inputs);
    clearInterval(reports);
    report();
    const r = total.rtts.sort((a, b) => a - b);
    const med = r.length ? r[r.length >> 1].toFixed(2) : '-';
    const lossPct = ((100 * total.lost) / Math.max(1, total.snapshots + total.lost)).toFixed(2);
    console.log(`total: snapshots ${total.snapshots}, lost ${total.lost} (${lossPct}%), rtt samples ${r.length}, rtt median ${med} ms`);
    socket.send('L', () => socket.close());
  };
  if (Number.isFinite(seconds)) setTimeout(stop, seconds * 1000);
  process.on('SIGINT', stop);
});
