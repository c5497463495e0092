/*
 * NODE_DEBUG: with `net`, protonet prints node:net's debug lines at the same
 * points; with `protonet`, its own internals (loop mode, I/O threads,
 * batches); without either, nothing.
 *
 * NODE_DEBUG is read when a process starts, so each trace comes from a child
 * process: one side of a lockstep exchange (test/fixtures/net-debug-peer.cjs)
 * runs traced on node:net and then on protonet, against the same untraced
 * node:net peer in a second process. With one socket per traced process and
 * every step waiting for the peer's reply, the trace depends only on the
 * implementation; the lines (pids and port numbers masked) must be equal.
 * The children inherit PROTONET_IO_THREADS, so each loop mode is compared in
 * the suite's run in that mode.
 */
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';

import { implName, repoRoot } from './helpers/impl';

const PEER = path.join(repoRoot, 'test', 'fixtures', 'net-debug-peer.cjs');
const IMPL = implName === 'protonet' ? repoRoot : 'node:net';
// The servers remove their socket file when they close.
const PIPE = path.join(os.tmpdir(), `protonet-debuglog-${process.pid}.sock`);

function childEnv(nodeDebug: string | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_DEBUG;
  if (nodeDebug !== undefined) env.NODE_DEBUG = nodeDebug;
  return env;
}

/** Masks what differs from run to run: the pid in each prefix and port numbers. */
function normalize(trace: string): string[] {
  return trace.split('\n').filter((l) => l !== '')
    .map((l) => l.replace(/^(NET|PROTONET) \d+:/, '$1:').replace(/\b\d{4,5}\b/g, 'PORT'));
}

/** Runs one exchange: `traced` ('server' or 'client') on `net`, its peer on node:net; the traced side's stderr. */
function exchange(traced: 'server' | 'client', net: string, serverHost: string, clientHost: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const serverImpl = traced === 'server' ? net : 'node:net';
    const server = spawn(process.execPath, [PEER, 'server', serverImpl, serverHost],
      { env: childEnv(traced === 'server' ? 'net' : undefined) });
    const timer = setTimeout(() => {
      server.kill();
      reject(new Error(`exchange (${traced} on ${net}) timed out`));
    }, 15000);
    let out = '';
    let serverErr = '';
    let clientErr = '';
    let clientDone = false;
    let serverDone = false;
    const finish = (): void => {
      if (!clientDone || !serverDone) return;
      clearTimeout(timer);
      resolve(normalize(traced === 'server' ? serverErr : clientErr));
    };
    server.stderr.on('data', (d: Buffer) => { serverErr += d.toString(); });
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes('\n')) return;
      const port = out.trim();
      const clientImpl = traced === 'client' ? net : 'node:net';
      const client = execFile(process.execPath, [PEER, 'client', clientImpl, port, clientHost],
        { env: childEnv(traced === 'client' ? 'net' : undefined), timeout: 10000 }, (err, _stdout, stderr) => {
          clientErr = stderr;
          if (err) {
            clearTimeout(timer);
            server.kill();
            reject(new Error(`client failed: ${err.message}\n${stderr}`));
            return;
          }
          clientDone = true;
          finish();
        });
      client.stdin?.end();
    });
    server.on('exit', (code) => {
      if (code !== 0) {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}\n${serverErr}`));
        return;
      }
      serverDone = true;
      finish();
    });
  });
}

describe('NODE_DEBUG=net prints what node:net prints', () => {
  // node:net re-initialises a socket's stream state for each further address
  // it tries (the _undestroy() of its handle re-initialisation), so it calls
  // _read once more after connecting there (docs/compatibility.md, Diagnostics): for that
  // case the connect sequence is compared, the lines that name the connect.
  const connectLines = /^(NET: (connect|afterConnect)|EV client connect)/;
  const cases: Array<['server' | 'client', string, string, string, RegExp?]> = [
    ['server', '127.0.0.1', '127.0.0.1', 'a server on 127.0.0.1: listen, accept, data, end, close'],
    ['server', '', '127.0.0.1', "a server on the default address ('::'): listen, accept, data, end, close"],
    ['client', '127.0.0.1', '127.0.0.1', 'a client of 127.0.0.1: connect, data, end, close'],
    ['client', '127.0.0.1', 'localhost', 'a client of localhost: the lookup, then connect, data, end, close'],
    ['client', '127.0.0.1', 'two-addresses', 'a client given two addresses: the first refused, the second connects', connectLines],
    ['server', PIPE, '', 'a server on a Unix socket: listen, accept, data, end, close'],
    ['client', PIPE, '', 'a client of a Unix socket: connect, data, end, close'],
  ];
  for (const [traced, serverHost, clientHost, title, only] of cases) {
    it(title, async function () {
      this.timeout(40000);
      const pick = (lines: string[]): string[] => (only ? lines.filter((l) => only.test(l)) : lines);
      const ref = pick(await exchange(traced, 'node:net', serverHost, clientHost));
      expect(ref.filter((l) => l.startsWith('NET:')).length, `node:net's trace:\n${ref.join('\n')}`).to.be.greaterThan(8);
      const got = pick(await exchange(traced, IMPL, serverHost, clientHost));
      expect(got.join('\n'), `expected node:net's trace, got ${implName}'s`).to.equal(ref.join('\n'));
    });
  }
});

describe('NODE_DEBUG=protonet prints protonet internals; nothing without it', () => {
  const script = [
    `const net = require(${JSON.stringify(repoRoot)});`,
    'const server = net.createServer((s) => s.end("x")).listen(0, "127.0.0.1", () => {',
    '  const c = net.connect(server.address().port, "127.0.0.1");',
    '  c.resume();',
    '  c.on("close", () => server.close());',
    '});',
  ].join('\n');
  function stderrOf(nodeDebug: string | undefined): Promise<string[]> {
    return new Promise((resolve, reject) => {
      execFile(process.execPath, ['-e', script], { env: childEnv(nodeDebug), timeout: 10000 }, (err, _o, stderr) =>
        (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(normalize(stderr))));
    });
  }

  it('names the loop mode, the I/O threads started, and each batch delivered', async function () {
    if (implName !== 'protonet') this.skip();
    this.timeout(15000);
    const lines = await stderrOf('protonet');
    const threads = process.env.PROTONET_IO_THREADS;
    const driven = threads === undefined || threads === '' || threads === '0';
    expect(lines[0]).to.match(driven ? /^PROTONET: loop mode: on this thread's libuv loop/ : /^PROTONET: loop mode: I\/O threads/);
    if (!driven) expect(lines[1]).to.equal(`PROTONET: I/O threads started: ${threads}`);
    expect(lines.filter((l) => /^PROTONET: batch delivered: \d+ events, \d+ buffers$/.test(l)).length).to.be.greaterThan(1);
    expect(lines.every((l) => l.startsWith('PROTONET:')), lines.join('\n')).to.equal(true);
  });

  it('prints nothing when NODE_DEBUG names neither', async function () {
    this.timeout(15000);
    expect(await stderrOf(undefined)).to.deep.equal([]);
    expect(await stderrOf('http,tls')).to.deep.equal([]);
    // net alone: node:net's lines, no protonet internals.
    const net = await stderrOf('net');
    expect(net.filter((l) => l.startsWith('NET:')).length).to.be.greaterThan(8);
    expect(net.filter((l) => l.startsWith('PROTONET'))).to.deep.equal([]);
  });
});
