// addon-sources.js - what binding.gyp says the addon is made of, for one
// target OS: sources, defines, compiler flags and include folders. The cross
// builds (scripts/build-cross.js) read it from binding.gyp so that node-gyp
// and they never list different sources.
//
// binding.gyp is a Python literal; with its comments removed it is also a
// JavaScript one. Conditions are gyp's small expression language; only what
// binding.gyp uses is understood: OS=='x', OS!='x', joined by `or` / `and`.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

function readGyp() {
  const text = fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8')
    .split('\n').filter((line) => !/^\s*#/.test(line)).join('\n');
  // eslint-disable-next-line no-new-func
  return new Function(`return (${text});`)();
}

function conditionHolds(expr, os) {
  if (!/^(\s*OS\s*[!=]=\s*'\w+'\s*(or|and)?)+$/.test(expr)) {
    throw new Error(`binding.gyp: condition not understood: ${expr}`);
  }
  const js = expr.replace(/\bOS\b/g, JSON.stringify(os)).replace(/\bor\b/g, '||').replace(/\band\b/g, '&&');
  // eslint-disable-next-line no-new-func
  return new Function(`return (${js});`)();
}

/** Include folders: gyp's `<!(node -p "...")` command expansions are evaluated here. */
function resolveInclude(dir) {
  const m = /^<!\(node -p "(.*)"\)$/.exec(dir);
  // eslint-disable-next-line no-new-func
  const value = m ? new Function('require', `return (${m[1].replace(/\\"/g, '"')});`)((id) => require(require.resolve(id, { paths: [root] }))) : dir;
  return path.resolve(root, value);
}

/**
 * os: gyp's OS name ('linux', 'mac', 'win'). Returns absolute source paths,
 * defines (NAME or NAME=VALUE), cflags_cc, include folders (node-addon-api's,
 * the core's, and node-api-headers' for node_api.h) and libraries.
 */
function addonSources(os) {
  const target = readGyp().targets.find((t) => t.target_name === 'protonet');
  const out = { sources: [...target.sources], defines: [...target.defines], cflags: [...(target.cflags_cc || [])],
    includes: target.include_dirs.map(resolveInclude), libraries: [...(target.libraries || [])] };
  for (const [expr, add] of target.conditions || []) {
    if (!conditionHolds(expr, os)) continue;
    out.sources.push(...(add.sources || []));
    out.defines.push(...(add.defines || []));
    out.libraries.push(...(add.libraries || []));
  }
  out.sources = out.sources.map((s) => path.join(root, s));
  out.includes.push(require(require.resolve('node-api-headers', { paths: [root] })).include_dir);
  return out;
}

module.exports = { addonSources };
