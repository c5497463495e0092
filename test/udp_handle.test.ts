/*
 * lib/udp_handle.ts on its own (the contract lib/dgram.ts is built on): bind, echo on
 * 127.0.0.1 and ::1, connected sends, errors as the running Node's negative errnos, close
 * with its callback, ref/unref liveness in a child process. (Sends queued on the loop and
 * cancelled at close need a kernel that says EAGAIN, which loopback UDP never does: the
 * native test loop_udp_test.cc covers them over a Unix datagram socket pair.)
 * Runs in both loop modes (.ci/run repeats the suite with PROTONET_IO_THREADS=1).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import * as util from 'node:util';
import { repoRoot } from './helpers/impl';

interface RemoteInfo { address: string; family: 'IPv4' | 'IPv6'; port: number; size: number }
interface NameInfo { address: string; family: string; port: number }
interface UdpHandle {
  open(fd: number): number;
  onmessage: ((status: number, data: Buffer | null, rinfo: RemoteInfo | null) => void) | null;
  bind(ip: string, port: number, flags: number): number;
  connect(ip: string, port: number): number;
  disconnect(): number;
  send(chunks: Uint8Array[], port: number, ip: string | null,
    oncomplete: ((status: number, bytes: number) => void) | null): number;
  recvStart(): number;
  recvStop(): number;
  sockname(): NameInfo | number;
  peername(): NameInfo | number;
  setBroadcast(on: boolean): number;
  setTTL(ttl: number): number;
  setMulticastTTL(ttl: number): number;
  setMulticastLoopback(on: boolean): number;
  setMulticastInterface(iface: string): number;
  setMembership(group: string, iface: string | null, join: boolean): number;
  setSourceMembership(source: string, group: string, iface: string | null, join: boolean): number;
  bufferSize(size: number, recv: boolean): number;
  readonly sendQueueSize: number;
  readonly sendQueueCount: number;
  readonly fd: number;
  ref(): void; unref(): void; hasRef(): boolean;
  close(cb?: () => void): void;
}
interface UdpModule { UdpHandle: new (family: 4 | 6) => UdpHandle; UDP_REUSEADDR: number; UDP_IPV6ONLY: number }

// The compiled package's own copy (one registry per process).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const udp = (): UdpModule => require(path.join(repoRoot, 'dist', 'udp_handle.js')) as UdpModule;

function closed(h: UdpHandle): Promise<void> {
  return new Promise((resolve) => h.close(resolve));
}

function nextMessage(h: UdpHandle): Promise<[number, Buffer | null, RemoteInfo | null]> {
  return new Promise((resolve) => {
    h.onmessage = (status, data, rinfo) => {
      h.onmessage = null;
      resolve([status, data, rinfo]);
    };
  });
}

function boundPort(h: UdpHandle): number {
  const name = h.sockname();
  if (typeof name === 'number') throw new Error(`sockname ${name}`);
  return name.port;
}

describe('UdpHandle (lib/udp_handle.ts)', () => {
  for (const [family, ip, fam] of [[4, '127.0.0.1', 'IPv4'], [6, '::1', 'IPv6']] as const) {
    it(`echoes datagrams on ${ip} with the sender's address`, async () => {
      const { UdpHandle } = udp();
      const a = new UdpHandle(family), b = new UdpHandle(family);
      expect(a.bind(ip, 0, 0)).to.equal(0);
      expect(b.bind(ip, 0, 0)).to.equal(0);
      expect(a.recvStart()).to.equal(0);
      expect(b.recvStart()).to.equal(0);
      b.onmessage = (status, data, rinfo) => {
        expect(b.send([data!], rinfo!.port, rinfo!.address, null)).to.be.greaterThan(0);
      };
      const got = nextMessage(a);
      const r = a.send([Buffer.from('hel'), Buffer.from('lo')], boundPort(b), ip, null);
      expect(r).to.equal(6); // bytes + 1: sent at once
      const [status, data, rinfo] = await got;
      expect(status).to.equal(5);
      expect(data!.toString()).to.equal('hello');
      expect(rinfo).to.deep.equal({ address: ip, family: fam, port: boundPort(b), size: 5 });
      await Promise.all([closed(a), closed(b)]);
      expect(a.fd).to.equal(-1);
    });
  }

  it('names each sender right when several take turns (IPv4-mapped on a dual-stack udp6 socket), as node:dgram', async () => {
    const { UdpHandle } = udp();
    // node:dgram's view of the same exchange, for the expected rinfo.
    const nodeRinfo = await new Promise<{ address: string; family: string }>((resolve) => {
      const r = dgram.createSocket('udp6');
      const s4 = dgram.createSocket('udp4');
      r.on('message', (_m, rinfo) => { r.close(); s4.close(); resolve(rinfo); });
      r.bind(0, '::', () => s4.send('x', r.address().port, '127.0.0.1'));
    });
    const r = new UdpHandle(6);
    const senders = [new UdpHandle(4), new UdpHandle(6), new UdpHandle(4)];
    // Closed whatever happens: an open handle would keep mocha from exiting.
    try {
      expect(r.bind('::', 0, 0)).to.equal(0);
      r.recvStart();
      expect(senders[0].bind('127.0.0.1', 0, 0)).to.equal(0);
      expect(senders[1].bind('::1', 0, 0)).to.equal(0);
      expect(senders[2].bind('127.0.0.1', 0, 0)).to.equal(0);
      // By sender (each datagram's byte is its sender's index): datagrams of
      // different sockets may arrive in another order than they were sent when
      // a burst leaves the JS thread (docs/compatibility.md); each socket's own
      // order holds.
      const seen: RemoteInfo[][] = [[], [], []];
      let count = 0;
      const done = new Promise<void>((resolve) => {
        r.onmessage = (_status, data, rinfo) => {
          seen[data![0]].push(rinfo!);
          if (++count === 6) resolve();
        };
      });
      const port = boundPort(r);
      for (let round = 0; round < 2; round++) {
        for (const [i, h] of senders.entries()) {
          expect(h.send([Buffer.from([i])], port, i === 1 ? '::1' : '127.0.0.1', null)).to.equal(2);
        }
      }
      await done;
      const expected = senders.map((h, i) => ({
        address: i === 1 ? '::1' : nodeRinfo.address, family: 'IPv6', port: boundPort(h), size: 1,
      }));
      expect(nodeRinfo).to.include({ address: '::ffff:127.0.0.1', family: 'IPv6' });
      expect(seen).to.deep.equal(expected.map((e) => [e, e]));
    } finally {
      await Promise.all([closed(r), ...senders.map(closed)]);
    }
  });

  it('sends and receives an empty datagram and a 65507-byte one', async () => {
    const { UdpHandle } = udp();
    const a = new UdpHandle(4), b = new UdpHandle(4);
    expect(a.bind('127.0.0.1', 0, 0)).to.equal(0);
    expect(b.bind('127.0.0.1', 0, 0)).to.equal(0);
    expect(b.bufferSize(1 << 20, true)).to.equal(1 << 20);
    b.recvStart();
    const sizes: number[] = [];
    const done = new Promise<void>((resolve) => {
      b.onmessage = (status, data, rinfo) => {
        sizes.push(status, data!.length, rinfo!.size);
        if (sizes.length === 6) resolve();
      };
    });
    const big = Buffer.alloc(65507, 7);
    expect(a.send([Buffer.alloc(0)], boundPort(b), '127.0.0.1', null)).to.equal(1);
    expect(a.send([big], boundPort(b), '127.0.0.1', null)).to.equal(65508);
    await done;
    expect(sizes).to.deep.equal([0, 0, 0, 65507, 65507, 65507]);
    await Promise.all([closed(a), closed(b)]);
  });

  it('connects: sends to the peer, names it, and disconnects', async () => {
    const { UdpHandle } = udp();
    const a = new UdpHandle(4), b = new UdpHandle(4);
    expect(b.bind('127.0.0.1', 0, 0)).to.equal(0);
    b.recvStart();
    expect(a.peername()).to.equal(errno('EBADF'));
    // connect on an unbound handle binds it first, as libuv does
    expect(a.connect('127.0.0.1', boundPort(b))).to.equal(0);
    expect(a.peername()).to.deep.equal({ address: '127.0.0.1', family: 'IPv4', port: boundPort(b) });
    const got = nextMessage(b);
    expect(a.send([Buffer.from('hi')], 0, null, null)).to.equal(3);
    const [, data, rinfo] = await got;
    expect(data!.toString()).to.equal('hi');
    expect(rinfo!.port).to.equal(boundPort(a));
    expect(a.disconnect()).to.equal(0);
    expect(a.peername()).to.equal(errno('ENOTCONN'));
    // a send with no destination on a disconnected socket: what the kernel says
    expect(a.send([Buffer.from('x')], 0, null, null)).to.equal(errno('EDESTADDRREQ'));
    await Promise.all([closed(a), closed(b)]);
  });

  it('reports errors as the running Node numbers them', async () => {
    const { UdpHandle, UDP_IPV6ONLY } = udp();
    const a = new UdpHandle(4);
    expect(a.setBroadcast(true)).to.equal(errno('EBADF')); // no socket yet
    expect(a.bind('127.0.0.1', 0, UDP_IPV6ONLY)).to.equal(errno('EINVAL'));
    expect(a.fd).to.equal(-1);
    expect(a.bind('127.0.0.1', 0, 0)).to.equal(0);
    const b = new UdpHandle(4);
    expect(b.bind('127.0.0.1', boundPort(a), 0)).to.equal(errno('EADDRINUSE'));
    expect(a.setTTL(0)).to.equal(errno('EINVAL'));
    expect(a.setTTL(64)).to.equal(0);
    expect(a.send([Buffer.alloc(65508)], boundPort(a), '127.0.0.1', null)).to.equal(errno('EMSGSIZE'));
    expect(util.getSystemErrorName(errno('EMSGSIZE'))).to.equal('EMSGSIZE');
    // open() takes only a datagram socket, and leaves nothing behind when refused.
    const c = new UdpHandle(4);
    // libuv-win asks the socket's protocol info of the handle, which is no
    // socket (ENOTSOCK); libuv-unix checks the descriptor first (EBADF).
    expect(c.open(-1)).to.equal(errno(process.platform === 'win32' ? 'ENOTSOCK' : 'EBADF'));
    expect(c.open(0)).to.be.oneOf([errno('ENOTSOCK'), errno('EINVAL')]);
    expect(c.fd).to.equal(-1);
    await closed(c);
    await Promise.all([closed(a), closed(b)]);
  });

  it('node:dgram reports a connected peer\'s ICMP error as recvmsg ECONNREFUSED (the reference for the next test)', async () => {
    const port = await unusedPort();
    const nodeSays = await new Promise<string>((resolve) => {
      const s = dgram.createSocket('udp4');
      s.on('error', (e: NodeJS.ErrnoException) => { s.close(); resolve(`${e.syscall} ${e.code}`); });
      s.connect(port, '127.0.0.1', () => s.send('x'));
    });
    expect(nodeSays).to.equal('recvmsg ECONNREFUSED');
  });

  it('surfaces a connected peer\'s ICMP error to the receiver as a receive error ECONNREFUSED', async () => {
    const { UdpHandle } = udp();
    const a = new UdpHandle(4);
    expect(a.connect('127.0.0.1', await unusedPort())).to.equal(0);
    a.recvStart();
    const got = nextMessage(a);
    expect(a.send([Buffer.from('x')], 0, null, null)).to.equal(2);
    const [status, data, rinfo] = await got;
    expect(status).to.equal(errno('ECONNREFUSED'));
    expect(data).to.equal(null);
    expect(rinfo).to.equal(null);
    await closed(a);
  });

  it('options reach the kernel with the errors node:dgram gets (TTL, multicast, membership, buffer sizes)', async () => {
    const { UdpHandle } = udp();
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    const h = new UdpHandle(4);
    expect(h.bind('127.0.0.1', 0, 0)).to.equal(0);
    // [what, node:dgram call, handle call]: node:dgram throws the code, the handle returns it.
    const rows: Array<[string, () => unknown, () => number]> = [
      ['setTTL 0', () => s.setTTL(0), () => h.setTTL(0)],
      ['setTTL 64', () => s.setTTL(64), () => h.setTTL(64)],
      ['setMulticastTTL 300', () => s.setMulticastTTL(300), () => h.setMulticastTTL(300)],
      ['setMulticastLoopback', () => s.setMulticastLoopback(true), () => h.setMulticastLoopback(true)],
      ['setMulticastInterface 127.0.0.1', () => s.setMulticastInterface('127.0.0.1'), () => h.setMulticastInterface('127.0.0.1')],
      ['setMulticastInterface ::1 on udp4', () => s.setMulticastInterface('::1'), () => h.setMulticastInterface('::1')],
      ['join 239.1.1.1 on 127.0.0.1', () => s.addMembership('239.1.1.1', '127.0.0.1'), () => h.setMembership('239.1.1.1', '127.0.0.1', true)],
      ['leave it', () => s.dropMembership('239.1.1.1', '127.0.0.1'), () => h.setMembership('239.1.1.1', '127.0.0.1', false)],
      ['leave it again', () => s.dropMembership('239.1.1.1', '127.0.0.1'), () => h.setMembership('239.1.1.1', '127.0.0.1', false)],
      ['join a unicast address', () => s.addMembership('10.0.0.1'), () => h.setMembership('10.0.0.1', null, true)],
      ['join source-specific', () => s.addSourceSpecificMembership('127.0.0.1', '232.1.1.1', '127.0.0.1'),
        () => h.setSourceMembership('127.0.0.1', '232.1.1.1', '127.0.0.1', true)],
      ['leave source-specific', () => s.dropSourceSpecificMembership('127.0.0.1', '232.1.1.1', '127.0.0.1'),
        () => h.setSourceMembership('127.0.0.1', '232.1.1.1', '127.0.0.1', false)],
    ];
    const outcome = (fn: () => unknown): string => {
      try { fn(); return 'ok'; } catch (e) { return (e as NodeJS.ErrnoException).code ?? String(e); }
    };
    for (const [what, viaNode, viaHandle] of rows) {
      const r = viaHandle();
      expect(r < 0 ? util.getSystemErrorName(r) : 'ok', what).to.equal(outcome(viaNode));
    }
    s.setRecvBufferSize(65536);
    expect(h.bufferSize(65536, true)).to.equal(65536);
    expect(h.bufferSize(0, true)).to.equal(s.getRecvBufferSize()); // the kernel's (doubled) value
    expect(h.bufferSize(0, false)).to.equal(s.getSendBufferSize());
    s.close();
    await closed(h);
  });

  it('close() runs its callback once the fd is released, also for a handle never bound', async () => {
    const { UdpHandle } = udp();
    const a = new UdpHandle(6);
    await closed(a);
    const b = new UdpHandle(6);
    expect(b.bind('::1', 0, 0)).to.equal(0);
    b.recvStart();
    const order: string[] = [];
    b.close(() => order.push('cb1'));
    b.close(() => order.push('cb2'));
    expect(b.fd).to.equal(-1);
    await new Promise((r) => setTimeout(r, 50));
    expect(order).to.deep.equal(['cb1', 'cb2']);
  });

  describe('liveness (child process)', () => {
    const run = (body: string): Promise<{ code: number | null; out: string }> => new Promise((resolve) => {
      const script = `const { UdpHandle } = require(${JSON.stringify(path.join(repoRoot, 'dist', 'udp_handle.js'))});\n${body}`;
      const child = execFile(process.execPath, ['-e', script], { timeout: 5000 }, (err, stdout) => {
        resolve({ code: child.exitCode, out: stdout });
      });
    });

    it('a receiving handle keeps the process alive; unref() lets it exit; ref() again holds it', async () => {
      const alive = await run(`
        const h = new UdpHandle(4); h.bind('127.0.0.1', 0, 0); h.recvStart();
        setTimeout(() => { console.log('still here'); h.close(); }, 200).unref();`);
      expect(alive.out).to.equal('still here\n');
      const gone = await run(`
        const h = new UdpHandle(4); h.bind('127.0.0.1', 0, 0); h.recvStart(); h.unref();
        setTimeout(() => { console.log('still here'); }, 200).unref();`);
      expect(gone.code).to.equal(0);
      expect(gone.out).to.equal('');
      const again = await run(`
        const h = new UdpHandle(4); h.bind('127.0.0.1', 0, 0); h.recvStart(); h.unref(); h.ref();
        setTimeout(() => { console.log('still here'); h.close(); }, 200).unref();`);
      expect(again.out).to.equal('still here\n');
    });

    it('a bound handle that does not receive lets the process exit', async () => {
      const r = await run(`
        const h = new UdpHandle(4); h.bind('127.0.0.1', 0, 0);
        setTimeout(() => { console.log('still here'); }, 200).unref();`);
      expect(r.code).to.equal(0);
      expect(r.out).to.equal('');
    });
  });
});

// The running Node's (negative) number for an errno name.
function errno(name: string): number {
  for (const [n, [code]] of util.getSystemErrorMap()) if (code === name) return n;
  throw new Error(`no errno ${name}`);
}

// A port no socket is bound to (bound and released just now: the close callback says the
// loop closed the fd, so the port is free).
async function unusedPort(): Promise<number> {
  const { UdpHandle } = udp();
  const h = new UdpHandle(4);
  h.bind('127.0.0.1', 0, 0);
  const port = boundPort(h);
  await closed(h);
  return port;
}
