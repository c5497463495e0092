/*
 * net.BoundSocket (new in Node 24): a socket bound without listening or
 * connecting, adopted by server.listen(bound) / listen({ handle: bound }) or by
 * new Socket({ handle: bound }) + connect(). Where the running Node's net has
 * it, every scenario runs on node:net and on protonet and the event logs must
 * match; where it has not (Node 20), those scenarios are skipped and protonet
 * must not export it either.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as netTypes from 'node:net';

import { impl, nodeNet, type NetLike } from './helpers/impl';
import { parity, type Scenario } from './helpers/parity';
import type { Recorder } from './helpers/recorder';
import { closeServer, once } from './helpers/util';

// @types/node 20 has no BoundSocket: its shape as Node 24 documents it.
interface BoundSocketLike {
  address(): netTypes.AddressInfo | string;
  fd(): number;
  close(): void;
  readonly isPipe: boolean;
  [Symbol.dispose](): void;
}
type BoundSocketCtor = new (options?: unknown) => BoundSocketLike;

const NODE_HAS_BOUND_SOCKET = typeof (nodeNet as unknown as Record<string, unknown>).BoundSocket === 'function';
const SKIP_REASON = `node:net of Node ${process.version} has no BoundSocket (added in Node 24)`;

function Bound(net: NetLike): BoundSocketCtor {
  return (net as unknown as { BoundSocket: BoundSocketCtor }).BoundSocket;
}

/** A parity scenario that needs node:net's BoundSocket; skipped (reason in the title) without it. */
function boundParity(title: string, scenario: Scenario, opts?: { timeout?: number }): void {
  if (NODE_HAS_BOUND_SOCKET) {
    parity(title, scenario, opts);
  } else {
    it(`${title} [skipped: ${SKIP_REASON}]`, function () { this.skip(); });
  }
}

let counter = 0;
/** One socket path per scenario, the same for both runs (so logs compare); each run removes it. */
function sockPath(): string {
  counter += 1;
  return path.join(os.tmpdir(), `protonet-bound-${process.pid}-${counter}.sock`);
}
function rm(p: string): void {
  try { fs.unlinkSync(p); } catch { /* gone */ }
}

/** An echo server tracked by `rec`, listening on 127.0.0.1 (or `host`); its port is labelled SERVER. */
async function echoServer(net: NetLike, rec: Recorder, host = '127.0.0.1'): Promise<netTypes.Server> {
  const server = net.createServer((s) => { rec.own(s); s.pipe(s); });
  rec.track('server', server, { ignore: ['connection'] });
  server.listen(0, host);
  await once(server, 'listening');
  rec.port((server.address() as netTypes.AddressInfo).port, 'SERVER');
  return server;
}

/** Writes `text` and resolves with what the echo brings back. */
async function echo(socket: netTypes.Socket, text: string): Promise<string> {
  let got = '';
  const done = new Promise<void>((resolve) => {
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (got.length >= text.length) { socket.removeListener('data', onData); resolve(); }
    };
    socket.on('data', onData);
  });
  socket.write(text);
  await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('echo timed out')), 5000))]);
  return got;
}

function hasIPv6Loopback(): boolean {
  return Object.values(os.networkInterfaces()).some((list) => list?.some((i) => i.address === '::1'));
}

describe('net.BoundSocket (node:net vs protonet)', () => {
  if (!NODE_HAS_BOUND_SOCKET) {
    it(`is not exported where node:net has none (${process.version}), so both export the same names`, () => {
      expect('BoundSocket' in nodeNet).to.equal(false);
      expect('BoundSocket' in impl()).to.equal(false);
      expect(Object.keys(impl())).to.not.include('BoundSocket');
    });
  } else {
    it('is exported, a class named BoundSocket with the same prototype names as node:net\'s', () => {
      const B = Bound(impl());
      expect(B).to.be.a('function');
      expect(B.name).to.equal('BoundSocket');
      expect(B.length).to.equal(Bound(nodeNet).length);
      expect(Object.getOwnPropertyNames(B.prototype).sort())
        .to.deep.equal(Object.getOwnPropertyNames(Bound(nodeNet).prototype).sort());
      expect(typeof B.prototype[Symbol.dispose]).to.equal('function');
    });
  }

  boundParity('TCP bind on 127.0.0.1 port 0: address() has the chosen port, fd() a number, isPipe false; close() then ERR_SOCKET_HANDLE_ADOPTED', async (net, rec) => {
    const B = Bound(net);
    const b = new B({ host: '127.0.0.1' });
    const a = b.address() as netTypes.AddressInfo;
    rec.port(a.port, 'BOUND');
    rec.note('bound', 'address', a);
    rec.note('bound', 'port > 0', a.port > 0);
    rec.note('bound', 'fd', typeof b.fd(), Number.isInteger(b.fd()) && b.fd() >= 0);
    rec.note('bound', 'isPipe', b.isPipe);
    rec.note('bound', 'own keys', Object.keys(b));
    rec.attempt('bound', 'close', () => b.close());
    rec.attempt('bound', 'close again', () => b.close());
    rec.attempt('bound', 'address after close', () => b.address());
    rec.attempt('bound', 'fd after close', () => b.fd());
    rec.attempt('bound', 'dispose after close', () => b[Symbol.dispose]());
    // The port is free again: a server can take it.
    const s = net.createServer();
    rec.track('server', s);
    s.listen(a.port, '127.0.0.1');
    await once(s, 'listening');
    rec.note('server', 'took the port', (s.address() as netTypes.AddressInfo).port === a.port);
    await closeServer(s);
  });

  boundParity('defaults: 0.0.0.0; ipv6Only: ::; an explicit port is kept', async (net, rec) => {
    const B = Bound(net);
    const d = new B();
    rec.port((d.address() as netTypes.AddressInfo).port, 'D');
    rec.note('bound', 'default', d.address());
    d.close();
    if (hasIPv6Loopback()) {
      const v6 = new B({ ipv6Only: true });
      rec.port((v6.address() as netTypes.AddressInfo).port, 'V6');
      rec.note('bound', 'ipv6Only', v6.address());
      v6.close();
      const l6 = new B({ host: '::1', ipv6Only: true, reusePort: true });
      rec.port((l6.address() as netTypes.AddressInfo).port, 'L6');
      rec.note('bound', '::1', l6.address());
      l6.close();
    }
    // A port someone just freed, bound explicitly (and as a numeric string).
    const probe = new B({ host: '127.0.0.1' });
    const port = (probe.address() as netTypes.AddressInfo).port;
    rec.port(port, 'EXPLICIT');
    probe.close();
    const e = new B({ host: '127.0.0.1', port: String(port) });
    rec.note('bound', 'explicit port', e.address());
    e.close();
  });

  boundParity('options are validated: same error class, code and message as node:net', async (net, rec) => {
    const B = Bound(net);
    const bad: unknown[] = [
      5, null, 'x', [], () => {},
      { port: -1 }, { port: 'abc' }, { port: 70000 }, { port: 1.5 }, { port: true },
      { ipv6Only: 1 }, { ipv6Only: 'yes' }, { reusePort: 'y' }, { reusePort: 0 },
      { host: 'localhost' }, { host: '' }, { host: 5 }, { host: '1.2.3' }, { host: '[::1]' },
      { path: '/tmp/x.sock', port: 0 }, { path: '/tmp/x.sock', host: '127.0.0.1' },
      { path: '/tmp/x.sock', ipv6Only: false }, { path: '/tmp/x.sock', reusePort: false },
      { path: 5 }, { path: null },
    ];
    for (const opts of bad) {
      rec.attempt('validation', JSON.stringify(opts) ?? String(opts), () => new B(opts));
    }
  });

  boundParity('EADDRINUSE is thrown synchronously by the constructor (syscall bind), reusePort or not', async (net, rec) => {
    const B = Bound(net);
    const server = await echoServer(net, rec);
    const port = (server.address() as netTypes.AddressInfo).port;
    rec.attempt('bound', '127.0.0.1 on a listening port', () => new B({ host: '127.0.0.1', port }));
    rec.attempt('bound', 'any address on it', () => new B({ port }));
    rec.attempt('bound', 'with reusePort', () => new B({ host: '127.0.0.1', port, reusePort: true }));
    rec.attempt('bound', 'an address not on this host', () => new B({ host: '192.0.2.1' }));
    await closeServer(server);
  });

  boundParity('server.listen(bound): listening at once on the bound port, accepts and echoes; the BoundSocket is spent', async (net, rec) => {
    const B = Bound(net);
    const b = new B({ host: '127.0.0.1' });
    const port = (b.address() as netTypes.AddressInfo).port;
    rec.port(port, 'BOUND');
    const server = net.createServer((s) => { rec.own(s); s.pipe(s); });
    rec.track('server', server, { ignore: ['connection'] });
    const ret = server.listen(b as never, rec.cb('server', 'listen callback'));
    rec.note('server', 'returns the server', ret === server);
    rec.note('server', 'sync', server.listening, server.address());
    rec.attempt('bound', 'address after adoption', () => b.address());
    rec.attempt('bound', 'fd after adoption', () => b.fd());
    rec.attempt('bound', 'close after adoption', () => b.close());
    rec.attempt('bound', 'dispose after adoption', () => b[Symbol.dispose]());
    rec.attempt('server', 'listen(bound) again', () => server.listen(b as never));
    rec.attempt('other', 'listen on the spent BoundSocket', () => net.createServer().listen(b as never));
    rec.attempt('other', 'Socket on the spent BoundSocket', () => new net.Socket({ handle: b } as never));
    await once(server, 'listening');
    const c = net.connect(port, '127.0.0.1');
    rec.track('client', c);
    await once(c, 'connect');
    rec.note('client', 'echo', await echo(c, 'hello bound'));
    c.end();
    await once(c, 'close');
    await closeServer(server);
  });

  boundParity('server.listen({ handle: bound }, backlog): same as listen(bound); options.port and backlog are ignored', async (net, rec) => {
    const B = Bound(net);
    const b = new B({ host: '127.0.0.1' });
    rec.port((b.address() as netTypes.AddressInfo).port, 'BOUND');
    const server = net.createServer((s) => { rec.own(s); s.pipe(s); });
    rec.track('server', server, { ignore: ['connection'] });
    server.listen({ handle: b, port: 1, backlog: 3 } as never, 8);
    await once(server, 'listening');
    const a = server.address() as netTypes.AddressInfo;
    rec.note('server', 'address', a);
    const c = net.connect(a.port, '127.0.0.1');
    rec.track('client', c);
    await once(c, 'connect');
    rec.note('client', 'echo', await echo(c, 'x'.repeat(1000)));
    c.destroy();
    await once(c, 'close');
    await closeServer(server);
  });

  boundParity('new Socket({ handle: bound }).connect(): local port is the bound one before and after; connectionAttempt in the same tick; echo', async (net, rec) => {
    const B = Bound(net);
    const server = await echoServer(net, rec);
    const port = (server.address() as netTypes.AddressInfo).port;
    const b = new B({ host: '127.0.0.1' });
    rec.port((b.address() as netTypes.AddressInfo).port, 'BOUND');
    const seen: string[] = [];
    server.on('connection', (s: netTypes.Socket) => seen.push(`${s.remoteAddress}:${rec.normPort(s.remotePort)}`));
    const c = new net.Socket({ handle: b } as never);
    rec.track('client', c);
    rec.note('client', 'before connect', c.localAddress, rec.normPort(c.localPort), c.localFamily, c.remoteAddress, c.readyState, c.pending, c.connecting);
    rec.attempt('bound', 'address after adoption', () => b.address());
    c.connect(port, '127.0.0.1', rec.cb('client', 'connect callback'));
    rec.note('client', 'after connect()', c.localAddress, rec.normPort(c.localPort), c.connecting);
    await once(c, 'connect');
    rec.note('client', 'connected', c.localAddress, rec.normPort(c.localPort), c.remoteAddress, rec.normPort(c.remotePort), c.remoteFamily, c.address());
    rec.note('client', 'echo', await echo(c, 'from a bound port'));
    rec.note('server', 'peer seen', seen);
    c.end();
    await once(c, 'close');
    await closeServer(server);
  });

  boundParity('connect from a bound socket: localAddress/localPort refused; ECONNREFUSED and EAFNOSUPPORT as node:net reports them', async (net, rec) => {
    const B = Bound(net);
    const server = await echoServer(net, rec);
    const port = (server.address() as netTypes.AddressInfo).port;
    const b1 = new B({ host: '127.0.0.1' });
    rec.port((b1.address() as netTypes.AddressInfo).port, 'B1');
    const c1 = new net.Socket({ handle: b1 } as never);
    rec.track('refusedOptions', c1);
    rec.attempt('refusedOptions', 'localPort', () => c1.connect({ port, host: '127.0.0.1', localPort: 5 }));
    rec.attempt('refusedOptions', 'localAddress', () => c1.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' }));
    c1.destroy();
    await once(c1, 'close');

    // A port nobody listens on: close the server first.
    await closeServer(server);
    const b2 = new B({ host: '127.0.0.1' });
    rec.port((b2.address() as netTypes.AddressInfo).port, 'B2');
    const c2 = new net.Socket({ handle: b2 } as never);
    rec.track('refused', c2);
    c2.connect(port, '127.0.0.1');
    await once(c2, 'close');

    if (hasIPv6Loopback()) {
      const b3 = new B({ host: '127.0.0.1' });
      rec.port((b3.address() as netTypes.AddressInfo).port, 'B3');
      const c3 = new net.Socket({ handle: b3 } as never);
      rec.track('wrongFamily', c3);
      c3.connect(port, '::1');
      await once(c3, 'close');
    }
  });

  boundParity('a Socket destroyed before connecting closes its bound socket (close(false)); the port is free again', async (net, rec) => {
    const B = Bound(net);
    const b = new B({ host: '127.0.0.1' });
    const port = (b.address() as netTypes.AddressInfo).port;
    rec.port(port, 'BOUND');
    const c = new net.Socket({ handle: b } as never);
    rec.track('client', c);
    c.destroy();
    await once(c, 'close');
    rec.note('client', 'after close', c.localAddress, rec.normPort(c.localPort));
    const s = net.createServer();
    rec.track('server', s);
    s.listen(port, '127.0.0.1');
    await once(s, 'listening');
    await closeServer(s);
  });

  boundParity('IPv6: bound on ::1 with ipv6Only, listened on, and connected from', async (net, rec) => {
    if (!hasIPv6Loopback()) {
      rec.note('skip', 'no ::1 on this host');
      return;
    }
    const B = Bound(net);
    const sb = new B({ host: '::1', ipv6Only: true });
    rec.port((sb.address() as netTypes.AddressInfo).port, 'SERVER');
    const server = net.createServer((s) => { rec.own(s); s.pipe(s); });
    rec.track('server', server, { ignore: ['connection'] });
    server.listen(sb as never);
    await once(server, 'listening');
    rec.note('server', 'address', server.address());
    const cb = new B({ host: '::1' });
    rec.port((cb.address() as netTypes.AddressInfo).port, 'CLIENT');
    const c = new net.Socket({ handle: cb } as never);
    rec.track('client', c);
    c.connect((server.address() as netTypes.AddressInfo).port, '::1');
    await once(c, 'connect');
    rec.note('client', 'names', c.localAddress, rec.normPort(c.localPort), c.localFamily, c.remoteAddress, rec.normPort(c.remotePort), c.remoteFamily);
    rec.note('client', 'echo', await echo(c, 'six'));
    c.end();
    await once(c, 'close');
    await closeServer(server);
  });

  const p1 = sockPath();
  const p2 = sockPath();
  boundParity('Unix socket: bind a path (isPipe, address() is the path), listen on it, connect; the files go with close', async (net, rec) => {
    const B = Bound(net);
    rm(p1); rm(p2);
    try {
      const sb = new B({ path: p1 });
      rec.note('bound', 'server side', sb.address() === p1, sb.isPipe, typeof sb.fd(), fs.existsSync(p1));
      rec.attempt('bound', 'the same path again', () => new B({ path: p1 }));
      const server = net.createServer((s) => {
        rec.own(s);
        rec.note('server', 'peer', s.remoteAddress, s.localAddress);
        s.pipe(s);
      });
      rec.track('server', server, { ignore: ['connection'] });
      server.listen(sb as never);
      rec.note('server', 'address', server.address() === p1, server.listening);
      await once(server, 'listening');

      const cb = new B({ path: p2 });
      const c = new net.Socket({ handle: cb } as never);
      rec.track('client', c);
      rec.note('client', 'before connect', c.localAddress === p2, c.localPort, c.remoteAddress, c.readyState);
      rec.attempt('client', 'connect({ port }) on a pipe', () => new net.Socket({ handle: new B({ path: `${p2}.x` }) } as never).connect({ port: 5 }));
      rm(`${p2}.x`);
      c.connect(p1);
      await once(c, 'connect');
      rec.note('client', 'connected', c.localAddress === p2, c.remoteAddress, c.address());
      rec.note('client', 'echo', await echo(c, 'through the file'));
      c.end();
      await once(c, 'close');
      rec.note('client', 'file after close', fs.existsSync(p2), c.localAddress === p2);
      await closeServer(server);
      rec.note('server', 'file after close', fs.existsSync(p1));
    } finally {
      rm(p1); rm(p2);
    }
  });

  const p3 = sockPath();
  boundParity('Unix socket: close() removes the file; a missing directory is EACCES; connecting to nothing is ENOENT', async (net, rec) => {
    const B = Bound(net);
    rm(p3);
    try {
      const b = new B({ path: p3 });
      rec.note('bound', 'file', fs.existsSync(p3));
      b.close();
      rec.note('bound', 'file after close', fs.existsSync(p3));
      rec.attempt('bound', 'address after close', () => b.address());
      rec.attempt('bound', 'missing directory', () => new B({ path: path.join(os.tmpdir(), `no-such-dir-${process.pid}`, 's.sock') }));
      const cb = new B({ path: p3 });
      const c = new net.Socket({ handle: cb } as never);
      rec.track('client', c);
      c.connect(`${p3}.missing`);
      await once(c, 'close');
      rec.note('client', 'file after close', fs.existsSync(p3));
      if (process.platform === 'linux') {
        const ab = new B({ path: `\0protonet-bound-${process.pid}` });
        rec.note('abstract', 'address', ab.address());
        const server = net.createServer((s) => { rec.own(s); s.end(); });
        rec.track('server', server, { ignore: ['connection'] });
        server.listen(ab as never);
        await once(server, 'listening');
        rec.note('server', 'address', server.address());
        const c2 = net.connect(`\0protonet-bound-${process.pid}`);
        rec.track('abstractClient', c2);
        c2.resume();
        await once(c2, 'close');
        await closeServer(server);
      }
    } finally {
      rm(p3);
    }
  });

  boundParity('Symbol.dispose closes an unadopted BoundSocket and is a no-op after', async (net, rec) => {
    const B = Bound(net);
    const b = new B({ host: '127.0.0.1' });
    const port = (b.address() as netTypes.AddressInfo).port;
    rec.port(port, 'BOUND');
    b[Symbol.dispose]();
    rec.attempt('bound', 'address after dispose', () => b.address());
    rec.attempt('bound', 'dispose again', () => b[Symbol.dispose]());
    rec.attempt('bound', 'close after dispose', () => b.close());
    const s = net.createServer();
    rec.track('server', s);
    s.listen(port, '127.0.0.1');
    await once(s, 'listening');
    await closeServer(s);
  });

  it('leaks no fd: bound, closed, disposed, listened on, connected from, destroyed unconnected (protonet)', async function () {
    if (!NODE_HAS_BOUND_SOCKET) this.skip();
    if (process.platform !== 'linux') this.skip();
    this.timeout(20000);
    const net = impl();
    const B = Bound(net);
    const count = (): number => fs.readdirSync('/proc/self/fd').length;
    // Warm up (the I/O threads and their fds exist from the first socket on).
    const warm = net.createServer().listen(0, '127.0.0.1');
    await once(warm, 'listening');
    await closeServer(warm);
    const before = count();
    const p = sockPath();
    try {
      for (let i = 0; i < 20; i++) {
        new B({ host: '127.0.0.1' }).close();
        new B({ host: '127.0.0.1' })[Symbol.dispose]();
        try { new B({ host: '127.0.0.1', port: 1 << 20 }); } catch { /* bad port */ }
        const server = net.createServer((s) => s.pipe(s));
        server.listen(new B({ host: '127.0.0.1' }) as never);
        await once(server, 'listening');
        const port = (server.address() as netTypes.AddressInfo).port;
        try { new B({ host: '127.0.0.1', port }); } catch { /* EADDRINUSE */ }
        const c = new net.Socket({ handle: new B({ host: '127.0.0.1' }) } as never);
        c.connect(port, '127.0.0.1');
        await once(c, 'connect');
        expect(await echo(c, 'n')).to.equal('n');
        c.destroy();
        await once(c, 'close');
        const u = new net.Socket({ handle: new B({ host: '127.0.0.1' }) } as never);
        u.destroy();
        await once(u, 'close');
        const r = new net.Socket({ handle: new B({ host: '127.0.0.1' }) } as never);
        r.on('error', () => {});
        r.connect(1, '127.0.0.1');
        await once(r, 'close');
        const pipe = new B({ path: p });
        const ps = net.createServer().listen(pipe as never);
        await once(ps, 'listening');
        await closeServer(ps);
        await closeServer(server);
      }
      // Closes finish on the I/O threads: give them a moment.
      const deadline = Date.now() + 3000;
      while (count() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      // At most as many as before (a close from the warm-up may still have been pending then).
      expect(count()).to.be.at.most(before);
      expect(fs.existsSync(p)).to.equal(false);
    } finally {
      rm(p);
    }
  });
});
