import type { DaySignIns } from './organization-metrics.ts';

/** What the chart says in the reader's language; the caller formats the days as it likes. */
export interface SignInsChartLabels {
  /** The accessible name, e.g. "Inicios de sesión por día, últimos 30 días". */
  title: string;
  /** A summary for screen readers, e.g. "Total: 42; máximo 7 el 28 nov." (the table beside it has each day). */
  description: string;
  /** How a day is written under the bars and in each bar's tooltip, e.g. "28 nov."; default YYYY-MM-DD. */
  day?: (day: string) => string;
  /** A bar's tooltip, e.g. (4, "28 nov.") → "28 nov.: 4 inicios de sesión"; default "28 nov.: 4". */
  bar?: (count: number, day: string) => string;
  /** The id the title and description hang from; unique in the page. Default "sign-ins-chart". */
  id?: string;
}

const WIDTH = 640;
const HEIGHT = 220;
const LEFT = 36;
const RIGHT = 8;
const TOP = 12;
const BOTTOM = 28;

/**
 * The sign-ins per day as an SVG drawn on the server: it needs no JavaScript, scales with its
 * container (viewBox), takes the page's colours (`currentColor`, classes of umbral.css), and
 * is an image with an accessible name and description (role="img", aria-labelledby); each bar has
 * its own <title> for pointer users. The page puts the same figures in a table beside it.
 */
export function signInsChartSvg(perDay: readonly DaySignIns[], labels: SignInsChartLabels): string {
  const id = labels.id ?? 'sign-ins-chart';
  const dayText = labels.day ?? ((day: string) => day);
  const barText = labels.bar ?? ((count: number, day: string) => `${day}: ${count}`);
  const max = Math.max(1, ...perDay.map((d) => d.count));
  const top = niceCeiling(max);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = perDay.length ? plotWidth / perDay.length : plotWidth;
  const barWidth = Math.max(1, slot * 0.7);
  const baseline = TOP + plotHeight;

  const bars = perDay.map((d, i) => {
    const height = (d.count / top) * plotHeight;
    const x = LEFT + i * slot + (slot - barWidth) / 2;
    const label = escapeXml(barText(d.count, dayText(d.day)));
    return `<rect class="chart-bar" x="${fixed(x)}" y="${fixed(baseline - height)}" width="${fixed(barWidth)}" height="${fixed(height)}" fill="currentColor"><title>${label}</title></rect>`;
  });
  // The first, middle and last days under the axis: enough to read the dates without crowding.
  const ticks = [...new Set([0, Math.floor((perDay.length - 1) / 2), perDay.length - 1])].filter((i) => i >= 0);
  const xLabels = ticks.map((i) => {
    const x = LEFT + i * slot + slot / 2;
    const anchor = i === 0 ? 'start' : i === perDay.length - 1 ? 'end' : 'middle';
    const tx = anchor === 'start' ? LEFT : anchor === 'end' ? WIDTH - RIGHT : x;
    return `<text x="${fixed(tx)}" y="${HEIGHT - 8}" text-anchor="${anchor}">${escapeXml(dayText(perDay[i]!.day))}</text>`;
  });
  const grid = (Number.isInteger(top / 2) ? [0, top / 2, top] : [0, top]).map((value) => {
    const y = baseline - (value / top) * plotHeight;
    return `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${fixed(y)}" y2="${fixed(y)}" stroke="currentColor" stroke-opacity="0.2"/><text x="${LEFT - 6}" y="${fixed(y + 4)}" text-anchor="end">${value}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="sign-ins-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-title ${id}-desc" preserveAspectRatio="xMidYMid meet" font-size="12">`,
    `<title id="${id}-title">${escapeXml(labels.title)}</title>`,
    `<desc id="${id}-desc">${escapeXml(labels.description)}</desc>`,
    `<g class="chart-grid" aria-hidden="true">${grid.join('')}</g>`,
    `<g class="chart-bars">${bars.join('')}</g>`,
    `<g class="chart-days" aria-hidden="true">${xLabels.join('')}</g>`,
    '</svg>',
  ].join('');
}

/** 1, 2 or 5 times a power of ten at or above `value`, so the axis reads in round figures. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function fixed(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
