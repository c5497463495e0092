/*
 * The package as users load it: require and import give the same module, and
 * the README's example runs exactly as written.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

function runNode(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root, timeout: timeoutMs }, (err, stdout, stderr) => {
      // execFile's error carries the exit code as a number (or a string for spawn failures).
      const code: unknown = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

describe('package', () => {
  it("require('protonet') and import from 'protonet' expose the same functions", async function () {
    this.timeout(10000);
    const script = [
      "import * as esm from 'protonet';",
      "import { createRequire } from 'node:module';",
      "const cjs = createRequire(import.meta.url)('protonet');",
      "const same = ['connect', 'createServer', 'Socket', 'Server', 'isIP'].every((k) => esm[k] === cjs[k]);",
      'console.log(JSON.stringify({ same, def: esm.default === cjs }));',
    ].join('\n');
    const r = await runNode(['--input-type=module', '-e', script], 8000);
    expect(r.stderr).to.equal('');
    expect(JSON.parse(r.stdout.trim())).to.deep.equal({ same: true, def: true });
  });

  it("the README's example runs as written: echoes 'hello' and exits", async function () {
    this.timeout(15000);
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Example'));
    const match = /```js\n([\s\S]*?)```/.exec(section);
    expect(match, 'a ```js block under "## Example"').to.not.equal(null);
    const r = await runNode(['-e', match![1]], 10000);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal('echoed: hello\n');
  });
});
