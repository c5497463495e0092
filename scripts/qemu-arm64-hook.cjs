// Preloaded (NODE_OPTIONS=--require) into every arm64 Node that
// scripts/test-arm64.js runs under qemu-user. This machine has no binfmt_misc
// entry for arm64, so the kernel cannot start an arm64 executable by itself:
// a test that starts `process.execPath` (a child Node) must start it through
// qemu. PROTONET_ARM64_NODE names a small shell script that does exactly that,
// and process.execPath is made to point at it; child_process.fork() and every
// spawn(process.execPath, ...) then reach the same arm64 Node, with this hook
// preloaded again through the inherited NODE_OPTIONS.
'use strict';
const launcher = process.env.PROTONET_ARM64_NODE;
if (launcher && process.arch === 'arm64') process.execPath = launcher;
