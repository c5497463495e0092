'use strict';
// table.js - the results table: median (min–max) per implementation, the
// protonet/node ratio of medians, and the target it is held to.

function fmt(v) {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

const cell = (s) => (s && Number.isFinite(s.median) ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : 'FAILED');

function verdict(m) {
  if (m.target === undefined || !Number.isFinite(m.ratio)) return '';
  const ok = m.better === 'higher' ? m.ratio >= m.target : m.ratio <= m.target;
  return `${m.better === 'higher' ? '≥' : '≤'} ${m.target.toFixed(2)} ${ok ? 'met' : 'NOT met'}`;
}

/** rows: [{ workload, label, node, protonet, ratio, target, better }] */
function rowsOf(results) {
  const rows = [];
  for (const w of results.workloads) {
    for (const m of w.metrics) {
      rows.push({
        workload: w.name, label: m.label, node: m.node, protonet: m.protonet,
        ratio: m.ratio, target: m.target, better: m.better, optional: m.optional,
      });
    }
  }
  return rows;
}

function markdown(results) {
  const lines = [
    '| workload | metric | node:net median (min–max) | protonet median (min–max) | protonet/node | target |',
    '| --- | --- | ---: | ---: | ---: | --- |',
  ];
  for (const r of rowsOf(results)) {
    if (r.optional && !Number.isFinite(r.node.median) && !Number.isFinite(r.protonet.median)) {
      lines.push(`| ${r.workload} | ${r.label} | not measured by this runtime | | | |`);
      continue;
    }
    lines.push(`| ${r.workload} | ${r.label} | ${cell(r.node)} | ${cell(r.protonet)} | ${Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '—'} | ${verdict(r)} |`);
  }
  const c = results.ceiling;
  if (c && !c.error) {
    lines.push(`| ceiling (C, plain syscalls) | bulk MB/s | ${fmt(c.mbps)} | | | |`);
    lines.push(`| ceiling (C, plain syscalls) | ping-pong round trips/s; RTT min / p50 µs | ${fmt(c.rtps)}; ${fmt(c.minUs)} / ${fmt(c.p50us)} | | | |`);
  }
  return lines.join('\n');
}

module.exports = { markdown, fmt, verdict, rowsOf };
