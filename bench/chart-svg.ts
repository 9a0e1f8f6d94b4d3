import { formatLimit, formatValue, type TargetCheck } from './target-check.ts';

const WIDTH = 920;
const LABEL_WIDTH = 400;
const BAR_X = LABEL_WIDTH + 10;
const BAR_WIDTH = 380;
const ROW_HEIGHT = 46;
const TOP = 56;
const MET = '#2e7d32';
const MISSED = '#c62828';
const INK = '#1f2328';
const MUTED = '#59636e';

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A horizontal bar per target, hand-written SVG. Each row has its own scale (ratios, milliseconds
 * and megabytes share no axis): the bar is the measured value, the dark tick the target, green
 * when met and red when missed.
 */
export function chartSvg(checks: readonly TargetCheck[], title: string): string {
  const height = TOP + checks.length * ROW_HEIGHT + 40;
  const rows = checks.map((check, i) => {
    const y = TOP + i * ROW_HEIGHT;
    const value = Number.isFinite(check.value) ? check.value : 0;
    const scale = Math.max(value, check.limit) * 1.25;
    const barLength = Math.max(1, (value / scale) * BAR_WIDTH);
    const tickX = BAR_X + (check.limit / scale) * BAR_WIDTH;
    const colour = check.met ? MET : MISSED;
    const valueText = `${formatValue(check.value, check.unit)} ${check.met ? 'met' : 'missed'}`;
    return [
      `  <g>`,
      `    <text x="${LABEL_WIDTH}" y="${y + 22}" text-anchor="end" fill="${INK}">${escapeXml(check.label)}</text>`,
      `    <rect x="${BAR_X}" y="${y + 8}" width="${BAR_WIDTH}" height="20" fill="#f0f2f4"/>`,
      `    <rect x="${BAR_X}" y="${y + 8}" width="${barLength.toFixed(1)}" height="20" fill="${colour}"/>`,
      `    <line x1="${tickX.toFixed(1)}" y1="${y + 3}" x2="${tickX.toFixed(1)}" y2="${y + 33}" stroke="${INK}" stroke-width="2"/>`,
      `    <text x="${tickX.toFixed(1)}" y="${y + 44}" text-anchor="middle" font-size="11" fill="${MUTED}">${escapeXml(`target ${formatLimit(check)}`)}</text>`,
      `    <text x="${BAR_X + BAR_WIDTH + 10}" y="${y + 22}" fill="${colour}" font-weight="bold">${escapeXml(valueText)}</text>`,
      `  </g>`,
    ].join('\n');
  });
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="13">`,
    `  <rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `  <text x="20" y="30" font-size="16" font-weight="bold" fill="${INK}">${escapeXml(title)}</text>`,
    ...rows,
    `  <text x="20" y="${height - 14}" font-size="11" fill="${MUTED}">Each row has its own scale. Bar: measured (green met, red missed); dark tick: the target.</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
