'use strict';
// svg.js - a horizontal bar chart of protonet/node ratios, one bar per
// metric, a line at 1.0 and a tick at each target. Green: better than
// node:net in the metric's direction; red: worse.
const { rowsOf } = require('./table');

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function chart(results) {
  const rows = rowsOf(results).filter((r) => Number.isFinite(r.ratio));
  const labelW = 300;
  const barW = 420;
  const rowH = 26;
  const top = 44;
  const height = top + rows.length * rowH + 30;
  const width = labelW + barW + 90;
  const maxRatio = Math.max(2, ...rows.map((r) => r.ratio), ...rows.map((r) => r.target || 0));
  const x = (v) => labelW + (v / maxRatio) * barW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">protonet / node:net (medians) — ${esc(results.date.slice(0, 10))}, ${esc(results.machine.cpus)} cores, Node ${esc(results.machine.node)}${results.quick ? ', --quick' : ''}</text>`,
    `<text x="10" y="36" fill="#555">green: better than node:net; red: worse; black tick: target</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const good = r.better === 'higher' ? r.ratio >= 1 : r.ratio <= 1;
    out.push(`<text x="${labelW - 8}" y="${y + 16}" text-anchor="end">${esc(`${r.workload}: ${r.label}`)}</text>`);
    out.push(`<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, x(r.ratio) - labelW).toFixed(1)}" height="${rowH - 8}" fill="${good ? '#3a9d5d' : '#d0493f'}"/>`);
    out.push(`<text x="${(x(r.ratio) + 4).toFixed(1)}" y="${y + 16}">${r.ratio.toFixed(2)}</text>`);
    if (r.target !== undefined) {
      out.push(`<line x1="${x(r.target).toFixed(1)}" x2="${x(r.target).toFixed(1)}" y1="${y + 2}" y2="${y + rowH - 2}" stroke="#000" stroke-width="2"/>`);
    }
  });
  const one = x(1).toFixed(1);
  out.push(`<line x1="${one}" x2="${one}" y1="${top}" y2="${top + rows.length * rowH}" stroke="#888" stroke-dasharray="4 3"/>`);
  out.push(`<text x="${one}" y="${top + rows.length * rowH + 16}" text-anchor="middle" fill="#555">1.0</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

module.exports = { chart };
