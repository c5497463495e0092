/*
 * test/helpers/exit_guard.ts: a mocha run whose test leaves a server open fails (status 1,
 * naming what is open) shortly after its last test instead of hanging; a clean run still exits 0.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as path from 'node:path';

import { repoRoot } from './helpers/impl';

const mochaJs = path.join(repoRoot, 'node_modules', 'mocha', 'bin', 'mocha.js');
const guard = path.join(repoRoot, 'test-dist', 'test', 'helpers', 'exit_guard.js');
const spec = path.join(repoRoot, 'test', 'fixtures', 'exit-guard.spec.cjs');

function runSpec(leak: boolean): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [mochaJs, '--no-config', '--no-exit', '--require', guard, spec], {
      cwd: repoRoot,
      timeout: 20000,
      env: { ...process.env, EXIT_GUARD_LEAK: leak ? '1' : '0', PROTONET_TEST_EXIT_GRACE_MS: '500' },
    }, (err, _stdout, stderr) => {
      resolve({ code: err ? (err as { code?: number }).code ?? -1 : 0, stderr, ms: Date.now() - t0 });
    });
  });
}

describe('mocha exit guard (test/helpers/exit_guard.ts)', function () {
  this.timeout(30000);

  it('a run that leaves a server open fails soon after its last test, naming it', async () => {
    const r = await runSpec(true);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/still alive 500 ms after the last test: a test left something open \(.*TCPServerWrap x1/);
    expect(r.ms).to.be.below(15000);
  });

  it('a clean run exits 0', async () => {
    const r = await runSpec(false);
    expect(r.code).to.equal(0);
    expect(r.stderr).to.not.match(/still alive/);
  });
});
