const escape = (text) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * A horizontal bar per comparison: the ratio on a log scale, a dot for the ratio of CPU time per request, a line at
 * 1× (as fast as the baseline) and a mark at the target where there is one. Plain SVG, so the README shows it without a plotting dependency.
 */
export function renderChart(rows) {
  const labelWidth = 540;
  const plotWidth = 420;
  const rowHeight = 26;
  const top = 34;
  const height = top + rows.length * rowHeight + 30;
  const low = 0.25;
  const high = 2 ** Math.ceil(Math.log2(Math.max(2, ...rows.flatMap((row) => [row.ratio * 1.2, row.cpuRatio * 1.2]))));
  const x = (ratio) => labelWidth + (Math.log(Math.max(ratio, low) / low) / Math.log(high / low)) * plotWidth;
  const ticks = [];
  for (let tick = low; tick <= high; tick *= 2) ticks.push(tick);

  const bars = rows.map((row, index) => {
    const y = top + index * rowHeight;
    const met = row.target === undefined || row.ratio >= row.target;
    const target =
      row.target === undefined
        ? ''
        : `<line x1="${x(row.target)}" x2="${x(row.target)}" y1="${y + 2}" y2="${y + rowHeight - 4}" stroke="#b91c1c" stroke-width="2"/>`;
    return `<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${escape(row.label)}</text>
<rect x="${labelWidth}" y="${y + 5}" width="${x(row.ratio) - labelWidth}" height="${rowHeight - 12}" fill="${met ? '#2563eb' : '#f59e0b'}"/>
<text x="${Math.max(x(row.ratio), x(row.cpuRatio)) + 6}" y="${y + 16}">${row.ratio.toFixed(2)}×</text>
<circle cx="${x(row.cpuRatio)}" cy="${y + rowHeight / 2 - 1}" r="4" fill="#111"/>${target}`;
  });
  const axis = ticks.map(
    (
      tick,
    ) => `<line x1="${x(tick)}" x2="${x(tick)}" y1="${top - 4}" y2="${height - 26}" stroke="${tick === 1 ? '#111' : '#ddd'}"/>
<text x="${x(tick)}" y="${height - 10}" text-anchor="middle">${tick}×</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 60}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="18" font-weight="bold">Ours against each baseline, same run (log scale): bar, requests per second; dot, CPU per request; red, target</text>
${axis.join('\n')}
${bars.join('\n')}
</svg>
`;
}
