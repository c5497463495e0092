/*
 * Parity runner: a scenario `async (net, rec) => void` runs once with node:net and once with
 * the implementation under test (sequentially, each bounded by a timeout); the per-object
 * logs must be deep-equal. Non-vacuity: the node:net run must not fail, must log something,
 * and every tracked object (unless opted out) must have emitted 'close'.
 */
import { expect } from 'chai';
import { impl, implName, nodeNet, NetLike } from './impl';
import { Entry, Recorder } from './recorder';

export type Scenario = (net: NetLike, rec: Recorder) => Promise<void>;

export interface ParityOptions {
  /** Per-side time limit for the scenario body (ms). */
  timeout?: number;
}

export interface SideResult {
  logs: Record<string, Entry[]>;
  failure?: string;
  unclosed: string[];
}

export async function runSide(net: NetLike, scenario: Scenario, timeoutMs: number): Promise<SideResult> {
  const rec = new Recorder(net);
  let timer: NodeJS.Timeout | undefined;
  let failure: string | undefined;
  let unclosed: string[] = [];
  // An exception thrown from inside the implementation (a timer, a callback) is part of its
  // behaviour: log it on this side instead of letting mocha fail whichever test runs then.
  const savedUncaught = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const onUncaught = (e: unknown): void => rec.note('(process)', 'uncaught exception', rec.normError(e));
  process.on('uncaughtException', onUncaught);
  try {
    await Promise.race([
      scenario(net, rec),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`scenario timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    unclosed = await rec.waitClosed(3000);
    // Let events already queued for this turn land (e.g. a 'close' right after the last await).
    await new Promise((r) => setImmediate(r));
  } catch (e) {
    failure = e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    clearTimeout(timer);
    rec.freeze();
    await rec.cleanup();
    process.removeListener('uncaughtException', onUncaught);
    for (const l of savedUncaught) process.on('uncaughtException', l as NodeJS.UncaughtExceptionListener);
  }
  return { logs: rec.result(), failure, unclosed };
}

/** Per object: the first entries (up to 8) where the two logs differ, index by index. */
function firstDiffs(a: SideResult, b: SideResult): string {
  const out: string[] = [];
  for (const name of new Set([...Object.keys(a.logs), ...Object.keys(b.logs)])) {
    const x = a.logs[name] ?? [];
    const y = b.logs[name] ?? [];
    const n = Math.max(x.length, y.length);
    let shown = 0;
    for (let i = 0; i < n && shown < 8; i++) {
      if (JSON.stringify(x[i]) !== JSON.stringify(y[i])) {
        out.push(`  ${name}[${i}]: node:net ${JSON.stringify(x[i])}\n  ${' '.repeat(name.length + String(i).length + 4)}${implName} ${JSON.stringify(y[i])}`);
        shown++;
      }
    }
  }
  return out.length ? `differences (by index):\n${out.join('\n')}\n` : '';
}

function show(r: SideResult): string {
  const lines: string[] = [];
  for (const [name, log] of Object.entries(r.logs)) {
    lines.push(`  ${name}:`);
    for (const e of log) lines.push(`    ${JSON.stringify(e)}`);
  }
  if (r.unclosed.length) lines.push(`  (never closed: ${r.unclosed.join(', ')})`);
  if (r.failure) lines.push(`  FAILED: ${r.failure.split('\n').slice(0, 4).join('\n    ')}`);
  return lines.join('\n');
}

export function parity(title: string, scenario: Scenario, opts: ParityOptions = {}): void {
  const timeoutMs = opts.timeout ?? 10000;
  it(title, async function () {
    this.timeout(timeoutMs * 2 + 15000);
    const ref = await runSide(nodeNet, scenario, timeoutMs);
    // The scenario must be valid and non-vacuous on node:net itself.
    expect(ref.failure, `scenario fails on node:net itself:\n${show(ref)}`).to.equal(undefined);
    const names = Object.keys(ref.logs);
    expect(names.length, 'scenario tracked nothing').to.be.greaterThan(0);
    expect(ref.unclosed, `node:net objects never closed:\n${show(ref)}`).to.deep.equal([]);
    const net = impl();
    const got = await runSide(net, scenario, timeoutMs);
    const header = `event logs differ (expected = node:net, actual = ${implName})`;
    const detail = `\n${firstDiffs(ref, got)}--- node:net ---\n${show(ref)}\n--- ${implName} ---\n${show(got)}\n`;
    expect(got.failure, `${header}: scenario failed on ${implName}${detail}`).to.equal(undefined);
    expect(got.logs, `${header}${detail}`).to.deep.equal(ref.logs);
    expect(got.unclosed, `${header}${detail}`).to.deep.equal([]);
  });
}

/** Asserts a log contains the given events in this relative order. */
export function expectSubsequence(log: Entry[] | undefined, events: string[]): void {
  const names = (log ?? []).map((e) => e[0]);
  let i = 0;
  for (const n of names) if (n === events[i]) i++;
  expect(i, `expected ${JSON.stringify(events)} in order within ${JSON.stringify(names)}`).to.equal(events.length);
}
