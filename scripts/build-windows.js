#!/usr/bin/env node
// build-windows.js - cross-compiles the addon (native/napi + native/core) for
// win32-x64 with mingw-w64 on this Linux machine. `npm run build:windows`.
//
// The addon links against node.exe's Node-API exports through an import
// library made from node-api-headers' .def file (dlltool), as MSVC builds do
// with node.lib; so the host executable must be named node.exe. libstdc++,
// libgcc and winpthreads are linked statically (cmake/mingw-w64.cmake): the
// .node file needs nothing but Windows' own DLLs and node.exe, which this
// script checks with objdump.
//
// Writes build-win/protonet.node and the stripped prebuild
// prebuilds/win32-x64/protonet.node (node-gyp-build's layout, the name
// prebuildify gives the linux-x64 one). Tools come from apt-get when missing
// and running as root (scripts/lib/windows.js).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { ensureTools, root } = require('./lib/windows');

const outDir = path.join(root, 'build-win');
const prebuildDir = path.join(root, 'prebuilds', 'win32-x64');
const jobs = String(Math.max(1, require('node:os').availableParallelism?.() ?? 2));

// DLLs a Node-API addon may import on Windows: the host and the system's own.
const ALLOWED_DLLS = new Set(['node.exe', 'kernel32.dll', 'ws2_32.dll', 'iphlpapi.dll', 'msvcrt.dll',
  'ntdll.dll', 'advapi32.dll', 'user32.dll', 'ucrtbase.dll']);

function run(cmd, args) {
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
}

function importedDlls(file) {
  const dump = execFileSync('x86_64-w64-mingw32-objdump', ['-p', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return [...dump.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1]);
}

/** Builds the addon; returns the path of build-win/protonet.node. */
function buildAddon() {
  ensureTools('build-windows');
  const headers = require(require.resolve('node-api-headers', { paths: [root] }));
  fs.mkdirSync(outDir, { recursive: true });
  const importLib = path.join(outDir, 'node.a');
  run('x86_64-w64-mingw32-dlltool', ['-d', headers.def_paths.node_api_def, '-l', importLib, '-D', 'node.exe']);

  // CMakeLists.txt builds the addon when CMAKE_JS_INC is set (as cmake-js does).
  run('cmake', ['-S', root, '-B', outDir, '-DCMAKE_BUILD_TYPE=Release',
    `-DCMAKE_TOOLCHAIN_FILE=${path.join(root, 'cmake', 'mingw-w64.cmake')}`,
    `-DCMAKE_JS_INC=${headers.include_dir}`, `-DCMAKE_JS_LIB=${importLib}`]);
  run('cmake', ['--build', outDir, '--target', 'protonet', '--parallel', jobs]);
  const built = path.join(outDir, 'protonet.node');

  const dlls = importedDlls(built);
  const foreign = dlls.filter((d) => !ALLOWED_DLLS.has(d.toLowerCase()));
  if (foreign.length > 0) {
    console.error(`build-windows: ${path.relative(root, built)} needs ${foreign.join(', ')}, which Windows does not have`);
    process.exit(1);
  }

  fs.mkdirSync(prebuildDir, { recursive: true });
  const prebuild = path.join(prebuildDir, 'protonet.node');
  run('x86_64-w64-mingw32-strip', ['-o', prebuild, built]);
  console.log(`build-windows: ${path.relative(root, built)} and ${path.relative(root, prebuild)} `
    + `(imports ${dlls.join(', ')})`);
  return built;
}

if (require.main === module) buildAddon();

module.exports = { buildAddon, builtAddon: path.join(outDir, 'protonet.node') };
