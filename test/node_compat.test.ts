/*
 * Corners of node:net that Node's own test suite (test/parallel/test-net-*.js) relies on and
 * that protonet got wrong until it was run against that suite: the constructors callable
 * without `new`, prototype getters, captureRejections on a server, _connectionKey, pausing
 * inside an onread callback, new Socket({ fd }) of a socket not yet connected or of a FIFO,
 * and handle.fd. Each case runs on node:net and on protonet and expects the same.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type * as netTypes from 'node:net';
import * as http from 'node:http';
import * as path from 'node:path';
import * as tls from 'node:tls';
import * as util from 'node:util';
import { impl, nodeNet, repoRoot, type NetLike } from './helpers/impl';
import { closeServer, delay, listen, once } from './helpers/util';

const both = (): Array<[string, NetLike]> => [['node:net', nodeNet], ['protonet', impl()]];

describe('node:net compatibility corners (from Node\'s own net tests)', function () {
  this.timeout(15000);

  for (const [name, getNet] of [['node:net', () => nodeNet], ['protonet', impl]] as const) {
    describe(name, () => {
      it('Socket, Server and Stream work when called without new, and stay the constructors', async () => {
        const net = getNet() as NetLike & { Stream: typeof netTypes.Socket };
        const Sock = net.Socket as unknown as (o?: object) => netTypes.Socket;
        const Serv = net.Server as unknown as (l?: () => void) => netTypes.Server;
        const s = Sock({ allowHalfOpen: true });
        expect(s).to.be.instanceOf(net.Socket);
        expect(s.constructor).to.equal(net.Socket);
        expect(s.allowHalfOpen).to.equal(true);
        expect((net.Stream as unknown as (o?: object) => netTypes.Socket)()).to.be.instanceOf(net.Socket);
        expect(net.Socket.length).to.equal(1);
        expect(net.Server.length).to.equal(2);
        const server = Serv();
        expect(server).to.be.instanceOf(net.Server);
        await listen(server, 0, '127.0.0.1');
        await closeServer(server);
        class Mine extends net.Socket {
          tag = 'mine';
        }
        const m = new Mine();
        expect(m).to.be.instanceOf(Mine).and.instanceOf(net.Socket);
        expect(m.tag).to.equal('mine');
        expect(m.constructor).to.equal(Mine);
        s.destroy();
        m.destroy();
      });

      it('every way of making a Socket or Server gives instances one shared V8 layout (fast property access)', async () => {
        // A constructor front that V8 cannot cache a layout for gave every
        // instance its own map: 30-40 µs per new net.Socket() and slow
        // access after. %HaveSameMap needs --allow-natives-syntax: a child.
        const mod = name === 'node:net' ? 'node:net' : repoRoot;
        const script = `
          const net = require(${JSON.stringify(mod)});
          class Mine extends net.Socket {}
          class MyServer extends net.Server {}
          const pairs = {
            newSocket: [new net.Socket(), new net.Socket()],
            callSocket: [net.Socket(), net.Socket()],
            subclass: [new Mine(), new Mine()],
            newServer: [new net.Server(), new net.Server()],
            serverSubclass: [new MyServer(), new MyServer()],
          };
          const out = {};
          for (const [k, [a, b]] of Object.entries(pairs)) out[k] = %HaveSameMap(a, b);
          process.stdout.write(JSON.stringify(out));
        `;
        const child = spawn(process.execPath, ['--allow-natives-syntax', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => { out += d; });
        const [code] = await once(child, 'exit', 10000);
        expect(code).to.equal(0);
        expect(JSON.parse(out)).to.deep.equal({ newSocket: true, callSocket: true, subclass: true, newServer: true, serverSubclass: true });
      });

      it('pre-class inheritance: util.inherits + Socket.call(this) / Server.call(this) initialise that object', async () => {
        const net = getNet();
        function LegacySocket(this: netTypes.Socket & { tag?: string }, opts?: object): void {
          this.tag = 'before';
          (net.Socket as unknown as (this: unknown, o?: object) => void).call(this, opts);
        }
        util.inherits(LegacySocket, net.Socket);
        function LegacyServer(this: netTypes.Server, listener: (s: netTypes.Socket) => void): void {
          (net.Server as unknown as (this: unknown, l: unknown) => void).call(this, listener);
        }
        util.inherits(LegacyServer, net.Server);
        const server = new (LegacyServer as unknown as new (l: (s: netTypes.Socket) => void) => netTypes.Server)((conn) => conn.pipe(conn));
        expect(server).to.be.instanceOf(net.Server);
        const port = await listen(server, 0, '127.0.0.1');
        const c = new (LegacySocket as unknown as new (o?: object) => netTypes.Socket & { tag: string })({ allowHalfOpen: true });
        expect(c.tag).to.equal('before');
        expect(c.allowHalfOpen).to.equal(true);
        expect(c).to.be.instanceOf(net.Socket);
        c.connect(port, '127.0.0.1');
        c.end('echo');
        const [data] = await once(c, 'data');
        expect(String(data)).to.equal('echo');
        await once(c, 'close');
        await closeServer(server);
      });

      it('instanceof net.Socket / net.Server also holds for the sockets and servers Node\'s http and tls make', () => {
        const net = getNet();
        expect(new tls.TLSSocket(null as never)).to.be.instanceOf(net.Socket);
        expect(new nodeNet.Socket()).to.be.instanceOf(net.Socket);
        expect(http.createServer()).to.be.instanceOf(net.Server);
        expect({}).not.to.be.instanceOf(net.Socket);
        class Mine extends net.Socket {}
        expect(new nodeNet.Socket()).not.to.be.instanceOf(Mine);
        expect(new net.Socket()).not.to.be.instanceOf(Mine);
      });

      it('TypeScript/Babel CommonJS interop: `import net from` and `import * as net from` reach the module', () => {
        const net = getNet() as unknown as Record<string, unknown>;
        // tsc's __importDefault and __importStar (esModuleInterop), as emitted.
        const importDefault = (mod: Record<string, unknown>): Record<string, unknown> =>
          (mod && mod.__esModule ? mod : { default: mod });
        const importStar = (mod: Record<string, unknown>): Record<string, unknown> => {
          if (mod && mod.__esModule) return mod;
          const result: Record<string, unknown> = {};
          for (const k of Object.keys(mod)) if (k !== 'default') result[k] = mod[k];
          result.default = mod;
          return result;
        };
        const viaDefault = importDefault(net).default as typeof netTypes;
        expect(viaDefault.createConnection).to.equal(net.createConnection);
        expect(viaDefault.Socket).to.equal(net.Socket);
        expect((importStar(net).connect)).to.equal(net.connect);
        expect(Object.keys(net)).not.to.include('default');
      });

      it('getters read off Socket.prototype itself answer undefined; the legacy _connecting and _bytesDispatched', async () => {
        const net = getNet();
        const proto = net.Socket.prototype as unknown as Record<string, unknown>;
        for (const key of ['bytesWritten', 'bytesRead', 'localAddress', 'localPort', 'remoteAddress', 'bufferSize', '_bytesDispatched']) {
          expect(proto[key], key).to.equal(undefined);
        }
        const server = net.createServer((c) => c.resume().end());
        const port = await listen(server, 0, '127.0.0.1');
        const c = net.connect(port, '127.0.0.1') as netTypes.Socket & { _connecting: boolean; _bytesDispatched: number };
        expect(c._connecting).to.equal(true);
        await once(c, 'connect');
        expect(c._connecting).to.equal(false);
        c.write('abc');
        await once(c, 'end');
        expect(c._bytesDispatched).to.equal(3);
        c.destroy();
        await closeServer(server);
      });

      it('setNoDelay and setKeepAlive skip a handle object that lacks them', () => {
        const net = getNet();
        const s = new net.Socket({ handle: { readStart() {}, setNoDelay: null, setKeepAlive: null } } as never);
        expect(s.setNoDelay(true)).to.equal(s);
        expect(s.setKeepAlive(true, 1000)).to.equal(s);
        let calls = 0;
        const t = new net.Socket({ handle: { readStart() {}, setNoDelay: () => { calls++; } } } as never);
        t.setNoDelay(true);
        t.setNoDelay(true);
        t.setNoDelay(false);
        expect(calls).to.equal(2);
      });

      it('_connectionKey is family:address:port of the listen request', async () => {
        const net = getNet();
        const server = net.createServer() as netTypes.Server & { _connectionKey?: string };
        expect(server._connectionKey).to.equal(undefined);
        await listen(server, 0, '127.0.0.1');
        expect(server._connectionKey).to.equal('4:127.0.0.1:0');
        await closeServer(server);
        await listen(server, 0);
        const fam = server.address() as netTypes.AddressInfo;
        expect(server._connectionKey).to.equal(fam.family === 'IPv6' ? '6::::0' : '4:0.0.0.0:0');
        await closeServer(server);
      });

      it('captureRejections: a rejected async connection listener destroys that socket with the error', async () => {
        const net = getNet();
        const saved = EventEmitter.captureRejections;
        EventEmitter.captureRejections = true;
        let server: netTypes.Server;
        try {
          server = net.createServer();
        } finally {
          EventEmitter.captureRejections = saved;
        }
        const boom = new Error('kaboom');
        const seen: unknown[] = [];
        server.on('connection', async (sock: netTypes.Socket) => {
          sock.on('error', (e) => seen.push(e));
          throw boom;
        });
        const port = await listen(server, 0, '127.0.0.1');
        const c = net.connect(port, '127.0.0.1');
        c.on('error', () => {});
        await once(c, 'close');
        expect(seen).to.deep.equal([boom]);
        await closeServer(server);
      });

      it('onread: pause() inside the callback stops delivery until resume(), then the rest and end, in order', async () => {
        const net = getNet();
        const message = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
        const server = net.createServer((c) => c.end(message));
        const port = await listen(server, 0, '127.0.0.1');
        const got: Buffer[] = [];
        let paused = false;
        let violations = 0;
        const userBuf = Buffer.alloc(5);
        const c = net.connect({
          port, host: '127.0.0.1',
          onread: {
            buffer: userBuf,
            callback(this: netTypes.Socket, n: number, buf: Buffer) {
              if (paused) violations++;
              got.push(Buffer.from(buf.subarray(0, n)));
              paused = true;
              this.pause();
              setTimeout(() => { paused = false; this.resume(); }, 5);
            },
          },
        } as unknown as netTypes.NetConnectOpts);
        let endedEarly = false;
        c.on('end', () => { if (Buffer.concat(got).length !== message.length) endedEarly = true; });
        await once(c, 'close', 5000);
        expect(violations).to.equal(0);
        expect(endedEarly).to.equal(false);
        expect(Buffer.concat(got)).to.deep.equal(message);
        await closeServer(server);
      });

      it('handle.fd is the descriptor while connected', async () => {
        const net = getNet();
        const server = net.createServer((c) => c.end());
        const port = await listen(server, 0, '127.0.0.1');
        const c = net.connect(port, '127.0.0.1');
        await once(c, 'connect');
        const fd = (c as unknown as { _handle: { fd: number } })._handle.fd;
        const serverFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
        if (process.platform === 'win32') {
          // Node's handles report no descriptor on Windows.
          expect([fd, serverFd]).to.deep.equal([-1, -1]);
        } else {
          expect(fd).to.be.a('number').greaterThan(2);
          expect(serverFd).to.be.a('number').greaterThan(2);
        }
        c.destroy();
        await closeServer(server);
      });
    });
  }

  it('maxConnections: which values drop a connection is the running Node\'s (0 drops all since Node 21)', async () => {
    const values: unknown[] = [undefined, null, 0, -1, NaN, '0', 1.5, false, 2];
    const outcomes = async (net: NetLike): Promise<string[]> => {
      const out: string[] = [];
      for (const v of values) {
        const server = net.createServer((c) => c.destroy());
        server.maxConnections = v as number;
        const port = await listen(server, 0, '127.0.0.1');
        const result = new Promise<string>((resolve) => {
          server.once('connection', () => resolve('connection'));
          server.once('drop', () => resolve('drop'));
        });
        const c = net.connect(port, '127.0.0.1');
        c.on('error', () => {});
        out.push(`${String(v)}: ${await result}`);
        c.destroy();
        await closeServer(server);
      }
      return out;
    };
    expect(await outcomes(impl())).to.deep.equal(await outcomes(nodeNet));
  });

  it('new Socket({ fd }) of a bound socket not yet connected: connect() connects that fd (both)', async () => {
    // The one public way to a bound, unconnected socket fd on every Node is
    // the legacy tcp_wrap binding.
    const binding = (process as unknown as { binding(n: string): { TCP: new (t: number) => { bind(a: string, p: number): number; fd: number; close(): void }; constants: { SOCKET: number } } });
    process.noDeprecation = true;
    for (const [label, net] of both()) {
      const { TCP, constants } = binding.binding('tcp_wrap');
      const raw = new TCP(constants.SOCKET);
      expect(raw.bind('127.0.0.1', 0)).to.equal(0);
      const fd = raw.fd;
      const server = net.createServer((conn) => conn.once('data', (d) => conn.end(d)));
      const port = await listen(server, 0, '127.0.0.1');
      const c = net.connect({ fd, port, host: '127.0.0.1' } as never);
      c.on('error', (e) => { throw new Error(`${label}: ${e.message}`); });
      await once(c, 'connect', 5000, label);
      expect((c as unknown as { _handle: { fd: number } })._handle.fd, label).to.equal(fd);
      c.write('hello');
      const [data] = await once(c, 'data', 5000, label);
      expect(String(data), label).to.equal('hello');
      await once(c, 'close', 5000, label);
      await closeServer(server);
    }
  });

  it('new Socket({ fd }) of a FIFO (a child\'s piped stdio): reads, writes and ends without error (both)', async () => {
    const script = `
      const net = require(process.argv[1] === 'node' ? 'node:net' : process.argv[2]);
      const out = new net.Socket({ fd: 1, readable: false });
      const inp = new net.Socket({ fd: 0, writable: false });
      inp.on('data', (d) => out.write(String(d).toUpperCase()));
      inp.on('end', () => out.end('|end'));
      for (const s of [inp, out]) s.on('error', (e) => { process.stderr.write('error ' + e.code + '\\n'); process.exitCode = 3; });
    `;
    for (const [label] of both()) {
      const child = spawn(process.execPath, ['-e', script, label === 'node:net' ? 'node' : 'protonet', path.join(repoRoot)],
        { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      child.stdin.write('abc');
      await delay(20);
      child.stdin.end('def');
      const [code] = await once(child, 'exit', 10000, label);
      expect({ label, code, out, err }).to.deep.equal({ label, code: 0, out: 'ABCDEF|end', err: '' });
    }
  });
});
