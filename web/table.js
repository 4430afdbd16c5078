// The ranking table: the columns a buyer compares first (the rest on demand), rows that keep
// their elements across re-ranks, the legend of its units and the devices not ranked.

import { si } from './chart.js';
import { costUnit, devicesText, fmtDuration as fmtMs, fmtUsd } from './format.js';
import { fillMemoryCell } from './memory.js';
import { MAX_COMPARED } from './compare.js';

const $ = (id) => document.getElementById(id);

function badge(provenance) {
  const b = document.createElement('span');
  b.className = `badge ${provenance}`;
  b.textContent = provenance;
  return b;
}

/**
 * The table's columns: what a buyer compares fits a laptop screen; `extra` ones (batch, bound,
 * communication, energy, price source) show with "More columns" and are in the detail panel.
 */
function tableColumns(r, cost) {
  const decoder = r.family === 'decoder' || r.family === 'moe';
  const training = r.family === 'training';
  const ms = (k) => (x) => fmtMs(x[k]);
  return [
    { head: 'Cmp.', abbr: `compare side by side: tick two or three rows (${MAX_COMPARED} at most)`, compare: true, cls: 'cmp' },
    { head: '#', text: (x) => String(x.rank), cls: 'num' },
    { head: 'Hardware', text: (x) => x.name, title: (x) => x.hardware, cls: 'name' },
    { head: 'Devices', text: devicesText, cls: 'dev' },
    { head: 'Throughput', sub: r.throughput_unit, text: (x) => si(x.throughput_per_s), cls: 'num' },
    { head: cost.abbr, abbr: cost.words, text: (x) => (x.usd_per_million == null ? 'no price' : si(x.usd_per_million * cost.factor)), cls: 'num' },
    // Training's total replaces the price per hour among the first columns.
    { head: '$ / hour', abbr: "US dollars per hour for the row's devices together", text: (x) => (x.usd_per_hour == null ? '—' : x.usd_per_hour.toFixed(2)), cls: 'num', stale: true, extra: training },
    ...(decoder
      ? [{ head: 'TTFT', abbr: 'time to first token', text: ms('ttft_s'), cls: 'num' }, { head: 'TPOT', abbr: 'time per output token', text: ms('tpot_s'), cls: 'num' }]
      : [{ head: training ? 'Step' : 'Latency', abbr: training ? 'time per training step' : 'time per batch', text: ms('latency_s'), cls: 'num' }]),
    ...(training
      ? [
        { head: 'To train', abbr: "time to train the workload's token budget", text: (x) => fmtMs(x.training?.time_to_train_s), cls: 'num' },
        { head: 'Total $', abbr: "what training the token budget costs at the row's price per hour", text: (x) => (x.training?.usd == null ? 'no price' : fmtUsd(x.training.usd)), cls: 'num' },
      ]
      : []),
    { head: 'Memory', abbr: 'memory one device holds, of the 90% of it a workload may use; the bar: weights, KV cache, activations, gradients, optimizer state', memory: true, cls: 'mem' },
    { head: 'Basis', badge: true },
    { head: 'Batch', text: (x) => String(x.batch), cls: 'num', extra: true },
    { head: 'Bound', text: (x) => (x.bound ? `${x.bound} ${Math.round(x.bound_share * 100)}%` : ''), extra: true },
    { head: 'Comm.', abbr: 'share of the time spent communicating between devices', text: (x) => `${Math.round(x.communication_share * 100)}%`, cls: 'num', extra: true },
    { head: 'kWh / year', text: (x) => (x.kwh_per_year ? si(x.kwh_per_year) : ''), cls: 'num', extra: true },
    { head: 'Price source', text: (x) => x.cost_basis, cls: 'small', extra: true },
  ];
}

function headCell(c) {
  const th = document.createElement('th');
  th.scope = 'col';
  if (c.extra) th.className = 'extra';
  if (c.abbr) {
    const a = document.createElement('abbr');
    a.title = c.abbr;
    a.textContent = c.head;
    th.append(a);
  } else th.textContent = c.head;
  if (c.sub) {
    const u = document.createElement('span');
    u.className = 'unit';
    u.textContent = ` (${c.sub})`;
    th.append(u);
  }
  return th;
}

/** Sets a cell's content only where it changed, so the elements under the pointer stay. */
function fillCell(td, c, row, on) {
  if (c.memory) { fillMemoryCell(td, row); return; }
  if (c.compare) {
    const box = td.firstChild;
    const chosen = on.compared.includes(row.hardware);
    box.checked = chosen;
    box.disabled = !chosen && on.compared.length >= MAX_COMPARED;
    box.setAttribute('aria-label', `Compare ${row.name}`);
    return;
  }
  if (c.badge) {
    if (td.dataset.v !== row.provenance) { td.replaceChildren(badge(row.provenance)); td.dataset.v = row.provenance; }
    return;
  }
  const text = c.text(row) ?? '';
  if (td.textContent !== text) td.textContent = text;
  if (c.title) td.title = c.title(row);
  if (c.stale) {
    const stale = Boolean(row.price?.stale);
    td.classList.toggle('stale', stale);
    td.title = stale ? `${row.cost_basis}. Checked more than 90 days ago: check the price before relying on this row.` : (row.cost_basis || '');
  }
}

/** The row `step` rows from `tr` (or the first or last), focused: arrow keys, Home and End. */
function moveFocus(tr, key) {
  const rows = [...tr.parentElement.rows];
  const i = rows.indexOf(tr);
  const j = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: rows.length - 1 }[key];
  const to = rows[Math.max(0, Math.min(rows.length - 1, j))];
  if (!to || to === tr) return;
  tr.tabIndex = -1;
  to.tabIndex = 0;
  to.focus();
}

function newRow(key, cols, on) {
  const tr = document.createElement('tr');
  tr.tabIndex = -1;
  tr.dataset.hardware = key;
  for (const c of cols) {
    const td = document.createElement('td');
    td.className = [c.cls, c.extra ? 'extra' : ''].filter(Boolean).join(' ');
    if (c.compare) {
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.className = 'compare';
      box.addEventListener('click', (e) => e.stopPropagation());
      box.addEventListener('change', () => on.compare(tr.dataset.hardware, box.checked));
      td.append(box);
    }
    tr.append(td);
  }
  const pick = () => on.pick(tr.dataset.hardware);
  tr.addEventListener('click', pick);
  tr.addEventListener('keydown', (e) => {
    if (e.target !== tr) return; // the row's checkbox keeps its own keys
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pick(); }
    else if (['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) { e.preventDefault(); moveFocus(tr, e.key); }
  });
  return tr;
}

/**
 * Draws a ranking into `#ranking`, `#legend` and `#rejected`. `state` keeps the row elements
 * (`rowEls`, `headKey`) between calls; `on.pick(hardware)` selects a row, `on.compare(hardware,
 * chosen)` adds it to the comparison or takes it out, `on.compared` lists those chosen,
 * `on.name(id)` names a device. One row is in the tab order (the selected one): arrow keys, Home
 * and End move between rows, Enter or Space selects.
 */
export function renderTable(r, state, on) {
  const cost = costUnit(r.rows, r.throughput_unit);
  const cols = tableColumns(r, cost);
  const headKey = cols.map((c) => `${c.head}${c.sub || ''}${c.abbr || ''}`).join('|');
  const tbody = $('ranking').tBodies[0];
  if (headKey !== state.headKey) {
    // Other columns: new rows.
    const htr = document.createElement('tr');
    htr.append(...cols.map(headCell));
    $('ranking').tHead.replaceChildren(htr);
    tbody.replaceChildren();
    state.rowEls.clear();
    state.headKey = headKey;
  }
  // Rows keep their elements while their device stays ranked: a click that began on a row still
  // lands on it when a re-rank runs between the press and the release.
  const keep = new Set(r.rows.map((x) => x.hardware));
  for (const [hw, tr] of state.rowEls) if (!keep.has(hw)) { tr.remove(); state.rowEls.delete(hw); }
  r.rows.forEach((row, i) => {
    let tr = state.rowEls.get(row.hardware);
    if (!tr) { tr = newRow(row.hardware, cols, on); state.rowEls.set(row.hardware, tr); }
    cols.forEach((c, j) => fillCell(tr.cells[j], c, row, on));
    if (tbody.rows[i] !== tr) tbody.insertBefore(tr, tbody.rows[i] || null);
  });
  const decoder = r.family === 'decoder' || r.family === 'moe';
  const training = r.family === 'training';
  $('legend').textContent = `${cost.abbr}: ${cost.words}, at the row's price per hour. $ / hour: the row's devices together. ${decoder ? 'TTFT: time to first token; TPOT: time per output token.' : training ? "Step: time per training step; To train and Total $: the workload's token budget at that pace and price." : 'Latency: time per batch.'} Memory: what one device holds of the 90% of it a workload may use (bar: weights, KV cache, activations, gradients, optimizer state). Cmp.: tick two or three rows to compare them side by side. Batch, bound, communication, energy and the price's source: "More columns" or the selected row's panel.`;
  const rej = $('rejected');
  rej.replaceChildren();
  if (r.rejected.length) {
    const d = document.createElement('details');
    const sum = document.createElement('summary');
    sum.textContent = `${r.rejected.length} device(s) not ranked, and why`;
    const ul = document.createElement('ul');
    for (const x of r.rejected) {
      const li = document.createElement('li');
      const name = on.name(x.hardware);
      // The reason names the device by its catalog id; the buyer knows it by its name.
      const id = x.hardware.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      li.textContent = `${name}: ${x.reason.replace(new RegExp(`(?<![\\w-])${id}(?![\\w-])`, 'g'), name)}`;
      li.dataset.hardware = x.hardware;
      ul.append(li);
    }
    d.append(sum, ul);
    if (!r.rows.length) d.open = true;
    rej.append(d);
  }
}
