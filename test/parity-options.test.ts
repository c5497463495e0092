/*
 * Parity with node:net for options, timeouts, listen forms, connect options, onread, signals
 * and async disposal (issue 4). Each scenario runs on node:net and on protonet; the per-object
 * event logs must be identical (see helpers/parity.ts).
 */
import type * as netTypes from 'node:net';
import * as fs from 'node:fs';
import { NetLike } from './helpers/impl';
import { parity } from './helpers/parity';
import type { Recorder } from './helpers/recorder';
import { closeServer, delay, freePort, listen, once } from './helpers/util';

type Sock = netTypes.Socket;
type Srv = netTypes.Server;

async function startServer(net: NetLike, rec: Recorder, onConn: (s: Sock) => void = () => {},
  opts?: netTypes.ServerOpts): Promise<{ server: Srv; port: number }> {
  const server = opts ? net.createServer(opts) : net.createServer();
  rec.track('server', server);
  server.on('connection', (s: Sock) => {
    rec.track('serverSocket', s);
    onConn(s);
  });
  const port = await listen(server, 0, '127.0.0.1');
  rec.port(port);
  return { server, port };
}

async function finish(client: Sock | null, server: Srv | null): Promise<void> {
  if (client && !client.closed) await once(client, 'close', 8000, 'client');
  if (server) await closeServer(server, 8000);
}

/** A listening-state server with nothing else: used only to have a tracked object. */
function tracker(net: NetLike, rec: Recorder, name = 'probe'): Srv {
  const s = net.createServer();
  rec.track(name, s, { noClose: true });
  return s;
}

function isV6Available(): boolean {
  try {
    return Object.values(require('node:os').networkInterfaces() as Record<string, Array<{ address: string }>>)
      .some((list) => list.some((i) => i.address === '::1'));
  } catch {
    return false;
  }
}

describe('parity with node:net: options and timeouts', function () {
  parity("setTimeout: 'timeout' fires on an idle socket and does not close it", async (net, rec) => {
    const { server, port } = await startServer(net, rec);
    const c = net.connect(port, '127.0.0.1');
    rec.track('client', c);
    await once(c, 'connect');
    c.setTimeout(60);
    await once(c, 'timeout', 3000);
    rec.note('client', 'after timeout', c.destroyed, c.readyState, c.timeout);
    c.destroy();
    await finish(c, server);
  });

  parity('setTimeout is refreshed by received data (fires only after the data stops)', async (net, rec) => {
    const { server, port } = await startServer(net, rec, (s) => {
      let n = 0;
      const t = setInterval(() => {
        s.write('x');
        if (++n === 6) clearInterval(t);
      }, 25);
      s.on('close', () => clearInterval(t));
    });
    const c = net.connect(port, '127.0.0.1');
    rec.track('client', c);
    let received = 0;
    c.on('data', (d: Buffer) => (received += d.length));
    c.setTimeout(120);
    await once(c, 'timeout', 3000);
    rec.note('client', 'bytes before timeout', received);
    c.destroy();
    await finish(c, server);
  });

  parity('setTimeout is refreshed by writes (fires only after the writes stop)', async (net, rec) => {
    let got = 0;
    const { server, port } = await startServer(net, rec, (s) => s.on('data', (d: Buffer) => (got += d.length)));
    const c = net.connect(port, '127.0.0.1');
    rec.track('client', c);
    await once(c, 'connect');
    c.setTimeout(120);
    let writes = 0;
    const t = setInterval(() => {
      c.write('y');
      if (++writes === 6) clearInterval(t);
    }, 25);
    await once(c, 'timeout', 3000);
    rec.note('client', 'writes before timeout', writes);
    clearInterval(t);
    c.end();
    await finish(c, server);
    rec.note('server', 'got', got);
  });

  parity('setTimeout(0) cancels; socket.timeout reads back the last value (undefined at first)', async (net, rec) => {
    const { server, port } = await startServer(net, rec);
    const c = net.connect(port, '127.0.0.1');
    rec.track('client', c);
    rec.note('client', 'timeout initially', c.timeout);
    const cb = (): void => rec.note('client', 'callback ran');
    c.setTimeout(40, cb);
    rec.note('client', 'timeout set', c.timeout, c.listenerCount('timeout'));
    c.setTimeout(0, cb);
    rec.note('client', 'timeout cleared', c.timeout, c.listenerCount('timeout'));
    await delay(120);
    c.destroy();
    await finish(c, server);
  });

  parity('setTimeout argument errors (type, range, callback)', async (net, rec) => {
    const c = new net.Socket();
    rec.track('client', c);
    for (const v of ['1', -1, NaN, Infinity, null, {}]) {
      rec.attempt('client', `setTimeout(${String(v)})`, () => (c.setTimeout(v as number), 'ok'));
    }
    rec.attempt('client', 'setTimeout(10, "x")', () => (c.setTimeout(10, 'x' as never), 'ok'));
    rec.note('client', 'timeout', c.timeout);
    c.setTimeout(0);
    c.destroy();
    await once(c, 'close');
  });

  parity("connect({ timeout }) arms the idle timer: 'timeout' after connect", async (net, rec) => {
    const { server, port } = await startServer(net, rec);
    const c = net.connect({ port, host: '127.0.0.1', timeout: 50 });
    rec.track('client', c);
    rec.note('client', 'timeout prop', c.timeout);
    await once(c, 'timeout', 3000);
    c.destroy();
    await finish(c, server);
  });

  parity('highWaterMark on Socket, on connect() and on createServer (negative = default)', async (net, rec) => {
    const s = new net.Socket({ highWaterMark: 1024 } as netTypes.SocketConstructorOpts);
    rec.track('socket', s);
    rec.note('socket', 'hwm', s.readableHighWaterMark, s.writableHighWaterMark);
    s.destroy();
    const { server, port } = await startServer(net, rec, (sock) => {
      rec.note('serverSocket', 'hwm', sock.readableHighWaterMark, sock.writableHighWaterMark);
    }, { highWaterMark: 2048 } as netTypes.ServerOpts);
    rec.note('server', 'hwm', (server as unknown as { highWaterMark: number }).highWaterMark);
    const neg = net.createServer({ highWaterMark: -5 } as netTypes.ServerOpts);
    rec.note('server', 'negative hwm', (neg as unknown as { highWaterMark: number }).highWaterMark);
    const c = net.connect({ port, host: '127.0.0.1', highWaterMark: 512 } as netTypes.NetConnectOpts);
    rec.track('client', c);
    rec.note('client', 'hwm', c.readableHighWaterMark, c.writableHighWaterMark);
    await once(c, 'connect');
    c.end();
    await finish(c, server);
  });

  parity('option validation: keepAliveInitialDelay, highWaterMark, signal, objectMode', async (net, rec) => {
    const s = tracker(net, rec);
    for (const [label, o] of [
      ['keepAliveInitialDelay "x"', { keepAliveInitialDelay: 'x' }],
      ['keepAliveInitialDelay -5', { keepAliveInitialDelay: -5 }],
      ['signal "x"', { signal: 'x' }],
      ['signal {}', { signal: {} }],
      ['readableObjectMode', { readableObjectMode: true }],
      ['onread bad', { onread: { buffer: 1, callback: 2 } }],
    ] as Array<[string, object]>) {
      rec.attempt('probe', `new Socket(${label})`, () => {
        const sock = new net.Socket(o as netTypes.SocketConstructorOpts);
        sock.destroy();
        return 'ok';
      });
    }
    for (const [label, o] of [
      ['keepAliveInitialDelay "x"', { keepAliveInitialDelay: 'x' }],
      ['highWaterMark "x"', { highWaterMark: 'x' }],
      ['options 5', 5],
    ] as Array<[string, unknown]>) {
      rec.attempt('probe', `createServer(${label})`, () => (net.createServer(o as netTypes.ServerOpts), 'ok'));
    }
    void s;
  });

  parity("server noDelay/keepAlive options: connection events unchanged", async (net, rec) => {
    const { server, port } = await startServer(net, rec, (s) => s.end('ok'),
      { noDelay: true, keepAlive: true, keepAliveInitialDelay: 2000 });
    const c = net.connect({ port, host: '127.0.0.1', noDelay: true, keepAlive: true, keepAliveInitialDelay: 3000 });
    rec.track('client', c);
    c.on('data', () => {});
    await finish(c, server);
  });
});

describe('parity with node:net: module defaults and small socket methods', function () {
  parity('get/setDefaultAutoSelectFamily(AttemptTimeout): values, clamping to 10, argument errors', async (net, rec) => {
    tracker(net, rec);
    const fam = net.getDefaultAutoSelectFamily();
    const tmo = net.getDefaultAutoSelectFamilyAttemptTimeout();
    try {
      rec.note('probe', 'defaults', fam, tmo);
      for (const v of [false, true, 1, 'x', null]) {
        rec.attempt('probe', `setDefaultAutoSelectFamily(${String(v)})`, () => (net.setDefaultAutoSelectFamily(v as boolean), net.getDefaultAutoSelectFamily()));
      }
      for (const v of [5, 10, 300, 0, -1, 1.5, '100', 2 ** 31]) {
        rec.attempt('probe', `setDefaultAutoSelectFamilyAttemptTimeout(${String(v)})`,
          () => (net.setDefaultAutoSelectFamilyAttemptTimeout(v as number), net.getDefaultAutoSelectFamilyAttemptTimeout()));
      }
    } finally {
      net.setDefaultAutoSelectFamily(fam);
      net.setDefaultAutoSelectFamilyAttemptTimeout(tmo);
    }
  });

  parity("destroySoon(): ends, then destroys after 'finish'; bufferSize before and after connect", async (net, rec) => {
    let got = '';
    const { server, port } = await startServer(net, rec, (s) => s.on('data', (d: Buffer) => (got += d)));
    const c = net.connect(port, '127.0.0.1');
    rec.track('client', c);
    rec.note('client', 'bufferSize while connecting', c.bufferSize);
    c.write('queued');
    await once(c, 'connect');
    rec.note('client', 'bufferSize after connect', typeof c.bufferSize);
    c.write('last');
    c.destroySoon();
    await finish(c, server);
    rec.note('server', 'got', got);
    rec.note('client', 'bufferSize after close', c.bufferSize);
  });
});

describe('parity with node:net: listen forms and misuse', function () {
  parity('listen twice throws ERR_SERVER_ALREADY_LISTEN; close() when not running calls back with ERR_SERVER_NOT_RUNNING', async (net, rec) => {
    const server = net.createServer();
    rec.track('server', server);
    await listen(server, 0, '127.0.0.1');
    rec.attempt('server', 'listen again', () => (server.listen(0), 'ok'));
    await closeServer(server);
    await new Promise<void>((resolve) => server.close((err) => {
      rec.note('server', 'second close cb', rec.normError(err));
      resolve();
    }));
  });

  parity('listen with an AbortSignal: abort closes the server', async (net, rec) => {
    const ac = new AbortController();
    const server = net.createServer();
    rec.track('server', server);
    server.listen({ port: 0, host: '127.0.0.1', signal: ac.signal });
    await once(server, 'listening');
    rec.note('server', 'listening', server.listening);
    ac.abort();
    await once(server, 'close');
    rec.note('server', 'after abort', server.listening);
  });

  parity('listen with an already aborted signal: listening, then closed', async (net, rec) => {
    const server = net.createServer();
    rec.track('server', server);
    server.listen({ port: 0, host: '127.0.0.1', signal: AbortSignal.abort() });
    await once(server, 'close');
    rec.note('server', 'listening', server.listening);
  });

  parity('listen option errors: bad signal, no port/path, bad port, empty path, abstract path with readableAll', async (net, rec) => {
    tracker(net, rec);
    const cases: Array<[string, unknown]> = [
      ['signal "x"', { port: 0, signal: 'x' }],
      ['signal {}', { port: 0, signal: {} }],
      ['{}', {}],
      ['{ host }', { host: '127.0.0.1' }],
      ['{ port: -1 }', { port: -1 }],
      ['{ port: 65536 }', { port: 65536 }],
      ['{ path: "" }', { path: '' }],
      ['{ fd: -1 }', { fd: -1 }],
      ['{ handle: {} }', { handle: {} }],
      ['abstract readableAll', { path: '\0protonet-abstract-x', readableAll: true }],
      ['abstract writableAll', { path: '\0protonet-abstract-y', writableAll: true }],
    ];
    for (const [label, o] of cases) {
      const server = net.createServer();
      rec.attempt('probe', `listen(${label})`, () => (server.listen(o as netTypes.ListenOptions), 'ok'));
      if (server.listening) server.close();
    }
  });

  parity('listen({ fd }) on something that is not a socket: EINVAL error', async (net, rec) => {
    const fd = fs.openSync('/dev/null', 'r');
    try {
      const server = net.createServer();
      rec.track('server', server, { noClose: true });
      server.listen({ fd });
      const [err] = await once(server, 'error');
      rec.note('server', 'listening', server.listening, (err as Error).message);
    } finally {
      fs.closeSync(fd);
    }
  });

  parity('listen(port, backlog) with odd backlogs still listens', async (net, rec) => {
    for (const backlog of [-1, 0, 1.5, 2 ** 31]) {
      const server = net.createServer();
      rec.track('server', server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', backlog, () => resolve()));
      rec.note('server', 'listening', backlog, server.listening);
      await closeServer(server);
    }
  });

  parity('listen({ exclusive: true }) listens as usual', async (net, rec) => {
    const server = net.createServer((s) => s.end('hi'));
    rec.track('server', server);
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, resolve));
    const port = (server.address() as netTypes.AddressInfo).port;
    rec.port(port);
    const c = net.connect(port, '127.0.0.1');
    rec.track('client', c);
    c.on('data', () => {});
    await finish(c, server);
  });

  parity("listen(otherServer._handle): the second server gets the connections", async (net, rec) => {
    const first = net.createServer();
    rec.track('first', first, { noClose: true });
    const port = await listen(first, 0, '127.0.0.1');
    rec.port(port);
    const second = net.createServer((s) => {
      rec.track('secondSocket', s);
      s.end('from second');
    });
    rec.track('second', second);
    const h = (first as unknown as { _handle: unknown })._handle;
    await new Promise<void>((resolve) => (second.listen as (h: unknown, cb: () => void) => void)(h, resolve));
    rec.note('second', 'address', rec.normAddressInfo(second.address()));
    const c = net.connect(port, '127.0.0.1');
    rec.track('client', c);
    c.on('data', () => {});
    await once(c, 'close');
    await closeServer(second);
  });

  parity('listen({ handle: otherServer._handle }, cb): takes over the listening handle', async (net, rec) => {
    const first = net.createServer();
    rec.track('first', first, { noClose: true });
    const port = await listen(first, 0, '127.0.0.1');
    rec.port(port);
    const second = net.createServer((s) => {
      rec.track('secondSocket', s);
      s.end('from second');
    });
    rec.track('second', second);
    const h = (first as unknown as { _handle: unknown })._handle;
    await new Promise<void>((resolve) => second.listen({ handle: h } as netTypes.ListenOptions, resolve));
    rec.note('second', 'listening', second.listening, rec.normAddressInfo(second.address()));
    rec.attempt('second', 'listen again', () => (second.listen({ handle: h } as netTypes.ListenOptions), 'ok'));
    const c = net.connect(port, '127.0.0.1');
    rec.track('client', c);
    c.on('data', () => {});
    await once(c, 'close');
    await closeServer(second);
  });

  parity('listen({ host: "::", ipv6Only: true }): an IPv4 connect to the port is refused', async (net, rec) => {
    const server = net.createServer();
    rec.track('server', server);
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '::', ipv6Only: true }, resolve));
    const port = (server.address() as netTypes.AddressInfo).port;
    rec.port(port);
    rec.note('server', 'address', rec.normAddressInfo(server.address()));
    const c4 = net.connect(port, '127.0.0.1');
    rec.track('client4', c4);
    await once(c4, 'close');
    if (isV6Available()) {
      const c6 = net.connect(port, '::1');
      rec.track('client6', c6);
      await once(c6, 'connect');
      c6.destroy();
      await once(c6, 'close');
    }
    await closeServer(server);
  });

  parity('server[Symbol.asyncDispose] closes a listening server; resolves for a closed one', async (net, rec) => {
    const server = net.createServer();
    rec.track('server', server);
    await listen(server, 0, '127.0.0.1');
    await (server as unknown as { [Symbol.asyncDispose](): Promise<void> })[Symbol.asyncDispose]();
    rec.note('server', 'after dispose', server.listening);
    await (server as unknown as { [Symbol.asyncDispose](): Promise<void> })[Symbol.asyncDispose]();
    rec.note('server', 'second dispose resolved');
  });
});

describe('parity with node:net: connect options', function () {
  parity('connect with localPort already in use: bind EADDRINUSE, no connectionAttempt', async (net, rec) => {
    const { server, port } = await startServer(net, rec);
    const c = net.connect({ port, host: '127.0.0.1', localPort: port });
    rec.track('client', c);
    await once(c, 'close');
    await closeServer(server);
  });

  parity('connect with localAddress 127.0.0.1: connects from it; invalid localAddress throws', async (net, rec) => {
    const { server, port } = await startServer(net, rec, (s) => s.end());
    const c = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    rec.track('client', c);
    c.on('connect', () => rec.note('client', 'local', c.localAddress, c.localFamily));
    c.resume();
    await finish(c, server);
    rec.attempt('client', 'bad localAddress', () => net.connect({ port, host: '127.0.0.1', localAddress: 'nope' }));
    rec.attempt('client', 'bad localPort', () => net.connect({ port, host: '127.0.0.1', localPort: 'x' as never }));
  });

  parity('autoSelectFamily: all attempts refused -> AggregateError, attempt events, attempted addresses', async (net, rec) => {
    const port = await freePort(net);
    rec.port(port);
    const c = new net.Socket();
    rec.track('client', c);
    c.connect({
      port,
      host: 'pn.example',
      autoSelectFamily: true,
      lookup: ((_h: string, _o: unknown, cb: (e: null, a: Array<{ address: string; family: number }>) => void) => {
        cb(null, [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
      }) as never,
    });
    await once(c, 'close');
    rec.note('client', 'attempted', (c as unknown as { autoSelectFamilyAttemptedAddresses: string[] })
      .autoSelectFamilyAttemptedAddresses.map((a) => a.replace(String(port), 'PORT')));
  });

  parity('autoSelectFamily: first refused, second connects', async (net, rec) => {
    const { server, port } = await startServer(net, rec, (s) => s.end('hi'));
    const c = new net.Socket();
    rec.track('client', c);
    c.on('data', () => {});
    c.connect({
      port,
      host: 'pn.example',
      lookup: ((_h: string, _o: unknown, cb: (e: null, a: Array<{ address: string; family: number }>) => void) => {
        cb(null, [{ address: '127.0.0.2', family: 4 }, { address: '127.0.0.1', family: 4 }]);
      }) as never,
    });
    await finish(c, server);
    rec.note('client', 'attempted', (c as unknown as { autoSelectFamilyAttemptedAddresses?: string[] })
      .autoSelectFamilyAttemptedAddresses?.length);
  });

  parity('lookup receives family and hints; family 4 with autoSelectFamily off', async (net, rec) => {
    const { server, port } = await startServer(net, rec, (s) => s.end());
    const c = new net.Socket();
    rec.track('client', c);
    c.resume();
    c.connect({
      port,
      host: 'pn.example',
      family: 4,
      hints: 0,
      autoSelectFamily: false,
      lookup: ((h: string, o: Record<string, unknown>, cb: (e: null, a: string, f: number) => void) => {
        rec.note('client', 'lookup called', h, o);
        cb(null, '127.0.0.1', 4);
      }) as never,
    });
    await finish(c, server);
  });

  parity('lookup options with autoSelectFamily on (all: true) and the hints value passed on', async (net, rec) => {
    const { server, port } = await startServer(net, rec, (s) => s.end());
    const c = new net.Socket();
    rec.track('client', c);
    c.resume();
    c.connect({
      port,
      host: 'pn.example',
      hints: 1024,
      lookup: ((h: string, o: Record<string, unknown>, cb: (e: null, a: Array<{ address: string; family: number }>) => void) => {
        rec.note('client', 'lookup called', h, o);
        cb(null, [{ address: '127.0.0.1', family: 4 }]);
      }) as never,
    });
    await finish(c, server);
  });

  parity('connect option errors: autoSelectFamily, autoSelectFamilyAttemptTimeout, lookup, port types', async (net, rec) => {
    tracker(net, rec);
    const cases: Array<[string, object]> = [
      ['autoSelectFamily "x"', { port: 1, host: 'pn.example', autoSelectFamily: 'x' }],
      ['attemptTimeout 0', { port: 1, host: 'pn.example', autoSelectFamilyAttemptTimeout: 0 }],
      ['attemptTimeout 1.5', { port: 1, host: 'pn.example', autoSelectFamilyAttemptTimeout: 1.5 }],
      ['lookup "x"', { port: 1, host: 'pn.example', lookup: 'x' }],
      ['port {}', { port: {}, host: '127.0.0.1' }],
      ['port 70000', { port: 70000, host: '127.0.0.1' }],
      ['no port', { host: '127.0.0.1' }],
      ['path 5', { path: 5 }],
    ];
    for (const [label, o] of cases) {
      rec.attempt('probe', `connect(${label})`, () => {
        const s = net.connect(o as netTypes.NetConnectOpts);
        s.on('error', () => {});
        s.destroy();
        return 'ok';
      });
    }
  });

  parity('connect with an AbortSignal aborted while connecting: AbortError, close(true)', async (net, rec) => {
    const { server, port } = await startServer(net, rec);
    const ac = new AbortController();
    const c = net.connect({ port, host: '127.0.0.1', signal: ac.signal });
    rec.track('client', c);
    ac.abort();
    await once(c, 'close');
    await closeServer(server);
  });

  parity('connect with an AbortSignal aborted after connect: AbortError on an open socket', async (net, rec) => {
    const { server, port } = await startServer(net, rec);
    const ac = new AbortController();
    const c = net.connect({ port, host: '127.0.0.1', signal: ac.signal });
    rec.track('client', c);
    await once(c, 'connect');
    ac.abort();
    await finish(c, server);
  });

  parity('connect with an already aborted signal: AbortError, then the connect still runs (Node un-destroys)', async (net, rec) => {
    const { server, port } = await startServer(net, rec, (s) => s.destroy());
    const c = net.connect({ port, host: '127.0.0.1', signal: AbortSignal.abort() });
    rec.track('client', c);
    rec.note('client', 'state', c.destroyed, c.connecting);
    await delay(150);
    if (!c.destroyed) c.destroy();
    if (!c.closed) await once(c, 'close');
    await delay(50);
    await closeServer(server);
  });

  parity('onread: bytes arrive in the caller buffer, no data events, then end and close', async (net, rec) => {
    const { server, port } = await startServer(net, rec, (s) => s.end('hello world'));
    const buf = Buffer.alloc(64);
    let text = '';
    const c = net.connect({
      port,
      host: '127.0.0.1',
      onread: { buffer: buf, callback: (n: number, b: Buffer) => { text += b.toString('latin1', 0, n); return true; } },
    });
    rec.track('client', c);
    await finish(c, server);
    rec.note('client', 'text', text, c.bytesRead);
  });

  parity('onread with a buffer generator; callback returning false pauses until resume()', async (net, rec) => {
    const payload = 'abcdefghijklmnopqrstuvwxyz';
    const { server, port } = await startServer(net, rec, (s) => {
      s.write(payload.slice(0, 13));
      setTimeout(() => s.end(payload.slice(13)), 50);
    });
    let text = '';
    let calls = 0;
    const c = net.connect({
      port,
      host: '127.0.0.1',
      onread: {
        buffer: () => Buffer.alloc(64),
        callback: (n: number, b: Uint8Array) => {
          text += Buffer.from(b.buffer, b.byteOffset, n).toString();
          calls++;
          return calls !== 1;
        },
      },
    });
    rec.track('client', c);
    await delay(150);
    rec.note('client', 'while paused', text);
    c.resume();
    await finish(c, server);
    rec.note('client', 'text', text);
  });

  parity('socket[Symbol.asyncDispose]: open socket destroyed with AbortError; ended one without', async (net, rec) => {
    const { server, port } = await startServer(net, rec);
    const c = net.connect(port, '127.0.0.1');
    rec.track('client', c);
    await once(c, 'connect');
    await (c as unknown as { [Symbol.asyncDispose](): Promise<void> })[Symbol.asyncDispose]();
    rec.note('client', 'disposed', c.destroyed);
    if (!c.closed) await once(c, 'close');
    await closeServer(server);
  });

  parity('socket[Symbol.asyncDispose] on a never-connected socket', async (net, rec) => {
    const s = new net.Socket();
    rec.track('socket', s);
    await (s as unknown as { [Symbol.asyncDispose](): Promise<void> })[Symbol.asyncDispose]();
    rec.note('socket', 'disposed', s.destroyed);
    if (!s.closed) await once(s, 'close');
  });
});

// A loopback address whose connect hangs: a Python listener with backlog 0 that never accepts,
// its accept queue filled by one connection, so further SYNs are dropped and connects wait.
describe('parity with node:net: autoSelectFamily attempt timeouts', function () {
  let py: import('node:child_process').ChildProcess | null = null;
  let hangPort = 0;
  const fillers: Sock[] = [];

  before(async function () {
    this.timeout(10000);
    const { spawn } = await import('node:child_process');
    const script = 'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\n'
      + 'print(s.getsockname()[1],flush=True)\nsys.stdin.read()\n';
    const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'ignore'] });
    py = child;
    const port = await new Promise<number>((resolve) => {
      child.once('error', () => resolve(0));
      child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
      setTimeout(() => resolve(0), 5000);
    });
    // python3 is one of the tools .ci/run installs: its absence is a failure, not a skip.
    if (!port) throw new Error('python3 is needed to build a loopback address whose connect hangs');
    hangPort = port;
    const { nodeNet } = await import('./helpers/impl');
    for (let i = 0; i < 4; i++) {
      const c = nodeNet.connect(port, '127.0.0.1');
      c.on('error', () => {});
      fillers.push(c);
      const ok = await new Promise<boolean>((r) => {
        c.once('connect', () => r(true));
        setTimeout(() => r(false), 200);
      });
      if (!ok) return; // the queue is full: this one hangs too
    }
    throw new Error('the kernel kept accepting past a full backlog: no hanging loopback address to test with');
  });

  after(() => {
    for (const f of fillers) f.destroy();
    py?.stdin?.end();
    py?.kill();
  });

  const twoAddresses = (a: string, b: string) => ((_h: string, _o: unknown,
    cb: (e: null, r: Array<{ address: string; family: number }>) => void) => {
    cb(null, [{ address: a, family: 4 }, { address: b, family: 4 }]);
  }) as never;

  parity("an attempt that hangs past autoSelectFamilyAttemptTimeout: 'connectionAttemptTimeout', next address connects", async (net, rec) => {
    const server = net.createServer((s) => s.end('hi'));
    rec.track('server', server);
    rec.port(hangPort);
    await new Promise<void>((r) => server.listen(hangPort, '127.0.0.2', r));
    const c = net.connect({ port: hangPort, host: 'pn.example', autoSelectFamilyAttemptTimeout: 50, lookup: twoAddresses('127.0.0.1', '127.0.0.2') });
    rec.track('client', c);
    c.resume();
    await once(c, 'close', 5000);
    rec.note('client', 'attempted', c.autoSelectFamilyAttemptedAddresses.map((a) => a.replace(String(hangPort), 'PORT')));
    await closeServer(server);
  });

  parity('a timed-out attempt then a refused one: AggregateError of ETIMEDOUT and ECONNREFUSED', async (net, rec) => {
    rec.port(hangPort);
    const c = net.connect({ port: hangPort, host: 'pn.example', autoSelectFamilyAttemptTimeout: 50, lookup: twoAddresses('127.0.0.1', '127.0.0.3') });
    rec.track('client', c);
    await once(c, 'close', 5000);
  });
});
