// The answer in one sentence, above everything else: what to rent or buy, how many, at what price
// per million units of the workload, at what latency, bounded by what; for training, how long the
// token budget takes and what it costs; the cost's error band, and the rows too close to call. It
// follows the #1 row. Words only: every figure is the row's, from ridge-core.

import { si } from './chart.js';
import { boundWords, costUnit, fmtDuration, fmtUsd } from './format.js';

/** "300 billion", "1.5 trillion", "820 million". */
function count(v) {
  for (const [s, w] of [[1e12, 'trillion'], [1e9, 'billion'], [1e6, 'million']]) if (v >= s) return `${+(v / s).toPrecision(3)} ${w}`;
  return si(v);
}

/**
 * Fills `host` with the recommendation for ranking `r` (null: none, the input has a problem).
 * ctx: { owned, workloadName, maxDevices }. Each figure is a span with `data-k` (the row's field)
 * and `data-v` (its value in the unit shown), for tests and the curious.
 */
export function renderAnswer(host, r, ctx) {
  host.replaceChildren();
  const put = (text) => host.append(document.createTextNode(text));
  const fig = (k, v, text) => {
    const s = document.createElement('strong');
    s.dataset.k = k;
    s.dataset.v = String(v);
    s.textContent = text;
    host.append(s);
  };
  if (!r) {
    host.dataset.hardware = '';
    put('No recommendation until the input is fixed (see the marked fields).');
    return;
  }
  const row = r.rows[0];
  if (!row) {
    host.dataset.hardware = '';
    put(`Nothing fits on up to ${ctx.maxDevices} devices; the reasons, and the smallest device count that fits, are below.`);
    return;
  }
  host.dataset.hardware = row.hardware;
  const training = r.family === 'training';
  const decoder = r.family === 'decoder' || r.family === 'moe';
  const cost = costUnit(r.rows, r.throughput_unit);
  put(`${ctx.owned ? 'Buy' : 'Rent'} `);
  fig('devices', row.devices, String(row.devices));
  put(' × ');
  fig('hardware', row.hardware, row.name);
  if (row.devices > 1) put(` (${row.layout_text})`);
  if (training && row.training) {
    put(` to train on ${count(row.training.tokens)} tokens (${ctx.workloadName}) in `);
    fig('time_to_train_s', row.training.time_to_train_s, fmtDuration(row.training.time_to_train_s));
    if (row.training.usd != null) {
      put(' for ');
      fig('training_usd', row.training.usd, fmtUsd(row.training.usd));
    }
  }
  if (row.usd_per_million == null) {
    put(' (no public price: enter yours in its panel)');
  } else {
    put(training && row.training ? ' (' : ' at ');
    fig('usd_per_million', row.usd_per_million * cost.factor, `$${si(row.usd_per_million * cost.factor)}`);
    put(` ${cost.per}`);
    put(training && row.training ? ')' : `, $${row.usd_per_hour.toFixed(2)} an hour`);
    // The error band: where published runs of such rows came in against ridge (ridge-core's band).
    const band = row.band?.usd_per_million;
    if (band && !(training && row.training)) {
      put(' (likely ');
      fig('usd_per_million_band', `${band.low * cost.factor}-${band.high * cost.factor}`, `$${si(band.low * cost.factor)}–$${si(band.high * cost.factor)}`);
      put(` ${cost.per} by ridge's record against published runs)`);
    }
  }
  put(': ');
  if (decoder) {
    fig('ttft_s', row.ttft_s, fmtDuration(row.ttft_s));
    put(' to first token, ');
    fig('tpot_s', row.tpot_s, fmtDuration(row.tpot_s));
    put(' per token, ');
  } else {
    fig('latency_s', row.latency_s, fmtDuration(row.latency_s));
    put(training ? ' per step, ' : ` per batch of ${row.batch}, `);
  }
  fig('throughput_per_s', row.throughput_per_s, si(row.throughput_per_s));
  put(` ${r.throughput_unit}`);
  if (row.bound) {
    put('; ');
    fig('bound', row.bound, boundWords(row.bound));
  }
  put('.');
  const close = r.too_close_to_call ?? [];
  if (close.length > 1) {
    put(` Too close to call against ${close.slice(1).map((k) => `#${k}`).join(', ')}: measure them (ridge run) before buying.`);
  }
}
