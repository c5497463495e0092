/*
 * Parity with node:net where node:net's behaviour depends on the Node release
 * (issue 14): each scenario runs on the running Node's node:net and on
 * protonet, so on Node 24 it checks the newer behaviour (reusePort, blockList,
 * overlong Unix paths refused, listen resolving every address) and on Node 20
 * that protonet keeps Node 20's (the option ignored, the path truncated...).
 */
import { spawnSync } from 'node:child_process';
import * as dns from 'node:dns';
import * as fs from 'node:fs';
import type * as netTypes from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { impl, nodeNet, repoRoot, type NetLike } from './helpers/impl';
import { parity } from './helpers/parity';
import type { Recorder } from './helpers/recorder';
import { closeServer, listen, once } from './helpers/util';

type Sock = netTypes.Socket;
type Srv = netTypes.Server;

let counter = 0;
function sockPath(): string {
  counter++;
  return path.join(os.tmpdir(), `pn-nv-${process.pid}-${counter}.sock`);
}

/** A path of exactly `len` bytes in the temp directory (padded with 'x'). */
function pathOfLength(len: number, tag: string): string {
  const base = path.join(os.tmpdir(), `pn-${tag}-${process.pid}-`);
  if (base.length >= len) throw new Error(`temp directory too long for a ${len}-byte path`);
  return base + 'x'.repeat(len - base.length);
}

/** Removes every file in the temp directory whose name starts like `p`'s (a truncated socket file included). */
function removeLike(p: string): void {
  const dir = path.dirname(p);
  const prefix = path.basename(p).slice(0, 12);
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith(prefix)) fs.rmSync(path.join(dir, f), { force: true });
  }
}

/** Listens and notes 'listening' (with the address) or the error; resolves either way. */
async function tryListen(rec: Recorder, name: string, server: Srv, ...args: unknown[]): Promise<boolean> {
  try {
    await listen(server, ...args);
    rec.note(name, 'listening at', server.address());
    return true;
  } catch (e) {
    rec.note(name, 'listen failed', e);
    return false;
  }
}

describe('parity with node:net: a write on a socket that was never connected', function () {
  parity('write() returns false, its callback and then the socket get ERR_SOCKET_CLOSED', async (net, rec) => {
    const s = new net.Socket();
    rec.track('socket', s);
    const first = s.write('x', rec.cb('socket', 'write 1 cb'));
    const second = s.write('y', rec.cb('socket', 'write 2 cb'));
    rec.note('socket', 'write returned', first, second);
    await once(s, 'close');
  });
});

describe('parity with node:net: resetAndDestroy() on a Unix socket', function () {
  parity('throws ERR_INVALID_HANDLE_TYPE while connecting, once connected and on the accepted side; a socket with no handle is destroyed', async (net, rec) => {
    const p = sockPath();
    const server = net.createServer();
    rec.track('server', server);
    server.on('connection', (s: Sock) => {
      rec.track('serverSocket', s);
      rec.attempt('serverSocket', 'reset', () => s.resetAndDestroy() === s);
      rec.note('serverSocket', 'destroyed after reset', s.destroyed);
      s.destroy();
    });
    await listen(server, p);
    const c = net.connect(p);
    rec.track('client', c);
    rec.attempt('client', 'reset while connecting', () => c.resetAndDestroy() === c);
    await once(c, 'connect');
    rec.attempt('client', 'reset once connected', () => c.resetAndDestroy() === c);
    rec.note('client', 'destroyed after reset', c.destroyed);
    c.destroy();
    await once(c, 'close');

    const fresh = new net.Socket();
    rec.track('fresh', fresh);
    rec.attempt('fresh', 'reset with no handle', () => fresh.resetAndDestroy() === fresh);
    await once(fresh, 'close');
    await closeServer(server);
  });
});

describe("Node's command-line defaults for autoSelectFamily", function () {
  this.timeout(30000);
  // A child Node started with the flags reports node:net's and protonet's
  // defaults, what a connect then asks its lookup for (all addresses or
  // one), and that setting a default through protonet sets node:net's too
  // (one process-wide default, as Node has).
  const script = `
    const nodeNet = require('node:net');
    const protonet = require(${JSON.stringify(path.join(repoRoot, 'dist', 'index.js'))});
    const defaults = (n) => [n.getDefaultAutoSelectFamily(), n.getDefaultAutoSelectFamilyAttemptTimeout()];
    const out = { node: defaults(nodeNet), protonet: defaults(protonet), lookupAll: {} };
    let pending = 2;
    for (const [name, n] of [['node', nodeNet], ['protonet', protonet]]) {
      const s = n.connect({ host: 'pn-test.invalid', port: 9, lookup(host, opts, cb) {
        out.lookupAll[name] = Boolean(opts.all);
        cb(Object.assign(new Error('stop here'), { code: 'ENOTFOUND' }));
      } });
      s.on('error', () => {});
      s.on('close', () => {
        if (--pending > 0) return;
        protonet.setDefaultAutoSelectFamilyAttemptTimeout(77);
        protonet.setDefaultAutoSelectFamily(!out.node[0]);
        out.afterProtonetSet = { node: defaults(nodeNet), protonet: defaults(protonet) };
        console.log(JSON.stringify(out));
      });
    }`;

  function run(args: string[], env: NodeJS.ProcessEnv = {}): Record<string, unknown> {
    const r = spawnSync(process.execPath, [...args, '-e', script], {
      encoding: 'utf8', timeout: 20000, env: { ...process.env, ...env },
    });
    expect(r.status, r.stderr).to.equal(0);
    return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
  }

  it('--no-network-family-autoselection and --network-family-autoselection-attempt-timeout=123 on the command line', () => {
    const out = run(['--no-network-family-autoselection', '--network-family-autoselection-attempt-timeout=123']);
    expect(out.node).to.deep.equal([false, 123]);
    expect(out.protonet).to.deep.equal(out.node);
    expect(out.lookupAll).to.deep.equal({ node: false, protonet: false });
    expect(out.afterProtonetSet).to.deep.equal({ node: [true, 77], protonet: [true, 77] });
  });

  it('--network-family-autoselection-attempt-timeout=5 through NODE_OPTIONS (taken as is, below the setter\'s minimum of 10)', () => {
    const out = run([], { NODE_OPTIONS: '--network-family-autoselection-attempt-timeout=5' });
    expect(out.node).to.deep.equal([true, 5]);
    expect(out.protonet).to.deep.equal(out.node);
    expect(out.lookupAll).to.deep.equal({ node: true, protonet: true });
    expect(out.afterProtonetSet).to.deep.equal({ node: [false, 77], protonet: [false, 77] });
  });
});

// Whether the running Node's net lets two listeners share a port with reusePort.
async function nodeNetSharesPort(): Promise<boolean> {
  const a = nodeNet.createServer();
  const b = nodeNet.createServer();
  const port = await listen(a, { port: 0, host: '127.0.0.1', reusePort: true });
  const shared = await listen(b, { port, host: '127.0.0.1', reusePort: true }).then(() => true, () => false);
  if (shared) await closeServer(b);
  await closeServer(a);
  return shared;
}

describe('parity with node:net: listen({ reusePort })', function () {
  parity('two listeners with reusePort share the port (Node 23.1+; ignored before: EADDRINUSE); a third without it is refused', async (net, rec) => {
    const a = net.createServer();
    const b = net.createServer();
    const c = net.createServer();
    rec.track('a', a);
    rec.track('b', b, { noClose: true });
    rec.track('c', c, { noClose: true });
    const port = await listen(a, { port: 0, host: '127.0.0.1', reusePort: true });
    rec.port(port);
    const bListens = await tryListen(rec, 'b', b, { port, host: '127.0.0.1', reusePort: true });
    await tryListen(rec, 'c', c, { port, host: '127.0.0.1' });
    if (bListens) await closeServer(b);
    await closeServer(a);
  });

  parity('reusePort values other than true are ignored, and a Unix socket ignores it', async (net, rec) => {
    const a = net.createServer();
    const b = net.createServer();
    rec.track('a', a);
    rec.track('b', b, { noClose: true });
    const port = await listen(a, { port: 0, host: '127.0.0.1', reusePort: 1 });
    rec.port(port);
    await tryListen(rec, 'b', b, { port, host: '127.0.0.1', reusePort: 'yes' });
    await closeServer(a);
    const p = net.createServer();
    rec.track('pipe', p);
    await listen(p, { path: sockPath(), reusePort: true });
    rec.note('pipe', 'listening', p.listening);
    await closeServer(p);
  });

  parity('ipv6Only counts only when it is true, as reusePort: a truthy non-boolean keeps dual stack', async (net, rec) => {
    const server = net.createServer((s: Sock) => s.end());
    rec.track('server', server);
    server.on('connection', (s: Sock) => rec.track('serverSocket', s));
    const port = await listen(server, { port: 0, host: '::', ipv6Only: 1 });
    rec.port(port);
    await connectAndClose(net, rec, 'ipv4Client', { port, host: '127.0.0.1' });
    await closeServer(server);
  });

  it('protonet: SO_REUSEPORT reaches the kernel where node:net sets it, and both listeners accept', async function () {
    const shares = await nodeNetSharesPort();
    const net = impl();
    const a = net.createServer((s) => s.destroy());
    const b = net.createServer((s) => s.destroy());
    const port = await listen(a, { port: 0, host: '127.0.0.1', reusePort: true });
    const handle = (a as unknown as { _handle: { getsockopt(n: string): number } })._handle;
    expect(handle.getsockopt('SO_REUSEPORT')).to.equal(shares ? 1 : 0);
    if (!shares) {
      await closeServer(a);
      return;
    }
    await listen(b, { port, host: '127.0.0.1', reusePort: true });
    const served = { a: 0, b: 0 };
    a.on('connection', () => { served.a++; });
    b.on('connection', () => { served.b++; });
    // The kernel picks a listener by hashing the connection's addresses:
    // 64 connections from different source ports reach both (1 in 2^63 not).
    for (let i = 0; i < 64; i++) {
      const c = net.connect(port, '127.0.0.1');
      c.on('error', () => {});
      await once(c, 'close');
    }
    expect(served.a + served.b).to.equal(64);
    expect(served.a).to.be.greaterThan(0);
    expect(served.b).to.be.greaterThan(0);
    await closeServer(b);
    await closeServer(a);
  });
});

function blockListOf(net: NetLike, ...addresses: string[]): netTypes.BlockList {
  const bl = new net.BlockList();
  for (const a of addresses) bl.addAddress(a);
  return bl;
}

async function connectAndClose(net: NetLike, rec: Recorder, name: string, opts: netTypes.NetConnectOpts): Promise<void> {
  const c = net.connect(opts);
  rec.track(name, c, { ignore: ['lookup'] });
  c.resume();
  await once(c, 'close', 8000, name);
}

describe('parity with node:net: blockList (Node 23.4+; ignored before)', function () {
  parity('net.connect({ blockList }): an IP literal, one looked-up address, several (all blocked, one allowed)', async (net, rec) => {
    const server = net.createServer((s: Sock) => s.end());
    rec.track('server', server);
    const port = await listen(server, 0, '127.0.0.1');
    rec.port(port);
    const blocked = blockListOf(net, '127.0.0.1', '127.0.0.2');
    await connectAndClose(net, rec, 'literal', { port, host: '127.0.0.1', blockList: blocked } as netTypes.NetConnectOpts);
    await connectAndClose(net, rec, 'lookupOne', {
      port, host: 'pn-test.invalid', blockList: blocked, autoSelectFamily: false,
      lookup: (_h: string, _o: unknown, cb: (e: null, a: string, f: number) => void) => cb(null, '127.0.0.1', 4),
    } as netTypes.NetConnectOpts);
    await connectAndClose(net, rec, 'lookupAllBlocked', {
      port, host: 'pn-test.invalid', blockList: blocked, autoSelectFamily: true,
      lookup: (_h: string, _o: unknown, cb: (e: null, a: dns.LookupAddress[]) => void) =>
        cb(null, [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }]),
    } as netTypes.NetConnectOpts);
    await connectAndClose(net, rec, 'lookupOneAllowed', {
      port, host: 'pn-test.invalid', blockList: blockListOf(net, '127.0.0.2'), autoSelectFamily: true,
      lookup: (_h: string, _o: unknown, cb: (e: null, a: dns.LookupAddress[]) => void) =>
        cb(null, [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }]),
    } as netTypes.NetConnectOpts);
    await closeServer(server);
  });

  parity('options.blockList must be a net.BlockList (falsy values are ignored); the socket and server keep it', async (net, rec) => {
    const probe = net.createServer();
    rec.track('probe', probe, { noClose: true });
    for (const v of ['x', {}, true, 0, null]) {
      rec.attempt('probe', `Socket ${JSON.stringify(v)}`, () => {
        const s = new net.Socket({ blockList: v } as netTypes.SocketConstructorOpts);
        s.destroy();
        return 'blockList' in s;
      });
      rec.attempt('probe', `Server ${JSON.stringify(v)}`, () => 'blockList' in net.createServer({ blockList: v } as netTypes.ServerOpts));
    }
    const bl = new net.BlockList();
    const s = new net.Socket({ blockList: bl } as netTypes.SocketConstructorOpts);
    rec.note('probe', 'kept', (s as unknown as { blockList?: unknown }).blockList === bl,
      (net.createServer({ blockList: bl } as netTypes.ServerOpts) as unknown as { blockList?: unknown }).blockList === bl);
    s.destroy();
  });

  parity('createServer({ blockList }): a blocked peer is closed before \'connection\' (no \'drop\'); others are served', async (net, rec) => {
    const server = net.createServer({ blockList: blockListOf(net, '127.0.0.1') } as netTypes.ServerOpts);
    rec.track('server', server);
    server.on('connection', (s: Sock) => {
      rec.track('serverSocket', s);
      s.end('hi');
    });
    const port = await listen(server, 0, '127.0.0.1');
    rec.port(port);
    await connectAndClose(net, rec, 'blockedPeer', { port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    await connectAndClose(net, rec, 'allowedPeer', { port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    await closeServer(server);
  });
});

describe('parity with node:net: Unix socket paths longer than sun_path', function () {
  // 108 bytes fill Linux's sun_path exactly (no terminating NUL); 120 do not fit.
  for (const len of [108, 120]) {
    parity(`a ${len}-byte path: listen and connect (Node 22+: EINVAL; before: truncated to sun_path)`, async (net, rec) => {
      const p = pathOfLength(len, `long${len}`);
      removeLike(p);
      const server = net.createServer((s: Sock) => s.end('hi'));
      rec.track('server', server, { noClose: true });
      try {
        const listening = await tryListen(rec, 'server', server, p);
        const c = net.connect(p);
        rec.track('client', c);
        rec.note('client', 'right after connect()', c.connecting, c.destroyed);
        c.resume();
        await once(c, 'close', 8000, 'client');
        if (listening) await closeServer(server);
      } finally {
        removeLike(p);
      }
    });
  }
});

describe('parity with node:net: listen() on a host name', function () {
  // dns.lookup answers from this table (node:net and protonet both call it
  // through the dns module): all addresses when asked for all, else the first.
  const table: Record<string, dns.LookupAddress[]> = {
    'pn-linklocal-first.test': [{ address: 'fe80::1', family: 6 }, { address: '127.0.0.1', family: 4 }],
    'pn-only-linklocal.test': [{ address: 'fe80::1', family: 6 }],
  };

  async function withLookup(rec: Recorder, body: () => Promise<void>): Promise<void> {
    // The module object itself (an `import *` namespace is read-only).
    const dnsModule = require('node:dns') as { lookup: unknown };
    const real = dnsModule.lookup;
    const fake = (host: string, opts: unknown, cb?: unknown): void => {
      const callback = (typeof opts === 'function' ? opts : cb) as (...a: unknown[]) => void;
      const all = typeof opts === 'object' && opts !== null && (opts as dns.LookupOptions).all === true;
      rec.note('lookup', 'called', host, typeof opts === 'function' ? 'no options' : opts);
      const answer = table[host];
      process.nextTick(() => {
        if (!answer) callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host }));
        else if (all) callback(null, answer);
        else callback(null, answer[0].address, answer[0].family);
      });
    };
    dnsModule.lookup = fake;
    try {
      await body();
    } finally {
      dnsModule.lookup = real;
    }
  }

  parity('Node 23+ listens on the first answer that is not IPv6 link-local (dns.lookup all); before, on the first answer', async (net, rec) => {
    await withLookup(rec, async () => {
      for (const host of Object.keys(table)) {
        const server = net.createServer();
        const name = rec.track('server', server, { noClose: true });
        if (await tryListen(rec, name, server, 0, host)) await closeServer(server);
      }
    });
  });

  parity("a failed lookup is the server's 'error'", async (net, rec) => {
    await withLookup(rec, async () => {
      const server = net.createServer();
      rec.track('server', server, { noClose: true });
      await tryListen(rec, 'server', server, 0, 'pn-unknown.test');
      rec.note('server', 'listening', server.listening);
    });
  });

  parity("'localhost' from the system's resolver", async (net, rec) => {
    const server = net.createServer();
    rec.track('server', server);
    const port = await listen(server, 0, 'localhost');
    rec.port(port);
    rec.note('server', 'address', server.address());
    await closeServer(server);
  });
});
