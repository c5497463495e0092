/*
 * Node's http module on protonet, with real protocol traffic over loopback.
 *
 * Every traffic scenario runs for each (server side, client side) pair: the server is Node's
 * http.Server either listening itself (node:net) or served by protonet.serveHttp(); the
 * client is Node's http client with http.Agent (node:net) or protonet.Agent, and raw sockets
 * come from net.connect or protonet.connect. The node:net/node:net pair is the reference.
 * Server-side timeouts and closing run on both server sides and must give the same outcome.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type * as netTypes from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  Cleanup, KINDS, agentOf, guarded, netOf, protonet, rawExchange, request, serve, servePath, sha256, stableHttpText, writeAll,
  type Kind, type RawOutcome,
} from './helpers/http';
import { prngBytes, until } from './helpers/util';

const MiB = 1024 * 1024;
const BIG = 10 * MiB;

/** The application every traffic test talks to. */
function app(): http.Server {
  const download = prngBytes(BIG, 7);
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url === '/upload') {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (d: Buffer) => {
        hash.update(d);
        bytes += d.length;
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ sha: hash.digest('hex'), bytes, te: req.headers['transfer-encoding'] ?? null }));
      });
      return;
    }
    if (url === '/download') {
      res.setHeader('content-type', 'application/octet-stream');
      writeAll(res, download).then(() => res.end(), (e: Error) => res.destroy(e));
      return;
    }
    req.resume();
    res.end(`body:${url}`);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: netTypes.Socket, head: Buffer) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
    if (head.length) socket.write(head);
    socket.pipe(socket);
  });
  return server;
}

const PAIRS: Array<[Kind, Kind]> = [
  ['node:net', 'node:net'],
  ['protonet', 'node:net'],
  ['node:net', 'protonet'],
  ['protonet', 'protonet'],
];

describe('http over protonet', function () {
  this.timeout(30000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());
  /** it() whose uncaught exceptions fail this test only. */
  const test = (title: string, body: () => Promise<void>): Mocha.Test => it(title, () => guarded(cleanup, body));

  for (const [serverKind, clientKind] of PAIRS) {
    describe(`http server on ${serverKind}, http client on ${clientKind}`, function () {
      test('reuses one keep-alive connection for 100 sequential requests', async () => {
        const server = app();
        let connections = 0;
        server.on('connection', () => connections++);
        const port = await serve(serverKind, server, cleanup);
        const agent = agentOf(clientKind, { keepAlive: true, maxSockets: 1 }, cleanup);
        const reused: boolean[] = [];
        for (let i = 0; i < 100; i++) {
          const r = await request({ host: '127.0.0.1', port, path: `/req/${i}`, agent });
          expect(r.status).to.equal(200);
          expect(r.body.toString()).to.equal(`body:/req/${i}`);
          reused.push(r.reusedSocket);
        }
        expect(connections, 'connections accepted').to.equal(1);
        expect(reused.filter(Boolean).length, 'requests on a reused socket').to.equal(99);
      });

      test('answers pipelined requests (written at once on a raw socket) in order', async () => {
        const port = await serve(serverKind, app(), cleanup);
        const send = ['/a', '/b', '/c']
          .map((p, i) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n${i === 2 ? 'Connection: close\r\n' : ''}\r\n`)
          .join('');
        const out = await rawExchange(clientKind, port, send, 5000, cleanup);
        expect(out.error).to.equal(null);
        expect(out.ended, 'server ends after Connection: close').to.equal(true);
        expect(out.text.match(/HTTP\/1\.1 200 OK/g)?.length).to.equal(3);
        expect(out.text.match(/body:\/[abc]/g)).to.deep.equal(['body:/a', 'body:/b', 'body:/c']);
      });

      test('receives a 10 MiB chunked upload intact (sha256)', async () => {
        const port = await serve(serverKind, app(), cleanup);
        const agent = agentOf(clientKind, {}, cleanup);
        const body = prngBytes(BIG, 3);
        const r = await request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent }, body);
        expect(JSON.parse(r.body.toString())).to.deep.equal({ sha: sha256(body), bytes: BIG, te: 'chunked' });
      });

      test('streams a 10 MiB download intact (sha256)', async () => {
        const port = await serve(serverKind, app(), cleanup);
        const agent = agentOf(clientKind, {}, cleanup);
        const r = await request({ host: '127.0.0.1', port, path: '/download', agent });
        expect(r.status).to.equal(200);
        expect(r.body.length).to.equal(BIG);
        expect(sha256(r.body)).to.equal(sha256(prngBytes(BIG, 7)));
      });

      test("hands an 'upgrade' request's socket over and echoes 256 KiB on it", async () => {
        const port = await serve(serverKind, app(), cleanup);
        const agent = agentOf(clientKind, {}, cleanup);
        const payload = prngBytes(256 * 1024, 11);
        const echoed = await new Promise<Buffer>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('upgrade echo timed out')), 10000);
          const req = http.request({
            host: '127.0.0.1', port, path: '/ws', agent, headers: { Connection: 'Upgrade', Upgrade: 'echo' },
          });
          req.on('error', reject);
          req.on('response', () => reject(new Error("got 'response' instead of 'upgrade'")));
          req.on('upgrade', (res: http.IncomingMessage, socket: netTypes.Socket, head: Buffer) => {
            expect(res.statusCode).to.equal(101);
            cleanup.add(() => socket.destroy());
            const parts: Buffer[] = head.length ? [head] : [];
            let got = head.length;
            socket.on('data', (d: Buffer) => {
              parts.push(d);
              got += d.length;
              if (got >= payload.length) {
                clearTimeout(timer);
                socket.end();
                resolve(Buffer.concat(parts));
              }
            });
            socket.on('error', reject);
            socket.write(payload);
          });
          req.end();
        });
        expect(echoed.length).to.equal(payload.length);
        expect(sha256(echoed)).to.equal(sha256(payload));
      });
    });
  }

  describe('http server timeouts and closing: protonet.serveHttp() behaves as server.listen()', function () {
    /** Runs `scenario` with the server on node:net and on protonet; returns both outcomes. */
    async function onBoth<T>(scenario: (kind: Kind) => Promise<T>): Promise<Record<Kind, T>> {
      const out = {} as Record<Kind, T>;
      for (const kind of KINDS) {
        out[kind] = await scenario(kind);
        await cleanup.run();
      }
      return out;
    }

    const summarize = (o: RawOutcome): unknown => ({ text: stableHttpText(o.text), ended: o.ended, error: o.error });

    test('destroys a connection idle for server.timeout ms (no request sent)', async () => {
      const out = await onBoth(async (kind) => {
        const server = app();
        server.timeout = 300;
        const port = await serve(kind, server, cleanup);
        return rawExchange('node:net', port, '', 5000, cleanup);
      });
      expect(summarize(out.protonet)).to.deep.equal(summarize(out['node:net']));
      expect(out['node:net'].closedAfter).to.be.within(250, 2000);
      expect(out.protonet.closedAfter, 'protonet: closed after ~300 ms').to.be.within(250, 2000);
    });

    test('closes an idle keep-alive connection after keepAliveTimeout', async () => {
      const out = await onBoth(async (kind) => {
        const server = app();
        server.keepAliveTimeout = 300;
        const port = await serve(kind, server, cleanup);
        return rawExchange('node:net', port, 'GET /ka HTTP/1.1\r\nHost: x\r\n\r\n', 5000, cleanup);
      });
      expect(summarize(out.protonet)).to.deep.equal(summarize(out['node:net']));
      expect(out['node:net'].text).to.match(/^HTTP\/1\.1 200 OK\r\n[^]*body:\/ka$/);
      expect(out['node:net'].ended).to.equal(true);
      expect(out['node:net'].closedAfter).to.be.within(250, 2500);
      expect(out.protonet.closedAfter, 'protonet: closed after ~300 ms').to.be.within(250, 2500);
    });

    test('answers 408 and closes when the headers do not arrive within headersTimeout', async () => {
      const out = await onBoth(async (kind) => {
        const server = http.createServer({ headersTimeout: 400, requestTimeout: 1000, connectionsCheckingInterval: 50 },
          (_req, res) => res.end('unexpected'));
        const port = await serve(kind, server, cleanup);
        return rawExchange('node:net', port, 'GET /slow HTTP/1.1\r\nHost: x\r\n', 5000, cleanup);
      });
      expect(summarize(out.protonet)).to.deep.equal(summarize(out['node:net']));
      expect(out['node:net'].text).to.match(/^HTTP\/1\.1 408 Request Timeout/);
      expect(out['node:net'].closedAfter).to.be.within(350, 2500);
      expect(out.protonet.closedAfter, 'protonet: closed after ~400 ms').to.be.within(350, 2500);
    });

    test('close(): refuses new connections, closes idle keep-alive ones, lets a request in flight finish, then emits close', async () => {
      const out = await onBoth(async (kind) => {
        // Server-side events in order; the client's view is kept apart (its timing vs the
        // server's 'close' is a race on both sides).
        const server: string[] = [];
        const client: Record<string, string> = {};
        let release: () => void = () => undefined;
        const srv = http.createServer((req, res) => {
          req.resume();
          if (req.url === '/slow') {
            server.push('slow request received');
            release = () => res.end('slow done');
            res.on('finish', () => server.push('slow response finished'));
          } else {
            res.end('fast');
          }
        });
        const port = await serve(kind, srv, cleanup);
        // An idle keep-alive connection: one request answered, then nothing.
        let gotFast: () => void = () => undefined;
        const fastSeen = new Promise<void>((r) => { gotFast = r; });
        const idleDone = rawExchange('node:net', port, 'GET /fast HTTP/1.1\r\nHost: x\r\n\r\n', 5000, cleanup, (all) => {
          if (all.endsWith('fast')) gotFast();
        });
        await fastSeen;
        const slow = request({ host: '127.0.0.1', port, path: '/slow', agent: false });
        await until(() => server.length > 0, 5000, 'the slow request');
        const closed = new Promise<void>((resolve) => srv.close((err) => {
          server.push(`close callback ${err ? (err as NodeJS.ErrnoException).code : 'ok'}`);
          resolve();
        }));
        server.push(`listening after close() ${srv.listening}`);
        client.newConnection = await new Promise<string>((resolve) => {
          const c = netOf('node:net').connect(port, '127.0.0.1');
          c.on('connect', () => { c.destroy(); resolve('connected'); });
          c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        });
        const idle = await idleDone;
        client.idle = `ended=${idle.ended} error=${idle.error}`;
        release();
        const r = await slow;
        client.inFlight = `${r.status} ${r.body.toString()} connection=${r.headers.connection}`;
        await closed;
        server.push(`address after close ${JSON.stringify(srv.address())}`);
        return { server, client };
      });
      expect(out.protonet).to.deep.equal(out['node:net']);
      expect(out['node:net']).to.deep.equal({
        server: [
          'slow request received',
          'listening after close() false',
          'slow response finished',
          'close callback ok',
          'address after close null',
        ],
        client: {
          newConnection: 'ECONNREFUSED',
          idle: 'ended=true error=null',
          inFlight: '200 slow done connection=close',
        },
      });
    });

    test('closeAllConnections(): destroys a connection with a request in flight; close follows', async () => {
      const out = await onBoth(async (kind) => {
        const server: string[] = [];
        const srv = http.createServer((req) => {
          req.resume();
          server.push('request received');
        });
        const port = await serve(kind, srv, cleanup);
        const failed = request({ host: '127.0.0.1', port, path: '/hang', agent: false }).then(
          () => 'completed',
          (e: NodeJS.ErrnoException) => `error ${e.code}`,
        );
        await until(() => server.length > 0, 5000, 'the request');
        const closed = new Promise<void>((resolve) => srv.close(() => { server.push('close callback'); resolve(); }));
        srv.closeAllConnections();
        const client = await failed;
        await closed;
        return { server, client };
      });
      expect(out.protonet).to.deep.equal(out['node:net']);
      expect(out['node:net']).to.deep.equal({ server: ['request received', 'close callback'], client: 'error ECONNRESET' });
    });
  });

  describe('http over a Unix domain socket', function () {
    let dir = '';
    beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'protonet-http-unix-')); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    for (const [serverKind, clientKind] of PAIRS) {
      test(`server on ${serverKind} (listen(path)), client on ${clientKind} (socketPath): keep-alive requests, 10 MiB up and down intact`, async () => {
        const sockPath = path.join(dir, 'http.sock');
        const server = app();
        let connections = 0;
        server.on('connection', () => connections++);
        await servePath(serverKind, server, sockPath, cleanup);
        expect(server.address()).to.equal(sockPath);
        const agent = agentOf(clientKind, { keepAlive: true, maxSockets: 1 }, cleanup);
        for (let i = 0; i < 10; i++) {
          const r = await request({ socketPath: sockPath, path: `/u/${i}`, agent });
          expect(r.body.toString()).to.equal(`body:/u/${i}`);
        }
        expect(connections, 'one keep-alive connection').to.equal(1);
        const body = prngBytes(BIG, 5);
        const up = await request({ socketPath: sockPath, method: 'POST', path: '/upload', agent }, body);
        expect(JSON.parse(up.body.toString())).to.deep.equal({ sha: sha256(body), bytes: BIG, te: 'chunked' });
        const down = await request({ socketPath: sockPath, path: '/download', agent });
        expect(sha256(down.body)).to.equal(sha256(prngBytes(BIG, 7)));
      });
    }
  });

  describe('protonet.serveHttp()', function () {
    test('makes address(), listening and getConnections() of the http server report the protonet listener', async () => {
      const server = app();
      const port = await serve('protonet', server, cleanup);
      const listener = protonet().listenerOf(server);
      expect(listener).to.not.equal(null);
      expect(server.listening).to.equal(true);
      expect(server.address()).to.deep.equal(listener!.address());
      expect(server.address()).to.deep.include({ address: '127.0.0.1', port });
      const r = await request({ host: '127.0.0.1', port, path: '/x', agent: false });
      expect(r.body.toString()).to.equal('body:/x');
      const count = await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
      expect(count).to.be.within(0, 1);
    });

    test("forwards a listen error to the http server's 'error' and leaves it not listening", async () => {
      const taken = http.createServer();
      const port = await serve('node:net', taken, cleanup);
      const server = app();
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
        server.once('error', resolve);
        protonet().serveHttp(server, port, '127.0.0.1');
      });
      expect(err.code).to.equal('EADDRINUSE');
      expect(server.listening).to.equal(false);
      const closeErr = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => server.close(resolve));
      expect(closeErr?.code).to.equal('ERR_SERVER_NOT_RUNNING');
    });

    test('throws ERR_SERVER_ALREADY_LISTEN when the server is served twice', async () => {
      const server = app();
      await serve('protonet', server, cleanup);
      expect(() => protonet().serveHttp(server, 0)).to.throw().with.property('code', 'ERR_SERVER_ALREADY_LISTEN');
    });

    test('closing the returned listener closes the http server too', async () => {
      const server = app();
      await serve('protonet', server, cleanup);
      const listener = protonet().listenerOf(server)!;
      const events: string[] = [];
      server.on('close', () => events.push('http close'));
      await new Promise<void>((resolve) => listener.close(() => { events.push('listener close'); resolve(); }));
      // The http server's 'close' is a nextTick away in Node; Deno runs it after setImmediate work.
      await until(() => events.length >= 2, 2000, "the http server's 'close'");
      expect(events).to.deep.equal(['listener close', 'http close']);
      expect(server.listening).to.equal(false);
    });
  });
});
