/*
 * Out of descriptors while accepting. The server runs in a child process under `ulimit -n 64`
 * and runs out of descriptors, either by filling its table with files once listening or by
 * holding the connections it accepts; clients from this process then connect. node:net
 * (libuv) sheds the ones it cannot take: it gives up a spare descriptor, accepts each waiting
 * connection and closes it at once, takes the spare back, and emits nothing. Once descriptors
 * free up the server serves again. protonet must show the same, in both I/O modes: each
 * client's events, the server's events, and that the table is full again after shedding.
 */
import { expect } from 'chai';
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './helpers/impl';

// The server side. Commands arrive on stdin, one per line; answers go to stdout.
const SERVER = `
'use strict';
const net = require(process.env.EMFILE_NET);
const fs = require('node:fs');
const say = (s) => process.stdout.write(s + '\\n');
const fillers = [];
const server = net.createServer((s) => { say('connection'); s.end('hi'); });
server.on('error', (e) => say('error ' + e.code + ' ' + e.syscall + ' ' + e.message));
server.on('drop', () => say('drop'));
server.on('close', () => say('close'));
server.listen(0, '127.0.0.1', () => {
  say('listening');
  // Every descriptor left, so the next accept() fails with EMFILE.
  for (;;) {
    try { fillers.push(fs.openSync('/dev/null', 'r')); } catch (e) { say('filled ' + e.code); break; }
  }
  say('port ' + server.address().port);
});
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  for (let i; (i = buf.indexOf('\\n')) >= 0; buf = buf.slice(i + 1)) {
    const cmd = buf.slice(0, i);
    if (cmd === 'probe') {
      // Full again only if the spare was taken back after the shedding. With I/O threads
      // the loop takes it back on its own thread right after its last shed client closed,
      // which that client may see first: probe a moment later (a probe racing that retake
      // would also steal the slot the loop is reopening).
      setTimeout(() => {
        try { fs.closeSync(fs.openSync('/dev/null', 'r')); say('probe free'); } catch (e) { say('probe ' + e.code); }
        say('listening ' + server.listening);
      }, 200);
    }
    if (cmd === 'free') { for (const f of fillers.splice(0)) fs.closeSync(f); say('freed'); }
    if (cmd === 'exit') server.close(() => process.exit(0));
  }
});
`;

// The server side of the second scenario: it runs out by holding what it accepts.
const HOLDING_SERVER = `
'use strict';
const net = require(process.env.EMFILE_NET);
const say = (s) => process.stdout.write(s + '\\n');
const held = [];
const server = net.createServer((s) => { held.push(s); s.on('error', () => {}); s.write('hi'); });
server.on('error', (e) => say('error ' + e.code + ' ' + e.syscall + ' ' + e.message));
server.listen(0, '127.0.0.1', 511, () => say('port ' + server.address().port));
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  for (let i; (i = buf.indexOf('\\n')) >= 0; buf = buf.slice(i + 1)) {
    const cmd = buf.slice(0, i);
    if (cmd === 'probe') say('held ' + held.length);
    if (cmd === 'release') { for (const s of held.splice(0)) s.destroy(); say('released'); }
    if (cmd === 'exit') server.close(() => process.exit(0));
  }
});
`;

const CLIENTS = 10;
const PROMPT_MS = 3000;

/**
 * A client's events as one line: up to its 'close', or 'still open' if it is still waiting
 * after PROMPT_MS. With `held`, a client the server answered is left open (and listed there)
 * and its line ends at the data.
 */
function client(port: number, held?: net.Socket[]): Promise<string> {
  return new Promise((resolve) => {
    const ev: string[] = [];
    const c = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      ev.push('still open');
      c.destroy();
    }, PROMPT_MS);
    c.on('connect', () => ev.push('connect'));
    c.on('data', (d) => {
      ev.push(`data ${d}`);
      if (!held) return;
      clearTimeout(timer);
      held.push(c);
      resolve(ev.join(', '));
    });
    c.on('end', () => ev.push('end'));
    c.on('error', (e: NodeJS.ErrnoException) => ev.push(`error ${e.code}`));
    c.on('close', (hadError) => {
      clearTimeout(timer);
      ev.push(`close ${hadError}`);
      resolve(ev.join(', '));
    });
  });
}

/** Lines from the child's stdout, one at a time, in order. */
function lineReader(child: ChildProcessWithoutNullStreams, all: string[]): (want: RegExp) => Promise<string> {
  let buf = '';
  const waiting: { want: RegExp; resolve: (l: string) => void }[] = [];
  const pending: string[] = [];
  const offer = (): void => {
    while (waiting.length && pending.length) {
      const line = pending.shift() as string;
      if (waiting[0].want.test(line)) waiting.shift()?.resolve(line);
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
      const line = buf.slice(0, i);
      all.push(line);
      pending.push(line);
    }
    offer();
  });
  return (want) =>
    new Promise((resolve) => {
      waiting.push({ want, resolve });
      offer();
    });
}

type Steps<T> = (port: number, next: (want: RegExp) => Promise<string>, send: (cmd: string) => void) => Promise<T>;

/** Runs `file` under `ulimit -n 64` with the given net module and I/O mode, then `steps`. */
async function withServer<T>(file: string, netModule: string, ioThreads: string | undefined, steps: Steps<T>):
Promise<T & { server: string[]; exit: number | null; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, EMFILE_NET: netModule };
  delete env.PROTONET_IO_THREADS;
  // Node 24 reads this file at a time of its own, which may be when the table is full.
  delete env.NODE_EXTRA_CA_CERTS;
  if (ioThreads !== undefined) env.PROTONET_IO_THREADS = ioThreads;
  const child = spawn('bash', ['-c', `ulimit -n 64 && exec "${process.execPath}" "${file}"`], { env });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const kill = setTimeout(() => child.kill('SIGKILL'), 20000);
  const next = lineReader(child, lines);
  try {
    const port = Number((await next(/^port /)).slice(5));
    const result = await steps(port, next, (cmd) => child.stdin.write(`${cmd}\n`));
    child.stdin.write('exit\n');
    const exit = await exited;
    return { ...result, server: lines.filter((l) => !/^(port|held) /.test(l)), exit, stderr };
  } finally {
    clearTimeout(kill);
    child.kill('SIGKILL');
  }
}

/** Scenario 1: the table is filled with files; CLIENTS connect, then one more once freed. */
const fillAndConnect: Steps<{ clients: string[]; late: string }> = async (port, next, send) => {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => client(port)));
  send('probe');
  await next(/^listening (true|false)$/);
  send('free');
  await next(/^freed$/);
  const late = await client(port);
  return { clients: clients.sort(), late };
};

/**
 * Scenario 2: the server holds what it accepts until it runs out; HOLD_CLIENTS connect. Each
 * is either held (answered) or shed; then the server lets go and serves a late client.
 */
const HOLD_CLIENTS = 120;
const holdAndConnect: Steps<{ kinds: string[]; shedSome: boolean; heldSome: boolean; late: string }> = async (port, next, send) => {
  const open: net.Socket[] = [];
  const lines = await Promise.all(Array.from({ length: HOLD_CLIENTS }, () => client(port, open)));
  send('probe');
  const held = Number((await next(/^held /)).slice(5));
  const shed = lines.filter((l) => !l.endsWith('data hi'));
  send('release');
  await next(/^released$/);
  const ended = await Promise.all(open.map((c) => new Promise<void>((r) => (c.destroyed ? r() : c.on('close', () => r())))));
  const lateOpen: net.Socket[] = [];
  const late = await client(port, lateOpen);
  for (const c of lateOpen) c.destroy();
  return {
    // Which outcomes occurred (their counts depend on how many descriptors each runtime uses).
    kinds: [...new Set(lines)].sort(),
    shedSome: shed.length > 0 && held === open.length && held + shed.length === HOLD_CLIENTS && ended.length === held,
    heldSome: held > 0,
    late,
  };
};

describe('out of descriptors while accepting (node:net vs protonet, child processes under ulimit -n 64)', function () {
  this.timeout(60000);
  let tmpDir: string;
  let file: string;
  let holdingFile: string;

  before(function () {
    if (process.platform === 'win32') this.skip(); // no descriptor limit to lower
    tmpDir = mkdtempSync(path.join(os.tmpdir(), 'pn-emfile-'));
    file = path.join(tmpDir, 'server.js');
    writeFileSync(file, SERVER);
    holdingFile = path.join(tmpDir, 'holding-server.js');
    writeFileSync(holdingFile, HOLDING_SERVER);
  });
  after(() => {
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  });

  it('a full table: the waiting clients are shed at once, nothing is emitted, and the server serves again once fds free up, in both I/O modes', async () => {
    const node = await withServer(file, 'node:net', undefined, fillAndConnect);
    // What node:net does, so the comparison below is not vacuous.
    expect(node.stderr).to.equal('');
    expect(node.exit).to.equal(0);
    expect(node.clients).to.deep.equal(Array(CLIENTS).fill('connect, end, close false'));
    expect(node.late).to.equal('connect, data hi, end, close false');
    expect(node.server).to.deep.equal([
      'listening', 'filled EMFILE', 'probe EMFILE', 'listening true', 'freed', 'connection', 'close',
    ]);
    for (const mode of ['0', '1']) {
      const pn = await withServer(file, repoRoot, mode, fillAndConnect);
      expect(pn, `protonet, PROTONET_IO_THREADS=${mode}`).to.deep.equal(node);
    }
  });

  it('a server that runs out by holding its connections sheds the rest, emits nothing, and serves again once it lets go, in both I/O modes', async () => {
    const node = await withServer(holdingFile, 'node:net', undefined, holdAndConnect);
    expect(node).to.deep.equal({
      kinds: ['connect, data hi', 'connect, end, close false'],
      shedSome: true,
      heldSome: true,
      late: 'connect, data hi',
      server: ['released'],
      exit: 0,
      stderr: '',
    });
    for (const mode of ['0', '1']) {
      const pn = await withServer(holdingFile, repoRoot, mode, holdAndConnect);
      expect(pn, `protonet, PROTONET_IO_THREADS=${mode}`).to.deep.equal(node);
    }
  });
});
