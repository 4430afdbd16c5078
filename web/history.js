// The device history view: each measured ceiling of a device over its runs, from
// GET /api/v1/devices/{key}/history, with the change points and outliers the service found
// (ridge_core::bench::history; the method is stated under the charts). The URL names the device
// (?device=KEY), and each choice is a history entry, so Back returns to the previous device.

import { draw, si } from './chart.js';
import { ServiceError, deviceHistory, devices } from './api.js';

const $ = (id) => document.getElementById(id);

/** A ceiling's name in words: `compute_tflops.fp32` is "fp32 compute". */
export function ceilingName(ceiling) {
  if (ceiling === 'memory_gb_per_s') return 'Memory bandwidth';
  if (ceiling === 'host_to_device_gb_per_s') return 'Host to device transfers';
  if (ceiling === 'device_to_host_gb_per_s') return 'Device to host transfers';
  const precision = ceiling.match(/^compute_tflops\.(.+)$/);
  return precision ? `${precision[1]} compute` : ceiling;
}

const when = (t) => t.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
const signed = (pct) => `${pct > 0 ? '+' : '−'}${Math.abs(pct).toFixed(1)}%`;
const value = (v, unit) => `${si(v)} ${unit}`;

/** One sentence on a ceiling: steady, or each change with its size and the run it starts at. */
export function verdict(c, position) {
  const kept = c.points.filter((p) => !p.outlier && !p.implausible).length;
  const odd = c.points.filter((p) => p.outlier).length;
  const oddText = odd ? ` ${odd} odd run${odd > 1 ? 's' : ''} (ringed) left out.` : '';
  if (!c.changes.length) {
    const values = c.points.filter((p) => !p.outlier && !p.implausible).map((p) => p.value).sort((a, b) => a - b);
    const median = values.length ? values[Math.floor((values.length - 1) / 2)] : NaN;
    return `Steady over ${kept} run${kept === 1 ? '' : 's'}: no change point (median ${value(median, c.unit)}).${oddText}`;
  }
  const each = c.changes.map((ch) => `${signed(ch.change_pct)} from run ${position.get(ch.run)} (${when(ch.started_at)}), ${value(ch.before, c.unit)} to ${value(ch.after, c.unit)}`);
  const times = c.changes.length === 1 ? 'once' : `${c.changes.length} times`;
  return `Changed ${times}: ${each.join('; ')}.${oddText}`;
}

function chart(host, c, position) {
  const n = c.points.length;
  const values = c.points.map((p) => p.value);
  const lo = Math.min(...values), hi = Math.max(...values);
  const pad = (hi - lo) * 0.15 || hi * 0.05 || 1;
  const domain = [Math.max(0, lo - pad), hi + pad];
  // The segments between change points, each at its median.
  const starts = [1, ...c.changes.map((ch) => position.get(ch.run)), n + 1];
  const medians = [c.changes[0]?.before, ...c.changes.map((ch) => ch.after)];
  const lines = [];
  if (c.changes.length) {
    for (let k = 0; k < medians.length; k++) {
      lines.push({ label: `median ${value(medians[k], c.unit)}`, cls: 'median', labelAt: false, points: [[starts[k] - 0.4, medians[k]], [starts[k + 1] - 0.6, medians[k]]] });
    }
    for (const ch of c.changes) {
      const x = position.get(ch.run) - 0.5;
      lines.push({ label: signed(ch.change_pct), cls: 'change', points: [[x, domain[0]], [x, domain[1]]] });
    }
  }
  const name = ceilingName(c.ceiling);
  draw(host, {
    title: `${name} (${c.unit}) over ${n} runs, oldest first${c.changes.length ? `, ${c.changes.length} change point${c.changes.length > 1 ? 's' : ''}` : ', no change point'}`,
    x: { label: 'run, oldest first', domain: [0.5, n + 0.5] },
    y: { label: `${name} (${c.unit})`, domain },
    lines,
    dots: c.points.map((p, i) => ({
      x: i + 1,
      y: p.value,
      r: 3.5,
      cls: p.implausible ? 'implausible' : p.outlier ? 'outlier' : 'run',
      label: `run ${i + 1} (id ${p.run}), ${when(p.started_at)}: ${value(p.value, c.unit)}${p.outlier ? ', odd run' : ''}${p.implausible ? ', over the datasheet peak' : ''}`,
    })),
  });
}

function table(c) {
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  summary.textContent = 'The runs as a table';
  const t = document.createElement('table');
  t.className = 'runs-table';
  const caption = document.createElement('caption');
  caption.textContent = `${ceilingName(c.ceiling)} of each run`;
  t.append(caption);
  const head = t.createTHead().insertRow();
  for (const h of ['run', 'started (UTC)', c.unit, 'mark']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = h;
    head.append(th);
  }
  const changed = new Map(c.changes.map((ch) => [ch.run, ch]));
  const body = t.createTBody();
  c.points.forEach((p, i) => {
    const row = body.insertRow();
    const ch = changed.get(p.run);
    const mark = [ch && `change ${signed(ch.change_pct)} from here`, p.outlier && 'odd run', p.implausible && 'over the datasheet peak'].filter(Boolean).join('; ');
    for (const [text, cls] of [[String(i + 1), 'num'], [when(p.started_at)], [si(p.value), 'num'], [mark]]) {
      const cell = row.insertCell();
      cell.textContent = text;
      if (cls) cell.className = cls;
    }
  });
  details.append(summary, t);
  return details;
}

function render(h) {
  const host = $('ceilings');
  host.replaceChildren();
  $('summary').textContent = `${h.name}: ${h.runs} run${h.runs === 1 ? '' : 's'}${h.catalog_id ? ` (catalog device ${h.catalog_id})` : ''}.`;
  for (const c of h.ceilings) {
    const position = new Map(c.points.map((p, i) => [p.run, i + 1]));
    const section = document.createElement('section');
    section.className = 'ceiling';
    section.dataset.ceiling = c.ceiling;
    const title = document.createElement('h2');
    title.textContent = `${ceilingName(c.ceiling)} (${c.unit})`;
    const says = document.createElement('p');
    says.className = `verdict${c.changes.length ? ' changed' : ''}`;
    says.textContent = verdict(c, position);
    const figure = document.createElement('figure');
    const plot = document.createElement('div');
    const caption = document.createElement('figcaption');
    caption.textContent = 'Each dot is a run, oldest on the left. Dashed red lines: change points; blue lines: the median between them; ringed dots: odd runs, left out of the analysis.';
    figure.append(plot, caption);
    section.append(title, says, figure, table(c));
    host.append(section);
    chart(plot, c, position);
  }
  $('method').textContent = `How: ${h.method}.`;
}

async function show(key) {
  $('status').textContent = 'Loading…';
  try {
    const h = await deviceHistory(key);
    render(h);
    $('status').textContent = '';
  } catch (e) {
    $('ceilings').replaceChildren();
    $('summary').textContent = '';
    $('status').textContent = e instanceof ServiceError && e.status === 404 ? 'This ridge serve holds no device with that key: pick one from the list.' : `Could not load the history: ${e.message}.`;
  }
}

async function main() {
  const select = $('device');
  let list;
  try {
    list = await devices();
  } catch (e) {
    $('status').textContent = e instanceof ServiceError && e.status === 401
      ? 'This ridge serve needs a token to read its runs (--read-token); the history view cannot show them.'
      : 'This view reads the runs of the ridge serve it is served by, and none answered here.';
    return;
  }
  if (!list.length) {
    $('status').textContent = 'This ridge serve holds no run yet: send some with `ridge run --upload URL` or `ridge upload`.';
    return;
  }
  list.sort((a, b) => a.name.localeCompare(b.name) || a.key.localeCompare(b.key));
  for (const d of list) {
    const o = document.createElement('option');
    o.value = d.key;
    o.textContent = `${d.name} (${d.driver || d.backend}, ${d.runs} run${d.runs === 1 ? '' : 's'})`;
    select.append(o);
  }
  const fromUrl = () => new URLSearchParams(location.search).get('device');
  const choose = (key) => {
    select.value = list.some((d) => d.key === key) ? key : list[0].key;
    return show(select.value);
  };
  select.addEventListener('change', () => {
    history.pushState(null, '', `?device=${encodeURIComponent(select.value)}`);
    show(select.value);
  });
  window.addEventListener('popstate', () => choose(fromUrl()));
  const wanted = fromUrl();
  await choose(wanted);
  if (wanted && select.value !== wanted) $('status').textContent = `No device ${wanted} here; showing ${select.selectedOptions[0].textContent}.`;
  if (!wanted) history.replaceState(null, '', `?device=${encodeURIComponent(select.value)}`);
  document.body.dataset.ready = '1';
}

main();
