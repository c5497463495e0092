/*
 * lib/ compares the core's errors by name through the addon's table (`Err.EBADF`), never by
 * number. A name lib/ uses that the table lacks would compare against undefined and never
 * match, silently: every `Err.NAME` in the built lib/ must be in the addon's table, and the
 * table must map each name to one number.
 */
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';

describe('native/JS error table', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { errorTable } = require('protonet/internal') as { errorTable(): Record<string, number> };

  it('has every error name lib/ compares against, each a distinct negative number', () => {
    const table = errorTable();
    const dist = path.dirname(require.resolve('protonet'));
    const used = new Set<string>();
    for (const file of fs.readdirSync(dist).filter((f) => f.endsWith('.js'))) {
      for (const m of fs.readFileSync(path.join(dist, file), 'utf8').matchAll(/\bErr\.([A-Z][A-Z0-9]+)\b/g)) used.add(m[1]);
    }
    expect(used.size).to.be.greaterThan(5);
    for (const name of used) expect(table, name).to.have.property(name).that.is.below(0);
    const numbers = Object.values(table);
    expect(new Set(numbers).size).to.equal(numbers.length);
  });

  it('names the errors the core returns as Node does (a refused connect is ECONNREFUSED)', () => {
    const table = errorTable();
    for (const name of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EADDRINUSE', 'EBADF', 'ECANCELED', 'ENOTCONN', 'EINVAL']) {
      expect(table, name).to.have.property(name).that.is.a('number');
    }
  });
});
