// runtime-parity-hook.cjs - a mocha --require hook for running the parity
// tests (test/helpers/parity.ts) under Bun and Deno against Node's node:net.
//
// A parity test runs a scenario with node:net and with protonet and compares
// the event logs. Under Bun or Deno, "node:net" is the runtime's own
// reimplementation, which differs from Node's in places (Deno emits no
// 'connectionAttempt', Bun's destroy() skips the peer's 'end', ...), so a live
// comparison there measures the runtime, not protonet. This hook replaces
// parity() so that the node:net side comes from a recording made with Node:
//
//   PROTONET_PARITY_RECORD=<file>     (under Node) run each scenario with
//       node:net only, check it as parity() does (no failure, logged
//       something, everything closed), and write the logs to <file>;
//   PROTONET_PARITY_REFERENCE=<file>  (under Bun/Deno) run each scenario with
//       protonet only and require the same logs as recorded, with the same
//       checks parity() makes (no failure, deep-equal logs, all closed).
//
// Tests are keyed by their full mocha title. scripts/run-runtime.js records
// and then replays. Nothing else about the tests changes.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const recordFile = process.env.PROTONET_PARITY_RECORD;
const referenceFile = process.env.PROTONET_PARITY_REFERENCE;

if (recordFile || referenceFile) {
  const root = path.resolve(__dirname, '..');
  const helpers = require(path.join(root, 'test-dist', 'test', 'helpers', 'parity.js'));
  const { impl, nodeNet } = require(path.join(root, 'test-dist', 'test', 'helpers', 'impl.js'));
  const { expect } = require('chai');
  const runtime = typeof Bun !== 'undefined' ? 'bun' : typeof Deno !== 'undefined' ? 'deno' : 'node';

  const show = (r) => Object.entries(r.logs)
    .map(([name, log]) => `  ${name}:\n${log.map((e) => `    ${JSON.stringify(e)}`).join('\n')}`)
    .join('\n') + (r.unclosed && r.unclosed.length ? `\n  (never closed: ${r.unclosed.join(', ')})` : '')
    + (r.failure ? `\n  FAILED: ${r.failure.split('\n').slice(0, 4).join('\n    ')}` : '');

  // JSON without losing what the logs hold: undefined (kept as a key, or as an
  // array slot), NaN, +-Infinity, -0 and bigints are tagged.
  const TAG = '\u0000protonet';
  const encode = (value) => JSON.stringify(value, function (key, v) {
    if (v === undefined) return { [TAG]: 'undefined' };
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { [TAG]: 'number', v: String(v) };
    if (typeof v === 'bigint') return { [TAG]: 'bigint', v: String(v) };
    return v;
  });
  // Process ids appear in names the scenarios make (Unix socket paths).
  const decode = (text, fromPid) => {
    const pidToken = new RegExp(`\\b${fromPid}\\b`, 'g');
    const walk = (v) => {
      if (typeof v === 'string') return fromPid === process.pid ? v : v.replace(pidToken, String(process.pid));
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') {
        if (typeof v[TAG] === 'string') {
          if (v[TAG] === 'undefined') return undefined;
          return v[TAG] === 'bigint' ? BigInt(v.v) : Number(v.v);
        }
        const out = {};
        for (const k of Object.keys(v)) out[k] = walk(v[k]);
        return out;
      }
      return v;
    };
    return walk(JSON.parse(text));
  };

  // makeReplacement(ref, mine, netOfMine): ref is the module recorded under Node
  // (node:net or node:dgram), mine() the implementation replayed under the
  // runtime, netOfMine() the net module its Recorder names sockets by.
  let makeReplacement;
  if (recordFile) {
    if (runtime !== 'node') throw new Error('PROTONET_PARITY_RECORD records Node\'s node:net: run it under node');
    const recorded = {};
    makeReplacement = (refModule) => (title, scenario, opts = {}) => {
      const timeoutMs = opts.timeout ?? 10000;
      it(title, async function () {
        this.timeout(timeoutMs + 15000);
        const ref = await helpers.runSide(nodeNet, (_n, rec) => scenario(refModule, rec), timeoutMs);
        expect(ref.failure, `scenario fails on node:net itself:\n${show(ref)}`).to.equal(undefined);
        expect(Object.keys(ref.logs).length, 'scenario tracked nothing').to.be.greaterThan(0);
        expect(ref.unclosed, `node:net objects never closed:\n${show(ref)}`).to.deep.equal([]);
        // The recording reads back as exactly what was logged.
        const text = encode(ref.logs);
        expect(decode(text, process.pid), 'the recording reads back unchanged').to.deep.equal(ref.logs);
        recorded[this.test.fullTitle()] = { node: process.version, pid: process.pid, logs: text };
      });
    };
    process.on('exit', () => {
      fs.writeFileSync(recordFile, JSON.stringify(recorded));
    });
  } else {
    const reference = JSON.parse(fs.readFileSync(referenceFile, 'utf8'));
    makeReplacement = (refModule, mine, netOfMine) => (title, scenario, opts = {}) => {
      const timeoutMs = opts.timeout ?? 10000;
      it(title, async function () {
        this.timeout(timeoutMs + 15000);
        const entry = reference[this.test.fullTitle()];
        expect(entry, `no node:net recording of "${this.test.fullTitle()}" in ${referenceFile}`).to.not.equal(undefined);
        const ref = { node: entry.node, logs: decode(entry.logs, entry.pid) };
        const got = await helpers.runSide(netOfMine(), (_n, rec) => scenario(mine(), rec), timeoutMs);
        const header = `event logs differ (expected = node:net on Node ${ref.node}, recorded; actual = protonet on ${runtime})`;
        const detail = `\n--- node:net (Node ${ref.node}) ---\n${show({ logs: ref.logs })}\n--- protonet (${runtime}) ---\n${show(got)}\n`;
        expect(got.failure, `${header}: scenario failed${detail}`).to.equal(undefined);
        expect(got.logs, `${header}${detail}`).to.deep.equal(ref.logs);
        expect(got.unclosed, `${header}${detail}`).to.deep.equal([]);
      });
    };
  }
  // Test files call them as (0, parity_1.parity)(...): a property read at call time.
  Object.defineProperty(helpers, 'parity', { value: makeReplacement(nodeNet, impl, impl), writable: true, configurable: true, enumerable: true });
  // The dgram scenarios the same way, against Node's node:dgram.
  const dgramHelpers = require(path.join(root, 'test-dist', 'test', 'helpers', 'dgram.js'));
  const nodeDgram = runtime === 'node' ? require('node:dgram') : null;
  Object.defineProperty(dgramHelpers, 'dgramParity', {
    value: makeReplacement(nodeDgram, dgramHelpers.dgramImpl, () => nodeNet), writable: true, configurable: true, enumerable: true,
  });
}
