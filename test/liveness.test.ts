/*
 * Liveness: whether a process stays alive or exits must match node:net. Each case runs a
 * small script in a child process (written to a temp file that is removed afterwards), once
 * with node:net (child env PROTONET_TEST_IMPL=node) and once with the implementation under
 * test (the parent's PROTONET_TEST_IMPL passed through; unset = protonet, loaded by absolute
 * path to the repository). Every child is killed by its PID if it outlives its time limit.
 */
import { expect } from 'chai';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type * as netTypes from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { implName, nodeNet, repoRoot } from './helpers/impl';
import { closeServer, delay, listen } from './helpers/util';

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms from spawn to exit (or to our kill). */
  elapsed: number;
  /** ms from spawn to each line the child printed. */
  lines: Array<[string, number]>;
  stderr: string;
  killedByTest: boolean;
}

const PRELUDE = `
'use strict';
const path = require('path');
const net = process.env.PROTONET_TEST_IMPL === 'node'
  ? require('node:net')
  : require(path.join(${JSON.stringify(repoRoot)}));
const say = (s) => process.stdout.write(s + '\\n');
`;

let tmpDir: string;
const children = new Set<ChildProcess>();

/**
 * Runs `body` in a child. `killAfterMs` (if set) kills the child that long after it prints
 * `killMarker`; `hardLimitMs` always bounds it.
 */
function runChild(
  body: string,
  useNode: boolean,
  args: string[] = [],
  opts: { killMarker?: string; killAfterMs?: number; hardLimitMs?: number } = {},
): Promise<Outcome> {
  const file = path.join(tmpDir, `child-${useNode ? 'node' : 'impl'}-${Date.now()}-${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(file, PRELUDE + body);
  const env = { ...process.env };
  if (useNode) env.PROTONET_TEST_IMPL = 'node';
  const start = Date.now();
  const child = spawn(process.execPath, [file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const out: Outcome = { code: null, signal: null, elapsed: 0, lines: [], stderr: '', killedByTest: false };
  let buf = '';
  const timers: NodeJS.Timeout[] = [];
  return new Promise((resolve) => {
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        out.lines.push([line, Date.now() - start]);
        if (opts.killMarker === line && opts.killAfterMs !== undefined) {
          timers.push(
            setTimeout(() => {
              if (child.exitCode === null && child.signalCode === null) {
                out.killedByTest = true;
                child.kill('SIGTERM');
              }
            }, opts.killAfterMs),
          );
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
    timers.push(
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) {
          out.killedByTest = true;
          child.kill('SIGKILL');
        }
      }, opts.hardLimitMs ?? 10000),
    );
    child.on('close', (code, signal) => {
      for (const t of timers) clearTimeout(t);
      children.delete(child);
      out.code = code;
      out.signal = signal;
      out.elapsed = Date.now() - start;
      rmSync(file, { force: true });
      resolve(out);
    });
  });
}

function at(o: Outcome, line: string): number {
  const hit = o.lines.find(([l]) => l === line);
  expect(hit, `child never printed '${line}'; lines ${JSON.stringify(o.lines)}; stderr:\n${o.stderr}`).to.not.equal(undefined);
  return hit![1];
}

function summary(o: Outcome): unknown {
  return { code: o.code, signal: o.signal, killedByTest: o.killedByTest, lines: o.lines.map(([l]) => l) };
}

describe(`liveness in a child process (node:net vs ${implName})`, function () {
  this.timeout(30000);

  before(function () {
    tmpDir = mkdtempSync(path.join(os.tmpdir(), 'protonet-liveness-'));
  });

  after(function () {
    for (const c of children) c.kill('SIGKILL');
    rmSync(tmpDir, { recursive: true, force: true });
  });

  it('exits promptly (code 0) after a server is listened and then closed', async function () {
    const body = `
const s = net.createServer();
s.listen(0, '127.0.0.1', () => { say('listening'); s.close(() => say('closed')); });
`;
    for (const useNode of [true, false]) {
      const o = await runChild(body, useNode, [], { hardLimitMs: 8000 });
      const who = useNode ? 'node:net' : implName;
      expect(summary(o), `${who}: ${o.stderr}`).to.deep.equal({
        code: 0,
        signal: null,
        killedByTest: false,
        lines: ['listening', 'closed'],
      });
      expect(o.elapsed - at(o, 'closed'), `${who}: ms from close to exit`).to.be.lessThan(3000);
    }
  });

  it('exits promptly (code 0) when close() is called synchronously right after listen()', async function () {
    const body = `
const s = net.createServer();
s.listen(0, '127.0.0.1');
s.close(() => say('closed'));
`;
    for (const useNode of [true, false]) {
      const o = await runChild(body, useNode, [], { hardLimitMs: 8000 });
      const who = useNode ? 'node:net' : implName;
      expect(summary(o), `${who}: ${o.stderr}`).to.deep.equal({ code: 0, signal: null, killedByTest: false, lines: ['closed'] });
      expect(o.elapsed - at(o, 'closed'), `${who}: ms from close to exit`).to.be.lessThan(3000);
    }
  });

  it('stays alive while a connected socket is open and exits soon after the peer closes it', async function () {
    const body = `
const c = net.connect(Number(process.argv[2]), '127.0.0.1');
c.on('connect', () => say('connected'));
c.on('end', () => say('end'));
c.on('close', (hadError) => say('close ' + hadError));
c.on('error', (e) => say('error ' + e.code));
c.resume();
`;
    for (const useNode of [true, false]) {
      const who = useNode ? 'node:net' : implName;
      let endedAt = 0;
      const server = nodeNet.createServer((s: netTypes.Socket) => {
        s.resume();
        setTimeout(() => {
          endedAt = Date.now();
          s.end();
        }, 500);
      });
      const port = await listen(server, 0, '127.0.0.1');
      try {
        const o = await runChild(body, useNode, [String(port)], { hardLimitMs: 8000 });
        const exitedAt = Date.now();
        expect(summary(o), `${who}: ${o.stderr}`).to.deep.equal({
          code: 0,
          signal: null,
          killedByTest: false,
          lines: ['connected', 'end', 'close false'],
        });
        expect(endedAt, `${who}: the server ended the connection`).to.be.greaterThan(0);
        expect(exitedAt, `${who}: child must not exit before the server ends the socket`).to.be.at.least(endedAt);
        expect(o.elapsed - at(o, 'connected'), `${who}: alive ~500 ms after connect`).to.be.at.least(450);
        expect(exitedAt - endedAt, `${who}: exits soon after the socket closes`).to.be.lessThan(2000);
      } finally {
        await closeServer(server);
      }
    }
  });

  it('stays alive with a listening server and no connections (killed after 1 s)', async function () {
    const body = `
const s = net.createServer();
s.listen(0, '127.0.0.1', () => say('listening'));
`;
    const outcomes: Record<string, unknown> = {};
    for (const useNode of [true, false]) {
      const o = await runChild(body, useNode, [], { killMarker: 'listening', killAfterMs: 1000, hardLimitMs: 8000 });
      outcomes[useNode ? 'node:net' : 'impl'] = summary(o);
      expect(summary(o), `${useNode ? 'node:net' : implName}: ${o.stderr}`).to.deep.equal({
        code: null,
        signal: 'SIGTERM',
        killedByTest: true,
        lines: ['listening'],
      });
      expect(o.elapsed - at(o, 'listening')).to.be.at.least(900);
    }
    expect(outcomes['impl']).to.deep.equal(outcomes['node:net']);
  });

  it('exits promptly when the only connected socket is unref()ed', async function () {
    const body = `
const c = net.connect(Number(process.argv[2]), '127.0.0.1');
c.on('connect', () => { say('connected'); c.unref(); });
c.on('error', (e) => say('error ' + e.code));
c.resume();
`;
    const server = nodeNet.createServer((s: netTypes.Socket) => s.resume());
    const port = await listen(server, 0, '127.0.0.1');
    try {
      for (const useNode of [true, false]) {
        const who = useNode ? 'node:net' : implName;
        const o = await runChild(body, useNode, [String(port)], { hardLimitMs: 8000 });
        expect(summary(o), `${who}: ${o.stderr}`).to.deep.equal({ code: 0, signal: null, killedByTest: false, lines: ['connected'] });
        expect(o.elapsed - at(o, 'connected'), `${who}: ms from unref to exit`).to.be.lessThan(3000);
      }
    } finally {
      await delay(50);
      await closeServer(server);
    }
  });

  it('exits promptly when the only listening server is unref()ed', async function () {
    const body = `
const s = net.createServer();
s.listen(0, '127.0.0.1', () => { say('listening'); s.unref(); });
`;
    for (const useNode of [true, false]) {
      const who = useNode ? 'node:net' : implName;
      const o = await runChild(body, useNode, [], { hardLimitMs: 8000 });
      expect(summary(o), `${who}: ${o.stderr}`).to.deep.equal({ code: 0, signal: null, killedByTest: false, lines: ['listening'] });
      expect(o.elapsed - at(o, 'listening'), `${who}: ms from unref to exit`).to.be.lessThan(3000);
    }
  });

  it('a socket timeout (setTimeout) does not keep the process alive after the socket closes', async function () {
    const body = `
const c = net.connect(Number(process.argv[2]), '127.0.0.1');
c.setTimeout(60000);
c.on('connect', () => { say('connected'); c.end(); });
c.on('close', () => say('closed'));
c.resume();
`;
    const server = nodeNet.createServer((s: netTypes.Socket) => s.resume());
    const port = await listen(server, 0, '127.0.0.1');
    try {
      for (const useNode of [true, false]) {
        const who = useNode ? 'node:net' : implName;
        const o = await runChild(body, useNode, [String(port)], { hardLimitMs: 8000 });
        expect(summary(o), `${who}: ${o.stderr}`).to.deep.equal({
          code: 0,
          signal: null,
          killedByTest: false,
          lines: ['connected', 'closed'],
        });
        expect(o.elapsed - at(o, 'closed'), `${who}: ms from close to exit`).to.be.lessThan(3000);
      }
    } finally {
      await closeServer(server);
    }
  });

  it('a failed connect (ECONNREFUSED) does not keep the process alive', async function () {
    const body = `
const c = net.connect(Number(process.argv[2]), '127.0.0.1');
c.on('error', (e) => say('error ' + e.code));
c.on('close', (h) => say('close ' + h));
`;
    const probe = nodeNet.createServer();
    const port = await listen(probe, 0, '127.0.0.1');
    await closeServer(probe);
    for (const useNode of [true, false]) {
      const who = useNode ? 'node:net' : implName;
      const o = await runChild(body, useNode, [String(port)], { hardLimitMs: 8000 });
      expect(summary(o), `${who}: ${o.stderr}`).to.deep.equal({
        code: 0,
        signal: null,
        killedByTest: false,
        lines: ['error ECONNREFUSED', 'close true'],
      });
    }
  });
});
