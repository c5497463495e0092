/*
 * node:net's exported internals (_normalizeArgs, _setSimultaneousAccepts)
 * behave as node:net's own.
 */
import { expect } from 'chai';

import { impl, nodeNet } from './helpers/impl';

type Internals = { _normalizeArgs(a: unknown[]): unknown[]; _setSimultaneousAccepts(h?: unknown): void };

describe("node:net's exported internals", () => {
  it('_normalizeArgs gives the same [options, callback] for every argument form', () => {
    const cb = (): void => {};
    const forms: unknown[][] = [
      [], [80], ['80'], [80, 'host'], [80, 'host', cb], [80, cb], ['/tmp/x.sock'], ['/tmp/x.sock', cb],
      [{ port: 1, host: 'h' }], [{ path: '/p' }, cb], [null], [undefined, cb], ['abc'], [-1], [80, 5, cb],
    ];
    const mine = impl() as unknown as Internals;
    const theirs = nodeNet as unknown as Internals;
    for (const form of forms) {
      const a = mine._normalizeArgs(form);
      const b = theirs._normalizeArgs(form);
      expect(a, JSON.stringify(form)).to.deep.equal(b);
    }
  });

  it('_setSimultaneousAccepts warns DEP0121 once and does nothing else', () => {
    const warnings: string[] = [];
    const mine = impl() as unknown as Internals;
    const original = process.emitWarning;
    // Count the calls synchronously (the 'warning' event comes on a later tick).
    process.emitWarning = ((...args: unknown[]) => { warnings.push(String(args[2])); }) as typeof process.emitWarning;
    try {
      mine._setSimultaneousAccepts();
      mine._setSimultaneousAccepts({});
    } finally {
      process.emitWarning = original;
    }
    // At most once per process (an earlier test may have used the warning up).
    expect(warnings.filter((w) => w === 'DEP0121').length).to.be.at.most(1);
  });
});
