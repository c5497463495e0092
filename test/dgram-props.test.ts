/*
 * Property-based argument parity (fast-check) for dgram: random and hostile arguments to
 * createSocket, bind, send, connect and the option setters make protonet/dgram throw exactly
 * what node:dgram throws (same class, code and message), or not throw when node:dgram does not.
 *
 * Nothing leaves the machine: addresses are loopback literals, '' (the family's loopback or
 * any-address), names answered by a lookup stub, or non-strings; ports are 0, a port nothing
 * listens on, or invalid. Membership calls use the loopback interface; nothing is sent to a
 * group. bind({ fd }) only gets descriptors that are no UDP socket. Every socket is closed.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { dgramImpl, nodeDgram, type DgramLike, type DgramSocket } from './helpers/dgram';

type Outcome = { threw: false; value?: unknown } | { threw: true; ctor: string; name: string; code: unknown; message: string };

function outcome(fn: () => unknown, keepValue = false): Outcome {
  try {
    const value = fn();
    return keepValue ? { threw: false, value } : { threw: false };
  } catch (e) {
    const err = e as Error & { code?: unknown };
    return { threw: true, ctor: err?.constructor?.name === 'NodeError' ? 'Error' : err?.constructor?.name ?? typeof e, name: String(err?.name), code: err?.code, message: String(err?.message) };
  }
}

const RUNS = Number(process.env.PROTONET_FC_RUNS ?? 100);

const special = fc.constantFrom<unknown>(
  -1, 0, 1, 1.5, -0.5, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53, NaN, Infinity, -Infinity, -0,
  '', ' ', '0', '80', '-1', '1e3', '0x10', 'abc', true, false, null, undefined,
  {}, [], [1], () => 1, Symbol('s'), 1n, new Date(0), Buffer.from('x'), new Uint8Array(2), Object.create(null),
);
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  special, fc.integer({ min: -70000, max: 70000 }), fc.double(), fc.boolean(), fc.string({ maxLength: 6 }),
);
// Names a lookup stub answers (no DNS), loopback literals, and the rest.
const address = fc.oneof(fc.constantFrom<unknown>('127.0.0.1', '::1', '', 'localhost', '::ffff:127.0.0.1', '0.0.0.0', '::'), hostile.filter((v) => typeof v !== 'string'));
const QUIET_PORT = 9; // discard; nothing listens on loopback
const port = fc.oneof(fc.constantFrom<unknown>(0, QUIET_PORT, '9', 65535), hostile.filter((v) => typeof v !== 'string' || !/^\s*[1-9]/.test(v)));
const data = fc.oneof(fc.constantFrom<unknown>('x', '', Buffer.from('abc'), new Uint8Array(4), new DataView(new ArrayBuffer(2)), [], ['a', Buffer.from('b')], [5], new Uint16Array(3)), hostile);
const fdValue = fc.constantFrom<unknown>(undefined, -1, 0, 1, 2, 1.5, 'x', 99999, 2 ** 31, null);

const stubLookup = (host: string, family: number, cb: (e: Error | null, a?: string, f?: number) => void): void => {
  process.nextTick(cb, null, family === 6 ? '::1' : '127.0.0.1', family);
};

function both(run: (dgram: DgramLike, sockets: DgramSocket[]) => unknown, keepValue = false): [Outcome, Outcome] {
  const results: Outcome[] = [];
  for (const dgram of [nodeDgram, dgramImpl()]) {
    const sockets: DgramSocket[] = [];
    results.push(outcome(() => run(dgram, sockets), keepValue));
    for (const s of sockets) {
      s.on('error', () => {});
      try { s.close(); } catch { /* already closed */ }
    }
  }
  return [results[0], results[1]];
}

function socket(dgram: DgramLike, sockets: DgramSocket[], type: 'udp4' | 'udp6' = 'udp4'): DgramSocket {
  const s = dgram.createSocket({ type, lookup: stubLookup as never });
  s.on('error', () => {});
  sockets.push(s);
  return s;
}

/** A bound socket on each side, made once, for the setters. */
async function boundPair(type: 'udp4' | 'udp6'): Promise<[DgramSocket, DgramSocket]> {
  const make = async (dgram: DgramLike): Promise<DgramSocket> => {
    const s = dgram.createSocket(type);
    s.on('error', () => {});
    await new Promise<void>((r) => s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', r));
    return s;
  };
  return [await make(nodeDgram), await make(dgramImpl())];
}

describe('dgram argument parity (fast-check)', function () {
  this.timeout(60000);

  it('createSocket(type | options[, listener])', () => {
    const options = fc.record({
      type: fc.oneof(fc.constantFrom<unknown>('udp4', 'udp6'), hostile),
      reuseAddr: hostile, ipv6Only: hostile, reusePort: hostile,
      recvBufferSize: hostile, sendBufferSize: hostile,
      lookup: fc.oneof(fc.constant<unknown>(stubLookup), hostile),
      signal: fc.oneof(fc.constantFrom<unknown>(undefined, 'ABORTED', 'LIVE'), hostile),
    }, { requiredKeys: [] });
    fc.assert(fc.property(fc.oneof(options, hostile, fc.constantFrom<unknown>('udp4', 'udp6')), hostile, (opts, listener) => {
      const arg = opts && typeof opts === 'object' && 'signal' in (opts as object)
        ? { ...(opts as object), signal: (opts as { signal: unknown }).signal === 'ABORTED' ? AbortSignal.abort() : (opts as { signal: unknown }).signal === 'LIVE' ? new AbortController().signal : (opts as { signal: unknown }).signal }
        : opts;
      const [theirs, mine] = both((dgram, sockets) => { sockets.push(dgram.createSocket(arg as never, listener as never)); });
      expect(mine).to.deep.equal(theirs);
    }), { numRuns: RUNS });
  });

  it('bind(port[, address][, cb]) and bind(options[, cb])', () => {
    const bindOptions = fc.record({ port, address, exclusive: hostile, fd: fdValue }, { requiredKeys: [] });
    const args = fc.oneof(
      fc.tuple(port), fc.tuple(port, address), fc.tuple(port, address, fc.constant(() => {})),
      fc.tuple(bindOptions), fc.tuple(bindOptions, fc.constant(() => {})), fc.tuple(port, fc.constant(() => {})),
      fc.tuple(hostile, hostile),
    );
    fc.assert(fc.property(fc.constantFrom<'udp4' | 'udp6'>('udp4', 'udp6'), args, fc.boolean(), (type, a, twice) => {
      const [theirs, mine] = both((dgram, sockets) => {
        const s = socket(dgram, sockets, type);
        (s.bind as (...x: unknown[]) => unknown)(...a);
        if (twice) s.bind(0);
      });
      expect(mine).to.deep.equal(theirs);
    }), { numRuns: RUNS });
  });

  it('send(data[, offset, length], port[, address][, cb]), unbound, bound and connected', async () => {
    const args = fc.oneof(
      fc.tuple(data, port), fc.tuple(data, port, address), fc.tuple(data, port, address, fc.constant(() => {})),
      fc.tuple(data, hostile, hostile, port, address), fc.tuple(data, hostile, hostile, port, address, fc.constant(() => {})),
      fc.tuple(data, fc.integer({ min: -2, max: 6 }), fc.integer({ min: -2, max: 6 }), port),
      fc.tuple(data), fc.tuple(data, fc.constant(() => {})), fc.tuple(data, hostile, hostile, hostile),
    );
    fc.assert(fc.property(fc.constantFrom('unbound', 'connected', 'closed'), args, (state, a) => {
      // A port given as a string that reads as zero ('0', '0x0', '-0') passes Node 20's check
      // (`port === 0`) on a socket still binding: the send is queued, and replaying it after
      // bind throws ERR_SOCKET_BAD_PORT from the 'listening' handler, uncaught, in node:dgram
      // and in protonet alike. Nothing synchronous to compare; the test process would die.
      fc.pre(!a.slice(1).some((v) => typeof v === 'string' && v.trim() !== '' && Number(v) === 0));
      const [theirs, mine] = both((dgram, sockets) => {
        const s = socket(dgram, sockets);
        if (state === 'connected') s.connect(QUIET_PORT, '127.0.0.1');
        if (state === 'closed') s.close();
        (s.send as (...x: unknown[]) => unknown)(...a);
      });
      expect(mine).to.deep.equal(theirs);
    }), { numRuns: RUNS });
    await new Promise((r) => setTimeout(r, 50));
  });

  it('connect(port[, address][, cb]) and disconnect()', () => {
    // A truthy callback that is no function passes connect()'s checks and throws later, from
    // once('connect', cb) when the bind completes (node:dgram too): not an argument check.
    const laterSafe = hostile.filter((v) => !v || typeof v === 'function');
    const args = fc.oneof(fc.tuple(port), fc.tuple(port, address), fc.tuple(port, address, fc.constant(() => {})), fc.tuple(port, fc.constant(() => {})), fc.tuple(hostile, hostile, laterSafe));
    fc.assert(fc.property(args, fc.constantFrom('fresh', 'twice', 'closed', 'disconnect'), (a, mode) => {
      const [theirs, mine] = both((dgram, sockets) => {
        const s = socket(dgram, sockets);
        if (mode === 'closed') s.close();
        if (mode === 'disconnect') s.disconnect();
        (s.connect as (...x: unknown[]) => unknown)(...a);
        if (mode === 'twice') s.connect(QUIET_PORT);
      });
      expect(mine).to.deep.equal(theirs);
    }), { numRuns: RUNS });
  });

  for (const type of ['udp4', 'udp6'] as const) {
    it(`the setters on a bound ${type} socket and on an unbound one (values returned too)`, async () => {
      const [a, b] = await boundPair(type);
      const loIface = type === 'udp4' ? '127.0.0.1' : '::1';
      const group = fc.oneof(fc.constantFrom<unknown>('224.0.0.114', '239.1.2.3', 'ff02::114', 'ff3e::1', '232.1.1.1', '127.0.0.1'), hostile);
      const iface = fc.oneof(fc.constantFrom<unknown>(loIface, undefined, null), hostile.filter((v) => typeof v !== 'string'));
      // -0 is left out of the buffer-size setters: node:dgram's own check (`size >>> 0 !== size`)
      // lets it through and its binding then aborts the whole process (a CHECK that the size
      // is a Uint32, which -0 is not), so there is no outcome to compare against.
      const size = hostile.filter((v) => !Object.is(v, -0));
      const call = fc.oneof(
        fc.tuple(fc.constantFrom('setTTL', 'setMulticastTTL', 'setBroadcast', 'setMulticastLoopback', 'setMulticastInterface'), hostile).map(([m, v]) => [m, v] as unknown[]),
        fc.tuple(fc.constantFrom('setRecvBufferSize', 'setSendBufferSize'), size).map(([m, v]) => [m, v] as unknown[]),
        fc.tuple(fc.constantFrom('setTTL', 'setMulticastTTL'), fc.integer({ min: -5, max: 300 })).map(([m, v]) => [m, v] as unknown[]),
        fc.tuple(fc.constantFrom('addMembership', 'dropMembership'), group, iface).map(([m, g, i]) => [m, g, i] as unknown[]),
        fc.tuple(fc.constantFrom('addSourceSpecificMembership', 'dropSourceSpecificMembership'), fc.oneof(fc.constant<unknown>(loIface), hostile), group, iface).map(([m, s, g, i]) => [m, s, g, i] as unknown[]),
      );
      try {
        fc.assert(fc.property(call, fc.boolean(), ([method, ...args], onBound) => {
          const results: Outcome[] = [];
          for (const [i, dgram] of [nodeDgram, dgramImpl()].entries()) {
            let s: DgramSocket;
            const sockets: DgramSocket[] = [];
            if (onBound) s = i === 0 ? a : b;
            else s = socket(dgram, sockets, type);
            results.push(outcome(() => (s as unknown as Record<string, (...x: unknown[]) => unknown>)[method as string](...args), true));
            // A join on the shared socket is left again so the next run starts clean.
            if (onBound && method === 'addMembership' && !results[i].threw) try { s.dropMembership(args[0] as string, args[1] as string); } catch { /* */ }
            if (onBound && method === 'addSourceSpecificMembership' && !results[i].threw) try { s.dropSourceSpecificMembership(args[0] as string, args[1] as string, args[2] as string); } catch { /* */ }
            for (const x of sockets) try { x.close(); } catch { /* */ }
          }
          expect(results[1], `${String(method)}(${args.map((x) => typeof x === 'symbol' ? 'Symbol' : typeof x === 'bigint' ? `${x}n` : JSON.stringify(x)).join(', ')}) on a ${onBound ? 'bound' : 'new'} socket`).to.deep.equal(results[0]);
        }), { numRuns: RUNS * 2 });
      } finally {
        a.close();
        b.close();
      }
    });
  }
});
