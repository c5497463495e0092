// Preloaded (node -r / NODE_OPTIONS=--require) by scripts/sanitize.js: when
// PROTONET_ADDON names a .node file, protonet loads that file instead of the
// one node-gyp-build finds under build/Release (e.g. an AddressSanitizer build).
//
// It answers `require('node-gyp-build')` with a loader that ignores the package
// directory. Once lib/binding.ts honours PROTONET_ADDON itself this shim is a
// harmless no-op duplicate of that logic.
'use strict';
const path = require('node:path');
const Module = require('node:module');

const addon = process.env.PROTONET_ADDON;
if (addon) {
  const root = path.resolve(__dirname, '..');
  const id = require.resolve('node-gyp-build', { paths: [root] });
  const m = new Module(id, null);
  m.filename = id;
  m.loaded = true;
  m.exports = function loadOverride() {
    return require(path.resolve(addon));
  };
  require.cache[id] = m;
}
