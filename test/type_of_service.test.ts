/*
 * socket.setTypeOfService(tos) / getTypeOfService() and options.typeOfService:
 * present exactly where the running Node's net has them (Node 24.15+), with
 * node:net's validation, errors and state handling (compared side by side),
 * and the byte reaching the kernel (read back with getsockopt through the
 * test-only protonet/internal: IP_TOS on IPv4, IPV6_TCLASS on IPv6).
 */
import { expect } from 'chai';
import type * as netTypes from 'node:net';

import { impl, implName, nodeNet, type NetLike } from './helpers/impl';
import { closeServer, listen, once } from './helpers/util';

type TosSocket = netTypes.Socket & { setTypeOfService(tos: unknown): netTypes.Socket; getTypeOfService(): number };
type GetSockOpt = (target: unknown, name: string) => number;

const nodeHasTos = typeof (nodeNet.Socket.prototype as unknown as Record<string, unknown>).setTypeOfService === 'function';

function attempt(sock: netTypes.Socket, fn: () => unknown): unknown {
  try {
    const r = fn();
    return r === sock ? ['returned', 'this'] : ['returned', Object.is(r, -0) ? '-0' : r];
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return ['threw', err.name, err.code, err.message, err.syscall, err.errno];
  }
}

describe('socket.setTypeOfService / getTypeOfService', () => {
  it("exist on Socket exactly where node:net's do, and options.typeOfService is read only there", () => {
    const proto = impl().Socket.prototype as unknown as Record<string, unknown>;
    expect(typeof proto.setTypeOfService).to.equal(nodeHasTos ? 'function' : 'undefined');
    expect(typeof proto.getTypeOfService).to.equal(nodeHasTos ? 'function' : 'undefined');
    // Node without it ignores the option; Node with it validates it.
    for (const net of [nodeNet, impl()]) {
      const make = (): unknown => new net.Socket({ typeOfService: 300 } as netTypes.SocketConstructorOpts);
      if (nodeHasTos) expect(make).to.throw(RangeError, /options\.typeOfService/);
      else expect(make).to.not.throw();
    }
  });

  (nodeHasTos ? describe : describe.skip)('where node:net has them (Node 24.15+)', () => {
    it('validate tos as node:net does (types, range, NaN, integers), on a socket with no handle', () => {
      const values: unknown[] = [-1, 256, 'x', NaN, 1.5, undefined, null, '16', 2 ** 31, Infinity, -Infinity, true, {}, 0, -0, 255, 0x10];
      const run = (net: NetLike): unknown[] => {
        const s = new net.Socket() as TosSocket;
        const out = values.map((v) => attempt(s, () => s.setTypeOfService(v)));
        out.push(attempt(s, () => s.getTypeOfService()));
        s.destroy();
        return out;
      };
      expect(run(impl())).to.deep.equal(run(nodeNet));
    });

    it('validate options.typeOfService as node:net does', () => {
      const values: unknown[] = [300, -1, 'x', NaN, 1.5, null, 0, 255, 0x20];
      const run = (net: NetLike): unknown[] => values.map((v) => {
        try {
          const s = new net.Socket({ typeOfService: v } as netTypes.SocketConstructorOpts) as TosSocket;
          const tos = s.getTypeOfService();
          s.destroy();
          return ['made', tos];
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          return ['threw', err.name, err.code, err.message];
        }
      });
      expect(run(impl())).to.deep.equal(run(nodeNet));
    });

    // One client's life: the option, a set while connecting (no descriptor
    // yet: EBADF, the value kept and applied on connect), sets once
    // connected (the kernel drops the ECN bits of 3), after destroy (cached),
    // an accepted socket's default, and an IPv6 socket.
    async function lifecycle(net: NetLike): Promise<unknown[]> {
      const log: unknown[] = [];
      const accepted: netTypes.Socket[] = [];
      const server = net.createServer((c) => {
        accepted.push(c);
        log.push(['accepted get', attempt(c, () => (c as TosSocket).getTypeOfService())]);
      });
      const port = await listen(server, 0, '127.0.0.1');
      const c = net.connect({ port, host: '127.0.0.1', typeOfService: 0x20 } as netTypes.NetConnectOpts) as TosSocket;
      c.on('error', (e) => log.push(['error', (e as NodeJS.ErrnoException).code]));
      log.push(['connecting get', attempt(c, () => c.getTypeOfService())]);
      log.push(['connecting set', attempt(c, () => c.setTypeOfService(0x10))]);
      await once(c, 'connect');
      log.push(['connected get', attempt(c, () => c.getTypeOfService())]);
      log.push(['set 0x28', attempt(c, () => c.setTypeOfService(0x28))]);
      log.push(['get', attempt(c, () => c.getTypeOfService())]);
      log.push(['set 3', attempt(c, () => c.setTypeOfService(3))]);
      log.push(['get', attempt(c, () => c.getTypeOfService())]);
      log.push(['set 3 again', attempt(c, () => c.setTypeOfService(3))]);
      c.destroy();
      log.push(['destroyed get', attempt(c, () => c.getTypeOfService())]);
      log.push(['destroyed set', attempt(c, () => c.setTypeOfService(4))]);
      log.push(['destroyed get', attempt(c, () => c.getTypeOfService())]);
      await once(c, 'close');
      for (const a of accepted) a.destroy();
      await closeServer(server);

      const server6 = net.createServer((s) => s.end());
      try {
        const port6 = await listen(server6, 0, '::1');
        const d = net.connect(port6, '::1') as TosSocket;
        await once(d, 'connect');
        log.push(['v6 set', attempt(d, () => d.setTypeOfService(0x48))]);
        log.push(['v6 get', attempt(d, () => d.getTypeOfService())]);
        d.destroy();
        await once(d, 'close');
        await closeServer(server6);
      } catch (e) {
        log.push(['no IPv6', (e as NodeJS.ErrnoException).code]);
      }
      return log;
    }

    it('keep, apply and read back the byte as node:net does through a socket\'s life (IPv4 and IPv6)', async function () {
      this.timeout(15000);
      const ref = await lifecycle(nodeNet);
      expect(ref).to.deep.include(['connected get', ['returned', 16]]);
      expect(await lifecycle(impl())).to.deep.equal(ref);
    });

    it('reaches the kernel: IP_TOS on IPv4, IPV6_TCLASS on IPv6 (also a v4-mapped accepted socket)', async function () {
      if (implName !== 'protonet') this.skip();
      this.timeout(15000);
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const { getsockopt } = require('protonet/internal') as { getsockopt: GetSockOpt };
      const net = impl();
      const accepted: netTypes.Socket[] = [];
      const server = net.createServer((s) => accepted.push(s));
      const port = await listen(server, 0, '::');
      try {
        const c4 = net.connect({ port, host: '127.0.0.1', typeOfService: 0x28 } as netTypes.NetConnectOpts) as TosSocket;
        await once(c4, 'connect');
        expect(getsockopt(c4, 'IP_TOS')).to.equal(0x28);
        c4.setTypeOfService(0xb8);
        expect(getsockopt(c4, 'IP_TOS')).to.equal(0xb8);
        expect(c4.getTypeOfService()).to.equal(0xb8);
        while (accepted.length < 1) await new Promise((r) => setImmediate(r));
        const a = accepted[0] as TosSocket;
        a.setTypeOfService(0x48); // an IPv6 socket (the dual-stack listener's), peer ::ffff:127.0.0.1
        expect(getsockopt(a, 'IPV6_TCLASS')).to.equal(0x48);
        expect(a.getTypeOfService()).to.equal(0x48);
        const c6 = net.connect(port, '::1') as TosSocket;
        await once(c6, 'connect');
        c6.setTypeOfService(0x60);
        expect(getsockopt(c6, 'IPV6_TCLASS')).to.equal(0x60);
        expect(c6.getTypeOfService()).to.equal(0x60);
        c4.destroy();
        c6.destroy();
      } finally {
        for (const s of accepted) s.destroy();
        await closeServer(server);
      }
    });

    it('a Unix socket keeps the value without a system call, as node:net (its Pipe has no TOS)', async function () {
      this.timeout(15000);
      const run = async (net: NetLike): Promise<unknown[]> => {
        const sockPath = `/tmp/protonet-tos-${process.pid}.sock`;
        const server = net.createServer((s) => s.end());
        await listen(server, sockPath);
        const c = net.connect({ path: sockPath, typeOfService: 8 } as netTypes.NetConnectOpts) as TosSocket;
        const out: unknown[] = [];
        await once(c, 'connect');
        out.push(attempt(c, () => c.getTypeOfService()));
        out.push(attempt(c, () => c.setTypeOfService(12)));
        out.push(attempt(c, () => c.getTypeOfService()));
        c.destroy();
        await once(c, 'close');
        await closeServer(server);
        return out;
      };
      expect(await run(impl())).to.deep.equal(await run(nodeNet));
    });
  });
});
