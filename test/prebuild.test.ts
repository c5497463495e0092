/*
 * Prebuilt binaries and the published tarball, as a user gets them:
 *   - `npm run prebuild` (prebuildify --napi --strip) writes
 *     prebuilds/<platform>-<arch>/protonet.node;
 *   - `npm pack` of the package with that prebuild, installed into a fresh
 *     project whose PATH holds node, npm and sh and nothing else (cc, gcc,
 *     g++, c++, make, python and cmake are stubs that fail and leave a mark),
 *     installs without compiling, loads the prebuild and echoes over loopback;
 *   - the same tarball installed with `bun add` and with `deno install` (their
 *     default: dependencies' install scripts blocked), with PATH holding only
 *     that runtime and the failing compiler stubs, loads the prebuild through
 *     require() and through import, and echoes over loopback;
 *   - without a prebuild the same install has to compile: with no compiler it
 *     fails (so the stubs really are what a build would reach), and with the
 *     machine's compilers node-gyp-build falls back to node-gyp and the built
 *     addon loads.
 *
 * Everything happens in copies under one temporary directory: prebuildify
 * runs `node-gyp rebuild`, which would replace the build/ that this test run
 * itself loads. The installs are offline and take node-gyp-build and
 * node-addon-api as tarballs packed from this checkout's node_modules, so
 * nothing is fetched: npm gets them as tarballs, Bun and Deno from a registry
 * on loopback (test/helpers/registry.ts) that serves only these packages
 * (Deno 2.9 cannot install a tarball file, so it installs protonet@<version>
 * from that registry, as a user installs from npm).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalRegistry } from './helpers/registry';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { resolveRuntime } = require('../../scripts/lib/runtimes.js') as {
  resolveRuntime(which: 'bun' | 'deno', opts?: { log?: (line: string) => void }): { bin: string; version: string };
};

/** The runtime's binary (scripts/lib/runtimes.js), or null where none can be had. */
function findRuntime(which: 'bun' | 'deno', log: (line: string) => void): { bin: string; version: string } | null {
  try {
    return resolveRuntime(which, { log });
  } catch {
    return null;
  }
}

const root = path.resolve(__dirname, '..', '..');
const platformDir = `${process.platform}-${process.arch}`;

interface Run { code: number | null; stdout: string; stderr: string }

function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

function explain(r: Run): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`;
}

/** npm's own entry script, run with the node running this test. */
function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && /npm-cli\.js$/.test(fromNpm) && fs.existsSync(fromNpm)) return fromNpm;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'npm');
    if (fs.existsSync(candidate)) return fs.realpathSync(candidate);
  }
  throw new Error('npm not found on PATH');
}

/**
 * The environment minus what `npm test` exported about this package
 * (npm_package_*, npm_lifecycle_*, npm_config_local_prefix, ...): an inner
 * npm would otherwise take /work/main-style settings for its own project.
 * User-level settings npm reads from ~/.npmrc still apply.
 */
function cleanEnv(pathValue: string): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig',
    'npm_config_nodedir', 'npm_config_cafile', 'npm_config_registry']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const lower = k.toLowerCase();
    if (lower.startsWith('npm_') && !keep.has(lower)) continue;
    if (k === 'INIT_CWD' || k === 'PROTONET_ADDON') continue;
    env[k] = v;
  }
  env.PATH = pathValue;
  return env;
}

// A loopback echo with the installed package: 256 KiB each way, compared
// byte for byte; prints which addon file node-gyp-build resolved.
const ECHO_SCRIPT = `
const path = require('node:path');
const crypto = require('node:crypto');
const net = require('protonet');
const pkgDir = path.dirname(require.resolve('protonet/package.json'));
// protonet's own node-gyp-build (not hoisted to the top in every installer's layout).
const addon = require(require.resolve('node-gyp-build', { paths: [pkgDir] })).resolve(pkgDir);
const payload = crypto.randomBytes(256 << 10);
const server = net.createServer((s) => s.pipe(s));
server.listen(0, '127.0.0.1', () => {
  const chunks = [];
  const c = net.connect(server.address().port, '127.0.0.1', () => c.end(payload));
  c.on('data', (d) => chunks.push(d));
  c.on('error', (e) => { console.error(e); process.exit(1); });
  c.on('close', () => {
    server.close();
    const got = Buffer.concat(chunks);
    console.log(JSON.stringify({
      echoed: got.equals(payload), bytes: got.length,
      addon: path.relative(pkgDir, addon).split(path.sep).join('/'),
      isProtonet: c instanceof net.Socket && !(c instanceof require('node:net').Socket),
    }));
  });
});
`;

// The same through import: default and named exports are one module.
const ESM_ECHO_SCRIPT = `
import { Buffer } from 'node:buffer';
import crypto from 'node:crypto';
import nodeNet from 'node:net';
import process from 'node:process';
import protonet, { connect, createServer, Socket } from 'protonet';
const payload = crypto.randomBytes(64 << 10);
const server = createServer((s) => s.pipe(s));
server.listen(0, '127.0.0.1', () => {
  const chunks = [];
  const c = connect(server.address().port, '127.0.0.1', () => c.end(payload));
  c.on('data', (d) => chunks.push(d));
  c.on('error', (e) => { console.error(e); process.exit(1); });
  c.on('close', () => {
    server.close();
    const got = Buffer.concat(chunks);
    console.log(JSON.stringify({
      echoed: got.equals(payload), bytes: got.length,
      oneModule: protonet.connect === connect && protonet.Socket === Socket,
      isProtonet: c instanceof Socket && !(c instanceof nodeNet.Socket),
    }));
  });
});
`;

const STUBS = ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'make', 'python', 'python3', 'cmake'];

describe('prebuilt binaries and the packed tarball', function () {
  if (process.platform === 'win32') {
    it('is not run on Windows (POSIX shell stubs)', function () { this.skip(); });
    return;
  }
  this.timeout(180000);

  let tmp = '';
  let npm = '';
  let srcTarball = '';      // npm pack of this checkout, prebuilds/ removed
  let prebuiltTarball = ''; // npm pack after `npm run prebuild`
  let depTarballs: string[] = [];
  let noCompilerBin = '';   // node, npm, sh and failing compiler stubs
  let nodeFirstBin = '';    // node only (the node running this test), put ahead of the full PATH
  let stubMark = '';
  let registry: LocalRegistry | null = null;

  async function mustRun(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
    const r = await run(cmd, args, { cwd, env, timeoutMs });
    if (r.code !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} in ${cwd}: ${explain(r)}`);
    return r;
  }

  async function pack(dir: string, dest: string): Promise<string> {
    const r = await mustRun(process.execPath, [npm, 'pack', '--ignore-scripts', '--json', '--pack-destination', dest],
      dir, cleanEnv(`${nodeFirstBin}${path.delimiter}${process.env.PATH}`), 60000);
    const info = JSON.parse(r.stdout) as Array<{ filename: string }>;
    return path.join(dest, info[0].filename);
  }

  async function extract(tarball: string, into: string): Promise<void> {
    fs.mkdirSync(into, { recursive: true });
    await mustRun('tar', ['xzf', tarball, '-C', into, '--strip-components=1'], tmp, process.env, 60000);
  }

  async function listTarball(tarball: string): Promise<string[]> {
    const r = await mustRun('tar', ['tzf', tarball], tmp, process.env, 60000);
    return r.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  }

  function makeApp(name: string): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({
      name, version: '1.0.0', private: true,
      // npm 11 asks projects to approve dependencies' install scripts.
      allowScripts: { protonet: true },
    }, null, 2));
    return dir;
  }

  function install(app: string, tarball: string, pathValue: string): Promise<Run> {
    // An empty cache of its own: with --offline this shows nothing comes from a registry.
    return run(process.execPath, [npm, 'install', '--offline', '--cache', path.join(tmp, `${path.basename(app)}-cache`),
      '--no-audit', '--no-fund', '--foreground-scripts', ...depTarballs, tarball], { cwd: app, env: cleanEnv(pathValue), timeoutMs: 150000 });
  }

  async function echo(app: string, pathValue: string): Promise<{ echoed: boolean; bytes: number; addon: string; isProtonet: boolean }> {
    const r = await mustRun(process.execPath, ['-e', ECHO_SCRIPT], app, cleanEnv(pathValue), 30000);
    return JSON.parse(r.stdout.trim()) as { echoed: boolean; bytes: number; addon: string; isProtonet: boolean };
  }

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'protonet-prebuild-'));
    npm = npmCli();
    stubMark = path.join(tmp, 'compiler-stub-called');

    nodeFirstBin = path.join(tmp, 'node-bin');
    fs.mkdirSync(nodeFirstBin);
    fs.symlinkSync(process.execPath, path.join(nodeFirstBin, 'node'));

    noCompilerBin = path.join(tmp, 'no-compiler-bin');
    fs.mkdirSync(noCompilerBin);
    fs.symlinkSync(process.execPath, path.join(noCompilerBin, 'node'));
    fs.symlinkSync(npm, path.join(noCompilerBin, 'npm'));
    fs.symlinkSync('/bin/sh', path.join(noCompilerBin, 'sh'));
    for (const stub of STUBS) {
      const file = path.join(noCompilerBin, stub);
      fs.writeFileSync(file, `#!/bin/sh\necho "$0 $*" >> '${stubMark}'\necho "no $0 here (test stub)" >&2\nexit 127\n`);
      fs.chmodSync(file, 0o755);
    }

    const packs = path.join(tmp, 'packs');
    fs.mkdirSync(packs);
    depTarballs = [];
    for (const dep of ['node-gyp-build', 'node-addon-api']) {
      depTarballs.push(await pack(path.join(root, 'node_modules', dep), packs));
    }
    registry = new LocalRegistry();
    for (const dep of depTarballs) registry.add(dep);
    await registry.start();
    const fromCheckout = await pack(root, packs);
    // The source package: whatever prebuilds/ this checkout may hold is dropped.
    const src = path.join(tmp, 'src');
    await extract(fromCheckout, src);
    fs.rmSync(path.join(src, 'prebuilds'), { recursive: true, force: true });
    fs.mkdirSync(path.join(tmp, 'src-pack'));
    srcTarball = await pack(src, path.join(tmp, 'src-pack'));
  });

  after(async function () {
    await registry?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it(`npm run prepack (what npm pack runs first) writes prebuilds/${platformDir}/protonet.node, and npm pack ships it with what a fallback build needs`, async function () {
    const work = path.join(tmp, 'prebuild');
    await extract(srcTarball, work);
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(work, 'node_modules'), 'dir');
    await mustRun(process.execPath, [npm, 'run', 'prepack'], work,
      cleanEnv(`${nodeFirstBin}${path.delimiter}${process.env.PATH}`), 150000);
    const built = fs.readdirSync(path.join(work, 'prebuilds', platformDir));
    expect(built).to.deep.equal(['protonet.node']);
    // It is the addon: it loads and has the binding's functions.
    const probe = await mustRun(process.execPath, ['-e',
      `const b = require(${JSON.stringify(path.join(work, 'prebuilds', platformDir, 'protonet.node'))});` +
      "console.log(['init', 'connect', 'listen', 'writev', 'close'].every((k) => typeof b[k] === 'function'))"],
    tmp, process.env, 30000);
    expect(probe.stdout.trim()).to.equal('true');

    fs.rmSync(path.join(work, 'build'), { recursive: true, force: true });
    fs.unlinkSync(path.join(work, 'node_modules'));
    fs.mkdirSync(path.join(tmp, 'prebuilt-pack'));
    prebuiltTarball = await pack(work, path.join(tmp, 'prebuilt-pack'));
    const files = await listTarball(prebuiltTarball);
    expect(files).to.include.members([
      `prebuilds/${platformDir}/protonet.node`,
      'package.json', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/binding.js',
      'binding.gyp', 'native/napi/addon.cc', 'native/core/loop.cc', 'native/core/poller_epoll.cc',
    ]);
    const binding = fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8');
    // Every source binding.gyp names (for any platform) that this checkout has.
    const sources = (binding.match(/native\/[\w/.]+\.cc/g) ?? []).filter((f) => fs.existsSync(path.join(root, f)));
    expect(sources.length).to.be.greaterThan(5);
    for (const source of sources) expect(files, source).to.include(source);
    expect(files.filter((f) => /^(test|test-dist|build|node_modules|lib|bench|\.runtimes)\//.test(f))).to.deep.equal([]);
  });

  it('installs from the tarball with no compiler on PATH, loads the prebuild and echoes over loopback', async function () {
    if (!prebuiltTarball) this.skip(); // the previous test failed
    const app = makeApp('app-prebuilt');
    const r = await install(app, prebuiltTarball, noCompilerBin);
    expect(r.code, explain(r)).to.equal(0);
    expect(fs.existsSync(stubMark), 'a compiler stub was called').to.equal(false);
    expect(fs.existsSync(path.join(app, 'node_modules', 'protonet', 'build'))).to.equal(false);
    const result = await echo(app, noCompilerBin);
    expect(result).to.deep.equal({
      echoed: true, bytes: 256 << 10, addon: `prebuilds/${platformDir}/protonet.node`, isProtonet: true,
    });
  });

  // Bun and Deno: their installers run no dependency install script by default,
  // so the prebuild is all a user of theirs gets.
  for (const runtime of ['bun', 'deno'] as const) {
    it(`${runtime}: installs the packed tarball (scripts blocked, no compiler on PATH); require() and import load the prebuild and echo`, async function () {
      if (!prebuiltTarball) this.skip(); // the first test failed
      const found = findRuntime(runtime, (line) => console.log(line));
      expect(found, `a ${runtime} binary (scripts/lib/runtimes.js)`).to.not.equal(null);
      registry!.add(prebuiltTarball);
      // PATH: the runtime and the compiler stubs, nothing else (no node, no sh).
      const bin = path.join(tmp, `${runtime}-bin`);
      fs.mkdirSync(bin);
      fs.symlinkSync(found!.bin, path.join(bin, runtime));
      for (const stub of STUBS) fs.symlinkSync(path.join(noCompilerBin, stub), path.join(bin, stub));
      const env: NodeJS.ProcessEnv = {
        ...cleanEnv(bin),
        HOME: path.join(tmp, `${runtime}-home`),
        NPM_CONFIG_REGISTRY: registry!.url,
        BUN_INSTALL_CACHE_DIR: path.join(tmp, 'bun-cache'),
        DENO_DIR: path.join(tmp, 'deno-dir'),
        NO_COLOR: '1',
      };
      const app = makeApp(`app-${runtime}`);
      let r: Run;
      if (runtime === 'bun') {
        r = await run(found!.bin, ['add', '--registry', registry!.url, prebuiltTarball], { cwd: app, env, timeoutMs: 120000 });
        expect(r.code, explain(r)).to.equal(0);
        expect(`${r.stdout}${r.stderr}`, 'Bun blocked the install script').to.match(/Blocked 1 postinstall/);
      } else {
        // Deno 2.9 installs no tarball file: protonet@<version> from the registry, as from npm.
        const version = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
        const pkgFile = path.join(app, 'package.json');
        fs.writeFileSync(pkgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(pkgFile, 'utf8')), dependencies: { protonet: version } }));
        r = await run(found!.bin, ['install'], { cwd: app, env, timeoutMs: 120000 });
        expect(r.code, explain(r)).to.equal(0);
        expect(registry!.requests, 'protonet came from the loopback registry').to.include(`/protonet/-/${path.basename(prebuiltTarball)}`);
        expect(`${r.stdout}${r.stderr}`, 'Deno ignored the install script').to.match(/Ignored build scripts for packages:[^]*npm:protonet@/);
      }
      expect(registry!.requests, 'dependencies came from the loopback registry').to.include('/node-gyp-build');
      expect(fs.existsSync(stubMark), 'a compiler stub was called').to.equal(false);
      const pkgDir = fs.realpathSync(path.join(app, 'node_modules', 'protonet'));
      expect(fs.existsSync(path.join(pkgDir, 'build')), 'nothing was built').to.equal(false);

      fs.writeFileSync(path.join(app, 'echo.cjs'), ECHO_SCRIPT);
      fs.writeFileSync(path.join(app, 'echo.mjs'), ESM_ECHO_SCRIPT);
      // Deno loads a native addon only with FFI permission (-A grants it).
      const runArgs = (file: string): string[] => (runtime === 'deno' ? ['run', '-A', file] : [file]);
      const cjs = await mustRun(found!.bin, runArgs('echo.cjs'), app, env, 60000);
      expect(JSON.parse(cjs.stdout.trim())).to.deep.equal({
        echoed: true, bytes: 256 << 10, addon: `prebuilds/${platformDir}/protonet.node`, isProtonet: true,
      });
      const esm = await mustRun(found!.bin, runArgs('echo.mjs'), app, env, 60000);
      expect(JSON.parse(esm.stdout.trim())).to.deep.equal({ echoed: true, bytes: 64 << 10, oneModule: true, isProtonet: true });
    });
  }

  // linux-arm64, under qemu-user: `npm run test:arm64` (scripts/test-arm64.js)
  // runs this file with PROTONET_ARM64_NODE (a script starting Node 20 for
  // arm64 under qemu) and PROTONET_ARM64_ADDON (the cross-built addon). The
  // tarball carries the linux-x64 and linux-arm64 prebuilds; the arm64 Node's
  // own npm installs it with no compiler on PATH, and node-gyp-build, run by
  // the arm64 Node, must pick prebuilds/linux-arm64. Not defined elsewhere:
  // only that runner has an arm64 Node and addon to give it.
  const arm64Node = process.env.PROTONET_ARM64_NODE;
  const arm64Addon = process.env.PROTONET_ARM64_ADDON;
  if (arm64Node && arm64Addon) {
    it('linux-arm64 (qemu-user): the arm64 Node installs the tarball with no compiler on PATH, loads prebuilds/linux-arm64 and echoes', async function () {
      this.timeout(600000);
      const work = path.join(tmp, 'arm64-pkg');
      await extract(srcTarball, work);
      const prebuilds: Array<[string, string]> = [
        ['linux-x64', path.join(root, 'build', 'Release', 'protonet.node')],
        ['linux-arm64', arm64Addon],
      ];
      for (const [dir, file] of prebuilds) {
        fs.mkdirSync(path.join(work, 'prebuilds', dir), { recursive: true });
        fs.copyFileSync(file, path.join(work, 'prebuilds', dir, 'protonet.node'));
      }
      fs.mkdirSync(path.join(tmp, 'arm64-pack'));
      const tarball = await pack(work, path.join(tmp, 'arm64-pack'));
      expect(await listTarball(tarball)).to.include.members(['prebuilds/linux-x64/protonet.node', 'prebuilds/linux-arm64/protonet.node']);

      // PATH: `node` is the arm64 Node, then npm, sh and the failing compiler stubs.
      const bin = path.join(tmp, 'arm64-bin');
      fs.mkdirSync(bin);
      fs.symlinkSync(arm64Node, path.join(bin, 'node'));
      for (const name of ['npm', 'sh', ...STUBS]) fs.symlinkSync(path.join(noCompilerBin, name), path.join(bin, name));
      const env = cleanEnv(bin);
      const arch = await mustRun(arm64Node, ['-p', 'process.arch'], tmp, env, 120000);
      expect(arch.stdout.trim()).to.equal('arm64');

      const app = makeApp('app-arm64');
      const r = await run(arm64Node, [npm, 'install', '--offline', '--cache', path.join(tmp, 'app-arm64-cache'),
        '--no-audit', '--no-fund', '--foreground-scripts', ...depTarballs, tarball], { cwd: app, env, timeoutMs: 480000 });
      expect(r.code, explain(r)).to.equal(0);
      expect(fs.existsSync(stubMark), 'a compiler stub was called').to.equal(false);
      expect(fs.existsSync(path.join(app, 'node_modules', 'protonet', 'build'))).to.equal(false);
      const echoed = await mustRun(arm64Node, ['-e', ECHO_SCRIPT], app, env, 120000);
      expect(JSON.parse(echoed.stdout.trim())).to.deep.equal({
        echoed: true, bytes: 256 << 10, addon: 'prebuilds/linux-arm64/protonet.node', isProtonet: true,
      });
    });
  }

  it('without a prebuild the install has to compile: with no compiler on PATH it fails in the build', async function () {
    const app = makeApp('app-no-compiler');
    const r = await install(app, srcTarball, noCompilerBin);
    expect(r.code, explain(r)).to.not.equal(0);
    expect(fs.existsSync(stubMark), `no compiler stub was reached: ${explain(r)}`).to.equal(true);
    fs.rmSync(stubMark);
  });

  it('without a prebuild node-gyp-build falls back to building with node-gyp; the built addon loads and echoes', async function () {
    const app = makeApp('app-build');
    const fullPath = `${nodeFirstBin}${path.delimiter}${process.env.PATH}`;
    const r = await install(app, srcTarball, fullPath);
    expect(r.code, explain(r)).to.equal(0);
    const pkgDir = path.join(app, 'node_modules', 'protonet');
    expect(fs.existsSync(path.join(pkgDir, 'prebuilds'))).to.equal(false);
    expect(fs.existsSync(path.join(pkgDir, 'build', 'Release', 'protonet.node'))).to.equal(true);
    const result = await echo(app, fullPath);
    expect(result).to.deep.equal({
      echoed: true, bytes: 256 << 10, addon: 'build/Release/protonet.node', isProtonet: true,
    });
  });
});
