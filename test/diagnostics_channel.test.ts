/*
 * node:diagnostics_channel: protonet publishes what the running Node's net
 * publishes ('net.client.socket', 'net.server.socket', the tracing channel
 * 'net.server.listen'), with the same message objects, at the same moments
 * relative to each object's own events. One set of subscribers, made by
 * channel NAME through Node's diagnostics_channel (as tools subscribe), sees
 * a scenario run on node:net and then on protonet in this same process; the
 * per-object logs must be equal.
 */
import { expect } from 'chai';
import * as dc from 'node:diagnostics_channel';
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import type { EventEmitter } from 'node:events';

import { impl, implName, nodeNet, repoRoot, type NetLike } from './helpers/impl';
import { closeServer, listen, once } from './helpers/util';

const CHANNELS = [
  'net.client.socket',
  'net.server.socket',
  // node:net publishes only asyncStart, asyncEnd and error of this tracing
  // channel; start and end are subscribed to check that neither side does.
  ...['start', 'end', 'asyncStart', 'asyncEnd', 'error'].map((p) => `tracing:net.server.listen:${p}`),
];
const EVENTS = new Set(['listening', 'connection', 'connect', 'ready', 'lookup', 'connectionAttempt', 'data', 'end',
  'finish', 'close', 'error', 'timeout']);

/** Per-object logs of a scenario's events and of the channel messages about each object. */
class ChannelLog {
  readonly logs: Record<string, unknown[][]> = {};
  private readonly names = new Map<object, string>();

  constructor(readonly net: NetLike) {}

  /** The object's log name (given on first sight; its events are logged from then on). */
  name(obj: object, hint: string): string {
    let name = this.names.get(obj);
    if (name !== undefined) return name;
    name = hint;
    for (let i = 2; name in this.logs; i++) name = `${hint}#${i}`;
    this.names.set(obj, name);
    this.logs[name] = [];
    const emitter = obj as EventEmitter & { emit: (ev: string | symbol, ...a: unknown[]) => boolean };
    const orig = emitter.emit;
    emitter.emit = (ev: string | symbol, ...args: unknown[]): boolean => {
      if (typeof ev === 'string' && EVENTS.has(ev)) this.event(name!, ev, args);
      return orig.call(emitter, ev, ...args);
    };
    emitter.on('error', () => {});
    return name;
  }

  private event(name: string, ev: string, args: unknown[]): void {
    const log = this.logs[name];
    const last = log[log.length - 1];
    if (ev === 'data' && last && last[0] === 'data') return; // chunking is not the point here
    if (ev === 'error') log.push([ev, errorShape(args[0])]);
    else if (ev === 'connection') log.push([ev, this.name(args[0] as object, 'accepted')]);
    else log.push([ev]);
  }

  /** A channel message: logged on the object it is about, with its shape. */
  message(channel: string, msg: Record<string, unknown>): void {
    const shape: Record<string, unknown> = {};
    for (const key of Object.keys(msg).sort()) {
      const v = msg[key];
      if (key === 'socket') shape.socket = v instanceof this.net.Socket ? 'Socket' : typeof v;
      else if (key === 'server') shape.server = v instanceof this.net.Server ? 'Server' : typeof v;
      else if (key === 'error') shape.error = errorShape(v);
      else if (key === 'options') shape.options = JSON.parse(JSON.stringify(v, optionValue));
      else shape[key] = typeof v;
    }
    const subject = (msg.server ?? msg.socket) as object;
    const hint = channel === 'net.client.socket' ? 'client' : channel === 'net.server.socket' ? 'accepted' : 'server';
    const name = this.name(subject, hint);
    this.logs[name].push([channel, shape]);
    // 'net.server.socket' is also about the server that accepted the socket.
    if (msg.server === undefined && channel === 'net.server.socket') {
      const server = (msg.socket as { server?: object }).server;
      if (server && this.names.has(server)) this.logs[this.names.get(server)!].push([channel, name]);
    }
  }
}

// listen options as JSON, with the run's ephemeral port numbers as 'PORT'.
function optionValue(key: string, value: unknown): unknown {
  if (typeof value === 'function') return '[function]';
  if (key === 'port' && typeof value === 'number' && value > 0) return 'PORT';
  return value;
}

function errorShape(e: unknown): unknown {
  const err = e as { name?: string; code?: string; syscall?: string } | null;
  return err ? { name: err.name, code: err.code, syscall: err.syscall } : err;
}

let active: ChannelLog | null = null;
const handlers = new Map<string, (msg: unknown, name: string | symbol) => void>();

type Scenario = (net: NetLike, log: ChannelLog) => Promise<void>;

async function run(net: NetLike, scenario: Scenario): Promise<Record<string, unknown[][]>> {
  const log = new ChannelLog(net);
  active = log;
  try {
    await scenario(net, log);
    // 'close' events already queued land before the log is read.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  } finally {
    active = null;
  }
  return log.logs;
}

function compare(title: string, scenario: Scenario, mustInclude: string[]): void {
  it(title, async function () {
    this.timeout(20000);
    const ref = await run(nodeNet, scenario);
    const seen = Object.values(ref).flat().map((e) => e[0]);
    for (const ch of mustInclude) expect(seen, `node:net published ${ch}`).to.include(ch);
    const got = await run(impl(), scenario);
    expect(got, `channel messages and events (expected node:net's, got ${implName}'s)`).to.deep.equal(ref);
  });
}

function closed(s: EventEmitter): Promise<unknown[]> {
  return once(s, 'close', 5000);
}

describe('diagnostics_channel: the channels node:net publishes', () => {
  before(() => {
    for (const ch of CHANNELS) {
      const h = (msg: unknown): void => active?.message(ch, msg as Record<string, unknown>);
      handlers.set(ch, h);
      dc.subscribe(ch, h);
    }
  });
  after(() => {
    for (const [ch, h] of handlers) dc.unsubscribe(ch, h);
    handlers.clear();
  });

  compare('listen, net.connect, data both ways, end, close', async (net, log) => {
    const server = net.createServer((s) => {
      s.on('data', () => s.end('bye'));
    });
    log.name(server, 'server');
    const port = await listen(server, 0, '127.0.0.1');
    const client = net.connect(port, '127.0.0.1');
    log.name(client, 'client');
    client.on('connect', () => client.write('hello'));
    client.resume();
    await closed(client);
    await closeServer(server);
  }, ['net.client.socket', 'net.server.socket', 'tracing:net.server.listen:asyncStart', 'tracing:net.server.listen:asyncEnd']);

  compare('new Socket().connect() and a reconnect publish where node:net does', async (net, log) => {
    const server = net.createServer((s) => s.end());
    log.name(server, 'server');
    const port = await listen(server, 0, '127.0.0.1');
    const client = new net.Socket();
    log.name(client, 'client');
    client.connect(port, '127.0.0.1');
    client.resume();
    await closed(client);
    client.connect({ port, host: '127.0.0.1' });
    await closed(client);
    await closeServer(server);
  }, ['net.server.socket']);

  compare('a listen that fails: asyncStart, then the error phase, then the error event', async (net, log) => {
    const first = net.createServer();
    log.name(first, 'first');
    const port = await listen(first, 0, '127.0.0.1');
    const second = net.createServer();
    log.name(second, 'second');
    second.listen({ port, host: '127.0.0.1' });
    await once(second, 'error');
    await closeServer(first);
  }, ['tracing:net.server.listen:error']);

  compare('listen with a host name (asyncEnd after the lookup), with no host, and on a pipe', async (net, log) => {
    const named = net.createServer();
    log.name(named, 'named');
    await listen(named, { port: 0, host: 'localhost' });
    const dual = net.createServer();
    log.name(dual, 'dual');
    await listen(dual);
    const pipe = net.createServer();
    log.name(pipe, 'pipe');
    const sock = path.join(os.tmpdir(), `protonet-dc-${process.pid}.sock`);
    await listen(pipe, sock);
    const c = net.connect(sock);
    log.name(c, 'pipeClient');
    c.resume();
    c.end();
    await closed(c);
    await Promise.all([closeServer(named), closeServer(dual), closeServer(pipe)]);
  }, ['tracing:net.server.listen:asyncEnd']);

  compare('a refused connection still publishes net.client.socket', async (net, log) => {
    const probe = net.createServer();
    const port = await listen(probe, 0, '127.0.0.1');
    await closeServer(probe);
    const client = net.connect({ port, host: '127.0.0.1' });
    log.name(client, 'client');
    await closed(client);
  }, ['net.client.socket']);

  it('a runtime without diagnostics_channel: nothing is published and nothing breaks', async function () {
    this.timeout(15000);
    // diagnostics_channel made unloadable before protonet loads (as on a
    // runtime without it): listen, connect and close still work.
    const script = [
      "const Module = require('node:module');",
      'const load = Module._load;',
      "Module._load = function (req, ...rest) { if (/^(node:)?diagnostics_channel$/.test(req)) throw new Error('no diagnostics_channel'); return load.call(this, req, ...rest); };",
      `const net = require(${JSON.stringify(repoRoot)});`,
      'const server = net.createServer((s) => s.end()).listen(0, "127.0.0.1", () => {',
      '  const c = net.connect(server.address().port, "127.0.0.1");',
      '  c.resume();',
      '  c.on("close", () => server.close(() => console.log("ok")));',
      '});',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script], { timeout: 10000 }, (err, stdout, stderr) =>
        (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    expect(out.trim()).to.equal('ok');
  });
});
