/*
 * A real protocol client and server with net swapped for protonet: node-redis
 * (a TypeScript-built library that imports net itself) against redis-server,
 * in both I/O modes. The swap is the one a user makes: a preload maps every
 * require('net') / require('node:net') of the child process to protonet.
 *
 * redis-server is a Debian package (.ci/run installs it); where it is missing
 * the test is marked pending with that reason.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nodeNet, repoRoot } from './helpers/impl';
import { freePort, once } from './helpers/util';

const fixtures = path.join(repoRoot, 'test', 'fixtures');
const redisServer = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();

function runClient(port: number, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', path.join(fixtures, 'net-is-protonet.cjs'), path.join(fixtures, 'redis-client.cjs'), String(port)],
      { env: { ...process.env, ...env, PROTONET_PATH: repoRoot }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`redis client timed out: ${err}`)); }, 30000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

describe('real protocol clients over protonet (net swapped in the whole process)', function () {
  this.timeout(60000);
  let server: ChildProcess | null = null;
  let dir = '';
  let port = 0;

  before(async function () {
    if (!redisServer) {
      this.skip(); // pending: no redis-server on PATH (apt-get install redis-server)
      return;
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'protonet-redis-'));
    port = await freePort(nodeNet);
    server = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${seen}`)), 10000);
      server!.stdout!.on('data', (d) => {
        seen += d;
        if (/Ready to accept connections/.test(seen)) { clearTimeout(timer); resolve(); }
      });
      server!.on('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}: ${seen}`)); });
    });
    server.stdout!.resume();
  });

  after(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit', 10000).catch(() => server!.kill('SIGKILL'));
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const [mode, env] of [['on Node\'s event loop', { PROTONET_IO_THREADS: '0' }], ['on one I/O thread', { PROTONET_IO_THREADS: '1' }]] as const) {
    it(`node-redis ${mode}: get/set, a 5 MiB value, 5,000 pipelined commands in order, pub/sub`, async () => {
      const r = await runClient(port, env);
      expect(r.err).to.equal('');
      expect(r.code).to.equal(0);
      expect(JSON.parse(r.out)).to.deep.equal({ ok: true, netIsProtonet: true });
    });
  }
});
