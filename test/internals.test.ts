/*
 * node:net's exported internals (_normalizeArgs, _setSimultaneousAccepts)
 * behave as node:net's own.
 */
import { expect } from 'chai';

import { execFile } from 'node:child_process';

import { impl, nodeNet, repoRoot } from './helpers/impl';

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

  it('_setSimultaneousAccepts warns DEP0121 exactly once per process and does nothing else', async function () {
    // Gone from Node 24's net, and so from protonet there (surface.test.ts).
    if (typeof (nodeNet as unknown as Partial<Internals>)._setSimultaneousAccepts !== 'function') this.skip();
    this.timeout(10000);
    // A fresh process, so no earlier test has used the one warning up.
    const script = [
      `const net = require(${JSON.stringify(repoRoot)});`,
      'const codes = [];',
      "process.on('warning', (w) => codes.push(w.code));",
      'net._setSimultaneousAccepts(); net._setSimultaneousAccepts({});',
      'setImmediate(() => console.log(JSON.stringify(codes)));',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script], { timeout: 8000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    });
    expect(JSON.parse(out)).to.deep.equal(['DEP0121']);
  });
});
