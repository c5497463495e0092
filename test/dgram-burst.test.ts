/*
 * Bursts of datagrams nobody waits for (sends without a callback): on Linux protonet copies
 * them and hands them to a loop on another thread (an I/O thread, or with the sockets on
 * Node's loop a writer thread), which sends them in batches, instead of making one system call
 * each on the JS thread. So do the replies to a batch of delivered datagrams. For JS such a
 * datagram was sent when send() returned, as node:dgram's try-send had handed it to the kernel,
 * so what must hold is node:dgram's: every datagram arrives, in order, even when the socket is
 * closed or disconnected in the same tick; callbacks of the sends that have one run once, in
 * order, with the byte count; the send queue reads empty after a burst. Each scenario runs on
 * node:dgram and on the implementation under test and the summaries must be equal; protonet's
 * counters show the hand-off was taken. (Under Deno only protonet runs: Deno's own node:dgram has
 * no getSendQueueCount, and drops and reorders such bursts.)
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as path from 'node:path';

import { bound, closed, dgramImpl, nodeDgram, type DgramLike, type DgramSocket } from './helpers/dgram';
import { implName, repoRoot } from './helpers/impl';

interface IoStats { writesDirect: number; writesOffloaded: number }
function offloaded(): number | null {
  if (implName !== 'protonet') return null;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('protonet/internal') as { ioStats(): IoStats }).ioStats().writesOffloaded;
}
// Where protonet hands datagrams to another thread (udp_handles.cc kUdpSendOffload).
const HANDS_OFF = implName === 'protonet' && process.platform === 'linux';

// A burst: under the bytes one socket may have copied and in flight (256 KiB), and
// made of prepared datagrams, so JS sends faster than the other thread can.
const fixture = path.join(repoRoot, 'test', 'fixtures', 'dgram-burst-exit.cjs');
const N = 2000;
const SIZE = 120;

function datagram(seq: number): Buffer {
  const b = Buffer.alloc(SIZE, seq & 0xff);
  b.writeUInt32BE(seq, 0);
  return b;
}

/** Collects sequence numbers until `n` arrived (or `ms` passed: then what came). */
function collect(s: DgramSocket, n: number, ms = 5000): Promise<number[]> {
  return new Promise((resolve) => {
    const seqs: number[] = [];
    const done = (): void => {
      clearTimeout(timer);
      s.removeListener('message', on);
      resolve(seqs);
    };
    const timer = setTimeout(done, ms);
    function on(msg: Buffer): void {
      const seq = msg.readUInt32BE(0);
      if (!msg.equals(datagram(seq))) seqs.push(-1); // corrupted
      else seqs.push(seq);
      if (seqs.length === n) done();
    }
    s.on('message', on);
  });
}

const inOrder = Array.from({ length: N }, (_, i) => i);
const prepared = inOrder.map(datagram);

/** A receiver with room for a whole burst, and a sender connected to it. */
async function pair(dgram: DgramLike): Promise<[DgramSocket, DgramSocket, number]> {
  const rx = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const port = await bound(rx);
  const tx = dgram.createSocket({ type: 'udp4', sendBufferSize: 1 << 20 });
  await new Promise<void>((resolve) => tx.connect(port, '127.0.0.1', resolve));
  return [rx, tx, port];
}

const REFERENCE = !('Deno' in globalThis);

/**
 * Runs `scenario` on the runtime's node:dgram (not under Deno, above) and on the implementation
 * under test; each must give `expected`. Resolves with how many datagrams protonet handed off.
 */
async function check<T>(scenario: (dgram: DgramLike) => Promise<T>, expected: T): Promise<number | null> {
  if (REFERENCE) expect(await scenario(nodeDgram), 'node:dgram itself').to.deep.equal(expected);
  const before = offloaded();
  expect(await scenario(dgramImpl())).to.deep.equal(expected);
  const after = offloaded();
  return before === null || after === null ? null : after - before;
}

describe('dgram bursts (sends without a callback may leave the JS thread)', function () {
  this.timeout(30000);

  it('a burst, then close() in the same tick: every datagram arrives, in order', async () => {
    const handed = await check(async (dgram) => {
      const [rx, tx] = await pair(dgram);
      const arrived = collect(rx, N);
      for (let i = 0; i < N; i++) tx.send(prepared[i]);
      const queued = [tx.getSendQueueCount(), tx.getSendQueueSize()];
      const closedEvent = new Promise<void>((resolve) => tx.on('close', resolve));
      tx.close();
      await closedEvent;
      const seqs = await arrived;
      await closed(rx);
      return { queued, seqs };
    }, { queued: [0, 0], seqs: inOrder });
    if (HANDS_OFF) expect(handed, 'datagrams handed to another thread').to.be.greaterThan(0);
  });

  it('a burst, then disconnect() in the same tick: the datagrams still go to the peer they were sent to', async () => {
    const handed = await check(async (dgram) => {
      const [rx, tx, port] = await pair(dgram);
      // One collector for all: a second one could miss a datagram
      // delivered in the same batch as the last of the first.
      const arrived = collect(rx, N + 1);
      for (let i = 0; i < N; i++) tx.send(prepared[i]);
      tx.disconnect();
      // Unconnected now: the next one names its destination.
      tx.send(datagram(N), port, '127.0.0.1');
      const seqs = await arrived;
      await closed(tx);
      await closed(rx);
      return { seqs };
    }, { seqs: [...inOrder, N] });
    if (HANDS_OFF) expect(handed, 'datagrams handed to another thread').to.be.greaterThan(0);
  });

  it('sends with and without callbacks mixed in a burst: order kept, each callback once, in order, with the byte count', async () => {
    const handed = await check(async (dgram) => {
      const [rx, tx] = await pair(dgram);
      const arrived = collect(rx, N);
      const calls: string[] = [];
      for (let i = 0; i < N; i++) {
        if (i % 5 === 4) tx.send(prepared[i], (err, bytes) => calls.push(`${i}:${err ? err.message : bytes}`));
        else tx.send(prepared[i]);
      }
      const seqs = await arrived;
      await closed(tx);
      await closed(rx);
      return { seqs, calls };
    }, { seqs: inOrder, calls: inOrder.filter((i) => i % 5 === 4).map((i) => `${i}:${SIZE}`) });
    if (HANDS_OFF) expect(handed, 'datagrams handed to another thread').to.be.greaterThan(0);
  });

  it('replies to a batch of delivered datagrams: each answered, in order, the answers of one turn sent together', async () => {
    const handed = await check(async (dgram) => {
      const server = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
      const port = await bound(server);
      const client = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      await new Promise<void>((resolve) => client.connect(port, '127.0.0.1', resolve));
      const answers = collect(client, N);
      // Sent in one stretch, so the server finds many waiting at once.
      for (let i = 0; i < N; i++) client.send(prepared[i]);
      const seqs = await answers;
      await closed(client);
      await closed(server);
      return { seqs };
    }, { seqs: inOrder });
    if (HANDS_OFF) expect(handed, 'datagrams handed to another thread').to.be.greaterThan(0);
  });

  it('a burst, then process.exit() in the same tick: every datagram still goes out', async () => {
    await check(async (dgram) => {
      const rx = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      const port = await bound(rx);
      const arrived = collect(rx, N);
      const module = dgram === nodeDgram ? 'node:dgram' : require.resolve('protonet/dgram');
      const exit = await new Promise<number | null>((resolve) => {
        execFile(process.execPath, [fixture, module, String(port), String(N), String(SIZE)], { cwd: repoRoot },
          (err) => resolve(err ? (err as { code?: number }).code ?? -1 : 0));
      });
      const seqs = await arrived;
      await closed(rx);
      return { exit, seqs };
    }, { exit: 0, seqs: inOrder });
  });

  // Where nothing is handed off there is nothing to tell apart here.
  if (HANDS_OFF) it('a lone reply (ping-pong) is sent at once from the JS thread', async () => {
    const dgram = dgramImpl();
    const server = dgram.createSocket('udp4');
    server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
    const port = await bound(server);
    const client = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => client.connect(port, '127.0.0.1', resolve));
    const before = offloaded();
    const answers: number[] = [];
    for (let i = 0; i < 50; i++) {
      const answer = collect(client, 1);
      client.send(datagram(i));
      answers.push(...await answer);
    }
    const handed = offloaded()! - before!;
    await closed(client);
    await closed(server);
    expect(answers).to.deep.equal(inOrder.slice(0, 50));
    expect(handed, 'datagrams handed to another thread').to.equal(0);
  });

  // On Linux a run of datagrams to one peer (one size, maybe a shorter last one) leaves as one
  // buffer (UDP_SEGMENT) and may arrive as one (UDP_GRO). Whoever sends or receives, each
  // datagram must still be one message, exactly as sent: runs, the short ones that end them,
  // empty ones, across implementations.
  it('runs of equal datagrams, short and empty ones: one message each, in order, between either implementation', async () => {
    const count = 1500;
    const sizeOf = (i: number): number => (i % 37 === 36 ? 0 : i % 37 === 35 ? 40 : 200);
    const make = (i: number): Buffer => {
      const b = Buffer.alloc(sizeOf(i), i & 0xff);
      if (b.length > 0) b.writeUInt32BE(i, 0);
      return b;
    };
    const expected = Array.from({ length: count }, (_, i) => (sizeOf(i) === 0 ? 'empty' : `${i}:${sizeOf(i)}`));
    const pairs: [string, DgramLike, DgramLike][] = [['protonet to itself', dgramImpl(), dgramImpl()]];
    if (REFERENCE) {
      pairs.push(['to node:dgram', dgramImpl(), nodeDgram], ['from node:dgram', nodeDgram, dgramImpl()]);
    }
    for (const [label, txDgram, rxDgram] of pairs) {
      const rx = rxDgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
      const port = await bound(rx);
      const tx = txDgram.createSocket({ type: 'udp4', sendBufferSize: 1 << 20 });
      await new Promise<void>((resolve) => tx.connect(port, '127.0.0.1', resolve));
      const got: string[] = [];
      const arrived = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        rx.on('message', (msg: Buffer, rinfo: { size: number }) => {
          if (msg.length === 0) got.push('empty');
          else got.push(msg.equals(make(msg.readUInt32BE(0))) && rinfo.size === msg.length ? `${msg.readUInt32BE(0)}:${msg.length}` : 'corrupted');
          if (got.length === count) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      for (let i = 0; i < count; i++) tx.send(make(i));
      await arrived;
      await closed(tx);
      await closed(rx);
      expect(got, label).to.deep.equal(expected);
    }
  });
});
