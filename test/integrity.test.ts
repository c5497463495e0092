/*
 * Integrity: 256 MiB of non-periodic pseudo-random bytes go through an echo server (each
 * connection piped back to itself) and back to the client, whose receiving side pauses at
 * random points. Everything sent must come back, in order: same length, same sha256.
 * Bytes are generated on the fly (AES-128-CTR keystream, seeded), so memory stays small.
 */
import { expect } from 'chai';
import { createCipheriv, createHash } from 'node:crypto';
import type * as netTypes from 'node:net';
import { impl, implName } from './helpers/impl';
import { closeServer, listen, once } from './helpers/util';

const TOTAL = 256 << 20;
const CHUNK = 1 << 20;

/** Seeded, fast PRNG for the pause schedule (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(`integrity (${implName})`, function () {
  this.timeout(180000);

  it('echoes 256 MiB of random bytes intact (same length and sha256) while the reader pauses at random', async function () {
    const net = impl();
    const server = net.createServer((s: netTypes.Socket) => {
      s.on('error', () => {});
      s.pipe(s);
    });
    const sockets: netTypes.Socket[] = [];
    const timers = new Set<NodeJS.Timeout>();
    try {
      const port = await listen(server, 0, '127.0.0.1');
      const client = net.connect(port, '127.0.0.1');
      sockets.push(client);
      await once(client, 'connect', 5000, 'client');

      const rand = mulberry32(0xc0ffee);
      const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
      const zeros = Buffer.alloc(CHUNK);
      const sentHash = createHash('sha256');
      const recvHash = createHash('sha256');
      let sent = 0;
      let received = 0;
      let pauses = 0;
      let dataEvents = 0;

      const done = new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(
          () => reject(new Error(`timed out: sent ${sent}, received ${received} of ${TOTAL} bytes`)),
          150000,
        );
        timers.add(deadline);
        // Fail fast on a stall: no byte received for 15 s.
        let lastReceived = -1;
        const watchdog = setInterval(() => {
          if (received === lastReceived) {
            clearTimeout(deadline);
            clearInterval(watchdog);
            reject(
              new Error(
                `stalled: nothing received for 15 s; sent ${sent}, received ${received} of ${TOTAL} bytes; ` +
                  `client paused=${client.isPaused()} readableLength=${client.readableLength} writableLength=${client.writableLength}`,
              ),
            );
          }
          lastReceived = received;
        }, 15000);
        timers.add(watchdog as unknown as NodeJS.Timeout);
        client.on('close', () => clearInterval(watchdog));
        client.on('error', (e) => {
          clearTimeout(deadline);
          reject(e);
        });
        client.on('data', (d: Buffer) => {
          dataEvents++;
          received += d.length;
          recvHash.update(d);
          if (rand() < 0.02) {
            pauses++;
            client.pause();
            const t = setTimeout(() => {
              timers.delete(t);
              client.resume();
            }, 1 + Math.floor(rand() * 5));
            timers.add(t);
          }
        });
        client.on('end', () => {
          clearTimeout(deadline);
          clearInterval(watchdog);
          resolve();
        });
      });

      // Writer: respects backpressure; ends once everything is queued.
      while (sent < TOTAL) {
        const chunk = cipher.update(zeros);
        sentHash.update(chunk);
        sent += chunk.length;
        if (!client.write(chunk)) await once(client, 'drain', 30000, 'client (drain)');
      }
      client.end();
      await done;

      expect(sent).to.equal(TOTAL);
      expect(received, 'bytes received').to.equal(sent);
      expect(recvHash.digest('hex'), 'sha256 of received bytes').to.equal(sentHash.digest('hex'));
      expect(pauses, 'the reader paused at random points').to.be.greaterThan(0);
      expect(dataEvents).to.be.greaterThan(1);
      if (!client.closed) await once(client, 'close', 5000, 'client');
    } finally {
      for (const t of timers) {
        clearTimeout(t);
        clearInterval(t);
      }
      for (const s of sockets) s.destroy();
      if (server.listening) await closeServer(server).catch(() => undefined);
    }
  });
});
