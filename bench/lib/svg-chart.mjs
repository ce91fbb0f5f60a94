// One SVG bar chart per scenario: req/s of each target, node:cluster's bar
// marked, so the table's story can be read at a glance (and shown in the README).
const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** @param {{ title: string, bars: { label: string, value: number, reference?: boolean, corral?: boolean }[] }} chart */
export function barChart({ title, bars }) {
  const width = 720;
  const labelWidth = 250;
  const barHeight = 22;
  const gap = 8;
  const top = 36;
  const height = top + bars.length * (barHeight + gap) + 10;
  const max = Math.max(1, ...bars.map((bar) => (Number.isFinite(bar.value) ? bar.value : 0)));
  const scale = (width - labelWidth - 90) / max;
  const rows = bars.map((bar, index) => {
    const y = top + index * (barHeight + gap);
    const value = Number.isFinite(bar.value) ? bar.value : 0;
    const fill = bar.corral ? '#1f7a4d' : bar.reference ? '#5b6475' : '#9aa3b5';
    const text = Number.isFinite(bar.value) ? `${Math.round(bar.value).toLocaleString('en-US')} req/s` : 'not measured';
    return [
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${(value * scale).toFixed(1)}" height="${barHeight}" rx="3" fill="${fill}"/>`,
      `<text x="${labelWidth + value * scale + 6}" y="${y + 15}">${text}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12" fill="#1d2433">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="12" y="22" font-size="14" font-weight="600">${escape(title)}</text>
${rows.join('\n')}
</svg>
`;
}
