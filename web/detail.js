// The selected row's panel: what bounds it, its figures in words, its memory part by part, for
// training the token budget's time and cost (cloud and owned), your price, the model's notes.

import { si } from './chart.js';
import { boundWords, costUnit, devicesText, fmtBytes, fmtDuration as fmtMs, fmtUsd } from './format.js';
import { memoryPanel, memoryWords } from './memory.js';

/**
 * Fills `detail` for `row` of ranking `r`. ctx: { owned (the cost mode), other (the same
 * device's row ranked in the other cost mode, training only; null if none), priceEditor (an
 * element) }.
 */
export function renderDetail(detail, row, r, ctx) {
  detail.replaceChildren();
  const h = document.createElement('h2');
  h.textContent = `${row.rank}. ${row.name}: ${devicesText(row)}, batch ${row.batch}`;
  const p = document.createElement('p');
  p.textContent = `${row.explanation}.`;
  const dl = document.createElement('dl');
  // `key` and `value`: the figure behind the words, as data-k and data-v.
  const add = (k, v, key, value) => {
    if (v === undefined || v === '') return;
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    if (key) dd.dataset.k = key;
    if (value !== undefined && value !== null) dd.dataset.v = String(value);
    if (typeof v === 'string') dd.textContent = v; else dd.append(v);
    dl.append(dt, dd);
  };
  add('Throughput', `${si(row.throughput_per_s)} ${r.throughput_unit} (${si(row.throughput_per_device)} per device)`);
  const cost = costUnit(r.rows, r.throughput_unit);
  add('Cost', row.usd_per_hour == null ? `${row.cost_basis}: ranked by throughput per device after the priced rows; enter a price below` : `$${row.usd_per_hour.toFixed(2)}/hour, $${si(row.usd_per_million * cost.factor)} ${cost.per} — ${row.cost_basis}`);
  const decoder = r.family === 'decoder' || r.family === 'moe';
  const training = r.family === 'training';
  add('Latency', decoder ? `time to first token ${fmtMs(row.ttft_s)}, time per output token ${fmtMs(row.tpot_s)}` : `${fmtMs(row.latency_s)} per ${training ? 'training step' : 'batch'}`);
  if (training) {
    const t = row.training;
    add('Token budget', t ? `${si(t.tokens)} tokens in ${fmtMs(t.time_to_train_s)} at ${si(row.throughput_per_s)} tokens/s` : 'the workload gives no token budget', 'time_to_train', t?.time_to_train_s);
    if (t) {
      const here = (x) => (x?.training?.usd == null ? 'no price' : `${fmtUsd(x.training.usd)} (${x.cost_basis})`);
      const other = ctx.other;
      const otherText = !other
        ? 'not ranked in that mode'
        : `${here(other)}${other.layout_text === row.layout_text ? '' : `, on ${devicesText(other)} in ${fmtMs(other.training?.time_to_train_s)}`}`;
      const [cloud, owned] = ctx.owned ? [other, row] : [row, other];
      add('Cost to train, cloud (rent)', ctx.owned ? otherText : here(row), 'train_cloud', cloud?.training?.usd);
      add('Cost to train, owned (buy)', ctx.owned ? here(row) : otherText, 'train_owned', owned?.training?.usd);
      if (t.kwh != null) add('Energy to train', `${si(t.kwh)} kWh at TDP`);
    }
  }
  add('Bound', row.bound ? `${boundWords(row.bound)}, ${Math.round(row.bound_share * 100)}% of the time; communication ${Math.round(row.communication_share * 100)}%` : '');
  add('If bandwidth were +10%', `${(row.sensitivity.bandwidth_plus_10 * 100).toFixed(1)}% throughput`);
  add('If compute were +10%', `${(row.sensitivity.compute_plus_10 * 100).toFixed(1)}% throughput`);
  add('Memory per device', `${memoryWords(row.memory)}: ${memorySummary(row.memory)}`, 'memory');
  add('Energy', row.joules_per_unit ? `${si(row.joules_per_unit)} J per unit at TDP; ${si(row.kwh_per_year)} kWh a year` : '');
  add('Basis', `${row.provenance}`);
  detail.append(h, p, dl, memoryPanel(row), ctx.priceEditor);
  if (row.notes.length) {
    const ul = document.createElement('ul');
    for (const n of row.notes) { const li = document.createElement('li'); li.textContent = n; ul.append(li); }
    detail.append(ul);
  }
}

/** "61.2 GB of 72 GB usable, 10.8 GB left" or "…, 4 GB more than the usable 72 GB". */
function memorySummary(m) {
  return m.headroom_bytes >= 0
    ? `${fmtBytes(m.per_device_bytes)} of ${fmtBytes(m.usable_bytes)} usable, ${fmtBytes(m.headroom_bytes)} left`
    : `${fmtBytes(m.per_device_bytes)}, ${fmtBytes(-m.headroom_bytes)} more than the usable ${fmtBytes(m.usable_bytes)}`;
}
