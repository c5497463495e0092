/*
 * ref/unref and process exit: each scenario runs in a child process with node:dgram and with
 * protonet/dgram; both must print the same lines and either both exit by themselves (nothing
 * keeps the event loop alive) or both still run after a grace period (and are then killed).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';

import { implName, repoRoot } from './helpers/impl';

const fixture = path.join(repoRoot, 'test', 'fixtures', 'dgram-liveness.cjs');
// Long enough for a child to start, load its module and bind on a busy
// 2-core machine (1.5 s was not, with a sanitizer build running beside it);
// a process that is kept alive is killed after it.
const GRACE_MS = 4000;

function run(impl: string, scenario: string): Promise<{ out: string; exited: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, impl, scenario], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => { out += d; });
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, GRACE_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out, exited: !killed, code: killed ? null : code });
    });
  });
}

const SCENARIOS = [
  'created, never bound', 'bound', 'bound, unref', 'unref before bind', 'bound, unref, ref', 'bound, closed',
  'unref, sending with a callback', 'connected, unref', "receiving ref'd, peer unref'd",
];

describe('dgram ref/unref: the process exits exactly when node:dgram\'s does', function () {
  this.timeout(GRACE_MS * 2 + 15000);
  for (const scenario of SCENARIOS) {
    it(scenario, async () => {
      const [theirs, mine] = await Promise.all([run('node', scenario), run(implName === 'node:net' ? 'node' : 'protonet', scenario)]);
      expect(mine).to.deep.equal(theirs);
    });
  }
});
