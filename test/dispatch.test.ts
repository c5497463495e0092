/*
 * Delivery order across sockets. Node runs each socket's read callback on its
 * own and drains nextTicks and microtasks after each one, so work queued in
 * one socket's 'data' listener runs before the next socket's 'data' (Node
 * does not promise any order across sockets, but that is what it does).
 *
 * protonet delivers a batch of loop events in one JS call by default, so that
 * work runs once per batch; with PROTONET_EXACT_ORDER=1 it delivers one call
 * per socket and matches Node. Both are pinned here.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';

import { nodeNet, repoRoot } from './helpers/impl';

// The scenario, run in a child process so the environment variable applies
// to a fresh addon instance: 8 clients each send one chunk at (nearly) the
// same moment; each server socket logs its 'data', then a nextTick and a
// microtask it queued. Prints the log as JSON.
const scenario = `
const net = process.env.IMPL === 'node' ? require('node:net') : require(${JSON.stringify(repoRoot)});
const log = [];
const server = net.createServer((s) => {
  s.once('data', (d) => {
    const name = d.toString('latin1', 0, 1);
    log.push('data ' + name);
    process.nextTick(() => log.push('tick ' + name));
    Promise.resolve().then(() => log.push('micro ' + name));
    s.destroy();
  });
});
server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  const clients = [];
  for (const name of 'ABCDEFGH') {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => {});
    await new Promise((r) => c.once('connect', r));
    clients.push(c);
  }
  await new Promise((r) => setTimeout(r, 100));
  clients.forEach((c, i) => c.write('ABCDEFGH'[i].repeat(64)));
  const t0 = Date.now();
  while (log.length < 24 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
  for (const c of clients) c.destroy();
  server.close();
  console.log(JSON.stringify(log));
});
`;

function run(env: Record<string, string>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', scenario], { env: { ...process.env, ...env }, timeout: 10000 },
      (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as string[])));
  });
}

/** Every socket's own entries are in order: data, then its tick, then its microtask. */
function checkPerSocket(log: string[]): void {
  expect(log.length).to.equal(24);
  for (const name of 'ABCDEFGH') {
    const mine = log.filter((e) => e.endsWith(` ${name}`));
    expect(mine, name).to.deep.equal([`data ${name}`, `tick ${name}`, `micro ${name}`]);
  }
}

/** Node's order: each socket's tick and microtask right after its own data. */
function checkRuns(log: string[]): void {
  checkPerSocket(log);
  for (let i = 0; i < log.length; i += 3) {
    const name = log[i].slice(-1);
    expect(log.slice(i, i + 3), `entries ${i}..${i + 2} of ${JSON.stringify(log)}`)
      .to.deep.equal([`data ${name}`, `tick ${name}`, `micro ${name}`]);
  }
}

describe('delivery order across sockets', () => {
  it("node:net: a socket's nextTicks and microtasks run before the next socket's 'data'", async function () {
    this.timeout(15000);
    expect(nodeNet).to.not.equal(undefined);
    checkRuns(await run({ IMPL: 'node' }));
  });

  it('protonet (default, one call per batch): each socket keeps data, tick, microtask order', async function () {
    this.timeout(15000);
    checkPerSocket(await run({ PROTONET_EXACT_ORDER: '' }));
  });

  it("protonet with PROTONET_EXACT_ORDER=1: a socket's nextTicks and microtasks run before the next socket's 'data'", async function () {
    this.timeout(15000);
    checkRuns(await run({ PROTONET_EXACT_ORDER: '1' }));
  });
});
