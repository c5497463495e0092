'use strict';
// single_run.js - options for one run of a workload outside the full bench
// (bench/profile.js, bench/ab.js); key=value arguments override them.
const SINGLE_RUN_DEFAULTS = {
  bulk: { bytes: 256 * 1024 * 1024 },
  pingpong: { size: 64, count: 20000, warmup: 1000 },
  fanin: { conns: 100, size: 1024, secs: 3 },
  connrate: { count: 5000, inflight: 50 },
  'udp-pingpong': { size: 64, count: 50000, warmup: 1000 },
  'udp-fanin': { clients: 100, size: 200, rate: 50000, secs: 3 },
};

/** The defaults of `name` with "key=value" strings applied (numbers). */
function singleRunOptions(name, pairs) {
  const opts = { ...SINGLE_RUN_DEFAULTS[name] };
  for (const pair of pairs) {
    const [k, v] = pair.split('=');
    opts[k] = Number(v);
  }
  return opts;
}

module.exports = { SINGLE_RUN_DEFAULTS, singleRunOptions };
