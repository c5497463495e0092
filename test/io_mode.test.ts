/*
 * Where the sockets run. In Node, by default, protonet runs its loop on the JS thread's own
 * libuv loop (native/napi/driven_loop.cc): no I/O thread. PROTONET_IO_THREADS=N (1..64)
 * starts N I/O threads instead. Both modes must behave the same; the whole suite runs in
 * each (.ci/run repeats it with PROTONET_IO_THREADS=1). Each case here runs a small script
 * in a child process with the mode set in its environment, bounded in time and killed by
 * PID if it overstays.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { implName, repoRoot } from './helpers/impl';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string[];
  stderr: string;
}

const PRELUDE = `
'use strict';
const net = require(${JSON.stringify(repoRoot)});
const say = (s) => process.stdout.write(String(s) + '\\n');
// Names of this process's threads (Linux: /proc/self/task/*/comm).
const threadNames = () => require('fs').readdirSync('/proc/self/task')
  .map((t) => { try { return require('fs').readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim(); } catch { return ''; } });
const ioThreads = () => threadNames().filter((n) => n === 'protonet-io').length;
const echoOnce = (payload) => new Promise((resolve, reject) => {
  const server = net.createServer((s) => s.pipe(s));
  server.listen(0, '127.0.0.1', () => {
    const c = net.connect(server.address().port, '127.0.0.1', () => c.end(payload));
    const got = [];
    c.on('data', (d) => got.push(d));
    c.on('error', reject);
    c.on('close', () => server.close(() => resolve(Buffer.concat(got))));
  });
});
`;

let tmpDir: string;

function run(body: string, env: Record<string, string | undefined>, limitMs = 20000): Promise<Result> {
  const file = path.join(tmpDir, `io-mode-${Date.now()}-${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(file, PRELUDE + body);
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.PROTONET_IO_THREADS;
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }
  const child = spawn(process.execPath, [file], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      rmSync(file, { force: true });
      resolve({ code, signal, out: stdout.split('\n').filter(Boolean), stderr });
    });
  });
}

describe('I/O mode: sockets on the JS thread (default in Node) or on I/O threads', function () {
  this.timeout(60000);

  before(function () {
    if (implName !== 'protonet') this.skip(); // a protonet-only feature
    if (process.platform !== 'linux') this.skip(); // thread names are read from /proc
    tmpDir = mkdtempSync(path.join(os.tmpdir(), 'pn-io-mode-'));
  });
  after(() => {
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  });

  it('by default no I/O thread is started, and an echo works on the JS thread alone', async () => {
    const r = await run(
      `echoOnce('hello driven').then((b) => { say(b.toString()); say('io=' + ioThreads()); });`,
      {},
    );
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.out).to.deep.equal(['hello driven', 'io=0']);
  });

  it('PROTONET_IO_THREADS=2 starts two I/O threads; =0 asks for none', async () => {
    const body = `echoOnce('x').then((b) => say(b.toString() + ' io=' + ioThreads()));`;
    const two = await run(body, { PROTONET_IO_THREADS: '2' });
    const none = await run(body, { PROTONET_IO_THREADS: '0' });
    expect(two.stderr + none.stderr).to.equal('');
    expect(two.out).to.deep.equal(['x io=2']);
    expect(none.out).to.deep.equal(['x io=0']);
  });

  for (const mode of ['0', '1']) {
    const label = mode === '0' ? 'on the JS thread' : 'on one I/O thread';
    it(`${label}: a throwing 'data' listener reaches uncaughtException, and the next events still arrive in order`, async () => {
      const r = await run(
        `
        let n = 0;
        process.on('uncaughtException', (err) => say('caught ' + err.message));
        const server = net.createServer((s) => {
          s.on('data', (d) => {
            n++;
            say('data ' + d.toString());
            if (n === 1) throw new Error('boom');
            if (d.toString().endsWith('3')) { s.end(); server.close(); }
          });
        });
        server.listen(0, '127.0.0.1', () => {
          const c = net.connect(server.address().port, '127.0.0.1');
          c.setNoDelay(true);
          c.write('m1');
          setTimeout(() => c.write('m2'), 50);
          setTimeout(() => c.write('m3'), 100);
          c.resume();
        });
        `,
        { PROTONET_IO_THREADS: mode },
      );
      expect(r.stderr).to.equal('');
      expect(r.code).to.equal(0);
      expect(r.out).to.deep.equal(['data m1', 'caught boom', 'data m2', 'data m3']);
    });

    it(`${label}: a nextTick and a promise job queued in a 'data' listener run before the next message's 'data'`, async () => {
      const r = await run(
        `
        const server = net.createServer((s) => {
          s.on('data', (d) => {
            const m = d.toString();
            say('data ' + m);
            process.nextTick(() => say('tick ' + m));
            Promise.resolve().then(() => say('job ' + m));
            if (m === 'b') { s.end(); server.close(); }
          });
        });
        server.listen(0, '127.0.0.1', () => {
          const c = net.connect(server.address().port, '127.0.0.1');
          c.write('a');
          setTimeout(() => c.write('b'), 50);
          c.resume();
        });
        `,
        { PROTONET_IO_THREADS: mode },
      );
      expect(r.stderr).to.equal('');
      expect(r.out).to.deep.equal(['data a', 'tick a', 'job a', 'data b', 'tick b', 'job b']);
    });

    it(`${label}: a bulk read delivered in one batch: each 'data' listener's nextTick and promise job run before the same socket's next 'data', as with node:net`, async () => {
      // 1 MiB is in the kernel before the JS thread looks (it is kept busy), so the loop
      // hands several reads of it over in one batch; node:net runs each as its own callback.
      const body = `
        const impl = process.env.IMPL === 'node' ? require('node:net') : net;
        let n = 0;
        let got = 0;
        const server = impl.createServer((s) => {
          s.on('data', (d) => {
            const i = n++;
            got += d.length;
            say('data ' + i);
            process.nextTick(() => say('tick ' + i));
            Promise.resolve().then(() => say('job ' + i));
          });
          s.on('end', () => { say('end ' + got); s.end(); server.close(); });
        });
        server.listen(0, '127.0.0.1', () => {
          const c = impl.connect(server.address().port, '127.0.0.1', () => {
            c.end(Buffer.alloc(1 << 20, 7));
            const until = Date.now() + 150;
            while (Date.now() < until);
          });
          c.resume();
        });
      `;
      const logs = await Promise.all(['node', 'protonet'].map((impl) => run(body, { PROTONET_IO_THREADS: mode, IMPL: impl })));
      for (const r of logs) {
        expect(r.stderr).to.equal('');
        expect(r.code).to.equal(0);
        expect(r.out[r.out.length - 1]).to.equal(`end ${1 << 20}`);
        const chunks = (r.out.length - 1) / 3;
        expect(chunks).to.be.above(1);
        const want: string[] = [];
        for (let i = 0; i < chunks; i++) want.push(`data ${i}`, `tick ${i}`, `job ${i}`);
        expect(r.out.slice(0, -1)).to.deep.equal(want);
      }
    });

    it(`${label}: a listener with no spare descriptor reports EMFILE as node:net's onconnection does, and its retry timer serves the waiting connections once fds free up`, async () => {
      // Out of descriptors, a listener sheds its backlog with a spare descriptor taken at
      // listen() (test/emfile.test.ts compares that with node:net). Here the table has room for
      // the listening socket alone, so there is no spare: as libuv without one, the error goes
      // to the server ('error', syscall accept), once. The child frees its fillers when it sees
      // it; the listener is off the poller meanwhile, so only its retry timer (on the JS
      // thread, a libuv timer) can pick the waiting connections up.
      const COUNT = 5;
      const body = `
        const fs = require('node:fs');
        const fillers = [];
        let served = 0;
        say('start');
        // A refused connect starts the loops (and opens what they need) without a listener.
        // Its socket is closed by the loop, which may come after 'close': wait until it is.
        const sockets = () => fs.readdirSync('/proc/self/fd').filter((f) => {
          try { return fs.readlinkSync('/proc/self/fd/' + f).startsWith('socket:'); } catch { return false; }
        }).length;
        const stdio = sockets();  // a parent's pipes are socket pairs
        const whenNoSocket = (cb) => (sockets() > stdio ? setTimeout(() => whenNoSocket(cb), 5) : cb());
        net.connect(1, '127.0.0.1').on('error', () => {}).on('close', () => whenNoSocket(() => {
          for (;;) { try { fillers.push(fs.openSync('/dev/null', 'r')); } catch { break; } }
          fs.closeSync(fillers.pop());
          const server = net.createServer((s) => {
            s.end('hi');
            if (++served === ${COUNT}) server.close();
          });
          server.on('error', (e) => {
            say('error ' + e.code + ' ' + e.syscall);
            setTimeout(() => { for (const f of fillers.splice(0)) fs.closeSync(f); }, 20);
          });
          server.listen(0, '127.0.0.1', () => say('port ' + server.address().port));
          server.on('close', () => say('served ' + served));
        }));
      `;
      const file = path.join(tmpDir, `emfile-${Date.now()}.js`);
      writeFileSync(file, PRELUDE + body);
      const childEnv: NodeJS.ProcessEnv = { ...process.env, PROTONET_IO_THREADS: mode };
      // Node 24 reads this file at a time of its own, which may be when the table is full.
      delete childEnv.NODE_EXTRA_CA_CERTS;
      const child = spawn('bash', ['-c', `ulimit -n 64 && exec "${process.execPath}" "${file}"`], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      const replies: Promise<string>[] = [];
      const lines: string[] = [];
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
      try {
        await new Promise<void>((resolve) => {
          let buf = '';
          child.stdout.on('data', (d: Buffer) => {
            buf += d.toString();
            for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
              const line = buf.slice(0, i);
              lines.push(line);
              const m = /^port (\d+)$/.exec(line);
              if (!m) continue;
              // eslint-disable-next-line @typescript-eslint/no-var-requires
              const nodeNet = require('node:net') as typeof import('node:net');
              for (let k = 0; k < COUNT; k++) {
                replies.push(new Promise((done) => {
                  let got = '';
                  const c = nodeNet.connect(Number(m[1]), '127.0.0.1');
                  c.on('data', (x) => (got += x));
                  c.on('error', (e: NodeJS.ErrnoException) => (got += ' error ' + e.code));
                  c.on('close', () => done(got));
                }));
              }
            }
          });
          child.on('close', () => resolve());
        });
      } finally {
        clearTimeout(timer);
        rmSync(file, { force: true });
      }
      expect(stderr).to.equal('');
      expect(lines.filter((l) => !l.startsWith('port '))).to.deep.equal(['start', 'error EMFILE accept', `served ${COUNT}`]);
      expect(await Promise.all(replies)).to.deep.equal(Array(COUNT).fill('hi'));
    });

    it(`${label}: a worker thread serves and exits on its own; the process exits 0 with no leftover handle`, async () => {
      const r = await run(
        `
        const { Worker } = require('node:worker_threads');
        const code = ${'`'}
          const net = require(${JSON.stringify(repoRoot)});
          const { parentPort } = require('node:worker_threads');
          const server = net.createServer((s) => s.pipe(s));
          server.listen(0, '127.0.0.1', () => {
            const c = net.connect(server.address().port, '127.0.0.1', () => c.end('from worker'));
            const got = [];
            c.on('data', (d) => got.push(d));
            c.on('close', () => { parentPort.postMessage(Buffer.concat(got).toString()); server.close(); });
          });
        ${'`'};
        const runOne = () => new Promise((resolve) => {
          const w = new Worker(code, { eval: true });
          w.on('message', (m) => say(m));
          w.on('error', (e) => say('error ' + e.message));
          w.on('exit', (c) => { say('exit ' + c); resolve(); });
        });
        // A worker that is terminated with a socket open must not bring the process down.
        const terminated = () => new Promise((resolve) => {
          const w = new Worker(${'`'}
            const net = require(${JSON.stringify(repoRoot)});
            const server = net.createServer((s) => s.pipe(s));
            server.listen(0, '127.0.0.1', () => {
              const c = net.connect(server.address().port, '127.0.0.1', () => {
                const chunk = Buffer.alloc(65536, 1);
                const pump = () => { while (c.write(chunk)); };
                c.on('drain', pump); pump();
                require('node:worker_threads').parentPort.postMessage('streaming');
              });
              c.resume();
            });
          ${'`'}, { eval: true });
          w.on('message', () => setTimeout(() => w.terminate(), 50));
          w.on('exit', (c) => { say('terminated ' + c); resolve(); });
        });
        (async () => { await runOne(); await runOne(); await terminated(); say('io=' + ioThreads()); })();
        `,
        { PROTONET_IO_THREADS: mode },
      );
      expect(r.stderr).to.equal('');
      expect(r.signal).to.equal(null);
      expect(r.code).to.equal(0);
      expect(r.out).to.deep.equal(['from worker', 'exit 0', 'from worker', 'exit 0', 'terminated 1', 'io=0']);
    });
  }
});
