// Words and numbers as a buyer reads them: durations in ms or s, device counts spelled, costs in a
// unit that gives readable figures. Formatting only: every figure comes from ridge-core.

import { si } from './chart.js';

/** A duration given in seconds: "450 ms", "4.25 s", "12.5 min", "3.2 h", "21.4 days". */
export function fmtDuration(s) {
  if (s === undefined || s === null || !Number.isFinite(s)) return '';
  if (s < 1) return `${si(s * 1e3)} ms`;
  if (s < 600) return `${+s.toPrecision(3)} s`;
  if (s < 7200) return `${+(s / 60).toPrecision(3)} min`;
  if (s < 2 * 86400) return `${+(s / 3600).toPrecision(3)} h`;
  return `${+(s / 86400).toPrecision(3)} days`;
}

/** Bytes in decimal units as vendors quote memory: "61.2 GB", "820 MB". */
export function fmtBytes(b) {
  if (b === undefined || b === null || !Number.isFinite(b)) return '';
  const a = Math.abs(b);
  for (const [s, u] of [[1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'kB']]) if (a >= s) return `${+(b / s).toPrecision(3)} ${u}`;
  return `${+b.toPrecision(3)} B`;
}

/** US dollars: "$0.93", "$41.2k", "$3.1M". */
export function fmtUsd(v) {
  if (v === undefined || v === null || !Number.isFinite(v)) return '';
  return Math.abs(v) >= 1000 ? `$${si(v)}` : `$${+v.toPrecision(3)}`;
}

/** What bounds a row, in words: "memory-bandwidth bound". */
export function boundWords(bound) {
  return {
    compute: 'compute bound',
    memory: 'memory-bandwidth bound',
    interconnect: 'bound by the links between devices',
    'host-link': 'bound by the host link',
    overhead: 'bound by kernel launch overhead',
    'input-pipeline': 'bound by the input pipeline (storage, network or host preprocessing)',
  }[bound] ?? (bound ? `${bound} bound` : '');
}

/** The parts of a row's memory per device, in the order drawn: [key, words]. */
export const MEMORY_PARTS = [
  ['weights_bytes', 'weights'],
  ['kv_cache_bytes', 'KV cache'],
  ['activation_bytes', 'activations'],
  ['gradient_bytes', 'gradients'],
  ['optimizer_bytes', 'optimizer state'],
];

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
