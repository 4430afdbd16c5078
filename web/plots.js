// The ranking's four charts: the selected row's roofline and scaling, cost against throughput
// (the Pareto front) and the selected row's serving curve. Each has axes with units, a legend
// where colours carry meaning, a note where a figure needs one, and its figures as a table.

import { deviceRoofs, paretoFront } from './pkg/ridge_wasm.js';
import { draw, si } from './chart.js';
import { costUnit, fmtDuration as fmtMs } from './format.js';

const $ = (id) => document.getElementById(id);

/** "2.61 PFLOP/s", "163 TFLOP/s", "5 FLOP/s". */
function withUnit(v, unit) {
  const t = si(v);
  return /[kMGTP]$/.test(t) ? `${t.slice(0, -1)} ${t.slice(-1)}${unit}` : `${t} ${unit}`;
}

const PHASE_WORDS = {
  prefill: 'prefill operation (the prompt)',
  decode: 'decode operation (one token)',
};

/** The selected row's roofline: the device's roofs and the workload's operations on them;
 * `series` from ridge-core (null: none to draw); `user`: the benchmarked device, drawn beside
 * another device's roofs. */
export function renderRoofline(row, series, family, user) {
  const empty = { title: 'Roofline', x: { label: 'arithmetic intensity (FLOP/byte)', log: true }, y: { label: 'attained compute (FLOP/s per device)', log: true } };
  if (!row || !series) { draw($('roofline-chart'), { ...empty, empty: row ? 'no roofline for this row' : 'no row selected' }); return; }
  // Precisions with the same peak share one roof (fp8 and int8 often do): one line, one label.
  const roofs = [];
  for (const roof of series.roofs) {
    const same = roofs.find((x) => x.flops_per_s === roof.flops_per_s);
    if (same) same.precisions.push(roof.precision); else roofs.push({ ...roof, precisions: [roof.precision] });
  }
  // The flat roofs run on a decade past ridge-core's range, room for their labels on them.
  const [lo, hi] = series.intensity_range;
  const extend = (outline) => [...outline, [hi * 10, outline.at(-1)[1]]];
  const lines = roofs.map((roof) => ({ label: `${roof.precisions.join(', ')} ${withUnit(roof.flops_per_s, 'FLOP/s')}`, cls: `roof ${roof.precisions[0]}`, points: extend(roof.outline) }));
  const rows = roofs.map((roof) => [`${roof.precisions.join(', ')} roof of ${row.name}`, `ridge at ${si(roof.ridge_flop_per_byte)}`, si(roof.flops_per_s), 'compute above the ridge, memory below']);
  if (user && row.hardware !== 'this-device') {
    const [roof] = deviceRoofs({ memory_bytes_per_s: user.copy.bytes_per_s, compute_flops_per_s: { fp32: user.fma.flops_per_s } });
    lines.push({ label: `this device, fp32 ${withUnit(roof.flops_per_s, 'FLOP/s')}`, cls: 'user', points: extend(roof.outline) });
    rows.push(['fp32 roof of this device (measured)', `ridge at ${si(roof.ridge_flop_per_byte)}`, si(roof.flops_per_s), 'compute above the ridge, memory below']);
  }
  const phases = [...new Set(series.points.map((p) => p.phase))];
  for (const p of series.points) rows.push([`${p.phase} ${p.name}`, si(p.intensity), si(p.flops_per_s), p.bound]);
  draw($('roofline-chart'), {
    title: `Roofline of ${row.name} (${series.basis}) with the workload's operations`,
    x: { label: 'arithmetic intensity (FLOP/byte)', log: true, domain: [lo, hi * 10] },
    y: { label: 'attained compute (FLOP/s per device)', log: true },
    lines,
    dots: series.points.map((p) => ({ x: p.intensity, y: p.flops_per_s, cls: `op ${p.phase}`, label: `${p.phase} ${p.name}: ${si(p.intensity)} FLOP/B, ${si(p.flops_per_s)}FLOP/s (${p.bound})` })),
    // Every roof in the legend too (its label on the line may find no room).
    legend: [
      ...lines.map((l) => ({ kind: 'line', cls: l.cls, label: l.label })),
      ...phases.map((ph) => ({ kind: 'dot', cls: `op ${ph}`, label: PHASE_WORDS[ph] ?? (family === 'training' ? 'operation of one training step' : 'operation of one batch') })),
    ],
    table: { columns: ['series or operation', 'arithmetic intensity (FLOP/byte)', 'compute (FLOP/s per device)', 'bound'], rows },
  });
}

/** The selected row's throughput over device counts: per arrangement (tensor or expert
 * parallel) the best layout at each count joined, every layout a point. */
export function renderScaling(row, unit, layoutText) {
  const host = $('scaling-chart');
  if (!row) { draw(host, { title: 'Scaling', x: { label: 'devices (count)' }, y: { label: 'throughput' }, empty: 'no row selected' }); return; }
  const rowLayout = row.layout_text;
  const fewest = row.scaling.reduce((a, p) => (p.devices < a.devices ? p : a), row.scaling[0]);
  const ep = (p) => (p.layout.expert_parallel || 1) > 1;
  const lines = [false, true].map((isEp) => {
    const best = new Map();
    for (const p of row.scaling.filter((q) => ep(q) === isEp)) {
      if (!best.has(p.devices) || best.get(p.devices).throughput_per_s < p.throughput_per_s) best.set(p.devices, p);
    }
    return {
      label: isEp ? 'expert parallel' : 'tensor parallel', cls: isEp ? 'scale ep' : 'scale', labelAt: false,
      points: [...best.values()].sort((a, b) => a.devices - b.devices).map((p) => [p.devices, p.throughput_per_s]),
    };
  }).filter((l) => l.points.length > 0);
  const most = row.scaling.reduce((a, p) => (p.efficiency > a.efficiency ? p : a), row.scaling[0]);
  const rel = (p) => `${(p.efficiency * 100).toFixed(0)}%`;
  draw(host, {
    title: `Throughput of ${row.name} over device counts`,
    x: { label: 'devices (count)', log: false },
    y: { label: `throughput (${unit})`, log: false },
    lines,
    dots: row.scaling.map((p) => ({
      x: p.devices, y: p.throughput_per_s,
      cls: `${ep(p) ? 'ep' : ''} ${layoutText(p.layout) === rowLayout ? 'selected' : ''}`,
      label: `${p.devices} devices (${layoutText(p.layout)}): ${si(p.throughput_per_s)} ${unit}; per device ${rel(p)} of ${fewest.devices} device(s)'s`,
    })),
    legend: [
      ...lines.map((l) => ({ kind: 'line', cls: l.cls, label: `${l.label}: the best layout at each count` })),
      { kind: 'dot', cls: 'selected', label: "the row's layout" },
    ],
    note: most && parseFloat(rel(most)) > 100
      ? `Per-device throughput rises to ${rel(most)} of the ${fewest.devices}-device layout's at ${most.devices} devices: more devices hold more memory, so a larger batch fits, which more than pays for the communication.`
      : undefined,
    table: {
      columns: ['layout', 'devices', `throughput (${unit})`, `per device, against the ${fewest?.devices ?? 1}-device layout`],
      rows: row.scaling.map((p) => [layoutText(p.layout), String(p.devices), si(p.throughput_per_s), rel(p)]),
    },
  });
}

/** Cost against throughput for every priced row, the Pareto front joined, `selected` marked;
 * `name(id)` names a device. */
export function renderPareto(r, selected) {
  // Rows with no price have no cost to draw.
  const priced = r.rows.filter((x) => x.usd_per_million != null);
  const front = [...paretoFront(Float64Array.from(priced, (x) => x.throughput_per_s), Float64Array.from(priced, (x) => x.usd_per_million))].map((i) => priced[i]);
  const onFront = new Set(front.map((x) => x.hardware));
  const cost = costUnit(r.rows, r.throughput_unit);
  // The selected row's label first: it is the one the reader looks for.
  const order = [...priced].sort((a, b) => Number(b.hardware === selected) - Number(a.hardware === selected));
  draw($('pareto-chart'), {
    title: `Cost (${cost.words}) against throughput`,
    x: { label: `throughput (${r.throughput_unit})`, log: true },
    y: { label: `cost (${cost.words.replace('US dollars', '$')})`, log: true },
    lines: [{ label: 'Pareto front', cls: 'front', points: front.map((x) => [x.throughput_per_s, x.usd_per_million * cost.factor]), labelAt: false }],
    dots: order.map((x) => ({
      x: x.throughput_per_s, y: x.usd_per_million * cost.factor, cls: `${onFront.has(x.hardware) ? 'front' : ''} ${x.hardware === selected ? 'selected' : ''}`,
      label: `${x.name}: ${si(x.throughput_per_s)} ${r.throughput_unit}, $${si(x.usd_per_million * cost.factor)}${cost.short}`,
      text: onFront.has(x.hardware) || x.hardware === selected ? x.name : undefined,
    })),
    legend: [
      { kind: 'line', cls: 'front', label: 'Pareto front: nothing is both cheaper and faster' },
      { kind: 'dot', cls: 'front', label: 'on the front' },
      { kind: 'dot', cls: '', label: 'behind it' },
      { kind: 'dot', cls: 'selected', label: 'the selected row' },
    ],
    table: {
      columns: ['device', `throughput (${r.throughput_unit})`, cost.words, 'on the Pareto front'],
      rows: priced.map((x) => [x.name, si(x.throughput_per_s), si(x.usd_per_million * cost.factor), onFront.has(x.hardware) ? 'yes' : 'no']),
    },
    empty: 'no configuration fits',
  });
}

// The selected row's serving curve: throughput per device against tokens per second per user,
// one point per number of requests in flight, the row's own point marked.
export function renderServing(row) {
  const curve = row?.curve || [];
  const opts = {
    title: row ? `Serving ${row.name} (${row.layout_text}): throughput per device against speed per user` : 'Serving',
    x: { label: 'speed per user (tokens/s)', log: true },
    y: { label: 'throughput per device (generated tokens/s)', log: true },
    empty: row ? 'static batches or no decode: no serving curve' : 'no row selected',
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
    legend: [
      { kind: 'dot', cls: 'front', label: 'meets the latency targets' },
      { kind: 'dot', cls: '', label: 'misses them' },
      { kind: 'dot', cls: 'selected', label: "the row's requests in flight" },
    ],
    table: {
      columns: ['requests in flight', 'tokens/s per user', 'generated tokens/s per device', 'TTFT', 'TPOT', '$ per million generated tokens', 'meets the targets'],
      rows: curve.map((p) => [si(p.concurrency), si(p.tokens_per_s_per_user), si(p.output_tokens_per_s_per_device), fmtMs(p.ttft_s), fmtMs(p.tpot_s), p.usd_per_million == null ? 'no price' : si(p.usd_per_million), p.meets_targets ? 'yes' : 'no']),
    },
  });
}
