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

// A 'data' listener that throws, in the middle of a batch of reads from many
// sockets: small ones (protonet packs those into shared pool Buffers,
// bridge.cc) or big ones (a Buffer each, so the rest of the batch keeps
// several): the error goes to 'uncaughtException' as from any I/O callback,
// and every other socket still gets exactly its own bytes, in order.
const throwing = `
const net = process.env.IMPL === 'node' ? require('node:net') : require(${JSON.stringify(repoRoot)});
const size = Number(process.env.SIZE);
const got = {};
let uncaught = 0;
process.on('uncaughtException', (e) => { if (e.message === 'boom') uncaught++; else throw e; });
let thrown = false;
const server = net.createServer((s) => {
  s.on('data', (d) => {
    const name = d.toString('latin1', 0, 1);
    got[name] = (got[name] || '') + d.toString('latin1');
    if (!thrown) { thrown = true; throw new Error('boom'); }
  });
});
server.listen(0, '127.0.0.1', async () => {
  const port = server.address().port;
  const clients = [];
  for (const name of 'ABCDEFGHIJKLMNOP') {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => {});
    await new Promise((r) => c.once('connect', r));
    clients.push(c);
  }
  await new Promise((r) => setTimeout(r, 100));
  for (let round = 0; round < 3; round++) {
    clients.forEach((c, i) => c.write('ABCDEFGHIJKLMNOP'[i].repeat(size + i)));
    await new Promise((r) => setTimeout(r, 20));
  }
  const t0 = Date.now();
  // Socket i sends 3 * (size + i) bytes: wait for all of them, not just 3 * size.
  const done = () => Object.keys(got).length === 16 &&
    Object.entries(got).every(([name, v]) => v.length >= 3 * (size + 'ABCDEFGHIJKLMNOP'.indexOf(name)));
  while (!done() && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
  for (const c of clients) c.destroy();
  server.close();
  console.log(JSON.stringify({ got, uncaught }));
});
`;

describe('a throwing data listener in a batch of reads', () => {
  for (const [impl, size] of [['node', 700], ['protonet', 700], ['node', 20000], ['protonet', 20000]] as const) {
    it(`${impl}, ${size}-byte reads: one uncaughtException; every other socket gets exactly its bytes`, async function () {
      this.timeout(15000);
      const out = await new Promise<string>((resolve, reject) => {
        execFile(process.execPath, ['-e', throwing], { env: { ...process.env, IMPL: impl, SIZE: String(size) }, timeout: 10000 },
          (err, stdout) => (err ? reject(err) : resolve(stdout)));
      });
      const { got, uncaught } = JSON.parse(out) as { got: Record<string, string>; uncaught: number };
      expect(uncaught).to.equal(1);
      const names = 'ABCDEFGHIJKLMNOP';
      expect(Object.keys(got).sort().join('')).to.equal(names);
      for (let i = 0; i < names.length; i++) {
        expect(got[names[i]], names[i]).to.equal(names[i].repeat(3 * (size + i)));
      }
    });
  }
});
