#!/usr/bin/env node
// Runs the whole native CTest suite against native/core/poller_kqueue.cc on
// Linux, where no kqueue exists: test/native/kqueue_shim emulates kqueue over
// epoll (test-only; see its sys/event.h for what it cannot show). Two builds:
//   build/native-kqueue-shim  EVFILT_USER wake-up (macOS, FreeBSD, NetBSD 10)
//   build/native-kqueue-pipe  EVFILT_USER hidden, pipe wake-up (OpenBSD), and
//                             UDP through recvmsg/sendmsg loops as there (no recvmmsg)
// `--user-only` skips the second. Other arguments go to cmake's configure step.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const ctest = path.join(__dirname, 'ctest.js');
let args = process.argv.slice(2);
const userOnly = args.includes('--user-only');
args = args.filter((a) => a !== '--user-only');

const runs = [['--build-dir=build/native-kqueue-shim', '-DPN_POLLER=kqueue', '-DCMAKE_CXX_FLAGS=']];
if (!userOnly) {
  runs.push(['--build-dir=build/native-kqueue-pipe', '-DPN_POLLER=kqueue',
    '-DCMAKE_CXX_FLAGS=-DPN_KQUEUE_SHIM_NO_USER -DPN_UDP_NO_MMSG']);
}
for (const run of runs) {
  console.log(`\n== kqueue over the epoll shim: ${run.slice(1).join(' ')}`);
  try {
    execFileSync(process.execPath, [ctest, ...run, ...args], { stdio: 'inherit' });
  } catch (err) {
    process.exit(typeof err.status === 'number' && err.status !== 0 ? err.status : 1);
  }
}
