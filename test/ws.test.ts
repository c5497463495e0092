/*
 * The `ws` library on protonet: a WebSocketServer attached to an http.Server that
 * protonet.serveHttp() feeds, and WebSocket clients whose connection is a protonet socket
 * (through the `agent` option with protonet.Agent / HttpsAgent, or the `createConnection`
 * option with protonet.createHttpConnection). node:net on either side is the reference.
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
import WebSocket, { WebSocketServer } from 'ws';
import { Cleanup, guarded, protonet, serve, type Kind } from './helpers/http';
import { prngBytes } from './helpers/util';

type ClientKind = 'node:net' | 'protonet agent' | 'protonet createConnection';

const COUNT = 1000;

/** Message i: even i text, odd i binary (sizes vary, some above one TCP segment). */
function message(i: number): string | Buffer {
  return i % 2 === 0 ? `text message ${i} ${'x'.repeat(i % 97)}` : prngBytes(1 + ((i * 7919) % 70000), i);
}

function clientOptions(kind: ClientKind, secure: boolean, ca?: Buffer): WebSocket.ClientOptions {
  const tlsOpts = secure ? { ca, servername: 'localhost' } : {};
  if (kind === 'node:net') return tlsOpts;
  if (kind === 'protonet agent') {
    return { ...tlsOpts, agent: secure ? new (protonet().HttpsAgent)({ ca }) : new (protonet().Agent)() };
  }
  // ws types its option as net.createConnection; protonet's takes the same options.
  return { createConnection: protonet().createHttpConnection as unknown as typeof netTypes.createConnection };
}

interface Run {
  received: number;
  inOrder: boolean;
  serverClose: [number, string];
  clientClose: [number, string];
}

/** Sends COUNT messages, the server echoes each; checks order and content; closes with 4000. */
async function echoThousand(wss: WebSocketServer, url: string, opts: WebSocket.ClientOptions, cleanup: Cleanup): Promise<Run> {
  const serverClosed = new Promise<[number, string]>((resolve) => {
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      ws.on('close', (code, reason) => resolve([code, reason.toString()]));
    });
  });
  const ws = new WebSocket(url, opts);
  cleanup.add(() => ws.terminate());
  const run: Run = { received: 0, inOrder: true, serverClose: [0, ''], clientClose: [0, ''] };
  const clientClosed = new Promise<[number, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; ${run.received} messages echoed`)), 20000);
    ws.on('error', reject);
    ws.on('open', () => {
      for (let i = 0; i < COUNT; i++) ws.send(message(i));
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const want = message(run.received);
      const ok = typeof want === 'string'
        ? !isBinary && data.toString() === want
        : isBinary && Buffer.isBuffer(data) && data.equals(want);
      if (!ok) run.inOrder = false;
      run.received++;
      if (run.received === COUNT) ws.close(4000, 'all echoed');
    });
    ws.on('close', (code: number, reason: Buffer) => {
      clearTimeout(timer);
      resolve([code, reason.toString()]);
    });
  });
  run.clientClose = await clientClosed;
  run.serverClose = await serverClosed;
  return run;
}

const EXPECTED: Run = { received: COUNT, inOrder: true, serverClose: [4000, 'all echoed'], clientClose: [4000, 'all echoed'] };

describe('ws over protonet', function () {
  this.timeout(40000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());
  const test = (title: string, body: () => Promise<void>): Mocha.Test => it(title, () => guarded(cleanup, body));

  const CASES: Array<[Kind, ClientKind]> = [
    ['node:net', 'node:net'],
    ['protonet', 'node:net'],
    ['node:net', 'protonet agent'],
    ['protonet', 'protonet agent'],
    ['protonet', 'protonet createConnection'],
  ];
  for (const [serverKind, clientKind] of CASES) {
    test(`server on ${serverKind}, client on ${clientKind}: ${COUNT} text and binary messages echoed in order; close code 4000 on both ends`, async () => {
      const server = http.createServer((_req, res) => res.writeHead(426).end());
      const wss = new WebSocketServer({ server });
      cleanup.add(() => new Promise((r) => wss.close(r)));
      const port = await serve(serverKind, server, cleanup);
      const run = await echoThousand(wss, `ws://127.0.0.1:${port}/chat`, clientOptions(clientKind, false), cleanup);
      expect(run).to.deep.equal(EXPECTED);
    });
  }

  test("a server-initiated close (1001 'going away') reaches a protonet client with its code and reason", async () => {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    cleanup.add(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws) => ws.close(1001, 'going away'));
    const port = await serve('protonet', server, cleanup);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, clientOptions('protonet agent', false));
    cleanup.add(() => ws.terminate());
    const [code, reason] = await new Promise<[number, string]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no close')), 10000);
      ws.on('error', reject);
      ws.on('close', (c: number, r: Buffer) => {
        clearTimeout(timer);
        resolve([c, r.toString()]);
      });
    });
    expect([code, reason]).to.deep.equal([1001, 'going away']);
  });

  /** A self-signed certificate for localhost, made by the openssl CLI in a temporary directory. */
  function makeCertificate(): { key: Buffer; cert: Buffer } {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'protonet-wss-'));
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

  test('wss: https server via serveHttp, client via HttpsAgent: messages echoed in order; close code 4000', async function () {
    const { key, cert } = makeCertificate();
    const server = https.createServer({ key, cert });
    const wss = new WebSocketServer({ server });
    cleanup.add(() => new Promise((r) => wss.close(r)));
    const port = await serve('protonet', server, cleanup);
    const run = await echoThousand(wss, `wss://127.0.0.1:${port}/`, clientOptions('protonet agent', true, cert), cleanup);
    expect(run).to.deep.equal(EXPECTED);
  });

  // The https way that works on every runtime (Bun's https.Server cannot be served): a
  // tls.Server hands its secure sockets to the http.Server the WebSocketServer is on.
  for (const serverKind of ['node:net', 'protonet'] as const) {
    test(`wss through a tls.Server on ${serverKind} feeding an http.Server, client via HttpsAgent: messages echoed in order; close code 4000`, async function () {
      const { key, cert } = makeCertificate();
      const app = http.createServer((_req, res) => res.writeHead(426).end());
      const wss = new WebSocketServer({ server: app });
      cleanup.add(() => new Promise((r) => wss.close(r)));
      const front = tls.createServer({ key, cert }, (s) => app.emit('connection', s));
      const port = await serve(serverKind, front as unknown as netTypes.Server, cleanup);
      const run = await echoThousand(wss, `wss://127.0.0.1:${port}/`, clientOptions('protonet agent', true, cert), cleanup);
      expect(run).to.deep.equal(EXPECTED);
    });
  }
});
