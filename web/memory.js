// "Does it fit": what one device of a row holds, part by part (ridge-core's `memory` of the row:
// weights, KV cache, activations, gradients, optimizer state), against the memory a workload may
// use, as a bar in the table and a bar and a table in the row's panel.

import { MEMORY_PARTS, fmtBytes } from './format.js';

/** A stacked bar of the parts over the usable memory (a part past it is clipped; the bar then
 * reads as over). */
function bar(m, cls) {
  const outer = document.createElement('span');
  outer.className = `membar ${cls}${m.fits ? '' : ' over'}`;
  outer.setAttribute('aria-hidden', 'true');
  let used = 0;
  for (const [key, words] of MEMORY_PARTS) {
    const v = m[key];
    if (!(v > 0) || !(m.usable_bytes > 0)) continue;
    const share = Math.min(v / m.usable_bytes, 1 - used);
    if (share <= 0) break;
    used += share;
    const seg = document.createElement('span');
    seg.className = `seg ${key.replace('_bytes', '')}`;
    seg.style.width = `${(share * 100).toFixed(2)}%`;
    seg.title = `${words}: ${fmtBytes(v)}`;
    outer.append(seg);
  }
  return outer;
}

/** One line of the parts: "weights 35.3 GB, KV cache 20.1 GB, activations 1.2 GB". */
export function memoryWords(m) {
  return MEMORY_PARTS.filter(([k]) => m[k] > 0).map(([k, w]) => `${w} ${fmtBytes(m[k])}`).join(', ');
}

/** "58.1 of 72 GB": what a device holds of what it may use. */
export function memoryText(m) {
  const [a, u] = fmtBytes(m.per_device_bytes).split(' ');
  const [b, v] = fmtBytes(m.usable_bytes).split(' ');
  return u === v ? `${a} of ${b} ${v}` : `${a} ${u} of ${b} ${v}`;
}

/** The table cell's content: the figures and a small bar. */
export function fillMemoryCell(td, row) {
  const m = row.memory;
  const key = `${m.per_device_bytes}|${m.usable_bytes}`;
  if (td.dataset.v === key) return;
  td.dataset.v = key;
  const text = document.createElement('span');
  text.textContent = memoryText(m);
  td.replaceChildren(text, bar(m, 'small'));
  td.title = `${memoryWords(m)}; ${m.headroom_bytes >= 0 ? `${fmtBytes(m.headroom_bytes)} left` : `${fmtBytes(-m.headroom_bytes)} short`} of the usable ${fmtBytes(m.usable_bytes)} (90% of ${fmtBytes(m.capacity_bytes)})`;
}

/** The panel's breakdown: a bar and a table of the parts, the total, the usable memory and the
 * headroom. */
export function memoryPanel(row) {
  const m = row.memory;
  const wrap = document.createElement('div');
  wrap.className = 'memory-panel';
  wrap.append(bar(m, 'large'));
  const table = document.createElement('table');
  table.id = 'memory-breakdown';
  const cap = document.createElement('caption');
  cap.textContent = `What one device holds (${row.devices === 1 ? 'one device' : `each of ${row.devices} devices`})`;
  const tbody = document.createElement('tbody');
  const line = (part, words, bytes, note = '') => {
    const tr = document.createElement('tr');
    tr.dataset.part = part;
    tr.dataset.bytes = String(bytes);
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = words;
    const td = document.createElement('td');
    td.className = 'num';
    td.textContent = fmtBytes(bytes);
    const share = document.createElement('td');
    share.className = 'num small';
    share.textContent = note;
    tr.append(th, td, share);
    tbody.append(tr);
  };
  const pct = (v) => `${Math.round((v / m.usable_bytes) * 100)}% of usable`;
  for (const [key, words] of MEMORY_PARTS) if (m[key] > 0) line(key.replace('_bytes', ''), words, m[key], pct(m[key]));
  line('total', 'Total', m.per_device_bytes, pct(m.per_device_bytes));
  line('usable', 'Usable', m.usable_bytes, `90% of ${fmtBytes(m.capacity_bytes)}; the rest is the runtime's`);
  line('headroom', m.headroom_bytes >= 0 ? 'Headroom' : 'Short by', Math.abs(m.headroom_bytes), m.headroom_bytes >= 0 ? 'left for longer contexts or more requests' : 'does not fit');
  table.append(cap, tbody);
  wrap.append(table);
  return wrap;
}
