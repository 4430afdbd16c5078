// Two or three chosen rows side by side: throughput, latency, price, energy, bound and memory, in
// the page and in the exports. The choice is a list of hardware ids (in the URL as `cmp`); a row
// no longer ranked drops out of it.

import { si } from './chart.js';
import { boundWords, costUnit, fmtBytes, fmtDuration, fmtUsd } from './format.js';

/** The most rows compared at once. */
export const MAX_COMPARED = 3;

/** The chosen rows still ranked, in the order chosen. */
export function comparedRows(r, ids) {
  if (!r) return [];
  return ids.map((id) => r.rows.find((x) => x.hardware === id)).filter(Boolean);
}

/** The comparison as flat records (one per row) for the exports, in the units of `ridge match`. */
export function comparisonRecords(r, ids) {
  return comparedRows(r, ids).map((x) => ({
    rank: x.rank,
    hardware: x.hardware,
    name: x.name,
    devices: x.devices,
    layout: x.layout_text,
    batch: x.batch,
    throughput_per_s: x.throughput_per_s,
    throughput_unit: r.throughput_unit,
    usd_per_million: x.usd_per_million,
    usd_per_hour: x.usd_per_hour,
    ttft_s: x.ttft_s,
    tpot_s: x.tpot_s,
    latency_s: x.latency_s,
    joules_per_unit: x.joules_per_unit,
    kwh_per_year: x.kwh_per_year,
    bound: x.bound,
    bound_share: x.bound_share,
    communication_share: x.communication_share,
    memory_per_device_bytes: x.memory_per_device_bytes,
    usable_memory_bytes: x.memory.usable_bytes,
    headroom_bytes: x.memory.headroom_bytes,
    time_to_train_s: x.training?.time_to_train_s,
    training_usd: x.training?.usd,
    provenance: x.provenance,
  }));
}

/** `# compare N: key=value; ...` lines for a CSV's head. */
export function comparisonComments(records) {
  return records.map((rec, i) => `# compare ${i + 1}: ${Object.entries(rec).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `${k}=${v}`).join('; ')}\n`).join('');
}

/**
 * Draws the comparison into `host` (hidden with fewer than two rows). `on.clear()` empties the
 * choice.
 */
export function renderComparison(host, r, ids, on) {
  const rows = comparedRows(r, ids);
  host.hidden = rows.length < 2;
  host.replaceChildren();
  if (rows.length < 2) return;
  const h = document.createElement('h2');
  h.id = 'comparison-title';
  h.textContent = `${rows.map((x) => x.name).join(' against ')}`;
  const clear = document.createElement('button');
  clear.type = 'button';
  clear.id = 'comparison-clear';
  clear.textContent = 'Clear the comparison';
  clear.addEventListener('click', on.clear);
  const decoder = r.family === 'decoder' || r.family === 'moe';
  const cost = costUnit(r.rows, r.throughput_unit);
  const metrics = [
    ['rank', 'Rank', (x) => `#${x.rank}`],
    ['devices', 'Devices', (x) => (x.devices === 1 ? '1 device' : `${x.devices} devices · ${x.layout_text}`)],
    ['throughput_per_s', `Throughput (${r.throughput_unit})`, (x) => `${si(x.throughput_per_s)} (${si(x.throughput_per_device)} per device)`],
    ['usd_per_million', cost.words, (x) => (x.usd_per_million == null ? 'no price' : `$${si(x.usd_per_million * cost.factor)}`)],
    ['usd_per_hour', 'US dollars per hour', (x) => (x.usd_per_hour == null ? 'no price' : `$${x.usd_per_hour.toFixed(2)}`)],
    ...(decoder
      ? [['ttft_s', 'Time to first token', (x) => fmtDuration(x.ttft_s)], ['tpot_s', 'Time per output token', (x) => fmtDuration(x.tpot_s)]]
      : [['latency_s', r.family === 'training' ? 'Time per step' : 'Time per batch', (x) => fmtDuration(x.latency_s)]]),
    ...(r.family === 'training'
      ? [['time_to_train_s', 'Time to train the budget', (x) => fmtDuration(x.training?.time_to_train_s)], ['training_usd', 'Cost to train it', (x) => fmtUsd(x.training?.usd) || 'no price']]
      : []),
    ['joules_per_unit', `Energy per ${r.throughput_unit.replace(/\/s$/, '').replace(/s$/, '')} at TDP`, (x) => (x.joules_per_unit ? `${si(x.joules_per_unit)} J` : 'no TDP')],
    ['kwh_per_year', 'Energy a year', (x) => (x.kwh_per_year ? `${si(x.kwh_per_year)} kWh` : 'no TDP')],
    ['bound', 'Bound by', (x) => (x.bound ? `${boundWords(x.bound)}, ${Math.round(x.bound_share * 100)}% of the time` : '')],
    ['memory_per_device_bytes', 'Memory per device', (x) => `${fmtBytes(x.memory_per_device_bytes)} of ${fmtBytes(x.memory.usable_bytes)} usable`],
    ['headroom_bytes', 'Headroom per device', (x) => (x.memory.headroom_bytes >= 0 ? fmtBytes(x.memory.headroom_bytes) : `short by ${fmtBytes(-x.memory.headroom_bytes)}`)],
  ];
  const table = document.createElement('table');
  table.id = 'comparison-table';
  const caption = document.createElement('caption');
  caption.textContent = 'The chosen rows side by side; untick a row in the ranking to take it out.';
  const head = document.createElement('tr');
  const corner = document.createElement('td');
  head.append(corner);
  for (const x of rows) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.dataset.hardware = x.hardware;
    th.textContent = x.name;
    head.append(th);
  }
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  for (const [key, words, text] of metrics) {
    const tr = document.createElement('tr');
    tr.dataset.metric = key;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = words;
    tr.append(th);
    for (const x of rows) {
      const td = document.createElement('td');
      td.textContent = text(x) ?? '';
      tr.append(td);
    }
    tbody.append(tr);
  }
  table.append(caption, thead, tbody);
  const wrap = document.createElement('div');
  wrap.className = 'table-wrap';
  wrap.tabIndex = 0;
  wrap.setAttribute('role', 'region');
  wrap.setAttribute('aria-label', 'The comparison (scrolls sideways on a narrow screen)');
  wrap.append(table);
  host.append(h, wrap, clear);
}
