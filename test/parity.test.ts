/*
 * Event parity: each scenario runs with node:net and with protonet (see helpers/parity.ts);
 * every object's own event sequence (with normalized arguments) must be identical.
 */
import { expect } from 'chai';
import type * as netTypes from 'node:net';
import { nodeNet, NetLike } from './helpers/impl';
import { parity } from './helpers/parity';
import type { Recorder, TrackOptions } from './helpers/recorder';
import { closeServer, delay, freePort, listen, once, prngBytes, until } from './helpers/util';

type Sock = netTypes.Socket;
type Srv = netTypes.Server;

interface Started {
  server: Srv;
  port: number;
  sockets: Sock[];
}

/** A tracked server on host:0 whose connections are tracked as 'serverSocket'. */
async function startServer(
  net: NetLike,
  rec: Recorder,
  onConn: (s: Sock) => void = () => {},
  o: { opts?: netTypes.ServerOpts; host?: string; name?: string; sockOpts?: TrackOptions } = {},
): Promise<Started> {
  const server = o.opts ? net.createServer(o.opts) : net.createServer();
  const name = o.name ?? 'server';
  rec.track(name, server);
  const sockets: Sock[] = [];
  server.on('connection', (s: Sock) => {
    rec.track(name === 'server' ? 'serverSocket' : `${name}Socket`, s, o.sockOpts);
    sockets.push(s);
    onConn(s);
  });
  const port = await listen(server, 0, o.host ?? '127.0.0.1');
  rec.port(port);
  return { server, port, sockets };
}

/** Waits for the client's 'close', then closes the server (waits for its 'close'). */
async function finish(client: Sock | null, server: Srv): Promise<void> {
  if (client && !client.closed) await once(client, 'close', 8000, 'client');
  await closeServer(server, 8000);
}

function state(s: Sock): Record<string, unknown> {
  return {
    readyState: s.readyState,
    pending: s.pending,
    connecting: s.connecting,
    destroyed: s.destroyed,
  };
}

const BAD_VALUES: Array<[string, unknown]> = [
  ['-1', -1],
  ['65536', 65536],
  ['1.5', 1.5],
  ["'abc'", 'abc'],
  ['true', true],
  ['false', false],
  ['null', null],
  ['undefined', undefined],
  ['{}', {}],
  ['[]', []],
  ['NaN', NaN],
  ["''", ''],
  ["' '", ' '],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ["'80x'", '80x'],
  ['2**53', 2 ** 53],
  ['-0.5', -0.5],
  ['1n', 1n],
  ['() => 1', () => 1],
  ["Symbol('p')", Symbol('p')],
];

describe('parity with node:net', function () {
  describe('data flow and half-close', function () {
    parity("echo: 'connect','ready', echoed data, 'finish','end','close'(false) on both ends", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.on('data', (d: Buffer) => s.write(d)));
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      let got = '';
      c.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.length === 10) c.end();
      });
      c.write('hello');
      c.write('world');
      await finish(c, server);
      expect(got).to.equal('helloworld');
    });

    parity("server ends first: client gets data, 'end', then auto-ends and closes", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.end('bye'));
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.on('data', () => {});
      await finish(c, server);
    });

    parity("client ends first: server gets data and 'end', auto-ends, both close(false)", async (net, rec) => {
      let got = '';
      const { server, port } = await startServer(net, rec, (s) => s.on('data', (d: Buffer) => (got += d)));
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.end('hi');
      await finish(c, server);
      expect(got).to.equal('hi');
    });

    parity("allowHalfOpen client stays writable after 'end' and writes before ending", async (net, rec) => {
      let got = '';
      const { server, port } = await startServer(net, rec, (s) => {
        s.on('data', (d: Buffer) => (got += d));
        s.end('bye');
      });
      const c = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      rec.track('client', c);
      c.on('data', () => {});
      c.on('end', () => {
        rec.note('client', 'state at end', state(c), c.writable);
        setTimeout(() => {
          rec.note('client', 'write returned', c.write('late'));
          c.end();
        }, 30);
      });
      await finish(c, server);
      expect(got).to.equal('late');
    });

    parity("allowHalfOpen server socket stays writable after 'end' and replies", async (net, rec) => {
      const { server, port } = await startServer(
        net,
        rec,
        (s) => {
          s.resume();
          s.on('end', () => {
            rec.note('serverSocket', 'writable at end', s.writable);
            setTimeout(() => s.end('reply'), 30);
          });
        },
        { opts: { allowHalfOpen: true } },
      );
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      let got = '';
      c.on('data', (d: Buffer) => (got += d));
      c.end('req');
      await finish(c, server);
      expect(got).to.equal('reply');
    });

    parity("'end' is not emitted while the socket is paused and never read", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.end('x'));
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.pause();
      await once(c, 'connect');
      await delay(150);
      rec.note('client', 'after 150 ms', state(c), c.readableEnded);
      c.destroy();
      await finish(c, server);
    });

    parity('end(data, cb) sends the data, calls cb and finishes', async (net, rec) => {
      let got = '';
      const { server, port } = await startServer(net, rec, (s) => s.on('data', (d: Buffer) => (got += d)));
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.resume();
      c.on('connect', () => {
        rec.note('client', 'end returned this', c.end('last words', rec.cb('client', 'end cb')) === c);
      });
      await finish(c, server);
      expect(got).to.equal('last words');
    });

    parity("pipe() from one socket to another carries all bytes and ends the destination", async (net, rec) => {
      const payload = prngBytes(1 << 20, 7);
      const b = await startServer(net, rec, (s) => s.resume(), { name: 'B', sockOpts: { dataTotal: true } });
      let toB: Sock | undefined;
      const a = await startServer(
        net,
        rec,
        (s) => {
          toB = net.connect(b.port, '127.0.0.1');
          rec.track('toB', toB, { ignore: ['drain'] });
          s.pipe(toB);
        },
        { name: 'A', sockOpts: { ignore: ['pause', 'resume', 'data'] } },
      );
      const c = net.connect(a.port, '127.0.0.1');
      rec.track('client', c, { ignore: ['drain'] });
      c.end(payload);
      await once(c, 'close', 8000);
      await closeServer(a.server);
      await closeServer(b.server);
      expect(toB).to.not.equal(undefined);
    });

    parity('for await over a socket yields all data and ends', async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => {
        s.write('one');
        setTimeout(() => s.write('two'), 30);
        setTimeout(() => s.end('three'), 60);
      });
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c, { ignore: ['readable'] });
      const parts: string[] = [];
      for await (const chunk of c) parts.push(String(chunk));
      rec.note('client', 'iterated', parts.join(''));
      await finish(c, server);
      expect(parts.join('')).to.equal('onetwothree');
    });

    parity('breaking out of for await destroys the socket without an error', async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => {
        s.resume();
        s.write('first');
      });
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c, { ignore: ['readable'] });
      for await (const chunk of c) {
        rec.note('client', 'chunk', String(chunk));
        break;
      }
      rec.note('client', 'after break', state(c));
      await finish(c, server);
    });

    parity("setEncoding('utf8') joins a multi-byte character split across writes", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => {
        s.write(Buffer.from([0x61, 0xe2]));
        setTimeout(() => s.write(Buffer.from([0x82])), 40);
        setTimeout(() => s.end(Buffer.from([0xac, 0x62])), 80);
      });
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c, { chunks: true });
      c.setEncoding('utf8');
      const parts: string[] = [];
      c.on('data', (d: string) => parts.push(d));
      await finish(c, server);
      expect(parts.join('')).to.equal('a€b');
    });

    parity('writes strings in utf8/latin1/ascii/hex/base64/base64url/ucs2 and Uint8Array as the same bytes', async (net, rec) => {
      const bufs: Buffer[] = [];
      const { server, port } = await startServer(net, rec, (s) => s.on('data', (d: Buffer) => bufs.push(d)));
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      const writes: Array<[unknown, BufferEncoding?]> = [
        ['héllo €', 'utf8'],
        ['héllo', 'latin1'],
        ['plain', 'ascii'],
        ['deadBEEF', 'hex'],
        ['aGVsbG8=', 'base64'],
        ['_-8', 'base64url'],
        ['hi€', 'ucs2'],
        ['bin\xff', 'binary'],
        ['default'],
        [new Uint8Array([0, 1, 2, 255])],
        [Buffer.from('buf')],
      ];
      for (const [chunk, enc] of writes) {
        const r = enc ? c.write(chunk as string, enc) : c.write(chunk as string);
        rec.note('client', 'write returned', r);
      }
      rec.note('client', 'bytesWritten before connect', c.bytesWritten);
      c.end();
      await finish(c, server);
      rec.note('serverSocket', 'received hex', Buffer.concat(bufs).toString('hex'));
    });

    parity('TypedArray and DataView writes: same acceptance, errors and bytes', async (net, rec) => {
      const bufs: Buffer[] = [];
      const { server, port } = await startServer(net, rec, (s) => s.on('data', (d: Buffer) => bufs.push(d)));
      const views: Array<[string, unknown]> = [
        ['Uint8Array', new Uint8Array([1, 2, 3])],
        ['Uint8ClampedArray', new Uint8ClampedArray([4, 5])],
        ['Int8Array', new Int8Array([-1, 6])],
        ['Uint16Array', new Uint16Array([0x0102])],
        ['Float64Array', new Float64Array([1.5])],
        ['DataView', new DataView(new Uint8Array([7, 8, 9]).buffer)],
        ['ArrayBuffer', new Uint8Array([10]).buffer],
      ];
      for (const [label, view] of views) {
        const c = net.connect(port, '127.0.0.1');
        const n = rec.track(`client ${label}`, c);
        await once(c, 'connect');
        rec.attempt(n, 'write', () => c.write(view as Uint8Array, rec.cb(n, 'write cb')));
        c.end();
        await once(c, 'close');
      }
      await closeServer(server);
      rec.note('server', 'received hex', Buffer.concat(bufs).toString('hex'));
    });
  });

  describe('large transfers and backpressure', function () {
    parity("an 8 MiB write returns false, then 'drain' and its callback fire", async (net, rec) => {
      const size = 8 << 20;
      let received = 0;
      const { server, port } = await startServer(
        net,
        rec,
        (s) => s.on('data', (d: Buffer) => (received += d.length)),
        { sockOpts: { dataTotal: true } },
      );
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.on('connect', () => {
        rec.note('client', 'write returned', c.write(prngBytes(size, 1), rec.cb('client', 'write cb')));
        rec.note('client', 'writableLength > 0', c.writableLength > 0, c.writableNeedDrain);
        c.once('drain', () => {
          rec.note('client', 'at drain', c.writableLength, c.bytesWritten);
          c.end();
        });
      });
      await finish(c, server);
      expect(received).to.equal(size);
    });

    parity("pause()d receiver holds back 16 MiB: write() is false, no 'drain' until resume()", async (net, rec) => {
      const size = 16 << 20;
      let received = 0;
      let serverSock: Sock | undefined;
      const { server, port } = await startServer(
        net,
        rec,
        (s) => {
          serverSock = s;
          s.pause();
          s.on('end', () => rec.note('serverSocket', 'received', received));
        },
        { sockOpts: { dataTotal: true } },
      );
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      await once(c, 'connect');
      let drained = false;
      c.on('drain', () => (drained = true));
      rec.note('client', 'write returned', c.write(prngBytes(size, 2), rec.cb('client', 'write cb')));
      await until(() => serverSock !== undefined, 5000, 'server connection');
      await delay(300);
      rec.note('client', 'after 300 ms paused', { drained, pending: c.writableLength > 0 });
      rec.note('serverSocket', 'paused', serverSock!.isPaused(), serverSock!.readableLength <= 1 << 20);
      serverSock!.on('data', (d: Buffer) => (received += d.length));
      serverSock!.resume();
      await once(c, 'drain', 8000);
      c.end();
      await finish(c, server);
      expect(received).to.equal(size);
    });

    parity('bytesRead and bytesWritten count a transfer on both ends', async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => {
        s.resume();
        s.write('r'.repeat(503));
        s.on('close', () => rec.note('serverSocket', 'bytes at close', s.bytesRead, s.bytesWritten));
      });
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      rec.note('client', 'bytes before connect', c.bytesRead, c.bytesWritten);
      c.write('x'.repeat(1000));
      c.write('é€');
      rec.note('client', 'bytesWritten while connecting', c.bytesWritten);
      c.resume();
      c.on('connect', () => setTimeout(() => c.end(), 50));
      c.on('close', () => rec.note('client', 'bytes at close', c.bytesWritten, c.bytesRead > 0));
      await finish(c, server);
    });
  });

  describe('errors', function () {
    parity('connection refused: error fields, then close(true)', async (net, rec) => {
      const port = await freePort(nodeNet);
      rec.port(port);
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      rec.note('client', 'after connect()', state(c));
      await once(c, 'close');
      rec.note('client', 'after close', state(c));
    });

    parity("a closed server's port refuses connections once close() has called back", async (net, rec) => {
      const s = net.createServer();
      rec.track('server', s);
      const port = await listen(s, 0, '127.0.0.1');
      rec.port(port);
      await closeServer(s);
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      await once(c, 'close');
    });

    parity('connection refused on ::1 names the IPv6 address', async (net, rec) => {
      const port = await freePort(nodeNet, '::1');
      rec.port(port);
      const c = net.connect({ port, host: '::1' });
      rec.track('client', c);
      await once(c, 'close');
    });

    parity("destroy() emits only 'close'(false); the peer sees 'end'", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.resume());
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.on('connect', () => {
        c.destroy();
        rec.note('client', 'after destroy()', state(c));
      });
      await finish(c, server);
    });

    parity("destroy(err) emits 'error' then 'close'(true), no 'end' or 'finish'", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.resume());
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.on('connect', () => {
        const e = Object.assign(new Error('boom'), { code: 'EBOOM' });
        c.destroy(e);
      });
      await finish(c, server);
    });

    parity('destroy() while connecting: pending write callbacks get an error, only close', async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.resume());
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.write('queued', rec.cb('client', 'write cb'));
      c.destroy();
      await once(c, 'close');
      await delay(50);
      await closeServer(server);
    });

    parity('write after end(): ERR_STREAM_WRITE_AFTER_END to the callback and as error', async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.resume());
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      await once(c, 'connect');
      c.end();
      rec.attempt('client', 'write after end', () => c.write('x', rec.cb('client', 'write cb')));
      await finish(c, server);
    });

    parity("write one tick after the peer's 'end' (allowHalfOpen false): EPIPE 'This socket has been ended by the other party'", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => {
        s.resume();
        s.end();
      });
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.resume();
      c.on('end', () =>
        process.nextTick(() => rec.attempt('client', 'write after FIN', () => c.write('x', rec.cb('client', 'write cb')))),
      );
      await finish(c, server);
    });

    parity("write in a setImmediate after the peer's 'end': EPIPE to the callback, 'close' only after it", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => {
        s.resume();
        s.end();
      });
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.resume();
      c.on('end', () =>
        setImmediate(() => rec.attempt('client', 'write after FIN', () => c.write('x', rec.cb('client', 'write cb')))),
      );
      await finish(c, server);
    });

    parity("resetAndDestroy() on the server side gives the client 'read ECONNRESET'", async (net, rec) => {
      const { server, port, sockets } = await startServer(net, rec);
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.resume();
      await once(c, 'connect');
      await until(() => sockets.length === 1, 5000, 'server connection');
      await delay(30);
      rec.attempt('serverSocket', 'resetAndDestroy()', () => sockets[0].resetAndDestroy() === sockets[0]);
      await finish(c, server);
    });

    parity('EADDRINUSE: listen error fields, no listening, close works', async (net, rec) => {
      const a = net.createServer();
      rec.track('first', a);
      const port = await listen(a, 0, '127.0.0.1');
      rec.port(port);
      const b = net.createServer();
      rec.track('second', b);
      b.listen(port, '127.0.0.1', rec.cb('second', 'listen cb'));
      await once(b, 'error');
      rec.note('second', 'after error', b.listening, b.address());
      const bClosed = once(b, 'close');
      b.close(rec.cb('second', 'close cb'));
      await closeServer(a);
      await bClosed;
    });

    parity('bad ports to connect(): same thrown class, code and message', async (net, rec) => {
      for (const [label, v] of BAD_VALUES) {
        rec.attempt('connect', `connect(${label})`, () => rec.own(net.connect(v as number, '127.0.0.1')).destroy());
        rec.attempt('connect', `connect({port: ${label}})`, () =>
          rec.own(net.connect({ port: v as number, host: '127.0.0.1' })).destroy(),
        );
        rec.attempt('connect', `new Socket().connect(${label})`, () =>
          rec.own(new net.Socket()).connect(v as number, '127.0.0.1').destroy(),
        );
      }
      rec.attempt('connect', 'connect()', () => (net.connect as () => Sock)());
      rec.attempt('connect', 'connect({})', () => rec.own(net.connect({} as netTypes.NetConnectOpts)).destroy());
      rec.attempt('connect', "connect({port: 1, host: 5})", () =>
        rec.own(net.connect({ port: 1, host: 5 as unknown as string })).destroy(),
      );
      rec.attempt('connect', "connect({port: 1, family: 5})", () =>
        rec.own(net.connect({ port: 1, host: '127.0.0.1', family: 5 })).destroy(),
      );
      rec.attempt('connect', "connect({port: 1, localAddress: 'x'})", () =>
        rec.own(net.connect({ port: 1, host: '127.0.0.1', localAddress: 'x' })).destroy(),
      );
      rec.attempt('connect', "connect({port: 1, localPort: 'x'})", () =>
        rec.own(net.connect({ port: 1, host: '127.0.0.1', localPort: 'x' as unknown as number })).destroy(),
      );
      rec.attempt('connect', "connect({port: 1, lookup: 1})", () =>
        rec.own(net.connect({ port: 1, host: 'localhost', lookup: 1 as unknown as undefined })).destroy(),
      );
      rec.attempt('connect', "connect({port: 1, timeout: 'x'})", () =>
        rec.own(net.connect({ port: 1, host: '127.0.0.1', timeout: 'x' as unknown as number })).destroy(),
      );
      await rec.cleanup();
    });

    parity('bad arguments to listen(): same thrown class, code and message', async (net, rec) => {
      const listenValues = BAD_VALUES.filter(([, v]) => typeof v !== 'string');
      for (const [label, v] of [...listenValues, ["'abc'", 'abc'] as [string, unknown], ["'80x'", '80x'] as [string, unknown]]) {
        if (typeof v !== 'string') {
          const s1 = rec.own(net.createServer());
          rec.attempt('listen', `listen(${label})`, () => s1.listen(v as number, '127.0.0.1') && s1.close());
        }
        const s2 = rec.own(net.createServer());
        rec.attempt('listen', `listen({port: ${label}})`, () => s2.listen({ port: v as number, host: '127.0.0.1' }) && s2.close());
      }
      const s3 = rec.own(net.createServer());
      rec.attempt('listen', 'listen({})', () => s3.listen({}) && s3.close());
      const s4 = rec.own(net.createServer());
      rec.attempt('listen', "listen({port: 0, host: 5})", () => s4.listen({ port: 0, host: 5 as unknown as string }) && s4.close());
      const s5 = rec.own(net.createServer());
      rec.attempt('listen', "listen({port: 0, backlog: 'x'})", () =>
        s5.listen({ port: 0, host: '127.0.0.1', backlog: 'x' as unknown as number }) && s5.close(),
      );
      const s6 = rec.own(net.createServer());
      rec.attempt('listen', 'listen(0, cb, 5)', () =>
        (s6.listen as (...a: unknown[]) => Srv)(0, '127.0.0.1', () => {}, 5) && s6.close(),
      );
      await rec.cleanup();
    });

    parity('bad arguments to createServer(), new Socket() and socket methods: same errors', async (net, rec) => {
      for (const [label, v] of BAD_VALUES) {
        rec.attempt('createServer', `createServer(${label})`, () => {
          const s = rec.own(net.createServer(v as netTypes.ServerOpts));
          return s instanceof net.Server;
        });
        rec.attempt('Socket', `new Socket(${label})`, () => {
          const s = rec.own(new net.Socket(v as netTypes.SocketConstructorOpts));
          s.destroy();
          return s instanceof net.Socket;
        });
        const s = rec.own(new net.Socket());
        rec.attempt('Socket', `setTimeout(${label})`, () => s.setTimeout(v as number) === s);
        rec.attempt('Socket', `setEncoding(${label})`, () => s.setEncoding(v as BufferEncoding) === s);
        rec.attempt('Socket', `setNoDelay(${label})`, () => s.setNoDelay(v as boolean) === s);
        rec.attempt('Socket', `setKeepAlive(true, ${label})`, () => s.setKeepAlive(true, v as number) === s);
        s.destroy();
      }
      rec.attempt('createServer', 'createServer({highWaterMark: -1})', () => rec.own(net.createServer({ highWaterMark: -1 })));
      rec.attempt('Socket', "new Socket({fd: 'x'})", () => rec.own(new net.Socket({ fd: 'x' as unknown as number })).destroy());
      await rec.cleanup();
    });

    parity('bad arguments to write(): null throws, wrong types error and destroy', async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.resume());
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      await once(c, 'connect');
      rec.attempt('client', 'write(null)', () => c.write(null as unknown as string));
      rec.attempt('client', "write('x', 'bogus')", () => c.write('x', 'bogus' as BufferEncoding));
      rec.attempt('client', 'write(123)', () => c.write(123 as unknown as string, rec.cb('client', 'write(123) cb')));
      rec.attempt('client', 'write({})', () => c.write({} as unknown as string, rec.cb('client', 'write({}) cb')));
      rec.attempt('client', 'write(undefined)', () => c.write(undefined as unknown as string));
      rec.note('client', 'still usable', state(c), c.writableLength);
      c.end('ok');
      await finish(c, server);
    });
  });

  describe('connect forms and addresses', function () {
    parity('connect() accepts every argument form and calls the connect listener', async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.resume(), { host: '::' });
      const forms: Array<[string, (cb: () => void) => Sock]> = [
        ['connect(port)', () => net.connect(port)],
        ["connect(port, '127.0.0.1')", () => net.connect(port, '127.0.0.1')],
        ["connect(port, '127.0.0.1', cb)", (cb) => net.connect(port, '127.0.0.1', cb)],
        ["connect(String(port), '127.0.0.1')", () => net.connect(String(port) as unknown as number, '127.0.0.1')],
        ['connect({port})', () => net.connect({ port })],
        ["connect({port, host: '127.0.0.1'})", () => net.connect({ port, host: '127.0.0.1' })],
        ['connect({port, host}, cb)', (cb) => net.connect({ port, host: '127.0.0.1' }, cb)],
        ['createConnection(port, host, cb)', (cb) => net.createConnection(port, '127.0.0.1', cb)],
        ['createConnection({port, host})', () => net.createConnection({ port, host: '127.0.0.1' })],
        ['new Socket().connect(port, host)', () => new net.Socket().connect(port, '127.0.0.1')],
        ['new Socket().connect({port, host}, cb)', (cb) => new net.Socket().connect({ port, host: '127.0.0.1' }, cb)],
      ];
      for (const [label, make] of forms) {
        let c!: Sock;
        const cb = (): void => rec.note(label, 'connect listener', c.remotePort === port, c.remoteAddress);
        c = make(cb);
        rec.track(label, c, { ignore: ['lookup', 'connectionAttempt', 'connectionAttemptFailed'] });
        await once(c, 'connect', 5000, label);
        c.end();
        await once(c, 'close', 5000, label);
      }
      await closeServer(server);
    });

    parity("'localhost' is looked up and connects ('lookup' arguments match)", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.end('hi'));
      const c = net.connect(port, 'localhost');
      rec.track('client', c);
      c.on('connect', () => rec.note('client', 'remote', c.remoteAddress, c.remoteFamily, rec.normPort(c.remotePort)));
      c.resume();
      await finish(c, server);
    });

    parity("IPv6 literal '::1': connects, echoes and reports IPv6 addresses", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.pipe(s), { host: '::1' });
      const c = net.connect(port, '::1');
      rec.track('client', c);
      let got = '';
      c.on('data', (d: Buffer) => {
        got += d;
        if (got === 'six') c.end();
      });
      c.on('connect', () => {
        rec.note('client', 'addresses', c.remoteAddress, c.remoteFamily, c.localAddress, c.localFamily, c.address());
        c.write('six');
      });
      await finish(c, server);
    });

    parity('address() of servers on 127.0.0.1, ::1, :: and the default host', async (net, rec) => {
      const cases: Array<[string, unknown[]]> = [
        ['127.0.0.1', [0, '127.0.0.1']],
        ['::1', [0, '::1']],
        ['::', [0, '::']],
        ['0.0.0.0', [0, '0.0.0.0']],
        ['listen(0)', [0]],
        ['listen()', []],
        ['listen({port: 0})', [{ port: 0 }]],
        ['listen({port: 0, host: "::1", ipv6Only: true})', [{ port: 0, host: '::1', ipv6Only: true }]],
      ];
      for (const [label, args] of cases) {
        const s = net.createServer();
        rec.track(label, s);
        rec.note(label, 'address before listen', s.address(), s.listening);
        const p = await listen(s, ...args);
        // Each server closes before the next listens: a port may come round again.
        rec.portAgain(p, `PORT(${label})`);
        rec.note(label, 'address', rec.normAddressInfo(s.address()), s.listening);
        await closeServer(s);
        rec.note(label, 'address after close', s.address(), s.listening);
      }
    });

    parity('remote/local address, port and family on both ends, before and after close', async (net, rec) => {
      let ss: Sock | undefined;
      const { server, port } = await startServer(net, rec, (s) => {
        ss = s;
        s.resume();
        rec.note('serverSocket', 'props', {
          remoteAddress: s.remoteAddress,
          remotePort: rec.normPort(s.remotePort),
          remoteFamily: s.remoteFamily,
          localAddress: s.localAddress,
          localPort: rec.normPort(s.localPort),
          localFamily: s.localFamily,
          address: rec.normAddressInfo(s.address()),
        });
      });
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      const props = (): unknown => ({
        remoteAddress: c.remoteAddress,
        remotePort: rec.normPort(c.remotePort),
        remoteFamily: c.remoteFamily,
        localAddress: c.localAddress,
        localPort: rec.normPort(c.localPort),
        localFamily: c.localFamily,
        address: rec.normAddressInfo(c.address()),
      });
      rec.note('client', 'props while connecting', props());
      await once(c, 'connect');
      rec.note('client', 'props', props());
      await until(() => ss !== undefined, 5000, 'server connection');
      rec.note('client', 'ports match', c.localPort === ss!.remotePort, c.remotePort === ss!.localPort);
      c.end();
      await finish(c, server);
      rec.note('client', 'props after close', props());
    });

    parity("readyState, pending and connecting through a connection's life; 'ready' after 'connect'", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => {
        s.resume();
        s.on('end', () => setTimeout(() => s.end(), 30));
      }, { opts: { allowHalfOpen: true } });
      const c = new net.Socket();
      rec.track('client', c);
      rec.note('client', 'new', state(c));
      c.connect(port, '127.0.0.1');
      rec.note('client', 'after connect()', state(c));
      c.on('connect', () => rec.note('client', 'on connect', state(c)));
      c.on('ready', () => rec.note('client', 'on ready', state(c)));
      c.resume();
      await once(c, 'ready');
      c.end();
      rec.note('client', 'after end()', state(c));
      c.on('finish', () => rec.note('client', 'on finish', state(c)));
      c.on('end', () => rec.note('client', 'on end', state(c)));
      await finish(c, server);
      rec.note('client', 'after close', state(c));
    });
  });

  describe('server lifecycle', function () {
    parity("server events: 'listening', 'connection' per client, 'close' after close()", async (net, rec) => {
      const serverSockets: Sock[] = [];
      const server = net.createServer((s: Sock) => {
        rec.track('serverSocket', s);
        serverSockets.push(s);
        s.end('x');
      });
      rec.track('server', server);
      rec.note('server', 'listening before', server.listening);
      server.listen(0, '127.0.0.1', () => rec.note('server', 'listen cb', server.listening));
      await once(server, 'listening');
      const port = (server.address() as netTypes.AddressInfo).port;
      rec.port(port);
      for (let i = 0; i < 2; i++) {
        const c = net.connect(port, '127.0.0.1');
        rec.track('client', c);
        c.resume();
        await once(c, 'close');
      }
      await until(() => serverSockets.length === 2 && serverSockets.every((s) => s.closed), 5000, 'server sockets closed');
      await new Promise<void>((resolve) =>
        server.getConnections((err, n) => {
          rec.note('server', 'getConnections', err, n);
          resolve();
        }),
      );
      server.close(rec.cb('server', 'close cb'));
      rec.note('server', 'listening after close()', server.listening);
      await once(server, 'close');
    });

    parity("server.close() with an open connection: 'close' and callback only after it ends", async (net, rec) => {
      let ss: Sock | undefined;
      const { server, port } = await startServer(net, rec, (s) => {
        ss = s;
        s.resume();
      });
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.resume();
      await once(c, 'connect');
      await until(() => ss !== undefined, 5000, 'server connection');
      server.close(rec.cb('server', 'close cb'));
      rec.note('server', 'after close()', server.listening);
      await delay(100);
      rec.note('server', 'client ends now');
      c.end();
      await once(server, 'close', 5000);
      await once(c, 'close').catch(() => undefined);
    });

    parity('server.close() twice: the second callback gets ERR_SERVER_NOT_RUNNING', async (net, rec) => {
      const server = net.createServer();
      rec.track('server', server);
      await listen(server, 0, '127.0.0.1');
      server.close(rec.cb('server', 'first close cb'));
      await once(server, 'close');
      rec.attempt('server', 'second close()', () => server.close(rec.cb('server', 'second close cb')) === server);
      await delay(50);
      const never = net.createServer();
      rec.track('never listened', never);
      never.close(rec.cb('never listened', 'close cb'));
      await delay(50);
    });

    parity("close() right after listen(): no 'listening', callbacks and 'close' as in node:net", async (net, rec) => {
      const s = net.createServer();
      rec.track('server', s);
      s.listen(0, '127.0.0.1', rec.cb('server', 'listen cb'));
      rec.note('server', 'after listen()', s.listening);
      s.close(rec.cb('server', 'close cb'));
      rec.note('server', 'after close()', s.listening, s.address());
      await delay(100);
      const t = net.createServer();
      rec.track('server with options', t);
      t.listen({ port: 0, host: '127.0.0.1' });
      await once(t, 'listening');
      t.close(rec.cb('server with options', 'close cb'));
      t.close(rec.cb('server with options', 'second close cb'));
      await delay(100);
    });

    parity('listen() twice throws ERR_SERVER_ALREADY_LISTEN', async (net, rec) => {
      const server = net.createServer();
      rec.track('server', server);
      const port = await listen(server, 0, '127.0.0.1');
      rec.port(port);
      rec.attempt('server', 'listen again', () => server.listen(0, '127.0.0.1'));
      await closeServer(server);
    });

    parity("maxConnections: the extra connection is dropped with a 'drop' event", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.resume());
      server.maxConnections = 1;
      const c1 = net.connect(port, '127.0.0.1');
      rec.track('client1', c1);
      c1.resume();
      await once(c1, 'connect');
      await delay(30);
      const c2 = net.connect(port, '127.0.0.1');
      rec.track('client2', c2);
      c2.resume();
      await once(c2, 'close');
      c1.end();
      await finish(c1, server);
    });

    parity('pauseOnConnect: no data is read until resume()', async (net, rec) => {
      let ss: Sock | undefined;
      const { server, port } = await startServer(net, rec, (s) => (ss = s), { opts: { pauseOnConnect: true } });
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      c.end('early');
      await until(() => ss !== undefined, 5000, 'server connection');
      await delay(100);
      rec.note('serverSocket', 'after 100 ms', ss!.readableLength, ss!.readableFlowing, ss!.bytesRead);
      let got = '';
      ss!.on('data', (d: Buffer) => (got += d));
      rec.note('serverSocket', 'after on(data)', ss!.readableFlowing);
      ss!.resume();
      await finish(c, server);
      expect(got).to.equal('early');
    });
  });

  describe('socket options and misc API', function () {
    parity("setTimeout emits 'timeout' only, without closing the socket", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.resume());
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      rec.note('client', 'setTimeout returns this', c.setTimeout(100, rec.cb('client', 'timeout cb')) === c);
      await once(c, 'timeout', 3000);
      rec.note('client', 'after timeout', state(c), c.timeout);
      c.setTimeout(0);
      await delay(200);
      c.end();
      await finish(c, server);
    });

    parity('setNoDelay/setKeepAlive/ref/unref return this before and after connect', async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.resume());
      const c = new net.Socket();
      rec.track('client', c);
      const calls = (when: string): void => {
        rec.note('client', when, {
          setNoDelay: c.setNoDelay(true) === c,
          setNoDelayDefault: c.setNoDelay() === c,
          setKeepAlive: c.setKeepAlive(true, 1000) === c,
          setKeepAliveOff: c.setKeepAlive(false) === c,
          ref: c.ref() === c,
          unref: c.unref() === c,
          ref2: c.ref() === c,
        });
      };
      calls('before connect');
      c.connect(port, '127.0.0.1');
      calls('while connecting');
      await once(c, 'connect');
      calls('connected');
      rec.note('server', 'server ref/unref', server.unref() === server, server.ref() === server);
      c.end();
      await finish(c, server);
      calls('after close');
    });

    parity('writes queued while connecting are delivered in order and their callbacks run in order', async (net, rec) => {
      let got = '';
      const { server, port } = await startServer(net, rec, (s) => s.on('data', (d: Buffer) => (got += d)));
      const c = net.connect(port, '127.0.0.1');
      rec.track('client', c);
      for (let i = 0; i < 5; i++) rec.note('client', `write ${i} returned`, c.write(`w${i};`, rec.cb('client', `cb ${i}`)));
      rec.note('client', 'writableLength while connecting', c.writableLength);
      c.end();
      await finish(c, server);
      expect(got).to.equal('w0;w1;w2;w3;w4;');
    });

    parity('end() on a socket that never connects: same events (no finish/close) as node:net', async (net, rec) => {
      const c = new net.Socket();
      rec.track('client', c, { noClose: true });
      rec.note('client', 'end returned this', c.end(rec.cb('client', 'end cb')) === c);
      await delay(100);
      rec.note('client', 'after 100 ms', state(c), c.writableEnded, c.writableFinished);
      c.destroy();
      await delay(20);
    });

    parity("connect({timeout}) emits 'timeout' on an idle connection", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.resume());
      const c = net.connect({ port, host: '127.0.0.1', timeout: 100 });
      rec.track('client', c);
      rec.note('client', 'timeout property', c.timeout);
      await once(c, 'timeout', 3000);
      c.end();
      await finish(c, server);
    });

    parity('noDelay/keepAlive options on connect() and createServer() are accepted', async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.end('ok'), {
        opts: { noDelay: true, keepAlive: true, keepAliveInitialDelay: 1000 },
      });
      const c = net.connect({ port, host: '127.0.0.1', noDelay: true, keepAlive: true, keepAliveInitialDelay: 500 });
      rec.track('client', c);
      c.resume();
      await finish(c, server);
    });

    parity("a custom lookup function is used: 'lookup' event arguments and connect", async (net, rec) => {
      const { server, port } = await startServer(net, rec, (s) => s.end('ok'));
      const calls: unknown[] = [];
      const lookup = ((host: string, opts: { all?: boolean; family?: number }, cb: (...a: unknown[]) => void): void => {
        calls.push([host, opts.all === true, opts.family ?? null]);
        if (opts.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
        else cb(null, '127.0.0.1', 4);
      }) as unknown as netTypes.LookupFunction;
      const c = net.connect({ port, host: 'protonet.test', lookup });
      rec.track('client', c);
      c.resume();
      await finish(c, server);
      rec.note('client', 'lookup calls', calls.length > 0, calls[0]);
    });

    parity('a failing lookup: error fields (ENOTFOUND from the lookup) and close(true)', async (net, rec) => {
      const lookup = ((host: string, _opts: unknown, cb: (...a: unknown[]) => void): void => {
        const e = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
          code: 'ENOTFOUND',
          errno: -3008,
          syscall: 'getaddrinfo',
          hostname: host,
        });
        cb(e);
      }) as unknown as netTypes.LookupFunction;
      const c = net.connect({ port: 1, host: 'nowhere.test', lookup });
      rec.track('client', c);
      await once(c, 'close');
    });

    parity("exports: every public name of node:net, with the same kind (protonet's extras aside)", async (net, rec) => {
      // The names come from node:net in both runs; protonet may export more
      // (its HTTP helpers), never less.
      const names = Object.keys(nodeNet).filter((k) => !k.startsWith('_')).sort();
      rec.note('exports', 'names', names.filter((k) => k in net));
      rec.note('exports', 'kinds', names.map((k) => typeof (net as unknown as Record<string, unknown>)[k]));
      rec.note('exports', 'Socket is Duplex', new net.Socket() instanceof (await import('node:stream')).Duplex);
      rec.note('exports', 'Server is EventEmitter', net.createServer() instanceof (await import('node:events')).EventEmitter);
      rec.note('exports', 'createConnection === connect', net.createConnection === net.connect);
      rec.note('exports', 'Stream === Socket', (net as unknown as Record<string, unknown>).Stream === net.Socket);
    });

    parity('isIP/isIPv4/isIPv6 classify addresses like node:net', async (net, rec) => {
      const inputs: unknown[] = [
        '127.0.0.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '1.2.3', '01.2.3.4', '::', '::1',
        'fe80::1%eth0', '::ffff:127.0.0.1', '1:2:3:4:5:6:7:8', '1::2::3', 'localhost', '', ' 127.0.0.1',
        'abc', 123, null, undefined, {}, '2001:db8::', '[::1]',
      ];
      for (const v of inputs) {
        rec.note('isIP', String(v), net.isIP(v as string), net.isIPv4(v as string), net.isIPv6(v as string));
      }
    });
  });
});
