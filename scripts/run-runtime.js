#!/usr/bin/env node
// run-runtime.js - the same built addon under Bun or Deno: the smoke checks
// (scripts/runtime-smoke.cjs) and a subset of the mocha suite, run by mocha
// itself under that runtime.
//
// Usage: node scripts/run-runtime.js bun|deno [--no-build]
//   --no-build  skip `npm run build:test` (test-dist/ is already current)
// Ends with "<runtime>: N passed, M failed" over both parts (.ci/run reads it).
//
// The subset (FILES): echo, half-close, errors, backpressure and addresses
// (the parity scenarios; Bun only, see FILES), socket options, Unix sockets, a
// 256 MiB integrity echo, process liveness, faults (connection churn, floods
// against paused readers, destroy races, exit with open sockets), delivery
// order, http, tls/https and ws on protonet, the UDP handle. Parity scenarios are compared with Node's
// node:net as recorded under Node just before (scripts/runtime-parity-hook.cjs),
// not with the runtime's own node:net. The tests left out, and why, are in
// EXCLUDE below and in docs/compatibility.md ("Platforms and runtimes").
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { resolveRuntime, root } = require('./lib/runtimes');

const which = process.argv[2];
const build = !process.argv.includes('--no-build');
if (which !== 'bun' && which !== 'deno') {
  console.error('usage: node scripts/run-runtime.js bun|deno [--no-build]');
  process.exit(2);
}

function fail(message) {
  console.error(`${which}: ${message}`);
  console.log(`${which}: 0 passed, 1 failed`);
  process.exit(1);
}

let runtime;
try {
  runtime = resolveRuntime(which);
} catch (err) {
  fail(err.message);
}
console.log(`${which}: ${runtime.version} (${runtime.rel})`);
const bin = runtime.bin;
const runArgs = (script) => runtime.scriptArgs(script);

// ---- the subset -------------------------------------------------------------

// Deno runs no parity() scenario: they record the order of events relative to
// process.nextTick and promise work, and Deno runs several threadsafe-function
// calls (protonet's doorbell) in a row before it drains those queues (Node
// drains them after each call), so that order on Deno varies from run to run
// (docs/compatibility.md: "Platforms and runtimes").
// UDP: the dgram parity scenarios (Bun only, as above), the 1,000,000-datagram
// integrity run, ref/unref exit parity and the dgram surface. dgram-props is
// left out on both: it compares with the runtime's own node:dgram live, whose
// argument errors are the runtime's (JavaScriptCore's TypeError wording, Deno's
// validators), not Node's.
const FILES = {
  bun: ['parity', 'parity-options', 'unix', 'options', 'integrity', 'liveness', 'faults', 'dispatch', 'http', 'tls', 'ws',
    'udp_handle', 'dgram-parity', 'dgram-integrity', 'dgram-liveness', 'dgram-surface', 'dgram-burst', 'net-burst-exit'],
  deno: ['unix', 'options', 'integrity', 'liveness', 'faults', 'dispatch', 'http', 'tls', 'ws', 'udp_handle',
    'dgram-integrity', 'dgram-surface', 'dgram-burst', 'net-burst-exit'],
}[which].map((f) => `test-dist/test/${f}.test.js`);
// Files whose parity() scenarios are replayed against the Node recording.
const PARITY_FILES = ['parity', 'parity-options', 'unix', 'dgram-parity'].map((f) => `test-dist/test/${f}.test.js`)
  .filter((f) => FILES.includes(f));

const HTTP = 'http over protonet ';
const FAULTS = 'faults (protonet; node:net side by side) ';
// Full mocha titles (or RegExps over them) left out, with the reason. Every
// entry must match a test (checked below), so none goes stale silently.
const DGRAM_SURFACE = "protonet/dgram's surface is node:dgram's ";
const BOTH = [
  { match: `${DGRAM_SURFACE}exports the same names with the same kinds`,
    why: "the runtime's node:dgram has no _createSocketHandle; protonet/dgram keeps Node 20's exports there" },
  { match: `${DGRAM_SURFACE}the ESM entry (protonet/dgram as import) has the CommonJS names`,
    why: "compares with the runtime's node:dgram export names (no _createSocketHandle, see above)" },
  { match: `${FAULTS}a peer reset in the middle of a 16 MiB write: one error, every write callback once, close(true) — as node:net`,
    why: "compares with the runtime's own node:net live: its write callbacks get ECANCELED, Node's never do (protonet's own checks in this test pass)" },
  { match: `${FAULTS}fd exhaustion (ulimit -n 256): the server keeps running, reports as node:net does, stays idle, serves again`,
    why: "runs the runtime's own node:net at the fd limit as the reference: Bun's spins (~67 CPU ticks/s), Deno's child never reports listening" },
  { match: 'socket options reach the kernel (protonet) listen({ fd }) listens on a caller-bound TCP socket and accepts on it',
    why: "the test makes its bound fd with process.binding('tcp_wrap'), which neither runtime has" },
];
const EXCLUDE = {
  bun: [
    ...BOTH,
    { match: "parity with node:net errors bad arguments to createServer(), new Socket() and socket methods: same errors",
      why: "setEncoding() is Bun's stream.Readable's (its ERR_UNKNOWN_ENCODING messages differ), and JavaScriptCore words BigInt/Symbol TypeErrors differently" },
    { match: 'parity with node:net: options and timeouts highWaterMark on Socket, on connect() and on createServer (negative = default)',
      why: "the default highWaterMark is the runtime's stream default: 64 KiB in Bun, 16 KiB in Node 20" },
    { match: 'parity with node:net: options and timeouts option validation: keepAliveInitialDelay, highWaterMark, signal, objectMode',
      why: "the AbortSignal check is Bun's stream's: 'must be of type AbortSignal' where Node says 'must be an instance of AbortSignal'" },
    { match: `${FAULTS}3,000 connections opened and closed (<= 100 in flight): fds, threads and RSS return to their start`,
      why: "asserts the whole process's thread count is unchanged, and Bun's own helper threads come and go (10 -> 9 in one run); the 200-connection smoke check stays" },
    // Bun's http.Server serves a socket handed to it ('connection') with its
    // JavaScript HTTP/1 fallback, not with Bun.serve: that fallback has none of
    // these timers, whatever the socket (Bun's own net.Socket fed the same way
    // is not closed either); the same tests pass with Bun's own listen().
    { match: `${HTTP}http server timeouts and closing: protonet.serveHttp() behaves as server.listen() destroys a connection idle for server.timeout ms (no request sent)`,
      why: "Bun's http.Server does not apply server.timeout to a socket handed to it by 'connection'" },
    { match: `${HTTP}http server timeouts and closing: protonet.serveHttp() behaves as server.listen() closes an idle keep-alive connection after keepAliveTimeout`,
      why: "Bun's http.Server does not apply keepAliveTimeout to a socket handed to it by 'connection'" },
    { match: `${HTTP}http server timeouts and closing: protonet.serveHttp() behaves as server.listen() answers 408 and closes when the headers do not arrive within headersTimeout`,
      why: "Bun's http.Server does not apply headersTimeout to a socket handed to it by 'connection'" },
    // Bun's https.Server does its TLS inside Bun.serve, so serveHttp() refuses it
    // (tls.test.ts checks that; a tls.Server feeding an http.Server is the way, tested there).
    { match: /^tls over protonet https: server on protonet, /,
      why: "serveHttp() cannot serve Bun's https.Server (its TLS is inside Bun.serve): it throws ERR_INVALID_ARG_VALUE" },
    { match: /^ws over protonet wss: /, why: "the wss server is an https.Server served by serveHttp() (see tls)" },
    { match: 'dgram parity with node:dgram socket options membership arguments that cannot become strings: which error wins, and when the call fails with EINVAL',
      why: "a failed string conversion's TypeError is the engine's: JavaScriptCore words it 'No default value' (a null-prototype object) and 'Cannot convert a symbol to a string' where V8 says 'Cannot convert object to primitive value' and 'Cannot convert a Symbol value to a string' (the classes, and which argument's error wins, match)" },
    ...['buffer sizes: errors before bind, bad sizes, after close', 'getSendQueueSize/Count: 0 on an idle socket; TypeError once closed',
      'connect misuse: twice, bad ports, bad address, send with a port while connected',
      'setTTL, setMulticastTTL, setBroadcast, setMulticastLoopback on a bound socket: values and range errors'].map((t) => ({
      match: new RegExp(`^dgram parity with node:dgram .*${escapeRe(t)}$`),
      why: "a closed socket's TypeError is the engine's: JavaScriptCore words it 'null is not an object (evaluating …)' where V8 says 'Cannot read properties of null (reading …)'",
    })),
  ],
  deno: [
    ...BOTH,
    { match: "UdpHandle (lib/udp_handle.ts) node:dgram reports a connected peer's ICMP error as recvmsg ECONNREFUSED (the reference for the next test)",
      why: "runs the runtime's own node:dgram as the reference: Deno's reports no error for a connected socket's ICMP port-unreachable (protonet's handle does, next test)" },
    { match: 'UdpHandle (lib/udp_handle.ts) options reach the kernel with the errors node:dgram gets (TTL, multicast, membership, buffer sizes)',
      why: "runs the runtime's own node:dgram as the reference: Deno's setMulticastInterface('::1') on a udp4 socket throws EINVAL where Node's (libuv's setsockopt) gets ENOPROTOOPT" },
    { match: /^Unix domain sockets \(node:net vs protonet\) (listen\(path\)|connect to|listen on a live path|a Linux abstract name|readableAll)/,
      why: 'parity() scenarios: their event order relative to nextTick work is not kept on Deno (see FILES)' },
    { match: "delivery order across sockets node:net: a socket's nextTicks and microtasks run before the next socket's 'data'",
      why: "checks the runtime's own node:net: Deno runs promise jobs before process.nextTick callbacks" },
    { match: "delivery order across sockets protonet with PROTONET_EXACT_ORDER=1: a socket's nextTicks and microtasks run before the next socket's 'data'",
      why: "Deno's Node-API does not run the nextTick and microtask queues between the calls protonet makes in one doorbell callback (Node does when each callback scope closes); the default batched mode passes" },
    { match: `${FAULTS}worker_threads: main + two workers serve and echo at once; a worker terminated mid-transfer; fds and threads back to baseline`,
      why: 'the child running the scenario under Deno does not finish and is killed by the test' },
    { match: `${DGRAM_SURFACE}Socket.prototype has the same members, kinds and lengths`,
      why: "Deno's node:dgram Socket has no getSendQueueSize/getSendQueueCount; protonet/dgram keeps Node 20's members" },
    { match: `${DGRAM_SURFACE}errors inspect as node:dgram's (SystemError shows its accessors' values)`,
      why: "Deno's own SystemError inspects as 'ERR_SOCKET_BUFFER_SIZE [SystemError]: …'; protonet's as Node's 'SystemError [ERR_SOCKET_BUFFER_SIZE]: …'" },
  ],
}[which];

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---- run --------------------------------------------------------------------

function runCapture(cmd, args, env, timeoutMs, echo) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      if (echo) process.stdout.write(d);
      out += d.toString('utf8');
      if (out.length > 4e6) out = out.slice(-2e6);
    });
    const timer = setTimeout(() => { console.error(`${which}: ${path.basename(cmd)} timed out after ${timeoutMs / 1000} s`); child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out }); });
  });
}

(async () => {
  if (build) {
    const r = spawnSync('npm', ['run', 'build:test'], { cwd: root, stdio: 'inherit', timeout: 300000 });
    if (r.status !== 0) fail('npm run build:test failed');
  }
  const mochaJs = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const config = ['--config', path.join(root, '.mocharc.runtimes.json')];
  const hook = ['--require', path.join(__dirname, 'runtime-parity-hook.cjs')];

  // 1. The smoke checks.
  console.log(`\n${which}: smoke checks (scripts/runtime-smoke.cjs)`);
  const smoke = await runCapture(bin, runArgs(path.join(__dirname, 'runtime-smoke.cjs')), process.env, 180000, true);
  const sm = /smoke: (\d+) passed, (\d+) failed/.exec(smoke.out);
  const smokePassed = sm ? Number(sm[1]) : 0;
  let smokeFailed = sm ? Number(sm[2]) : 0;
  if (smoke.code !== 0 && smokeFailed === 0) smokeFailed = 1;

  // 2. Every excluded title matches a test of the subset.
  const dry = await runCapture(process.execPath, [mochaJs, ...config, '--dry-run', '--reporter', 'json', ...FILES],
    process.env, 120000, false);
  let titles = [];
  try {
    titles = JSON.parse(dry.out.slice(dry.out.indexOf('{'))).tests.map((t) => t.fullTitle);
  } catch (err) {
    fail(`could not list the subset's tests: ${err.message}`);
  }
  const excluded = new Set();
  for (const e of EXCLUDE) {
    const hits = titles.filter((t) => (typeof e.match === 'string' ? t === e.match : e.match.test(t))
      && !(e.excludeIf && e.excludeIf.test(t)));
    if (hits.length === 0) fail(`the exclusion ${String(e.match)} matches no test: update EXCLUDE`);
    for (const t of hits) excluded.add(t);
  }
  const grep = `^(?:${[...excluded].map(escapeRe).join('|')})$`;
  console.log(`\n${which}: mocha subset: ${titles.length - excluded.size} of ${titles.length} tests in ${FILES.length} files (${excluded.size} left out; see EXCLUDE in scripts/run-runtime.js)`);

  // 3. Node's node:net, recorded under Node for the parity scenarios.
  const reference = path.join(root, 'test-dist', 'parity-reference.json');
  fs.rmSync(reference, { force: true });
  const rec = await runCapture(process.execPath, [mochaJs, ...config, ...hook, '--reporter', 'dot', ...PARITY_FILES],
    { ...process.env, PROTONET_PARITY_RECORD: reference }, 300000, false);
  if (rec.code !== 0 || !fs.existsSync(reference)) {
    process.stdout.write(rec.out);
    fail(`recording node:net under Node ${process.version} failed`);
  }
  console.log(`${which}: node:net recorded under Node ${process.version} for ${PARITY_FILES.length} parity files`);

  // 4. mocha under the runtime.
  const mocha = await runCapture(bin, [...runArgs(mochaJs), ...config, ...hook, '--grep', grep, '--invert', ...FILES],
    { ...process.env, PROTONET_PARITY_REFERENCE: reference }, 15 * 60 * 1000, true);
  // Deno colours its output even into a pipe.
  const plain = mocha.out.replace(/\x1b\[[0-9;]*m/g, '');
  const count = (word) => {
    const m = new RegExp(`^\\s*(\\d+) ${word}`, 'm').exec(plain);
    return m ? Number(m[1]) : 0;
  };
  const mochaPassed = count('passing');
  let mochaFailed = count('failing');
  if ((mocha.code !== 0 || mocha.signal) && mochaFailed === 0) mochaFailed = 1;

  console.log(`${which} smoke: ${smokePassed} passed, ${smokeFailed} failed`);
  console.log(`${which} mocha subset: ${mochaPassed} passed, ${mochaFailed} failed, ${excluded.size} left out`);
  const passed = smokePassed + mochaPassed;
  const failed = smokeFailed + mochaFailed;
  console.log(`${which}: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
