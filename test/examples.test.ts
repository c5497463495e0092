/*
 * The examples in examples/ run as the README shows them (`node examples/<name>.js`, from the
 * repository root, loading the package as `require('protonet')`), each in a child process.
 * PORT=0 lets them pick a free port, which they print; every child is killed by its PID
 * when the test ends.
 */
import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { nodeNet, repoRoot } from './helpers/impl';
import { Cleanup, request, sha256 } from './helpers/http';
import { prngBytes } from './helpers/util';

/** A running example: its stdout lines (with ms since spawn) and waits on them. */
class Example {
  readonly child: ChildProcess;
  readonly lines: Array<{ text: string; at: number }> = [];
  stderr = '';
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #start = Date.now();
  #waiters: Array<() => void> = [];

  constructor(file: string, args: string[], env: Record<string, string>, cleanup: Cleanup) {
    this.child = spawn(process.execPath, [path.join('examples', file), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.lines.push({ text: buf.slice(0, nl), at: Date.now() - this.#start });
        buf = buf.slice(nl + 1);
      }
      for (const w of this.#waiters) w();
    });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exit = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    cleanup.add(() => this.kill('SIGKILL'));
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Resolves with the first line at index >= from matching re (and its index). */
  waitLine(re: RegExp, ms = 5000, from = 0): Promise<{ match: RegExpMatchArray; index: number }> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = from; i < this.lines.length; i++) {
          const m = this.lines[i].text.match(re);
          if (m) {
            resolve({ match: m, index: i });
            return true;
          }
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`no line matching ${re} within ${ms} ms; stdout:\n${this.lines.map((l) => l.text).join('\n')}\nstderr:\n${this.stderr}`));
      }, ms);
      const waiter = (): void => {
        if (check()) {
          clearTimeout(timer);
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
        }
      };
      this.#waiters.push(waiter);
    });
  }

  async port(): Promise<number> {
    const { match } = await this.waitLine(/listening on (?:http:\/\/)?127\.0\.0\.1:(\d+)/);
    return Number(match[1]);
  }
}

/** A node:net client that collects text; lines() splits what arrived so far. */
function lineClient(port: number, cleanup: Cleanup): { socket: ReturnType<typeof nodeNet.connect>; text: () => string } {
  const socket = nodeNet.connect(port, '127.0.0.1');
  cleanup.add(() => socket.destroy());
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => { text += d; });
  socket.on('error', () => undefined);
  return { socket, text: () => text };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('examples/', function () {
  this.timeout(30000);
  const cleanup = new Cleanup();
  afterEach(() => cleanup.run());

  it('echo.js echoes 1 MiB back to a client and exits 0 on SIGTERM once idle', async function () {
    const ex = new Example('echo.js', [], { PORT: '0' }, cleanup);
    const port = await ex.port();
    const payload = prngBytes(1024 * 1024, 41);
    const back = await new Promise<Buffer>((resolve, reject) => {
      const c = nodeNet.connect(port, '127.0.0.1', () => c.end(payload));
      cleanup.add(() => c.destroy());
      const parts: Buffer[] = [];
      c.on('data', (d: Buffer) => parts.push(d));
      c.on('end', () => resolve(Buffer.concat(parts)));
      c.on('error', reject);
    });
    expect(sha256(back)).to.equal(sha256(payload));
    ex.kill('SIGTERM');
    expect(await ex.exit).to.deep.equal({ code: 0, signal: null });
  });

  it('chat.js relays each line from each of 20 clients to the 19 others, with join, /nick and leave notices', async function () {
    const ex = new Example('chat.js', [], { PORT: '0' }, cleanup);
    const port = await ex.port();
    const clients: Array<ReturnType<typeof lineClient>> = [];
    for (let i = 0; i < 20; i++) {
      const c = lineClient(port, cleanup);
      clients.push(c);
      await until(() => c.text().includes('* welcome'), 5000, `welcome of client ${i}`);
    }
    clients[0].socket.write('/nick alice\n');
    await until(() => clients[0].text().includes('* you are now alice'), 5000, 'nick');
    clients.forEach((c, i) => c.socket.write(`line from ${i}\n`));
    for (let i = 0; i < clients.length; i++) {
      await until(() => clients.every((_, j) => j === i || clients[i].text().includes(`: line from ${j}\n`)), 5000,
        `client ${i} to see the other 19 lines`);
      expect(clients[i].text(), `client ${i} must not get its own line`).to.not.include(`: line from ${i}\n`);
    }
    expect(clients[1].text()).to.include('alice: line from 0\n');
    expect(clients[0].text()).to.include('* guest20 joined\n');
    expect(clients[5].text()).to.include('* guest1 is now alice\n');
    clients[19].socket.write('/quit\n');
    await until(() => clients[0].text().includes('* guest20 left\n'), 5000, 'leave notice');
    expect(clients[19].text()).to.include('* bye\n');
    for (const c of clients) c.socket.destroy();
    ex.kill('SIGTERM');
    expect(await ex.exit).to.deep.equal({ code: 0, signal: null });
  });

  it('http.js answers GET with JSON and streams a 2 MiB POST /echo back intact', async function () {
    const ex = new Example('http.js', [], { PORT: '0' }, cleanup);
    const port = await ex.port();
    const agent = new http.Agent();
    cleanup.add(() => agent.destroy());
    const r = await request({ host: '127.0.0.1', port, path: '/hi?x=1', agent });
    expect(r.status).to.equal(200);
    expect(JSON.parse(r.body.toString())).to.deep.equal({ hello: 'from protonet', method: 'GET', url: '/hi?x=1' });
    const body = prngBytes(2 * 1024 * 1024, 42);
    const e = await request({ host: '127.0.0.1', port, method: 'POST', path: '/echo', agent }, body);
    expect(sha256(e.body)).to.equal(sha256(body));
    agent.destroy();
    ex.kill('SIGTERM');
    expect(await ex.exit).to.deep.equal({ code: 0, signal: null });
  });

  it('reconnect.js backs off 50, 100, 200, 400, 400 ms while its server is gone, reconnects when it is back, and starts over at 50 ms', async function () {
    // The server is examples/echo.js itself: killed (SIGKILL) to go away, restarted on the same port.
    const first = new Example('echo.js', [], { PORT: '0' }, cleanup);
    const port = await first.port();
    const client = new Example('reconnect.js', [String(port)], { RECONNECT_BASE_MS: '50', RECONNECT_MAX_MS: '400' }, cleanup);
    await client.waitLine(/^connected$/);
    await client.waitLine(/^received: hello from pid \d+$/);

    first.kill('SIGKILL');
    const gone = await client.waitLine(/^disconnected; retrying in 50 ms$/);
    const second400 = await client.waitLine(/^disconnected; retrying in 400 ms$/, 5000,
      (await client.waitLine(/^disconnected; retrying in 400 ms$/, 5000)).index + 1);
    const retries = client.lines.slice(gone.index, second400.index + 1)
      .map((l) => l.text.match(/^disconnected; retrying in (\d+) ms$/)?.[1])
      .filter((d): d is string => d !== undefined)
      .map(Number);
    expect(retries).to.deep.equal([50, 100, 200, 400, 400]);
    // Each attempt waits (at least about) its delay.
    for (let i = gone.index; i < second400.index; i++) {
      const m = client.lines[i].text.match(/^disconnected; retrying in (\d+) ms$/);
      if (!m) continue;
      const next = client.lines.findIndex((l, j) => j > i && l.text.startsWith('connecting to'));
      expect(next, 'a connect attempt follows each retry line').to.be.greaterThan(i);
      expect(client.lines[next].at - client.lines[i].at, `delay after line ${i}`).to.be.at.least(Number(m[1]) - 15);
    }
    expect(client.lines.slice(gone.index).some((l) => l.text === 'error: ECONNREFUSED')).to.equal(true);

    const second = new Example('echo.js', [], { PORT: String(port) }, cleanup);
    await second.port();
    const back = await client.waitLine(/^connected$/, 5000, second400.index);
    await client.waitLine(/^received: hello from pid \d+$/, 5000, back.index);

    second.kill('SIGKILL');
    const again = await client.waitLine(/^disconnected; retrying in \d+ ms$/, 5000, back.index);
    expect(again.match[0], 'the backoff starts over after a good connection').to.equal('disconnected; retrying in 50 ms');

    client.kill('SIGTERM');
    expect(await client.exit).to.deep.equal({ code: 0, signal: null });
  });

  it('udp-state.js: three udp-state-client.js players get 20 snapshots/s with their inputs acknowledged; joins, leaves, exit 0', async function () {
    const server = new Example('udp-state.js', [], { PORT: '0' }, cleanup);
    const port = await server.port();
    const players = [0, 1, 2].map(() => new Example('udp-state-client.js', [String(port), '127.0.0.1', '2'], {}, cleanup));
    for (const p of players) {
      const { match } = await p.waitLine(/^total: snapshots (\d+), lost (\d+) \([\d.]+%\), rtt samples (\d+), rtt median ([\d.]+) ms$/, 10000);
      const [snapshots, lost, samples] = [Number(match[1]), Number(match[2]), Number(match[3])];
      // 2 s at 20/s; loopback loses none, a busy machine may delay the first tick.
      expect(snapshots, 'snapshots received').to.be.within(30, 41);
      expect(lost, 'snapshots lost on loopback').to.equal(0);
      expect(samples, 'inputs acknowledged with an RTT').to.be.at.least(20);
      expect(await p.exit).to.deep.equal({ code: 0, signal: null });
    }
    const joined = server.lines.filter((l) => /^player \d+ joined from 127\.0\.0\.1\|\d+/.test(l.text)).length;
    await server.waitLine(/^player \d+ left \(0 playing\)$/, 5000);
    expect(joined).to.equal(3);
    server.kill('SIGTERM');
    expect(await server.exit).to.deep.equal({ code: 0, signal: null });
  });
});
