/*
 * dgram parity: each scenario runs on node:dgram and on protonet/dgram, and the two event logs
 * (events, their arguments, callbacks, what calls returned or threw, with every error's class,
 * code, message, errno, syscall, address and port) must be equal. Loopback only; nothing is
 * ever sent to a multicast group.
 */
import type { Recorder } from './helpers/recorder';
import {
  bound, closed, dgramParity, onceEvent, type DgramLike, type DgramSocket,
} from './helpers/dgram';

/** Tracks a socket under `name`; registers its port once bound. */
function track(rec: Recorder, name: string, s: DgramSocket): DgramSocket {
  rec.track(name, s);
  return s;
}

/** Resolves once `s` has received n messages. */
function messages(s: DgramSocket, n: number, ms = 4000): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const timer = setTimeout(() => reject(new Error(`got ${got} of ${n} messages`)), ms);
    const on = (): void => {
      if (++got === n) {
        clearTimeout(timer);
        s.removeListener('message', on);
        resolve();
      }
    };
    s.on('message', on);
  });
}

/** A bound receiver on 127.0.0.1 (or ::1), its port registered as RECV. */
async function receiver(dgram: DgramLike, rec: Recorder, type: 'udp4' | 'udp6' = 'udp4', address?: string): Promise<[DgramSocket, number]> {
  const r = track(rec, 'receiver', dgram.createSocket(type));
  const port = await bound(r, address);
  rec.port(port, 'RECV');
  return [r, port];
}

/** A callback that notes (err, bytes) and resolves a promise. */
function sendCb(rec: Recorder, name: string, label: string): [(...a: unknown[]) => void, Promise<void>] {
  let done!: () => void;
  const p = new Promise<void>((r) => { done = r; });
  const note = rec.cb(name, label);
  return [(...a: unknown[]) => { note(...a); done(); }, p];
}

/** A port nothing listens on: bound by a socket that is closed again. */
async function closedPort(dgram: DgramLike): Promise<number> {
  const s = dgram.createSocket('udp4');
  const p = await bound(s);
  await closed(s);
  return p;
}

describe('dgram parity with node:dgram', () => {
  describe('createSocket and its options', () => {
    dgramParity('createSocket: bad types and options throw node:dgram\'s errors', async (dgram, rec) => {
      rec.logs.createSocket = [];
      for (const arg of ['udp5', undefined, null, 4, { type: 'tcp' }, { type: 'udp4', lookup: 5 },
        { type: 'udp4', recvBufferSize: -1 }, { type: 'udp4', sendBufferSize: 1.5 }, { type: 'udp4', recvBufferSize: 'x' },
        { type: 'udp4', signal: 'x' }, { type: 'udp4', signal: null }]) {
        rec.attempt('createSocket', JSON.stringify(arg) ?? 'undefined', () => {
          const s = dgram.createSocket(arg as never);
          s.close();
          return (s as unknown as { type: string }).type;
        });
      }
    });

    dgramParity('createSocket(type, listener): the listener gets each message', async (dgram, rec) => {
      const got: unknown[] = [];
      const r = track(rec, 'receiver', dgram.createSocket('udp4', (msg, info) => got.push([msg.toString(), info.size])));
      const port = await bound(r);
      rec.port(port, 'RECV');
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      const arrived = messages(r, 1);
      s.send('hello', port, '127.0.0.1');
      await arrived;
      rec.note('receiver', 'listener saw', got);
      await closed(s);
      await closed(r);
    });

    dgramParity('the lookup option resolves the bind and send addresses', async (dgram, rec) => {
      rec.logs.lookup = [];
      const lookup = (host: string, family: unknown, cb: (e: Error | null, a: string, f: number) => void): void => {
        rec.note('lookup', 'asked', host, family);
        cb(null, '127.0.0.1', 4);
      };
      const [r, port] = await receiver(dgram, rec);
      const s = track(rec, 'sender', dgram.createSocket({ type: 'udp4', lookup: lookup as never }));
      const arrived = messages(r, 1);
      s.bind({ address: 'bind.example' }, () => rec.note('sender', 'bound'));
      s.send('via lookup', port, 'peer.example');
      await arrived;
      await closed(s);
      await closed(r);
    });

    dgramParity('a failing lookup: bind emits its error; send hands it to the callback', async (dgram, rec) => {
      const lookup = (h: string, _f: unknown, cb: (e: Error | null, a?: string, f?: number) => void): void => {
        if (h !== 'nowhere.invalid') { cb(null, '127.0.0.1', 4); return; }
        cb(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: h }));
      };
      const a = track(rec, 'a', dgram.createSocket({ type: 'udp4', lookup: lookup as never }));
      const err = onceEvent(a, 'error');
      a.bind(0, 'nowhere.invalid');
      await err;
      const listening = onceEvent(a, 'listening');
      rec.attempt('a', 'bind again after the failure', () => { a.bind(0, '127.0.0.1'); });
      await listening;
      const [cb, sent] = sendCb(rec, 'a', 'send cb');
      a.send('x', 9, 'nowhere.invalid', cb);
      await sent;
      const error = onceEvent(a, 'error');
      a.send('x', 9, 'nowhere.invalid');
      await error;
      await closed(a);
    });

    dgramParity('reuseAddr reaches the kernel: two sockets bind one port', async (dgram, rec) => {
      const a = track(rec, 'a', dgram.createSocket({ type: 'udp4', reuseAddr: true }));
      const port = await bound(a);
      rec.port(port, 'SHARED');
      const b = track(rec, 'b', dgram.createSocket({ type: 'udp4', reuseAddr: true }));
      const c = track(rec, 'c', dgram.createSocket({ type: 'udp4' }));
      b.bind(port, '127.0.0.1');
      await onceEvent(b, 'listening');
      rec.note('b', 'same port', b.address().port === port);
      c.bind(port, '127.0.0.1');
      await onceEvent(c, 'error');
      await closed(a);
      await closed(b);
      await closed(c);
    });

    dgramParity('ipv6Only reaches the kernel: udp4 binds the port a v6-only socket holds', async (dgram, rec) => {
      for (const ipv6Only of [true, false]) {
        const name = `v6only=${ipv6Only}`;
        const six = track(rec, name, dgram.createSocket({ type: 'udp6', ipv6Only }));
        six.bind(0, '::');
        await onceEvent(six, 'listening');
        const port = six.address().port;
        rec.portAgain(port, 'P');
        const four = track(rec, `udp4 beside ${name}`, dgram.createSocket('udp4'));
        const done = new Promise((r) => { four.once('listening', r); four.once('error', r); });
        four.bind(port, '0.0.0.0');
        await done;
        await closed(four);
        await closed(six);
      }
    });

    dgramParity('recvBufferSize/sendBufferSize reach the kernel (read back after bind)', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket({ type: 'udp4', recvBufferSize: 200000, sendBufferSize: 150000 }));
      await bound(s);
      rec.note('s', 'sizes', s.getRecvBufferSize(), s.getSendBufferSize());
      s.setRecvBufferSize(300000);
      s.setSendBufferSize(250000);
      rec.note('s', 'after set', s.getRecvBufferSize(), s.getSendBufferSize());
      await closed(s);
    });

    dgramParity('buffer sizes: errors before bind, bad sizes, after close', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      rec.attempt('s', 'getRecvBufferSize unbound', () => s.getRecvBufferSize());
      rec.attempt('s', 'getSendBufferSize unbound', () => s.getSendBufferSize());
      rec.attempt('s', 'setRecvBufferSize unbound', () => s.setRecvBufferSize(8192));
      for (const v of [-1, 1.5, 'x', 2 ** 32, NaN]) {
        rec.attempt('s', `setRecvBufferSize(${String(v)})`, () => s.setRecvBufferSize(v as number));
        rec.attempt('s', `setSendBufferSize(${String(v)})`, () => s.setSendBufferSize(v as number));
      }
      await bound(s);
      rec.attempt('s', 'setRecvBufferSize(0) bound', () => s.setRecvBufferSize(0));
      await closed(s);
      rec.attempt('s', 'getRecvBufferSize closed', () => s.getRecvBufferSize());
    });

    dgramParity('signal: an aborted signal closes at once; a later abort closes a bound socket', async (dgram, rec) => {
      const a = track(rec, 'pre-aborted', dgram.createSocket({ type: 'udp4', signal: AbortSignal.abort() }));
      rec.attempt('pre-aborted', 'bind', () => a.bind(0));
      await onceEvent(a, 'close').catch(() => undefined);
      const ac = new AbortController();
      const b = track(rec, 'live', dgram.createSocket({ type: 'udp4', signal: ac.signal }));
      await bound(b);
      ac.abort();
      await onceEvent(b, 'close');
      rec.attempt('live', 'send after abort', () => b.send('x', 9, '127.0.0.1'));
    });

    dgramParity('Symbol.asyncDispose closes; twice is a no-op', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      await bound(s);
      const dispose = (s as unknown as { [Symbol.asyncDispose]: () => Promise<void> })[Symbol.asyncDispose];
      rec.note('s', 'first', await dispose.call(s));
      rec.note('s', 'second', await dispose.call(s));
    });
  });

  describe('bind', () => {
    dgramParity('bind() with no arguments: all interfaces, an ephemeral port', async (dgram, rec) => {
      for (const type of ['udp4', 'udp6'] as const) {
        const s = track(rec, type, dgram.createSocket(type));
        s.bind();
        await onceEvent(s, 'listening');
        const a = s.address();
        rec.port(a.port);
        rec.note(type, 'address', a);
        await closed(s);
      }
    });

    dgramParity('bind(port, address, cb): the callback runs after the listening listeners', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      s.on('listening', () => rec.note('s', 'listening listener'));
      s.bind(0, '127.0.0.1', () => rec.note('s', 'bind cb', s.address().address));
      await onceEvent(s, 'listening');
      await closed(s);
    });

    dgramParity('bind(options, cb) and bind(port, cb), exclusive accepted', async (dgram, rec) => {
      const a = track(rec, 'a', dgram.createSocket('udp4'));
      a.bind({ port: 0, address: '127.0.0.1', exclusive: true }, () => rec.note('a', 'cb', a.address().address));
      await onceEvent(a, 'listening');
      const b = track(rec, 'b', dgram.createSocket('udp6'));
      b.bind(0, () => rec.note('b', 'cb', b.address().family));
      await onceEvent(b, 'listening');
      await closed(a);
      await closed(b);
    });

    dgramParity('bind({ address: "localhost" }) resolves through dns.lookup', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      s.bind({ address: 'localhost', port: 0 });
      await onceEvent(s, 'listening');
      rec.note('s', 'address', s.address().address);
      await closed(s);
    });

    dgramParity('odd ports: bind coerces as node:dgram does (70000, -1 wrap; a string)', async (dgram, rec) => {
      for (const port of [70000, -1, '0', 1.5, null, {}]) {
        const name = `bind(${JSON.stringify(port)})`;
        const s = track(rec, name, dgram.createSocket('udp4'));
        const r = new Promise((res) => { s.once('listening', res); s.once('error', res); });
        s.bind(port as number, '127.0.0.1');
        await r;
        const p = s.address().port;
        rec.note(name, 'port', p === 4464 || p === 65535 || p === 1 ? p : 'ephemeral');
        await closed(s);
      }
    });

    dgramParity('bind twice throws ERR_SOCKET_ALREADY_BOUND (while binding and once bound)', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      s.bind(0, '127.0.0.1');
      rec.attempt('s', 'bind while binding', () => s.bind(0));
      await onceEvent(s, 'listening');
      rec.attempt('s', 'bind when bound', () => s.bind(0));
      await closed(s);
      rec.attempt('s', 'bind when closed', () => s.bind(0));
    });

    dgramParity('bind errors: EADDRINUSE, a v6 address on udp4 (with their fields)', async (dgram, rec) => {
      const a = track(rec, 'holder', dgram.createSocket('udp4'));
      const port = await bound(a);
      rec.port(port, 'HELD');
      for (const [name, type, addr, p] of [['in use', 'udp4', '127.0.0.1', port],
        ['v6 on udp4', 'udp4', '::1', 0], ['v4 on udp6', 'udp6', '127.0.0.1', 0]] as const) {
        const s = track(rec, name, dgram.createSocket(type));
        s.bind(p, addr, () => rec.note(name, 'bind cb must not run'));
        await onceEvent(s, 'error');
        rec.note(name, 'listeners left', s.listenerCount('listening'), s.listenerCount('error'));
        await closed(s);
      }
      await closed(a);
    });

    dgramParity('bind to an address no interface has: EADDRNOTAVAIL (with its fields)', async (dgram, rec) => {
      // 192.0.2.1: TEST-NET-1 (RFC 5737), on no interface of this machine.
      const s = track(rec, 'not here', dgram.createSocket('udp4'));
      s.bind(0, '192.0.2.1', () => rec.note('not here', 'bind cb must not run'));
      await onceEvent(s, 'error');
      rec.note('not here', 'listeners left', s.listenerCount('listening'), s.listenerCount('error'));
      await closed(s);
    });

    dgramParity('bind({ fd }) of a file throws ERR_INVALID_FD_TYPE', async (dgram, rec) => {
      const fs = await import('node:fs');
      const fd = fs.openSync(__filename, 'r');
      const s = track(rec, 's', dgram.createSocket('udp4'));
      try {
        rec.attempt('s', 'bind fd', () => s.bind({ fd }));
      } finally {
        fs.closeSync(fd);
      }
      await closed(s);
    });

    dgramParity('the port is free once close is emitted: a new socket binds it from the close callback', async (dgram, rec) => {
      const a = track(rec, 'first', dgram.createSocket('udp4'));
      const port = await bound(a);
      rec.port(port, 'P');
      const b = track(rec, 'second', dgram.createSocket('udp4'));
      const done = new Promise((res) => { b.once('listening', res); b.once('error', res); });
      a.close(() => b.bind(port, '127.0.0.1'));
      await done;
      rec.note('second', 'same port', b.address().port === port);
      await closed(b);
    });

    dgramParity('close while binding: no listening, close once; the lookup answers a closed socket', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      s.bind(0, 'localhost');
      s.close(() => rec.note('s', 'close cb'));
      await onceEvent(s, 'close').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
    });
  });

  describe('send', () => {
    const kinds: Array<[string, () => unknown, string]> = [
      ['Buffer', () => Buffer.from('buffer!'), 'buffer!'],
      ['string', () => 'a string', 'a string'],
      ['Uint8Array', () => new Uint8Array([104, 105]), 'hi'],
      ['Uint16Array', () => new Uint16Array([0x6968, 0x2121]), ''],
      ['Float64Array', () => new Float64Array([1.5]), ''],
      ['DataView', () => new DataView(new Uint8Array([1, 2, 3, 4, 5]).buffer, 1, 3), ''],
      ['array of Buffer, string, TypedArray, DataView', () => [Buffer.from('a'), 'bc', new Uint8Array([100]), new DataView(new Uint8Array([101]).buffer)], ''],
    ];
    for (const [kind, make] of kinds) {
      dgramParity(`send(${kind}, port, address, cb): the bytes arrive, cb(null, bytes)`, async (dgram, rec) => {
        const [r, port] = await receiver(dgram, rec);
        const s = track(rec, 'sender', dgram.createSocket('udp4'));
        const arrived = messages(r, 1);
        const [cb, sent] = sendCb(rec, 'sender', 'send cb');
        s.send(make() as Buffer, port, '127.0.0.1', cb);
        await Promise.all([arrived, sent]);
        await closed(s);
        await closed(r);
      });
    }

    dgramParity('send(buffer, offset, length, port, address, cb) for a Buffer, a string and a TypedArray', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec);
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      await bound(s);
      rec.port(s.address().port, 'SEND');
      const arrived = messages(r, 3);
      s.send(Buffer.from('0123456789'), 2, 5, port, '127.0.0.1', rec.cb('sender', 'buffer cb'));
      s.send('abcdefgh', 1, 3, port, '127.0.0.1', rec.cb('sender', 'string cb'));
      s.send(new Uint16Array([1, 2, 3, 4]), 2, 4, port, '127.0.0.1', rec.cb('sender', 'u16 cb'));
      await arrived;
      await closed(s);
      await closed(r);
    });

    dgramParity('send(buffer, port) (no address): to localhost of the family; send(buf, port, cb)', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec);
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      const arrived = messages(r, 2);
      s.send('no address', port);
      s.send('no address cb', port, rec.cb('sender', 'cb'));
      await arrived;
      await closed(s);
      await closed(r);
    });

    dgramParity('implicit bind: the first send binds, queued sends go in order after listening', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec);
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      const arrived = messages(r, 3);
      s.on('listening', () => rec.note('sender', 'bound to', s.address().address));
      for (const m of ['one', 'two', 'three']) s.send(m, port, '127.0.0.1', rec.cb('sender', `cb ${m}`));
      await arrived;
      await closed(s);
      await closed(r);
    });

    dgramParity('an empty datagram: Buffer.alloc(0), "" and [] each arrive with size 0', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec);
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      const arrived = messages(r, 3);
      s.send(Buffer.alloc(0), port, '127.0.0.1', rec.cb('sender', 'empty buffer'));
      s.send('', port, '127.0.0.1', rec.cb('sender', 'empty string'));
      s.send([], port, '127.0.0.1', rec.cb('sender', 'empty list'));
      await arrived;
      await closed(s);
      await closed(r);
    });

    dgramParity('the largest datagram (65507 bytes on IPv4) arrives whole; 65508 is EMSGSIZE', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec);
      r.setRecvBufferSize(1 << 20);
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      const arrived = messages(r, 1);
      const big = Buffer.alloc(65507, 7);
      const [cb1, sent1] = sendCb(rec, 'sender', 'largest');
      s.send(big, port, '127.0.0.1', cb1);
      await Promise.all([arrived, sent1]);
      const [cb2, sent2] = sendCb(rec, 'sender', 'one more byte');
      s.send(Buffer.alloc(65508), port, '127.0.0.1', cb2);
      await sent2;
      // Without a callback the error is dropped (no 'error' event).
      s.send(Buffer.alloc(70000), port, '127.0.0.1');
      await new Promise((res) => setTimeout(res, 30));
      await closed(s);
      await closed(r);
    });

    dgramParity('the largest datagram on udp6 (::1): 65527 bytes arrive; 65528 is EMSGSIZE', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec, 'udp6');
      r.setRecvBufferSize(1 << 20);
      const s = track(rec, 'sender', dgram.createSocket('udp6'));
      const arrived = messages(r, 1);
      const [cb1, sent1] = sendCb(rec, 'sender', 'largest');
      s.send(Buffer.alloc(65527, 1), port, '::1', cb1);
      await Promise.all([arrived, sent1]);
      const [cb2, sent2] = sendCb(rec, 'sender', 'too big');
      s.send(Buffer.alloc(65528), port, '::1', cb2);
      await sent2;
      await closed(s);
      await closed(r);
    });

    dgramParity('send argument errors: bad data, bad port, offsets out of bounds, bad address', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      const cases: Array<[string, unknown[]]> = [
        ['number data', [5, 9, '127.0.0.1']],
        ['object data', [{}, 9, '127.0.0.1']],
        ['list with a number', [['a', 5], 9, '127.0.0.1']],
        ['port 0', ['x', 0, '127.0.0.1']],
        ['port 65536', ['x', 65536, '127.0.0.1']],
        ['port "x"', ['x', 'x', '127.0.0.1']],
        ['no port', ['x']],
        ['offset past end', [Buffer.alloc(3), 4, 1, 9, '127.0.0.1']],
        ['length past end', [Buffer.alloc(3), 1, 3, 9, '127.0.0.1']],
        ['negative offset', [Buffer.alloc(3), -1, 1, 9, '127.0.0.1']],
        ['address a number', ['x', 9, 5]],
        ['sendto offset not a number', ['x', '0', 1, 9, '127.0.0.1']],
      ];
      for (const [label, args] of cases) {
        const fn = label.startsWith('sendto') ? (s as unknown as { sendto: (...a: unknown[]) => void }).sendto : s.send;
        rec.attempt('s', label, () => (fn as (...a: unknown[]) => unknown).apply(s, args));
      }
      rec.note('s', 'still unbound', (() => { try { s.address(); return false; } catch { return true; } })());
      await closed(s);
    });

    dgramParity('send after close throws ERR_SOCKET_DGRAM_NOT_RUNNING; close twice too', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      await bound(s);
      s.close(() => rec.note('s', 'close cb'));
      rec.attempt('s', 'send after close', () => s.send('x', 9, '127.0.0.1'));
      rec.attempt('s', 'close again', () => s.close());
      rec.attempt('s', 'address after close', () => s.address());
      rec.attempt('s', 'ref after close', () => s.ref() === s);
      rec.attempt('s', 'unref after close', () => s.unref() === s);
      await onceEvent(s, 'close').catch(() => undefined);
    });

    dgramParity('close with sends queued before bind: close waits for listening; the sends, still looking up, are dropped', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec);
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      s.send('first', port, '127.0.0.1', rec.cb('sender', 'cb first'));
      s.send('second', port, '127.0.0.1', rec.cb('sender', 'cb second'));
      s.close(() => rec.note('sender', 'close cb'));
      rec.note('sender', 'still running', (() => { try { s.address(); return 'bound'; } catch (e) { return (e as Error).message; } })());
      await onceEvent(s, 'close');
      await new Promise((res) => setTimeout(res, 50));
      await closed(r);
    });

    dgramParity('many datagrams on loopback arrive in order with their rinfo', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec);
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      await bound(s);
      rec.port(s.address().port, 'SEND');
      const arrived = messages(r, 50);
      for (let i = 0; i < 50; i++) s.send(`datagram ${i}`, port, '127.0.0.1');
      await arrived;
      await closed(s);
      await closed(r);
    });

    dgramParity('getSendQueueSize/Count: 0 on an idle socket; TypeError once closed', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      rec.attempt('s', 'unbound', () => [s.getSendQueueSize(), s.getSendQueueCount()]);
      await bound(s);
      rec.attempt('s', 'bound', () => [s.getSendQueueSize(), s.getSendQueueCount()]);
      await closed(s);
      rec.attempt('s', 'size closed', () => s.getSendQueueSize());
      rec.attempt('s', 'count closed', () => s.getSendQueueCount());
    });
  });

  describe('connect / disconnect', () => {
    dgramParity('connect, send without an address, remoteAddress, disconnect, send with one', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec);
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      s.connect(port, '127.0.0.1', () => rec.note('sender', 'connect cb', s.remoteAddress()));
      await onceEvent(s, 'connect');
      rec.port(s.address().port, 'SEND');
      const arrived = messages(r, 3);
      s.send('connected', rec.cb('sender', 'cb 1'));
      s.send(Buffer.from('xconnectedx'), 1, 9, rec.cb('sender', 'cb 2'));
      s.disconnect();
      rec.attempt('sender', 'remoteAddress after disconnect', () => s.remoteAddress());
      s.send('after', port, '127.0.0.1', rec.cb('sender', 'cb 3'));
      await arrived;
      await closed(s);
      await closed(r);
    });

    dgramParity('connect misuse: twice, bad ports, bad address, send with a port while connected', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec);
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      for (const p of [0, -1, 65536, 'x', null]) rec.attempt('sender', `connect(${JSON.stringify(p)})`, () => s.connect(p as number));
      rec.attempt('sender', 'connect(port, 5)', () => s.connect(port, 5 as never));
      rec.attempt('sender', 'disconnect unconnected', () => s.disconnect());
      rec.attempt('sender', 'remoteAddress unconnected', () => s.remoteAddress());
      s.connect(port);
      rec.attempt('sender', 'connect while connecting', () => s.connect(port));
      await onceEvent(s, 'connect');
      rec.attempt('sender', 'connect when connected', () => s.connect(port));
      // Connected, send(data, port[, address]) reads port as the callback: both go to the peer.
      const arrived = messages(r, 2);
      rec.attempt('sender', 'send with port', () => s.send('x', port));
      rec.attempt('sender', 'send with port and address', () => s.send('x', port, '127.0.0.1'));
      rec.attempt('sender', 'send offset/length with port', () => s.send('xyz', 0, 1, port));
      await arrived;
      await closed(s);
      rec.attempt('sender', 'disconnect after close', () => s.disconnect());
      await closed(r);
    });

    dgramParity('connect with a failing lookup: the callback gets the error; without one, an error event', async (dgram, rec) => {
      const fail = (_h: string, _f: unknown, cb: (e: Error) => void): void => cb(Object.assign(new Error('lookup failed'), { code: 'EAI_FAIL' }));
      // A lookup that answers synchronously: bind's error comes out of bind() itself.
      const b = track(rec, 'sync failure', dgram.createSocket({ type: 'udp4', lookup: fail as never }));
      b.on('error', () => rec.note('sync failure', 'error listener'));
      b.bind(0, '127.0.0.1');
      rec.note('sync failure', 'bind returned');
      await closed(b);
      const lookup = (h: string, _f: unknown, cb: (e: Error | null, a?: string, f?: number) => void): void => {
        if (h === 'nowhere.invalid') fail(h, _f, cb as never);
        else cb(null, '127.0.0.1', 4);
      };
      const c = track(rec, 'with cb', dgram.createSocket({ type: 'udp4', lookup: lookup as never }));
      const [cb, done] = sendCb(rec, 'with cb', 'connect cb');
      c.connect(9, 'nowhere.invalid', cb);
      await done;
      rec.attempt('with cb', 'remoteAddress', () => c.remoteAddress());
      const d = track(rec, 'no cb', dgram.createSocket({ type: 'udp4', lookup: lookup as never }));
      d.connect(9, 'nowhere.invalid');
      await onceEvent(d, 'error');
      rec.note('no cb', 'can connect again', (d.connect(9, '127.0.0.1'), 'yes'));
      await onceEvent(d, 'connect');
      await closed(c);
      await closed(d);
    });

    dgramParity('a connected socket gets ECONNREFUSED from the ICMP answer to a closed port', async (dgram, rec) => {
      const port = await closedPort(dgram);
      rec.port(port, 'CLOSED');
      const s = track(rec, 's', dgram.createSocket('udp4'));
      s.connect(port, '127.0.0.1');
      await onceEvent(s, 'connect');
      const [cb, sent] = sendCb(rec, 's', 'send cb');
      const err = onceEvent(s, 'error');
      s.send('anyone?', cb);
      await sent;
      await err;
      await closed(s);
    });

    dgramParity('connect before bind binds implicitly (listening, then connect)', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec, 'udp6');
      const s = track(rec, 'sender', dgram.createSocket('udp6'));
      s.connect(port, '::1');
      await onceEvent(s, 'connect');
      rec.note('sender', 'remote', s.remoteAddress());
      await closed(s);
      await closed(r);
    });
  });

  describe('udp6', () => {
    dgramParity('udp6 on ::1: send and receive, rinfo family IPv6', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec, 'udp6');
      const s = track(rec, 'sender', dgram.createSocket('udp6'));
      await bound(s);
      rec.port(s.address().port, 'SEND');
      const arrived = messages(r, 1);
      s.send('six', port, '::1', rec.cb('sender', 'cb'));
      await arrived;
      await closed(s);
      await closed(r);
    });

    dgramParity('udp6 on :: receives from udp4 as ::ffff:127.0.0.1 and answers it', async (dgram, rec) => {
      const r = track(rec, 'receiver', dgram.createSocket('udp6'));
      r.bind(0, '::');
      await onceEvent(r, 'listening');
      const port = r.address().port;
      rec.port(port, 'RECV');
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      await bound(s);
      rec.port(s.address().port, 'SEND');
      r.on('message', (_m, info) => r.send('back', info.port, info.address));
      const back = messages(s, 1);
      s.send('mapped', port, '127.0.0.1');
      await back;
      await closed(s);
      await closed(r);
    });

    dgramParity('datagrams from three senders in turn (::1, and two on 127.0.0.1): each rinfo names its own', async (dgram, rec) => {
      const r = track(rec, 'receiver', dgram.createSocket('udp6'));
      r.bind(0, '::');
      await onceEvent(r, 'listening');
      const port = r.address().port;
      rec.port(port, 'RECV');
      const senders: [DgramSocket, string][] = [];
      for (const [name, type, address] of [['six', 'udp6', '::1'], ['fourA', 'udp4', '127.0.0.1'], ['fourB', 'udp4', '127.0.0.1']] as const) {
        const s = track(rec, name, dgram.createSocket(type));
        await bound(s, address);
        rec.port(s.address().port, name.toUpperCase());
        senders.push([s, address]);
      }
      for (let i = 0; i < 9; i++) {
        const [s, address] = senders[[0, 1, 2, 1, 1, 0, 2, 2, 0][i]];
        const arrived = messages(r, 1);
        s.send(`m${i}`, port, address === '::1' ? '::1' : '127.0.0.1');
        await arrived;
      }
      for (const [s] of senders) await closed(s);
      await closed(r);
    });

    dgramParity('udp6 sends to an IPv4-mapped address; a bare IPv4 address fails as in node:dgram', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec, 'udp4');
      const s = track(rec, 'sender', dgram.createSocket('udp6'));
      s.bind(0, '::');
      await onceEvent(s, 'listening');
      rec.port(s.address().port, 'SEND');
      const arrived = messages(r, 1);
      s.send('mapped', port, '::ffff:127.0.0.1', rec.cb('sender', 'mapped cb'));
      await arrived;
      const [cb, sent] = sendCb(rec, 'sender', 'bare v4 cb');
      s.send('bare', port, '127.0.0.1', cb);
      await sent;
      await closed(s);
      await closed(r);
    });
  });

  describe('socket options', () => {
    dgramParity('setters before bind fail with EBADF; address() too', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      rec.attempt('s', 'address', () => s.address());
      rec.attempt('s', 'setTTL', () => s.setTTL(5));
      rec.attempt('s', 'setBroadcast', () => s.setBroadcast(true));
      rec.attempt('s', 'setMulticastTTL', () => s.setMulticastTTL(5));
      rec.attempt('s', 'setMulticastLoopback', () => s.setMulticastLoopback(true));
      rec.attempt('s', 'setMulticastInterface', () => s.setMulticastInterface('127.0.0.1'));
      await closed(s);
    });

    dgramParity('setTTL, setMulticastTTL, setBroadcast, setMulticastLoopback on a bound socket: values and range errors', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      await bound(s);
      for (const v of [1, 64, 255, 0, 256, -1, 1.5, 'x', null]) {
        rec.attempt('s', `setTTL(${JSON.stringify(v)})`, () => s.setTTL(v as number));
        rec.attempt('s', `setMulticastTTL(${JSON.stringify(v)})`, () => s.setMulticastTTL(v as number));
      }
      for (const v of [true, false, 1, 0, 'yes', undefined]) {
        rec.attempt('s', `setBroadcast(${JSON.stringify(v)})`, () => s.setBroadcast(v as boolean));
        rec.attempt('s', `setMulticastLoopback(${JSON.stringify(v)})`, () => s.setMulticastLoopback(v as boolean));
      }
      await closed(s);
      rec.attempt('s', 'setTTL closed', () => s.setTTL(5));
      rec.attempt('s', 'setBroadcast closed', () => s.setBroadcast(true));
      rec.attempt('s', 'setMulticastLoopback closed', () => s.setMulticastLoopback(true));
      rec.attempt('s', 'setMulticastInterface closed', () => s.setMulticastInterface('127.0.0.1'));
    });

    dgramParity('setMulticastInterface on loopback (udp4 and udp6), and bad interfaces', async (dgram, rec) => {
      const a = track(rec, 'udp4', dgram.createSocket('udp4'));
      await bound(a);
      for (const v of ['127.0.0.1', '0.0.0.0', 'abc', '::1', 5]) rec.attempt('udp4', `setMulticastInterface(${JSON.stringify(v)})`, () => a.setMulticastInterface(v as string));
      const b = track(rec, 'udp6', dgram.createSocket('udp6'));
      await bound(b);
      for (const v of ['::%lo', '::1', '127.0.0.1', '::']) rec.attempt('udp6', `setMulticastInterface(${JSON.stringify(v)})`, () => b.setMulticastInterface(v));
      await closed(a);
      await closed(b);
    });

    dgramParity('membership on the loopback interface: add/drop, errors (never sends to a group)', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket({ type: 'udp4', reuseAddr: true }));
      rec.attempt('s', 'addMembership no group', () => s.addMembership(undefined as never));
      rec.attempt('s', 'addMembership bad group', () => s.addMembership('not an ip', '127.0.0.1'));
      // libuv binds an unbound socket to join (0.0.0.0, any port). A later
      // bind: on Unix bind() again, EINVAL; on Windows libuv sees the handle
      // bound and returns 0, so the socket listens where the join put it.
      rec.attempt('s', 'add 224.0.0.114 on lo (unbound)', () => s.addMembership('224.0.0.114', '127.0.0.1'));
      rec.attempt('s', 'address after joining unbound', () => s.address().address);
      const settled = new Promise((resolve) => { s.once('error', resolve); s.once('listening', resolve); });
      s.bind(0, '0.0.0.0');
      await settled;
      await closed(s);
      const t = track(rec, 't', dgram.createSocket({ type: 'udp4', reuseAddr: true }));
      await bound(t, '0.0.0.0');
      rec.attempt('t', 'add 239.1.2.3 on lo', () => t.addMembership('239.1.2.3', '127.0.0.1'));
      rec.attempt('t', 'add it again', () => t.addMembership('239.1.2.3', '127.0.0.1'));
      rec.attempt('t', 'drop it', () => t.dropMembership('239.1.2.3', '127.0.0.1'));
      rec.attempt('t', 'drop it again', () => t.dropMembership('239.1.2.3', '127.0.0.1'));
      rec.attempt('t', 'add a unicast address', () => t.addMembership('127.0.0.1', '127.0.0.1'));
      rec.attempt('t', 'dropMembership no group', () => t.dropMembership('' as never));
      await closed(t);
      rec.attempt('t', 'addMembership closed', () => t.addMembership('239.1.2.3'));
    });

    // Node 20 throws the conversion's error; Node 22.23 and 24 drop it (EINVAL) when the interface
    // is no string; a failing interface conversion comes first everywhere.
    dgramParity('membership arguments that cannot become strings: which error wins, and when the call fails with EINVAL', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp6'));
      const nullProto = Object.create(null) as string;
      const badString = { toString(): string { throw new Error('no string'); } } as unknown as string;
      const symbol = Symbol('group') as unknown as string;
      for (const [name, group] of [['null-prototype', nullProto], ['throwing toString', badString], ['Symbol', symbol]] as const) {
        for (const [ifName, iface] of [['no interface', undefined], ['interface 0', 0], ['interface -1', -1], ['interface "::1"', '::1'], ['null-prototype interface', nullProto], ['Symbol interface', symbol]] as const) {
          rec.attempt('s', `add ${name} group, ${ifName}`, () => s.addMembership(group, iface as string));
        }
      }
      rec.attempt('s', 'drop null-prototype group, no interface', () => s.dropMembership(nullProto));
      await bound(s, '::1');
      rec.attempt('s', 'add null-prototype group on a bound socket', () => s.addMembership(nullProto, '::1'));
      rec.attempt('s', 'add Symbol group on a bound socket, no interface', () => s.addMembership(symbol));
      await closed(s);
    });

    dgramParity('source-specific membership on loopback: add/drop and argument errors', async (dgram, rec) => {
      const s = track(rec, 's', dgram.createSocket('udp4'));
      await bound(s, '0.0.0.0');
      rec.attempt('s', 'bad source', () => s.addSourceSpecificMembership(5 as never, '232.1.1.1'));
      rec.attempt('s', 'bad group', () => s.addSourceSpecificMembership('127.0.0.1', null as never));
      rec.attempt('s', 'add', () => s.addSourceSpecificMembership('127.0.0.1', '232.1.1.1', '127.0.0.1'));
      rec.attempt('s', 'drop', () => s.dropSourceSpecificMembership('127.0.0.1', '232.1.1.1', '127.0.0.1'));
      rec.attempt('s', 'drop again', () => s.dropSourceSpecificMembership('127.0.0.1', '232.1.1.1', '127.0.0.1'));
      rec.attempt('s', 'group not multicast', () => s.addSourceSpecificMembership('127.0.0.1', '127.0.0.2', '127.0.0.1'));
      rec.attempt('s', 'mixed families', () => s.addSourceSpecificMembership('::1', '232.1.1.1'));
      await closed(s);
    });

    dgramParity('ref/unref return the socket and keep working', async (dgram, rec) => {
      const [r, port] = await receiver(dgram, rec);
      r.unref();
      const s = track(rec, 'sender', dgram.createSocket('udp4'));
      rec.note('sender', 'unref returns itself', s.unref() === s);
      rec.note('sender', 'ref returns itself', s.ref() === s);
      const arrived = messages(r, 1);
      s.send('still delivered', port, '127.0.0.1');
      await arrived;
      await closed(s);
      await closed(r);
    });
  });
});
