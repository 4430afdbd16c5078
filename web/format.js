// Words and numbers as a buyer reads them: durations in ms or s, device counts spelled, costs in a
// unit that gives readable figures. Formatting only: every figure comes from ridge-core.

import { si } from './chart.js';

/** A duration given in seconds: "450 ms", "4.25 s", "12.5 min", "3.2 h". */
export function fmtDuration(s) {
  if (s === undefined || s === null || !Number.isFinite(s)) return '';
  if (s < 1) return `${si(s * 1e3)} ms`;
  if (s < 600) return `${+s.toPrecision(3)} s`;
  if (s < 7200) return `${+(s / 60).toPrecision(3)} min`;
  return `${+(s / 3600).toPrecision(3)} h`;
}

/** "1 device", or "8 devices · TP8". */
export function devicesText(row) {
  return row.devices === 1 ? '1 device' : `${row.devices} devices · ${row.layout_text}`;
}

/** "generated tokens" for "generated tokens/s". */
export function unitNoun(throughputUnit) {
  return throughputUnit.replace(/\/s$/, '');
}

const SCALES = [[1e6, 'M', 'million'], [1e9, 'B', 'billion'], [1e12, 'T', 'trillion']];

/**
 * The unit for a table's cost per unit of work: per million, or per billion or trillion where
 * the cheapest priced row would read under a cent per million. `factor` multiplies
 * `usd_per_million`.
 */
export function costUnit(rows, throughputUnit) {
  const priced = rows.map((x) => x.usd_per_million).filter((v) => v != null && v > 0);
  const least = priced.length ? Math.min(...priced) : 1;
  let i = 0;
  while (i < SCALES.length - 1 && least * (SCALES[i][0] / 1e6) < 0.01) i++;
  const [per, abbr, word] = SCALES[i];
  const noun = unitNoun(throughputUnit);
  return { factor: per / 1e6, abbr: `$ / ${abbr}`, short: `/${abbr}`, per: `per ${word} ${noun}`, words: `US dollars per ${word} ${noun}` };
}

/** A cost in US dollars, three significant figures. */
export function usd(v) {
  return v === undefined || v === null ? '' : si(v);
}
