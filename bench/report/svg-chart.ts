/** One bar group: a label and one value per series. */
export interface BarRow {
  label: string;
  values: number[];
}

/** A horizontal grouped-bar panel. */
export interface Panel {
  title: string;
  unit: string;
  series: string[];
  rows: BarRow[];
}

const COLOURS = ['#3366cc', '#dc7633', '#7d3c98', '#2e8b57'];
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Render panels side by side as one self-contained SVG (no scripts, no external fonts). */
export function renderSvg(title: string, panels: Panel[]): string {
  const panelW = 440;
  const labelW = 190;
  const barH = 12;
  const heights = panels.map((p) => 60 + p.rows.length * (p.series.length * barH + 10));
  const h = Math.max(...heights) + 50;
  const w = panels.length * panelW + 20;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((p, pi) => {
    const x0 = 10 + pi * panelW;
    const max = Math.max(1e-9, ...p.rows.flatMap((r) => r.values.filter(Number.isFinite)));
    const scale = (panelW - labelW - 70) / max;
    out.push(`<text x="${x0}" y="42" font-size="12" font-weight="bold">${esc(p.title)}</text>`);
    p.series.forEach((s, si) => {
      out.push(
        `<rect x="${x0 + si * 110}" y="50" width="10" height="10" fill="${COLOURS[si % COLOURS.length]}"/>` +
          `<text x="${x0 + 14 + si * 110}" y="59">${esc(s)}</text>`,
      );
    });
    let y = 70;
    for (const row of p.rows) {
      out.push(`<text x="${x0}" y="${y + (p.series.length * barH) / 2 + 4}">${esc(row.label)}</text>`);
      row.values.forEach((v, si) => {
        const bw = Number.isFinite(v) ? Math.max(1, v * scale) : 0;
        out.push(
          `<rect x="${x0 + labelW}" y="${y}" width="${bw.toFixed(1)}" height="${barH - 2}" fill="${COLOURS[si % COLOURS.length]}"/>` +
            `<text x="${x0 + labelW + bw + 4}" y="${y + barH - 3}">${Number.isFinite(v) ? fmt(v) : 'n/a'}${esc(p.unit)}</text>`,
        );
        y += barH;
      });
      y += 10;
    }
  });
  out.push('</svg>');
  return out.join('\n');
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
