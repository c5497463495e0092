/*
 * Bursts of writes across sockets (a broadcast tick): protonet hands such writes to a loop on
 * another thread (an I/O thread, or with the sockets on Node's loop a writer thread) instead
 * of making every system call on the JS thread. What JS sees must stay node:net's: every byte
 * in order, every write callback once and in order, 'finish' and 'close' as node:net's, the
 * bytes of a burst delivered even when the socket is destroyed in the same tick, and a burst
 * to one socket as node:net's (write() results, 'drain'). Each scenario runs on node:net and on protonet
 * and the summaries must be equal; protonet's counters show the burst path was taken.
 */
import { expect } from 'chai';
import type * as netTypes from 'node:net';
import { implName, impl, nodeNet, NetLike } from './helpers/impl';
import { closeServer, listen, until } from './helpers/util';

type Sock = netTypes.Socket;

interface IoStats { writesDirect: number; writesOffloaded: number }
function ioStats(): IoStats | null {
  if (implName !== 'protonet') return null;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('protonet/internal') as { ioStats(): IoStats }).ioStats();
}

const CONNS = 24;
const ROUNDS = 12;
const SIZE = 200;

function message(conn: number, round: number): Buffer {
  const head = Buffer.from(`${conn}:${round};`);
  return Buffer.concat([head, Buffer.alloc(SIZE - head.length, 0x61 + (round % 26))]);
}

interface Outcome {
  server: string[][];
  received: string[];
}

/**
 * CONNS node:net clients; once all are in, `burst` runs on the server's sockets in one
 * synchronous stretch. Each server socket logs its write callbacks, write() results, 'drain',
 * 'finish', 'close'; each client the bytes it got (checked against `expected`) and 'end'.
 */
async function run(net: NetLike, burst: (socks: Sock[], log: string[][]) => void,
  expected: (conn: number) => Buffer): Promise<Outcome> {
  const socks: Sock[] = [];
  const log: string[][] = [];
  const server = net.createServer((s: Sock) => {
    const i = socks.length;
    socks.push(s);
    log.push([]);
    s.on('drain', () => log[i].push('drain'));
    s.on('finish', () => log[i].push('finish'));
    s.on('error', (e: NodeJS.ErrnoException) => log[i].push(`error ${e.code}`));
    s.on('close', (hadError: boolean) => log[i].push(`close ${hadError}`));
  });
  const port = await listen(server, 0, '127.0.0.1');
  const clients: Sock[] = [];
  const received: string[] = [];
  const ended: boolean[] = [];
  for (let c = 0; c < CONNS; c++) {
    const client = nodeNet.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    client.on('data', (d: Buffer) => chunks.push(d));
    client.on('error', () => {});
    client.on('end', () => { ended[c] = true; });
    client.on('close', () => { received[c] = Buffer.concat(chunks).toString('latin1'); });
    clients.push(client);
  }
  try {
    await until(() => socks.length === CONNS, 5000, 'every connection');
    // The server numbers its sockets in accept order; the clients in connect order.
    // Match them by the client's local port.
    const byPort = new Map(clients.map((c, idx) => [c.localPort, idx]));
    const order = socks.map((s) => byPort.get(s.remotePort!)!);
    burst(socks, log);
    await until(() => received.filter((r) => r !== undefined).length === CONNS, 10000, 'every client closed');
    await until(() => log.every((l) => l.some((e) => e.startsWith('close'))), 5000, 'every server socket closed');
    const mine = order.map((c) => received[c]);
    for (let i = 0; i < CONNS; i++) {
      expect(mine[i], `socket ${i}: bytes`).to.equal(expected(i).toString('latin1'));
      expect(ended[order[i]], `client of socket ${i}: 'end'`).to.equal(true);
    }
    return { server: log, received: mine };
  } finally {
    for (const c of clients) c.destroy();
    await closeServer(server);
  }
}

const allRounds = (conn: number): Buffer => Buffer.concat(Array.from({ length: ROUNDS }, (_, r) => message(conn, r)));

/** The scenario on node:net and on protonet: equal outcomes; returns protonet's counter delta. */
async function sideBySide(burst: (socks: Sock[], log: string[][]) => void,
  expected: (conn: number) => Buffer): Promise<{ offloaded: number; direct: number }> {
  const reference = await run(nodeNet, burst, expected);
  const before = ioStats();
  const got = await run(impl(), burst, expected);
  const after = ioStats();
  expect(got).to.deep.equal(reference);
  return {
    offloaded: before && after ? after.writesOffloaded - before.writesOffloaded : 0,
    direct: before && after ? after.writesDirect - before.writesDirect : 0,
  };
}

describe(`write bursts across sockets (${implName}; node:net side by side)`, function () {
  this.timeout(30000);

  it('rounds of one write per socket, then end(): bytes in order, callbacks once and in order, finish, close — as node:net; the burst leaves the JS thread', async () => {
    const counts = await sideBySide((socks, log) => {
      for (let r = 0; r < ROUNDS; r++) {
        socks.forEach((s, i) => {
          const ok = s.write(message(i, r), (err) => log[i].push(`cb ${r} ${err ? (err as NodeJS.ErrnoException).code : 'ok'}`));
          if (!ok) log[i].push(`write ${r} false`);
        });
      }
      for (const s of socks) s.end();
    }, allRounds);
    if (implName === 'protonet') expect(counts.offloaded, 'writes handed to a loop').to.be.greaterThan(CONNS * ROUNDS / 2);
  });

  it('a burst, then destroy() in the same tick: every byte still reaches each peer, callbacks as node:net', async () => {
    const counts = await sideBySide((socks, log) => {
      for (let r = 0; r < ROUNDS; r++) {
        socks.forEach((s, i) => {
          s.write(message(i, r), (err) => log[i].push(`cb ${r} ${err ? (err as NodeJS.ErrnoException).code : 'ok'}`));
        });
      }
      for (const s of socks) s.destroy();
    }, allRounds);
    if (implName === 'protonet') expect(counts.offloaded, 'writes handed to a loop').to.be.greaterThan(0);
  });

  it('replies written while events are delivered (an echo over many sockets) stay on the JS thread', async function () {
    if (implName !== 'protonet') this.skip();
    const net = impl();
    const server = net.createServer((s: Sock) => s.on('data', (d: Buffer) => s.write(d)));
    const port = await listen(server, 0, '127.0.0.1');
    const before = ioStats()!;
    const clients: Sock[] = [];
    let echoed = 0;
    try {
      for (let c = 0; c < CONNS; c++) {
        const client = nodeNet.connect(port, '127.0.0.1');
        let n = 0;
        client.on('connect', () => client.write(message(c, 0)));
        client.on('data', () => {
          echoed++;
          if (++n < ROUNDS) client.write(message(c, n));
        });
        clients.push(client);
      }
      await until(() => echoed >= CONNS * ROUNDS, 10000, 'every echo');
      const after = ioStats()!;
      expect(after.writesOffloaded - before.writesOffloaded, 'writes handed to a loop').to.equal(0);
      expect(after.writesDirect - before.writesDirect).to.be.at.least(CONNS * ROUNDS);
    } finally {
      for (const c of clients) c.destroy();
      await closeServer(server);
    }
  });

  it('bursts to one socket at a time: write() results, callbacks and events as node:net', async () => {
    await sideBySide((socks, log) => {
      socks.forEach((s, i) => {
        for (let r = 0; r < ROUNDS; r++) {
          const ok = s.write(message(i, r), (err) => log[i].push(`cb ${r} ${err ? (err as NodeJS.ErrnoException).code : 'ok'}`));
          log[i].push(`write ${r} ${ok}`);
        }
        s.end();
      });
    }, allRounds);
  });
});
