/*
 * Node's tls (and https) on protonet sockets, over loopback, with a self-signed certificate
 * generated at test time by the openssl CLI in a temporary directory (removed afterwards).
 *
 * Client side: tls.connect({ socket }) over protonet.connect(). Server side:
 * new tls.TLSSocket(socket, { isServer: true }) around an accepted protonet socket, and
 * tls.Server / https.Server served by protonet.serveHttp(). 1 MiB is echoed and checked.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as netTypes from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Cleanup, KINDS, guarded, netOf, protonet, serve, sha256, writeAll, type Kind } from './helpers/http';
import { listen } from './helpers/util';
import { prngBytes } from './helpers/util';

const MiB = 1024 * 1024;

interface Credentials { key: Buffer; cert: Buffer }

function makeCertificate(): Credentials {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'protonet-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
    ], { stdio: 'pipe', timeout: 20000 });
    return { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `payload` on a TLS socket and collects as many bytes back; resolves with them. */
function echoThrough(socket: tls.TLSSocket, payload: Buffer, ms = 15000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo timed out after ${ms} ms`)), ms);
    const parts: Buffer[] = [];
    let got = 0;
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= payload.length) {
        clearTimeout(timer);
        socket.end();
        resolve(Buffer.concat(parts));
      }
    });
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const start = (): void => { writeAll(socket, payload).catch(reject); };
    if (socket.pending || socket.connecting) socket.once('secureConnect', start);
    else start();
  });
}

/** A TLS echo server on the given side: node's tls.Server, or TLSSocket around protonet's sockets. */
async function tlsEchoServer(kind: Kind, creds: Credentials, cleanup: Cleanup, served: string[]): Promise<number> {
  const echo = (s: tls.TLSSocket): void => {
    s.on('error', () => undefined);
    s.on('secure', () => served.push(`secure ${s.getProtocol()}`));
    s.pipe(s);
  };
  if (kind === 'node:net') {
    const server = tls.createServer({ ...creds }, (s) => {
      served.push(`secure ${s.getProtocol()}`);
      s.on('error', () => undefined);
      s.pipe(s);
    });
    return serve('node:net', server, cleanup);
  }
  const server = protonet().createServer((raw) => {
    const s = new tls.TLSSocket(raw as unknown as netTypes.Socket, { isServer: true, ...creds });
    cleanup.add(() => s.destroy());
    echo(s);
  });
  cleanup.server(server as unknown as netTypes.Server);
  return listen(server as unknown as netTypes.Server, 0, '127.0.0.1');
}

/** tls.connect on the given side: its own socket (node:net) or { socket: protonet.connect() }. */
function tlsClient(kind: Kind, port: number, creds: Credentials, cleanup: Cleanup): tls.TLSSocket {
  const opts: tls.ConnectionOptions = { ca: creds.cert, servername: 'localhost' };
  const socket = kind === 'node:net'
    ? tls.connect({ ...opts, host: '127.0.0.1', port })
    : tls.connect({ ...opts, socket: netOf('protonet').connect(port, '127.0.0.1') });
  cleanup.add(() => socket.destroy());
  return socket;
}

describe('tls over protonet', function () {
  this.timeout(30000);
  let creds: Credentials;
  const cleanup = new Cleanup();
  before(function () {
    this.timeout(30000);
    creds = makeCertificate();
  });
  afterEach(() => cleanup.run());
  const test = (title: string, body: () => Promise<void>): Mocha.Test => it(title, () => guarded(cleanup, body));

  const PAIRS: Array<[Kind, Kind]> = [['protonet', 'node:net'], ['node:net', 'protonet'], ['protonet', 'protonet']];
  for (const [serverKind, clientKind] of PAIRS) {
    const server = serverKind === 'protonet' ? 'new tls.TLSSocket(protonetSocket, { isServer: true })' : 'tls.createServer()';
    const client = clientKind === 'protonet' ? 'tls.connect({ socket: protonet.connect() })' : 'tls.connect()';
    test(`${client} -> ${server}: handshake verifies the certificate and 1 MiB echoes intact`, async () => {
      const served: string[] = [];
      const port = await tlsEchoServer(serverKind, creds, cleanup, served);
      const socket = tlsClient(clientKind, port, creds, cleanup);
      const payload = prngBytes(MiB, 21);
      const echoed = await echoThrough(socket, payload);
      expect(socket.authorized, `authorizationError ${String(socket.authorizationError)}`).to.equal(true);
      expect(socket.getPeerCertificate().subject.CN).to.equal('localhost');
      expect(echoed.length).to.equal(payload.length);
      expect(sha256(echoed)).to.equal(sha256(payload));
      expect(served).to.have.length(1);
      expect(served[0]).to.match(/^secure TLSv1\.[23]$/);
    });
  }

  test('a tls.Server served by protonet.serveHttp() echoes 1 MiB to tls.connect({ socket: protonet.connect() })', async () => {
    const server = tls.createServer({ ...creds }, (s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    const port = await serve('protonet', server, cleanup);
    const socket = tlsClient('protonet', port, creds, cleanup);
    const payload = prngBytes(MiB, 22);
    const echoed = await echoThrough(socket, payload);
    expect(sha256(echoed)).to.equal(sha256(payload));
  });

  for (const kind of ['node:net', 'protonet'] as const) {
    test(`${kind}: tls.connect({ socket: new Socket() }) before that socket's connect() (Node's docs: "it can be connected later")`, async () => {
      const port = await tlsEchoServer('node:net', creds, cleanup, []);
      const raw = new (netOf(kind).Socket)();
      const socket = tls.connect({ ca: creds.cert, servername: 'localhost', socket: raw as unknown as netTypes.Socket });
      cleanup.add(() => socket.destroy());
      raw.connect(port, '127.0.0.1');
      const payload = prngBytes(64 * 1024, 41);
      const back = await echoThrough(socket, payload);
      expect(sha256(back)).to.equal(sha256(payload));
      expect(socket.authorized).to.equal(true);
    });
  }

  test('protonet: a write on a new socket that is never connected still fails as node:net\'s (ERR_SOCKET_CLOSED)', async () => {
    for (const kind of ['node:net', 'protonet'] as const) {
      const s = new (netOf(kind).Socket)();
      const errors: string[] = [];
      s.on('error', (e: NodeJS.ErrnoException) => errors.push(`error ${e.code}`));
      await new Promise<void>((resolve) => {
        s.write('x', (e?: Error | null) => { errors.push(`cb ${(e as NodeJS.ErrnoException | undefined)?.code}`); });
        s.on('close', () => resolve());
      });
      expect(errors, kind).to.deep.equal(['cb ERR_SOCKET_CLOSED', 'error ERR_SOCKET_CLOSED']);
    }
  });

  /**
   * Two 1 MiB POSTs through one https.Agent with a session cache: the bodies echoed, and
   * whether each TLS connection resumed the previous session.
   */
  async function httpsTwice(serverKind: Kind, clientKind: Kind, seed: number): Promise<boolean[]> {
    const server = https.createServer({ ...creds }, (req, res) => req.pipe(res));
    const port = await serve(serverKind, server, cleanup);
    const agentOpts: https.AgentOptions = { ca: creds.cert, keepAlive: false, maxCachedSessions: 10 };
    const agent = clientKind === 'protonet' ? new (protonet().HttpsAgent)(agentOpts) : new https.Agent(agentOpts);
    cleanup.add(() => agent.destroy());
    const sessions: boolean[] = [];
    for (let i = 0; i < 2; i++) {
      const payload = prngBytes(MiB, seed + i);
      const body = await new Promise<Buffer>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, method: 'POST', path: '/echo', agent, servername: 'localhost' }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve(Buffer.concat(parts)));
          res.on('error', reject);
        });
        req.on('socket', (s: tls.TLSSocket) => s.once('secureConnect', () => sessions.push(s.isSessionReused())));
        req.on('error', reject);
        req.end(payload);
      });
      expect(sha256(body), `${serverKind}/${clientKind} request ${i}`).to.equal(sha256(payload));
    }
    return sessions;
  }

  for (const [serverKind, clientKind] of PAIRS) {
    test(`https: server on ${serverKind}, client agent on ${clientKind}: 1 MiB POST echoed, session reused by the agent as with node:net on both ends`, async () => {
      const sessions = await httpsTwice(serverKind, clientKind, 30);
      // The runtime's own net on both ends is the reference: Node and Bun resume the
      // session on the second connection; Deno's https never does.
      const reference = await httpsTwice('node:net', 'node:net', 40);
      expect(reference[0]).to.equal(false);
      expect(sessions).to.deep.equal(reference);
    });
  }

  // The way that serves https on every runtime (docs/compatibility.md: "Platforms and runtimes"): a
  // tls.Server served by serveHttp() hands its secure sockets to an http.Server.
  async function httpsThroughTlsFront(serverKind: Kind): Promise<{ seen: string[]; connections: number }> {
    const app = http.createServer((req, res) => {
      res.setHeader('x-encrypted', String((req.socket as tls.TLSSocket).encrypted));
      req.pipe(res);
    });
    let connections = 0;
    const front = tls.createServer({ ...creds }, (s) => {
      connections++;
      app.emit('connection', s);
    });
    cleanup.add(() => new Promise<void>((resolve) => {
      app.close(() => resolve());
      app.closeAllConnections();
    }));
    const port = await serve(serverKind, front as unknown as netTypes.Server, cleanup);
    const agent = new (protonet().HttpsAgent)({ ca: creds.cert, keepAlive: true, maxSockets: 1 });
    cleanup.add(() => agent.destroy());
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const payload = i === 2 ? prngBytes(MiB, 50) : Buffer.from(`request ${i}`);
      const reply = await new Promise<{ body: Buffer; encrypted: string; reused: boolean }>((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port, method: 'POST', path: `/${i}`, agent, servername: 'localhost' }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve({ body: Buffer.concat(parts), encrypted: String(res.headers['x-encrypted']), reused: req.reusedSocket }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(payload);
      });
      expect(sha256(reply.body), `${serverKind}: request ${i}`).to.equal(sha256(payload));
      seen.push(`${reply.encrypted} reused=${reply.reused}`);
    }
    return { seen, connections };
  }

  test('https as a tls.Server served by protonet feeding an http.Server: requests and a 1 MiB POST, connections reused as with node:net\'s listen()', async () => {
    const reference = await httpsThroughTlsFront('node:net');
    await cleanup.run();
    const out = await httpsThroughTlsFront('protonet');
    expect(out).to.deep.equal(reference);
    expect(reference.seen[0]).to.equal('true reused=false');
    // Node and Bun keep the one connection alive for all three; Deno's https client does not reuse it.
    expect(reference.connections).to.equal(reference.seen.filter((r) => r.endsWith('reused=false')).length);
  });

  test('protonet.serveHttp(https.Server) serves TLS where https.Server is a net.Server, and refuses it where it is not (Bun)', async () => {
    const server = https.createServer({ ...creds }, (_req, res) => res.end('over tls'));
    const served = server as unknown as netTypes.Server;
    if ((served as unknown) instanceof netOf('node:net').Server) {
      const port = await serve('protonet', served, cleanup);
      const agent = new https.Agent({ ca: creds.cert });
      cleanup.add(() => agent.destroy());
      const body = await new Promise<string>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port, agent, servername: 'localhost' }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(body).to.equal('over tls');
    } else {
      expect(() => protonet().serveHttp(served, 0, '127.0.0.1'))
        .to.throw(TypeError).with.property('code', 'ERR_INVALID_ARG_VALUE');
      expect(served.listening).to.equal(false);
    }
  });
});
