// The ranking's plots that need no more than its rows: cost against throughput (the Pareto
// front) and the selected row's serving curve.

import { paretoFront } from './pkg/ridge_wasm.js';
import { draw, si } from './chart.js';
import { costUnit, fmtDuration as fmtMs } from './format.js';

const $ = (id) => document.getElementById(id);

/** Cost against throughput for every priced row, the Pareto front joined, `selected` marked. */
export function renderPareto(r, selected) {
  // Rows with no price have no cost to draw.
  const priced = r.rows.filter((x) => x.usd_per_million != null);
  const front = [...paretoFront(Float64Array.from(priced, (x) => x.throughput_per_s), Float64Array.from(priced, (x) => x.usd_per_million))].map((i) => priced[i]);
  const onFront = new Set(front.map((x) => x.hardware));
  const cost = costUnit(r.rows, r.throughput_unit);
  draw($('pareto-chart'), {
    title: `Cost (${cost.words}) against throughput`,
    x: { label: `throughput (${r.throughput_unit})`, log: true },
    y: { label: cost.abbr, log: true },
    lines: [{ label: 'Pareto front', cls: 'front', points: front.map((x) => [x.throughput_per_s, x.usd_per_million * cost.factor]), labelAt: false }],
    dots: priced.map((x) => ({
      x: x.throughput_per_s, y: x.usd_per_million * cost.factor, cls: `${onFront.has(x.hardware) ? 'front' : ''} ${x.hardware === selected ? 'selected' : ''}`,
      label: `${x.name}: ${si(x.throughput_per_s)} ${r.throughput_unit}, $${si(x.usd_per_million * cost.factor)}${cost.short}`,
      text: onFront.has(x.hardware) || x.hardware === selected ? x.hardware : undefined,
    })),
    empty: 'no configuration fits',
  });
}

// The selected row's serving curve: throughput per device against tokens per second per user,
// one point per number of requests in flight, the row's own point marked.
export function renderServing(row) {
  const curve = row?.curve || [];
  const opts = {
    title: row ? `Serving ${row.name} (${row.layout_text}): throughput per device against speed per user` : 'Serving',
    x: { label: 'tokens/s per user', log: true },
    y: { label: 'generated tokens/s per device', log: true },
    empty: row ? 'static batches: no serving curve' : 'no row selected',
  };
  if (!curve.length) { draw($('serving-chart'), opts); return; }
  draw($('serving-chart'), {
    ...opts,
    lines: [{ label: 'requests in flight', cls: 'scale', points: curve.map((p) => [p.tokens_per_s_per_user, p.output_tokens_per_s_per_device]), labelAt: false }],
    dots: curve.map((p) => ({
      x: p.tokens_per_s_per_user, y: p.output_tokens_per_s_per_device,
      cls: `${p.concurrency === row.batch ? 'selected' : ''} ${p.meets_targets ? 'front' : ''}`,
      label: `${si(p.concurrency)} in flight: ${si(p.tokens_per_s_per_user)} tok/s per user, ${si(p.output_tokens_per_s_per_device)} tok/s per device, TTFT ${fmtMs(p.ttft_s)}, TPOT ${fmtMs(p.tpot_s)}, ${p.usd_per_million == null ? 'no price' : `$${si(p.usd_per_million)}/M`}${p.meets_targets ? '' : ' (misses the targets)'}`,
      text: p.concurrency === row.batch ? `${si(p.concurrency)} in flight` : undefined,
    })),
  });
}
