/*
 * Fault tests: real sockets on loopback, hostile timing, resource accounting.
 *
 * Where the behaviour is Node's, the same scenario runs on node:net and on protonet and the
 * outcomes are compared; resource figures (fds, threads, RSS) are checked against their own
 * starting level. Scenarios that can crash or exhaust a process run in child processes.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type * as netTypes from 'node:net';

import { impl, implName, nodeNet, repoRoot, type NetLike } from './helpers/impl';
import { closeServer, delay, listen, until } from './helpers/util';

const fdCount = (): number => fs.readdirSync('/proc/self/fd').length;
const threadCount = (): number => fs.readdirSync('/proc/self/task').length;
const rssMiB = (): number => process.memoryUsage().rss / 1048576;

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** How a child script loads the implementation: 'node' -> node:net, else protonet. */
function requireLine(which: 'node' | 'protonet'): string {
  return which === 'node' ? "const net = require('node:net');" : `const net = require(${JSON.stringify(repoRoot)});`;
}

/** Runs `code` in a child node; kills it (SIGKILL) after `ms`. `onLine` sees stdout lines. */
function runChild(code: string, opts: {
  ms?: number; ulimit?: number; onLine?: (line: string, child: ReturnType<typeof spawn>) => void;
} = {}): Promise<ChildResult> {
  const t0 = Date.now();
  const argv = opts.ulimit
    ? ['bash', ['-c', `ulimit -n ${opts.ulimit}; exec "$0" -e "$1"`, process.execPath, code]] as const
    : [process.execPath, ['-e', code]] as const;
  const child = spawn(argv[0], [...argv[1]], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    partial += d;
    let i;
    while ((i = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, i);
      partial = partial.slice(i + 1);
      opts.onLine?.(line, child);
    }
  });
  child.stderr.on('data', (d: Buffer) => { stderr += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.ms ?? 20000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** utime+stime of `pid` in clock ticks (usually 1/100 s). */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

// ---------------------------------------------------------------------------------------------

interface ResetOutcome { events: string[]; callbacks: number; calledTwice: number; results: Record<string, number> }

/** A peer (always node:net) resets while `net`'s client has 16 MiB of writes queued. */
async function resetMidWrite(net: NetLike): Promise<ResetOutcome> {
  const srv = nodeNet.createServer((s) => { s.once('data', () => s.resetAndDestroy()); });
  const port = await listen(srv, 0, '127.0.0.1');
  try {
    const c = net.connect(port, '127.0.0.1');
    const events: string[] = [];
    const calls: string[][] = [];
    c.on('error', (e: NodeJS.ErrnoException) => events.push(`error:${e.code === 'EPIPE' ? 'ECONNRESET|EPIPE' : e.code === 'ECONNRESET' ? 'ECONNRESET|EPIPE' : e.code}`));
    const closed = new Promise<void>((resolve) => c.on('close', (h: boolean) => { events.push(`close:${h}`); resolve(); }));
    await new Promise<void>((resolve, reject) => { c.once('connect', resolve); c.once('error', reject); });
    for (let i = 0; i < 64; i++) {
      calls[i] = [];
      c.write(Buffer.alloc(256 * 1024, i), (err?: Error | null) => {
        const code = (err as NodeJS.ErrnoException | null | undefined)?.code;
        calls[i].push(code === undefined ? 'ok' : code === 'EPIPE' || code === 'ECONNRESET' ? 'ECONNRESET|EPIPE' : code);
      });
    }
    await Promise.race([closed, delay(10000)]);
    await delay(100);
    const results: Record<string, number> = {};
    for (const a of calls) for (const r of a) results[r] = (results[r] ?? 0) + 1;
    return {
      events,
      callbacks: calls.filter((a) => a.length > 0).length,
      calledTwice: calls.filter((a) => a.length > 1).length,
      results,
    };
  } finally {
    await closeServer(srv);
  }
}

interface RaceOutcome { writes: number; lost: number; twice: number; closes: number; hung: number }

/** Both ends write and read, then destroy()/resetAndDestroy() at random moments. */
async function destroyRace(net: NetLike, iterations: number, concurrency: number): Promise<RaceOutcome> {
  const out: RaceOutcome = { writes: 0, lost: 0, twice: 0, closes: 0, hung: 0 };
  const srv = net.createServer();
  const port = await listen(srv, 0, '127.0.0.1');
  // Accepted sockets wait here to be paired with a client; their 'close' is watched from
  // the start (a reset from the client may close them before they are claimed).
  const pending = new Map<netTypes.Socket, Promise<void>>();
  srv.on('connection', (s) => {
    s.on('error', () => undefined);
    pending.set(s, new Promise<void>((resolve) => s.once('close', () => { out.closes++; resolve(); })));
  });
  const counters: { n: number }[] = [];

  const attack = (s: netTypes.Socket): void => {
    s.on('data', () => undefined);
    for (let i = 0; i < 4; i++) {
      const rec = { n: 0 };
      counters.push(rec);
      s.write(Buffer.alloc(64 * 1024, i), () => { rec.n++; });
    }
    const kill = (): void => { if (Math.random() < 0.5) s.destroy(); else s.resetAndDestroy(); };
    const r = Math.random();
    if (r < 0.25) kill();
    else if (r < 0.5) setImmediate(kill);
    else if (r < 0.75) setTimeout(kill, Math.random() * 3);
    else process.nextTick(kill);
  };

  const one = async (): Promise<void> => {
    const c = net.connect(port, '127.0.0.1');
    const closes: Promise<unknown>[] = [];
    const watchClose = (s: netTypes.Socket): void => {
      s.on('error', () => undefined);
      closes.push(new Promise<void>((resolve) => s.once('close', () => { out.closes++; resolve(); })));
    };
    watchClose(c);
    c.once('connect', () => attack(c));
    // The server side: the first not-yet-claimed accepted socket.
    await until(() => pending.size > 0, 5000, 'an accepted socket');
    const [s, sClosed] = pending.entries().next().value as [netTypes.Socket, Promise<void>];
    pending.delete(s);
    closes.push(sClosed);
    attack(s);
    const ok = await Promise.race([Promise.all(closes).then(() => true), delay(5000).then(() => false)]);
    if (!ok) {
      out.hung++;
      c.destroy();
      s.destroy();
    }
  };

  try {
    for (let i = 0; i < iterations; i += concurrency) {
      await Promise.all(Array.from({ length: Math.min(concurrency, iterations - i) }, one));
    }
    await delay(50);
  } finally {
    await closeServer(srv);
  }
  out.writes = counters.length;
  out.lost = counters.filter((c) => c.n === 0).length;
  out.twice = counters.filter((c) => c.n > 1).length;
  return out;
}

// ---------------------------------------------------------------------------------------------

describe(`faults (${implName}; node:net side by side)`, function () {
  this.timeout(120000);

  it('a peer reset in the middle of a 16 MiB write: one error, every write callback once, close(true) — as node:net', async () => {
    const want = await resetMidWrite(nodeNet);
    const got = await resetMidWrite(impl());
    expect(got.calledTwice, 'write callbacks called twice').to.equal(0);
    expect(got.callbacks, 'write callbacks called').to.equal(64);
    expect(got.events).to.deep.equal(['error:ECONNRESET|EPIPE', 'close:true']);
    expect(got.events).to.deep.equal(want.events);
    // Which writes made it before the reset is timing; that all later ones fail is not.
    expect(Object.keys(got.results).sort()).to.deep.equal(Object.keys(want.results).sort());
  });

  it('3,000 connections opened and closed (<= 100 in flight): fds, threads and RSS return to their start', async () => {
    const net = impl();
    const srv = net.createServer((s) => { s.on('data', (d) => s.end(d)); s.on('error', () => undefined); });
    const port = await listen(srv, 0, '127.0.0.1');
    const churn = async (n: number): Promise<void> => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < n) {
          next++;
          await new Promise<void>((resolve, reject) => {
            const c = net.connect(port, '127.0.0.1', () => c.end('hello'));
            c.on('data', () => undefined);
            c.on('error', reject);
            c.on('close', () => resolve());
          });
        }
      };
      await Promise.all(Array.from({ length: 100 }, worker));
    };
    try {
      await churn(300); // warm-up: I/O threads, JIT, allocator pools
      await delay(200);
      const before = { fds: fdCount(), threads: threadCount(), rss: rssMiB() };
      await churn(3000);
      await until(() => fdCount() <= before.fds, 3000, `fds back to ${before.fds} (now ${fdCount()})`);
      (globalThis as { gc?: () => void }).gc?.();
      await delay(200);
      const after = { fds: fdCount(), threads: threadCount(), rss: rssMiB() };
      console.log(`      before ${JSON.stringify(before)} after ${JSON.stringify(after)}`);
      expect(after.fds).to.equal(before.fds);
      expect(after.threads).to.equal(before.threads);
      // Under AddressSanitizer (npm run test:asan) freed memory sits in quarantine: no RSS check.
      if (!/libasan/.test(process.env.LD_PRELOAD ?? '')) {
        expect(after.rss - before.rss, 'RSS growth (MiB)').to.be.below(40);
      }
    } finally {
      await closeServer(srv);
    }
  });

  for (const role of ['client', 'server'] as const) {
    it(`a ${role} that pauses forever while the peer floods keeps its memory bounded (as node:net)`, async () => {
      const growth: Record<string, number> = {};
      const flooded: Record<string, number> = {};
      for (const which of ['node', 'protonet'] as const) {
        const flooder = nodeNet.createServer();
        const fport = await listen(flooder, 0, '127.0.0.1');
        let sent = 0;
        let stop = false;
        const flood = (s: netTypes.Socket): void => {
          s.on('error', () => undefined);
          const chunk = Buffer.alloc(64 * 1024, 7);
          const pump = (): void => {
            while (!stop && s.write(chunk)) sent += chunk.length;
            if (!stop) s.once('drain', pump);
          };
          pump();
        };
        flooder.on('connection', flood);
        const code = `${requireLine(which)}
          const role = ${JSON.stringify(role)};
          const report = () => console.log('rss ' + process.memoryUsage().rss);
          setInterval(report, 200);
          if (role === 'client') {
            const c = net.connect(${fport}, '127.0.0.1', () => { c.pause(); console.log('ready'); });
          } else {
            const s = net.createServer((c) => c.pause());
            s.listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));
          }`;
        const samples: number[] = [];
        let clientOfChild: netTypes.Socket | undefined;
        const res = runChild(code, {
          ms: 30000,
          onLine: (line, child) => {
            const [k, v] = line.split(' ');
            if (k === 'rss') samples.push(Number(v) / 1048576);
            if (k === 'port') {
              clientOfChild = nodeNet.connect(Number(v), '127.0.0.1', () => flood(clientOfChild!));
              clientOfChild.on('error', () => undefined);
            }
            if (samples.length >= 20) child.kill('SIGKILL'); // 4 s of flooding
          },
        });
        await res;
        stop = true;
        clientOfChild?.destroy();
        await closeServer(flooder).catch(() => undefined);
        expect(samples.length, `${which} reported its RSS`).to.be.at.least(10);
        growth[which] = Math.max(...samples.slice(3)) - samples[1];
        flooded[which] = sent / 1048576;
      }
      console.log(`      RSS growth MiB ${JSON.stringify(growth)}, MiB accepted by the flooder ${JSON.stringify(flooded)}`);
      expect(growth.protonet).to.be.below(Math.max(32, growth.node + 16));
      expect(flooded.protonet).to.be.below(Math.max(32, flooded.node * 2));
    });
  }

  it('destroy() racing in-flight writes and reads from both ends, 1,000 times: every write callback exactly once', async () => {
    const want = await destroyRace(nodeNet, 1000, 25);
    const got = await destroyRace(impl(), 1000, 25);
    console.log(`      node:net ${JSON.stringify(want)}\n      ${implName} ${JSON.stringify(got)}`);
    expect(want.hung + want.lost + want.twice, 'node:net itself').to.equal(0);
    expect(got.hung, 'iterations whose sockets never closed').to.equal(0);
    expect(got.twice, 'write callbacks called twice').to.equal(0);
    expect(got.lost, 'write callbacks never called').to.equal(0);
    expect(got.closes).to.equal(2000);
  });

  const transfer = (which: 'node' | 'protonet', ending: string): string => `${requireLine(which)}
    const srv = net.createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); });
    srv.listen(0, '127.0.0.1', () => {
      let up = 0;
      for (let i = 0; i < 50; i++) {
        const c = net.connect(srv.address().port, '127.0.0.1', () => {
          const chunk = Buffer.alloc(64 * 1024, i);
          const pump = () => { while (c.write(chunk)); c.once('drain', pump); };
          pump();
          if (++up === 50) setTimeout(() => { console.log('ending'); ${ending} }, 300);
        });
        c.on('error', () => {});
      }
    });`;

  for (const which of ['node', 'protonet'] as const) {
    it(`${which}: process.exit(7) while 50 sockets are mid-transfer exits with 7 within 2 s`, async () => {
      let at = 0;
      const r = await runChild(transfer(which, 'process.exit(7);'), {
        ms: 15000, onLine: (l) => { if (l === 'ending') at = Date.now(); },
      });
      expect(at, r.stderr).to.be.greaterThan(0);
      expect(r.signal, r.stderr).to.equal(null);
      expect(r.code, r.stderr).to.equal(7);
      expect(Date.now() - at).to.be.below(2000);
    });

    it(`${which}: an uncaught exception with 50 sockets mid-transfer exits with code 1, no abort`, async () => {
      const r = await runChild(transfer(which, "throw new Error('boom');"), { ms: 15000 });
      expect(r.signal, r.stderr).to.equal(null);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.contain('boom');
      expect(r.stderr).to.not.match(/Abort|core dumped|FATAL|Segmentation/i);
    });
  }

  it('worker_threads: main + two workers serve and echo at once; a worker terminated mid-transfer; fds and threads back to baseline', async () => {
    const results: Record<string, { base: { fds: number; threads: number }; after: { fds: number; threads: number }; extra: string[] }> = {};
    for (const which of ['node', 'protonet'] as const) {
    const code = `
      const { Worker } = require('node:worker_threads');
      const fs = require('node:fs');
      const lib = ${JSON.stringify(which === 'node' ? 'node:net' : repoRoot)};
      const body = ${JSON.stringify(`
        const net = require(LIB);
        const { parentPort } = require('node:worker_threads');
        const srv = net.createServer((s) => { s.on('error', () => {}); s.pipe(s); });
        srv.listen(0, '127.0.0.1', () => parentPort ? parentPort.postMessage({ port: srv.address().port }) : null);
        async function echoAll(ports) {
          await Promise.all(ports.map((p) => new Promise((resolve, reject) => {
            const c = net.connect(p, '127.0.0.1');
            let got = 0; const want = 1 << 20;
            c.on('data', (d) => { got += d.length; if (got === want) c.end(); });
            c.on('error', reject);
            c.on('close', () => (got === want ? resolve() : reject(new Error('short echo ' + got))));
            c.end(Buffer.alloc(want, 3), () => {});
          })));
        }
        function stream(port) {
          const c = net.connect(port, '127.0.0.1', () => {
            const b = Buffer.alloc(65536);
            const pump = () => { while (c.write(b)); c.once('drain', pump); };
            pump();
            parentPort.postMessage({ streaming: true });
          });
          c.on('error', () => {});
          c.on('data', () => {});
        }
      `)};
      const fdCount = () => fs.readdirSync('/proc/self/fd').length;
      const threads = () => fs.readdirSync('/proc/self/task').length;
      new Function('LIB', 'require', body + '; globalThis.__w = { srv, echoAll };')(lib, require);
      const { srv, echoAll } = globalThis.__w;
      const spawnW = (extra) => new Worker(body.replace('LIB', JSON.stringify(lib)) + extra, { eval: true });
      const workerCode = "parentPort.on('message', async (m) => { if (m.ports) { await echoAll(m.ports); parentPort.postMessage({ done: true }); } if (m.stream) stream(m.stream); if (m.close) srv.close(); });";
      // One round is a warm-up (lazily opened process-wide fds, e.g. libuv's reserve fd);
      // the baseline is taken before the second.
      const links = () => fs.readdirSync('/proc/self/fd').map((f) => { try { return f + '->' + fs.readlinkSync('/proc/self/fd/' + f); } catch { return f; } });
      const round = async () => {
        const ws = [spawnW(workerCode), spawnW(workerCode)];
        const ports = await Promise.all(ws.map((w) => new Promise((r) => w.once('message', (m) => r(m.port)))));
        const all = [srv.address().port, ...ports];
        await Promise.all([echoAll(all), ...ws.map((w) => new Promise((resolve, reject) => {
          w.on('message', (m) => m.done && resolve());
          w.on('error', reject);
          w.postMessage({ ports: all });
        }))]);
        // Worker 2 streams into the main thread's server and is terminated mid-transfer.
        await new Promise((resolve) => { ws[1].on('message', (m) => m.streaming && setTimeout(resolve, 300)); ws[1].postMessage({ stream: all[0] }); });
        const code1 = await ws[1].terminate();
        ws[0].postMessage({ close: true });
        await new Promise((r) => setTimeout(r, 100));
        const code0 = await ws[0].terminate();
        return [code0, code1];
      };
      srv.on('listening', async () => {
        await round();
        await new Promise((r) => setTimeout(r, 200));
        const base = { fds: fdCount(), threads: threads() };
        const baseLinks = new Set(links());
        const codes = await round();
        const deadline = Date.now() + 3000;
        while (Date.now() < deadline && (fdCount() > base.fds || threads() > base.threads)) await new Promise((r) => setTimeout(r, 50));
        console.log(JSON.stringify({ base, after: { fds: fdCount(), threads: threads() }, codes, extra: links().filter((l) => !baseLinks.has(l)) }));
        srv.close();
      });`;
    const r = await runChild(code, { ms: 60000 });
    expect(r.signal, r.stderr).to.equal(null);
    expect(r.code, r.stderr).to.equal(0);
    results[which] = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as typeof results[string];
    }
    console.log(`      ${JSON.stringify(results)}`);
    const res = results.protonet;
    expect(res.after.threads).to.equal(res.base.threads);
    expect(res.after.fds - res.base.fds, `fds left: ${res.extra.join(', ')}`)
      .to.be.at.most(Math.max(0, results.node.after.fds - results.node.base.fds));
  });

  it('fd exhaustion (ulimit -n 256): the server keeps running, reports as node:net does, stays idle, serves again', async () => {
    const outcome: Record<string, { errors: string[]; cpu: number; served: number; alive: boolean }> = {};
    for (const which of ['node', 'protonet'] as const) {
      const code = `${requireLine(which)}
        const errors = [];
        const srv = net.createServer((s) => { s.on('error', () => {}); s.on('data', (d) => s.write(d)); });
        srv.on('error', (e) => errors.push(e.code + ':' + e.syscall));
        srv.listen(0, '127.0.0.1', 1024, () => console.log('port ' + srv.address().port));
        process.stdin.on('data', () => { console.log('report ' + JSON.stringify(errors)); process.exit(0); });
        process.stdin.on('end', () => process.exit(0)); // the test runner went away`;
      const clients: netTypes.Socket[] = [];
      let port = 0;
      let childPid = 0;
      let childHandle: ReturnType<typeof spawn> | undefined;
      let report: string[] | undefined;
      const done = runChild(code, {
        ms: 40000,
        ulimit: 256,
        onLine: (line, child) => {
          childPid = child.pid ?? 0;
          childHandle = child;
          if (line.startsWith('port ')) port = Number(line.slice(5));
          if (line.startsWith('report ')) report = JSON.parse(line.slice(7)) as string[];
        },
      });
      await until(() => port > 0, 10000, 'child listening');
      for (let i = 0; i < 400; i++) {
        const c = nodeNet.connect(port, '127.0.0.1');
        c.on('error', () => undefined);
        clients.push(c);
      }
      await delay(1500);
      const t0 = cpuTicks(childPid);
      await delay(1000);
      const cpu = cpuTicks(childPid) - t0; // ticks in 1 s (100 = one core)
      for (const c of clients) c.destroy();
      await delay(1500);
      let served = 0;
      await Promise.all(Array.from({ length: 5 }, () => new Promise<void>((resolve) => {
        const c = nodeNet.connect(port, '127.0.0.1', () => c.write('ping'));
        const t = setTimeout(() => { c.destroy(); resolve(); }, 5000);
        c.on('data', () => { served++; clearTimeout(t); c.destroy(); resolve(); });
        c.on('error', () => { clearTimeout(t); resolve(); });
      })));
      const alive = fs.existsSync(`/proc/${childPid}`);
      childHandle?.stdin?.write('report\n');
      await done;
      outcome[which] = { errors: report ?? ['(no report)'], cpu, served, alive };
    }
    console.log(`      ${JSON.stringify(outcome)}`);
    for (const which of ['node', 'protonet']) {
      expect(outcome[which].alive, `${which} alive`).to.equal(true);
      expect(outcome[which].served, `${which} served after fds freed`).to.equal(5);
      expect(outcome[which].cpu, `${which} CPU ticks/s at the limit`).to.be.below(30);
    }
    expect(outcome.protonet.errors, "the server's 'error' events").to.deep.equal(outcome.node.errors);
  });
});
