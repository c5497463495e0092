/*
 * dgram behaviour later Node lines added, run where the running node:dgram has it (Node 24 here:
 * `npm run test:lts`): createSocket({ reusePort }), bindSync()/connectSync(), and the
 * receiveBlockList/sendBlockList options. Each scenario compares with node:dgram as in
 * dgram-parity.test.ts; on a Node without the feature the scenarios are skipped with the reason.
 */
import { BlockList } from 'node:net';

import type { Recorder } from './helpers/recorder';
import { bound, closed, dgramParity, nodeDgram, onceEvent, type DgramLike, type DgramSocket } from './helpers/dgram';

type SyncSocket = DgramSocket & {
  bindSync(o?: unknown): { address: string; family: string; port: number };
  connectSync(port: unknown, address?: unknown): void;
};

const proto = nodeDgram.Socket.prototype as unknown as Record<string, unknown>;
const ctorSource = Function.prototype.toString.call(nodeDgram.Socket);
const HAS_SYNC = typeof proto.bindSync === 'function';
const HAS_REUSE_PORT = ctorSource.includes('reusePort');
const HAS_BLOCK_LISTS = ctorSource.includes('receiveBlockList');

function track(rec: Recorder, name: string, s: DgramSocket): DgramSocket {
  rec.track(name, s);
  return s;
}

function describeIf(cond: boolean, title: string, why: string, body: () => void): void {
  if (cond) describe(title, body);
  else describe(title, () => it(`(skipped: ${why} in node:dgram of Node ${process.version})`, function () { this.skip(); }));
}

describe('dgram parity with node:dgram: what later Node lines add', () => {
  describeIf(HAS_REUSE_PORT, 'reusePort', 'no reusePort option', () => {
    dgramParity('reusePort reaches the kernel: two sockets bind one port; one without it is refused', async (dgram: DgramLike, rec) => {
      const a = track(rec, 'a', dgram.createSocket({ type: 'udp4', reusePort: true } as never));
      const port = await bound(a);
      rec.port(port, 'SHARED');
      const b = track(rec, 'b', dgram.createSocket({ type: 'udp4', reusePort: true } as never));
      b.bind(port, '127.0.0.1');
      await onceEvent(b, 'listening');
      const c = track(rec, 'c', dgram.createSocket('udp4'));
      c.bind(port, '127.0.0.1');
      await onceEvent(c, 'error');
      for (const s of [a, b, c]) await closed(s);
    });
  });

  describeIf(HAS_SYNC, 'bindSync / connectSync', 'no bindSync/connectSync', () => {
    dgramParity('bindSync returns the address, listening comes next tick; connectSync, connect next tick; send', async (dgram, rec) => {
      const r = track(rec, 'receiver', dgram.createSocket('udp4')) as SyncSocket;
      const addr = r.bindSync({ address: '127.0.0.1' });
      rec.port(addr.port, 'RECV');
      rec.note('receiver', 'bindSync returned', addr);
      await onceEvent(r, 'listening');
      const s = track(rec, 'sender', dgram.createSocket('udp4')) as SyncSocket;
      rec.attempt('sender', 'connectSync', () => s.connectSync(addr.port, '127.0.0.1'));
      rec.port(s.address().port, 'SEND');
      await onceEvent(s, 'connect');
      const got = onceEvent(r, 'message');
      s.send('sync');
      await got;
      await closed(s);
      await closed(r);
    });

    dgramParity('bindSync/connectSync misuse: names, bad ports, in use, twice, closed', async (dgram, rec) => {
      const a = track(rec, 'a', dgram.createSocket('udp4')) as SyncSocket;
      const port = a.bindSync({ address: '127.0.0.1' }).port;
      rec.port(port, 'HELD');
      const b = track(rec, 'b', dgram.createSocket('udp4')) as SyncSocket;
      for (const [label, o] of [['a name', { address: 'localhost' }], ['bad port', { port: 70000 }], ['null', null], ['in use', { port, address: '127.0.0.1' }], ['number address', { address: 5 }]] as const) {
        rec.attempt('b', `bindSync ${label}`, () => b.bindSync(o));
      }
      rec.attempt('b', 'connectSync a name', () => b.connectSync(port, 'localhost'));
      rec.attempt('b', 'connectSync port 0', () => b.connectSync(0));
      rec.attempt('b', 'connectSync ok', () => b.connectSync(port));
      rec.attempt('b', 'connectSync again', () => b.connectSync(port));
      rec.attempt('a', 'bindSync when bound', () => a.bindSync());
      await onceEvent(b, 'connect');
      await closed(a);
      await closed(b);
      rec.attempt('b', 'bindSync closed', () => b.bindSync());
    });
  });

  describeIf(HAS_BLOCK_LISTS, 'receiveBlockList / sendBlockList', 'no block lists', () => {
    dgramParity('sendBlockList refuses sends and connects to a blocked address; receiveBlockList drops what it blocks', async (dgram, rec) => {
      const blocked = new BlockList();
      blocked.addAddress('127.0.0.2');
      const r = track(rec, 'receiver', dgram.createSocket({ type: 'udp4', receiveBlockList: blocked } as never));
      r.bind(0, '0.0.0.0');
      await onceEvent(r, 'listening');
      const port = r.address().port;
      rec.port(port, 'RECV');
      const s = track(rec, 'sender', dgram.createSocket({ type: 'udp4', sendBlockList: blocked } as never));
      await bound(s);
      rec.port(s.address().port, 'SEND');
      const refused = new Promise((res) => s.send('to blocked', port, '127.0.0.2', (...a: unknown[]) => { rec.cb('sender', 'blocked send cb')(...a); res(null); }));
      await refused;
      const from2 = track(rec, 'from 127.0.0.2', dgram.createSocket('udp4'));
      await bound(from2, '127.0.0.2');
      rec.port(from2.address().port, 'FROM2');
      from2.send('dropped', port, '127.0.0.1');
      const got = onceEvent(r, 'message');
      s.send('allowed', port, '127.0.0.1');
      await got;
      const c = track(rec, 'connector', dgram.createSocket({ type: 'udp4', sendBlockList: blocked } as never));
      c.connect(port, '127.0.0.2');
      await onceEvent(c, 'error');
      for (const x of [s, from2, c, r]) await closed(x);
      rec.attempt('receiver', 'bad receiveBlockList', () => dgram.createSocket({ type: 'udp4', receiveBlockList: 5 } as never));
      rec.attempt('receiver', 'bad sendBlockList', () => dgram.createSocket({ type: 'udp4', sendBlockList: {} } as never));
    });
  });
});
