/*
 * node:dgram and the implementation under test (protonet/dgram, or node:dgram again with
 * PROTONET_TEST_IMPL=node), plus the dgram form of the parity runner: a scenario
 * `async (dgram, rec) => void` runs on node:dgram and on the implementation with the same
 * Recorder (test/helpers/recorder.ts) and must log the same events, arguments and errors.
 */
import { expect } from 'chai';
import type * as dgramTypes from 'node:dgram';
import type { EventEmitter } from 'node:events';

import { implName, nodeNet } from './impl';
import { runSide } from './parity';
import type { Recorder } from './recorder';

export type DgramLike = typeof import('node:dgram');
export type DgramSocket = dgramTypes.Socket;

// eslint-disable-next-line @typescript-eslint/no-var-requires
export const nodeDgram: DgramLike = require('node:dgram') as DgramLike;

let cached: DgramLike | undefined;
/** The dgram module under test; a load failure fails each test that needs it. */
export function dgramImpl(): DgramLike {
  if (!cached) cached = implName === 'node:net' ? nodeDgram : (require('protonet/dgram') as DgramLike);
  return cached;
}

export type DgramScenario = (dgram: DgramLike, rec: Recorder) => Promise<void>;

/** One parity test: the scenario's logs on node:dgram and on the implementation must be equal. */
export function dgramParity(title: string, scenario: DgramScenario, opts: { timeout?: number } = {}): void {
  const timeoutMs = opts.timeout ?? 8000;
  it(title, async function () {
    this.timeout(timeoutMs * 2 + 15000);
    const ref = await runSide(nodeNet, (_net, rec) => scenario(nodeDgram, rec), timeoutMs);
    const show = (r: typeof ref): string => JSON.stringify(r.logs, null, 1) + (r.failure ? `\nFAILED: ${r.failure}` : '')
      + (r.unclosed.length ? `\nnever closed: ${r.unclosed.join(', ')}` : '');
    expect(ref.failure, `scenario fails on node:dgram itself:\n${show(ref)}`).to.equal(undefined);
    expect(Object.keys(ref.logs).length, 'scenario tracked nothing').to.be.greaterThan(0);
    expect(ref.unclosed, `node:dgram sockets never closed:\n${show(ref)}`).to.deep.equal([]);
    const got = await runSide(nodeNet, (_net, rec) => scenario(dgramImpl(), rec), timeoutMs);
    const detail = `\n--- node:dgram ---\n${show(ref)}\n--- ${implName === 'node:net' ? 'node:dgram' : 'protonet/dgram'} ---\n${show(got)}\n`;
    expect(got.failure, `scenario failed:${detail}`).to.equal(undefined);
    expect(got.logs, `event logs differ:${detail}`).to.deep.equal(ref.logs);
    expect(got.unclosed, `never closed:${detail}`).to.deep.equal([]);
  });
}

/** Resolves with the event's arguments, or rejects after ms. */
export function onceEvent(emitter: EventEmitter, event: string, ms = 4000): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, on);
      reject(new Error(`timed out after ${ms} ms waiting for '${event}'`));
    }, ms);
    function on(...args: unknown[]): void {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(event, on);
  });
}

/** Binds to 127.0.0.1 (or ::1) on an ephemeral port; resolves with the port. */
export async function bound(s: DgramSocket, address = (s as unknown as { type: string }).type === 'udp6' ? '::1' : '127.0.0.1'): Promise<number> {
  const listening = onceEvent(s, 'listening');
  s.bind(0, address);
  await listening;
  return s.address().port;
}

/** Closes a socket (if open) and waits for 'close'. */
export async function closed(s: DgramSocket): Promise<void> {
  const done = onceEvent(s, 'close');
  try {
    s.close();
  } catch {
    return;
  }
  await done;
}
