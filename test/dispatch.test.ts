/*
 * Delivery order across sockets. Node runs each socket's read callback on its
 * own and drains nextTicks and microtasks after each one, so work queued in
 * one socket's 'data' listener runs before the next socket's 'data'.
 * protonet's batches must keep that: they are delivered one run per socket.
 */
import { expect } from 'chai';
import type * as netTypes from 'node:net';

import { impl, nodeNet, type NetLike } from './helpers/impl';
import { closeServer, listen, once } from './helpers/util';

async function interleaving(net: NetLike): Promise<string[]> {
  const log: string[] = [];
  const server = net.createServer((s: netTypes.Socket) => {
    s.once('data', (d: Buffer) => {
      const name = d.toString('latin1', 0, 1);
      log.push(`data ${name}`);
      process.nextTick(() => log.push(`tick ${name}`));
      void Promise.resolve().then(() => log.push(`micro ${name}`));
      s.destroy();
    });
  });
  const port = await listen(server, 0, '127.0.0.1');
  const clients: netTypes.Socket[] = [];
  for (const name of 'ABCDEFGH') {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => {});
    await once(c, 'connect');
    clients.push(c);
  }
  // Let every server socket be accepted, then make all of them readable at
  // (nearly) the same moment so their reads land in one batch.
  await new Promise((r) => setTimeout(r, 100));
  clients.forEach((c, i) => c.write('ABCDEFGH'[i].repeat(64)));
  const t0 = Date.now();
  while (log.length < 3 * clients.length && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
  for (const c of clients) c.destroy();
  await closeServer(server);
  return log;
}

function checkRuns(log: string[]): void {
  expect(log.length).to.equal(24);
  for (let i = 0; i < log.length; i += 3) {
    const name = log[i].slice(-1);
    expect(log.slice(i, i + 3), `entries ${i}..${i + 2} of ${JSON.stringify(log)}`)
      .to.deep.equal([`data ${name}`, `tick ${name}`, `micro ${name}`]);
  }
}

describe('delivery order across sockets', () => {
  it("node:net: a socket's nextTicks and microtasks run before the next socket's 'data'", async function () {
    this.timeout(15000);
    checkRuns(await interleaving(nodeNet));
  });

  it("protonet: a socket's nextTicks and microtasks run before the next socket's 'data'", async function () {
    this.timeout(15000);
    checkRuns(await interleaving(impl()));
  });
});
