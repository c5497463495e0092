'use strict';
// stats.js - medians and percentiles.

function percentile(values, p) {
  const a = Array.from(values).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const idx = Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1));
  return a[idx];
}

const median = (values) => {
  const a = Array.from(values).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};

function summary(values) {
  const ok = values.filter((v) => Number.isFinite(v));
  return { median: median(ok), min: Math.min(...ok), max: Math.max(...ok), n: ok.length };
}

module.exports = { percentile, median, summary };
