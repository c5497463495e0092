/*
 * Types: code written against @types/node's `net` (test/fixtures/types-usage.ts: createServer with
 * options and listener, every listen overload, connect overloads, typed event listeners, setTimeout,
 * address() as AddressInfo, node:net's type names, and protonet objects passed where node:net's
 * Socket/Server types are expected) must typecheck against `protonet` (dist/*.d.ts, resolved through
 * the package's "exports" by self-reference) with `tsc --noEmit`.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from './helpers/impl';

describe('types: @types/node net code typechecks against protonet', function () {
  it('tsc --noEmit on test/fixtures/types-usage.ts (node16 resolution, strict) reports no error', function () {
    this.timeout(120000);
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(repoRoot, 'test', 'fixtures', 'tsconfig.json')], {
      cwd: repoRoot, encoding: 'utf8', timeout: 110000,
    });
    expect(r.error, String(r.error)).to.equal(undefined);
    expect(`${r.stdout}${r.stderr}`.trim(), 'tsc output').to.equal('');
    expect(r.status).to.equal(0);
  });
});
