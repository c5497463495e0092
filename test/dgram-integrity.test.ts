/*
 * UDP integrity: 1,000,000 datagrams of random sizes (8..1400 bytes: an 8-byte header of
 * sequence number and CRC-32, then 0..1392 payload bytes) from one protonet/dgram socket to
 * another over loopback. The sender keeps at most WINDOW datagrams unanswered (the receiver's
 * 4 MiB buffer holds them all), so loopback should lose none; every datagram is checked: its
 * length, its checksum, its payload against the bytes it must carry, and its sequence number
 * against duplicates. Losses are counted and must be zero.
 *
 * PROTONET_UDP_INTEGRITY_COUNT sets another count (e.g. for a quick run).
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';

import { dgramImpl, onceEvent, type DgramSocket } from './helpers/dgram';

const COUNT = Number(process.env.PROTONET_UDP_INTEGRITY_COUNT ?? 1_000_000);
const WINDOW = 1024;
const HEADER = 8;
const MAX = 1400;

// The payload of datagram `seq`: a slice of one random pool, where and how long decided by seq.
const pool = randomBytes(1 << 20);
function sizeOf(seq: number): number {
  // A multiplicative hash spreads the sizes over 8..1400.
  return HEADER + (Math.imul(seq ^ 0x5bd1e995, 0x9e3779b1) >>> 0) % (MAX - HEADER + 1);
}
function payloadOf(seq: number, len: number): Buffer {
  const off = (Math.imul(seq, 2654435761) >>> 0) % (pool.length - MAX);
  return pool.subarray(off, off + len);
}

const crc32: (b: Uint8Array) => number = typeof (zlib as { crc32?: unknown }).crc32 === 'function'
  ? (b) => (zlib as unknown as { crc32: (d: Uint8Array) => number }).crc32(b)
  : (b) => {
    let c = ~0;
    for (let i = 0; i < b.length; i++) {
      c ^= b[i];
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return ~c >>> 0;
  };

describe('UDP integrity over loopback', function () {
  this.timeout(120000);

  it(`${COUNT.toLocaleString('en-US')} datagrams of random sizes: none corrupted, duplicated or lost`, async () => {
    const dgram = dgramImpl();
    const rx: DgramSocket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    const tx: DgramSocket = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
    const seen = new Uint8Array(COUNT);
    let received = 0;
    let corrupted = 0;
    let duplicated = 0;
    let wake: (() => void) | null = null;
    let target = 0;
    rx.on('message', (msg: Buffer) => {
      const seq = msg.readUInt32LE(0);
      const sum = msg.readUInt32LE(4);
      const body = msg.subarray(HEADER);
      if (seq >= COUNT || msg.length !== sizeOf(seq) || crc32(body) !== sum || !body.equals(payloadOf(seq, body.length))) {
        corrupted++;
      } else if (seen[seq]) {
        duplicated++;
      } else {
        seen[seq] = 1;
        received++;
      }
      if (wake && received + corrupted + duplicated >= target) {
        const w = wake;
        wake = null;
        w();
      }
    });
    try {
      rx.bind(0, '127.0.0.1');
      await onceEvent(rx, 'listening');
      tx.connect(rx.address().port, '127.0.0.1');
      await onceEvent(tx, 'connect');
      const started = Date.now();
      let waitsTimedOut = 0;
      for (let seq = 0; seq < COUNT;) {
        const end = Math.min(COUNT, seq + WINDOW);
        for (; seq < end; seq++) {
          const len = sizeOf(seq);
          const d = Buffer.allocUnsafe(len);
          d.writeUInt32LE(seq, 0);
          const body = payloadOf(seq, len - HEADER);
          body.copy(d, HEADER);
          d.writeUInt32LE(crc32(body), 4);
          tx.send(d);
        }
        // Wait for this window; a datagram loopback dropped would stall it: give up after a while.
        target = end; // everything sent so far
        if (received + corrupted + duplicated < target) {
          const ok = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => { wake = null; resolve(false); }, 1000);
            wake = () => { clearTimeout(timer); resolve(true); };
          });
          if (!ok) waitsTimedOut++;
        }
      }
      const seconds = (Date.now() - started) / 1000;
      const lost = COUNT - received;
      // eslint-disable-next-line no-console
      console.log(`      ${COUNT} datagrams in ${seconds.toFixed(1)} s (${Math.round(COUNT / seconds)}/s): received ${received}, lost ${lost}, corrupted ${corrupted}, duplicated ${duplicated}, windows that timed out ${waitsTimedOut}`);
      expect(corrupted, 'corrupted datagrams').to.equal(0);
      expect(duplicated, 'duplicated datagrams').to.equal(0);
      expect(lost, 'datagrams lost on loopback with a 4 MiB receive buffer and a 1024-datagram window').to.equal(0);
    } finally {
      tx.close();
      rx.close();
    }
  });
});
