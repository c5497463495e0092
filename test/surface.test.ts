/*
 * The public surface is node:net's, on whichever Node runs the suite: the
 * module's export names are the running node:net's plus protonet's own
 * documented helpers (README: HTTP), and Socket.prototype
 * and Server.prototype have the same member names (methods, accessors, the
 * legacy underscore ones) as node:net's. Where Node changes its net
 * (BoundSocket and setTypeOfService added, _setSimultaneousAccepts removed
 * in Node 24), protonet follows the Node it runs in.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';

import { impl, nodeNet } from './helpers/impl';

/** protonet's own exports, documented in the README (Node's http/https over protonet). */
const PROTONET_HELPERS = ['Agent', 'HttpsAgent', 'createHttpConnection', 'listenerOf', 'serveHttp'];

function memberNames(proto: object): string[] {
  return [...Object.getOwnPropertyNames(proto), ...Object.getOwnPropertySymbols(proto)
    // Only the well-known symbols can be compared: node:net's own are private to it.
    .filter((s) => Object.getOwnPropertyNames(Symbol).some((k) => (Symbol as unknown as Record<string, unknown>)[k] === s))
    .map(String)].sort();
}

describe("the module's surface is node:net's", () => {
  it("exports node:net's names and, besides them, only protonet's documented helpers", () => {
    const mine = Object.keys(impl()).sort();
    const theirs = Object.keys(nodeNet).sort();
    expect(mine.filter((k) => !PROTONET_HELPERS.includes(k))).to.deep.equal(theirs);
  });

  // Own members protonet's prototypes add, each for a behaviour of node:net's:
  // Socket#write answers false for a socket never connected, as node:net's
  // write does by failing inside the call, where protonet's failure waits for
  // the end of the tick (so that tls.connect({ socket }) can connect it later).
  const EXTRAS: Record<'Socket' | 'Server', string[]> = { Socket: ['write'], Server: [] };
  for (const cls of ['Socket', 'Server'] as const) {
    it(`${cls}.prototype has node:net's member names (methods, accessors, well-known symbols)`, () => {
      const mine = memberNames((impl()[cls] as unknown as { prototype: object }).prototype);
      const theirs = memberNames((nodeNet[cls] as unknown as { prototype: object }).prototype);
      expect(mine.filter((m) => !EXTRAS[cls].includes(m) || theirs.includes(m))).to.deep.equal(theirs);
    });
  }

  it('_createServerHandle: a bound socket server.listen(handle) takes over, or the errno node:net returns', async function () {
    this.timeout(10000);
    type Create = (address?: string | null, port?: number | null, addressType?: number | null, fd?: number) => unknown;
    const mine = (impl() as unknown as { _createServerHandle: Create })._createServerHandle;
    const theirs = (nodeNet as unknown as { _createServerHandle: Create })._createServerHandle;
    // An address this host does not have: EADDRNOTAVAIL; a bad fd type: EINVAL.
    expect(mine('192.0.2.1', 0, 4)).to.equal(theirs('192.0.2.1', 0, 4));
    expect(mine('192.0.2.1', 0, 4)).to.be.a('number').below(0);
    const file = fs.openSync(__filename, 'r');
    try {
      expect(mine(null, null, null, file)).to.equal(theirs(null, null, null, file)).and.to.be.below(0);
    } finally {
      fs.closeSync(file);
    }
    const net = impl();
    const handle = mine('127.0.0.1', 0, 4);
    expect(handle).to.be.an('object');
    const server = net.createServer((s) => s.end('hi'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(handle as never, () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    expect(port).to.be.greaterThan(0);
    const reply = await new Promise<string>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1');
      let got = '';
      c.on('data', (d) => { got += d; });
      c.on('error', reject);
      c.on('close', () => resolve(got));
    });
    expect(reply).to.equal('hi');
    await new Promise((r) => server.close(r));
  });
});

describe("node:net's legacy Server hooks", () => {
  it('_listen2 is what listen() calls to make its socket, with node:net\'s arguments', async function () {
    this.timeout(10000);
    const run = async (net: typeof nodeNet): Promise<unknown[][]> => {
      const calls: unknown[][] = [];
      const forms: unknown[][] = [[0, '127.0.0.1'], [{ port: 0, host: 'localhost', backlog: 7 }], [0], [{ port: 0, ipv6Only: true }]];
      for (const form of forms) {
        const server = net.createServer();
        const own = server as unknown as { _listen2: (...a: unknown[]) => void };
        const original = own._listen2;
        own._listen2 = function (this: unknown, ...args: unknown[]) {
          calls.push(args.map((a) => (typeof a === 'number' && a > 1024 ? 'PORT' : a)));
          return original.apply(this, args);
        };
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          (server.listen as (...a: unknown[]) => unknown)(...form, () => resolve());
        });
        await new Promise((r) => server.close(r));
      }
      return calls;
    };
    const ref = await run(nodeNet);
    expect(ref).to.have.length(4);
    expect(await run(impl())).to.deep.equal(ref);
  });

  it('_setupWorker: getConnections adds the workers\' counts and close() waits for them, as node:net', async function () {
    this.timeout(10000);
    const { EventEmitter } = await import('node:events');
    const run = async (net: typeof nodeNet): Promise<unknown[]> => {
      const log: unknown[] = [];
      const server = net.createServer() as unknown as netServerWithWorkers;
      const workers = [2, 3].map((count, i) => Object.assign(new EventEmitter(), {
        getConnections(cb: (err: Error | null, n: number) => void) { setImmediate(() => cb(null, count)); },
        close(cb: () => void) { log.push(`worker ${i} close`); setImmediate(cb); },
      }));
      for (const w of workers) server._setupWorker(w);
      log.push(['usingWorkers', server._usingWorkers, server._workers.length]);
      log.push(['connections', await new Promise((r) => server.getConnections((err, n) => r([err, n])))]);
      workers[0].emit('exit', workers[0]);
      log.push(['after exit', server._workers.length]);
      log.push(['connections', await new Promise((r) => server.getConnections((err, n) => r([err, n])))]);
      await new Promise<void>((resolve) => server.close(() => { log.push('server close'); resolve(); }));
      return log;
    };
    const ref = await run(nodeNet);
    expect(ref).to.deep.include(['connections', [null, 5]]);
    expect(await run(impl())).to.deep.equal(ref);
  });
});

interface netServerWithWorkers {
  _setupWorker(list: unknown): void;
  _usingWorkers: boolean;
  _workers: unknown[];
  getConnections(cb: (err: Error | null, n: number) => void): void;
  close(cb: (err?: Error) => void): void;
}
