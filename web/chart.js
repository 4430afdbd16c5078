// Small SVG charts: linear or log axes with labelled ticks, lines and labelled points, a legend
// and the figures as a table. Hand-drawn because the page needs four simple plots and no
// dependency; every chart has a text title, each point a tooltip (<title>), and a table behind
// it, so screen readers and keyboard users get the numbers too. Labels never overprint each
// other: a label that finds no free place is left to the tooltip and the table.

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function html(name, attrs = {}, text) {
  const e = document.createElement(name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function si(v) {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  const units = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [s, u] of units) if (a >= s) return `${+(v / s).toPrecision(3)}${u}`;
  if (a >= 1 || a === 0) return `${+v.toPrecision(3)}`;
  return v.toPrecision(2);
}

function scale(lo, hi, log, a, b) {
  if (log) {
    const l0 = Math.log10(lo), l1 = Math.log10(hi);
    return (v) => a + (Math.log10(v) - l0) / (l1 - l0 || 1) * (b - a);
  }
  return (v) => a + (v - lo) / (hi - lo || 1) * (b - a);
}

function ticks(lo, hi, log) {
  if (log) {
    const out = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      const v = 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
    return out;
  }
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 4 || 1));
  const n = Math.ceil((hi - lo) / step);
  const k = n > 10 ? (n > 25 ? 5 : 2) : 1;
  const out = [];
  for (let v = Math.ceil(lo / (step * k)) * step * k; v <= hi; v += step * k) out.push(v);
  return out;
}

function extent(values, log) {
  const vs = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (!vs.length) return [1, 10];
  let lo = Math.min(...vs), hi = Math.max(...vs);
  if (log) {
    lo = 10 ** Math.floor(Math.log10(lo));
    hi = 10 ** Math.ceil(Math.log10(hi));
    if (lo === hi) hi = lo * 10;
  } else {
    if (lo > 0) lo = 0;
    if (lo === hi) hi = lo + 1;
    hi *= 1.05;
  }
  return [lo, hi];
}

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

let measurer = null;

/** The width of `text` at the labels' size (10px, style.css), from a canvas: measuring the SVG
 * text itself would lay the page out once per label. */
function textWidth(text) {
  if (!measurer) {
    measurer = document.createElement('canvas').getContext('2d');
    measurer.font = `10px ${getComputedStyle(document.documentElement).fontFamily}`;
  }
  return measurer.measureText(text).width;
}

/** A label's box (SVG units) for `node`'s text at `x`, `y` (baseline) with an anchor. */
function box(node, x, y, anchor) {
  const w = textWidth(node.textContent) || node.textContent.length * 5.6;
  const left = anchor === 'end' ? x - w : anchor === 'middle' ? x - w / 2 : x;
  // A pixel of margin round the glyphs' box (10px text: 10 above the baseline, 3 below), so that
  // a font whose metrics differ a little from the canvas's still never overprints a neighbour.
  return { x: left - 2, y: y - 11, w: w + 4, h: 15 };
}

/** The y of a polyline (screen points, x ascending or not) at `x`, or null outside it. */
function yAt(points, x) {
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1], [x1, y1] = points[i];
    if ((x - x0) * (x - x1) <= 0 && x0 !== x1) return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
  }
  return null;
}

/** The figures behind a chart as a table in a closed <details>. */
function dataTable(title, t) {
  const d = html('details', { class: 'chart-table' });
  d.append(html('summary', {}, 'The figures as a table'));
  const table = html('table');
  table.append(html('caption', {}, title));
  const head = html('tr');
  for (const c of t.columns) head.append(html('th', { scope: 'col' }, c));
  const thead = html('thead');
  thead.append(head);
  const body = html('tbody');
  for (const r of t.rows) {
    const tr = html('tr');
    r.forEach((v, i) => tr.append(i === 0 ? html('th', { scope: 'row' }, v) : html('td', {}, v)));
    body.append(tr);
  }
  table.append(thead, body);
  d.append(table);
  return d;
}

/** A legend below the chart: a swatch (line or dot, in the series' class) and its words. */
function legendList(items) {
  const ul = html('ul', { class: 'legend' });
  for (const it of items) {
    const li = html('li');
    const svg = el('svg', { viewBox: '0 0 16 10', width: 16, height: 10, 'aria-hidden': 'true', class: 'swatch' });
    // `stroke` and `mark` take the colours of `line` and `dot` (style.css) without being counted
    // as the chart's own lines and points.
    if (it.kind === 'line') svg.append(el('path', { d: 'M0,5L16,5', class: `stroke ${it.cls}` }));
    else svg.append(el('circle', { cx: 8, cy: 5, r: 4, class: `mark ${it.cls}` }));
    li.append(svg, document.createTextNode(` ${it.label}`));
    li.dataset.cls = it.cls;
    ul.append(li);
  }
  return ul;
}

/**
 * Draws a chart into `host`.
 * spec: { title, x: {label, log, domain?}, y: {label, log, domain?},
 *         lines: [{label, cls, points: [[x, y]], labelAt: false to leave it to the legend}],
 *         dots: [{x, y, label (tooltip), text (shown beside it), cls}],
 *         legend: [{cls, label, kind: 'dot' | 'line'}], note, table: {columns, rows}, empty }
 */
export function draw(host, spec) {
  host.replaceChildren();
  const W = 480, H = 300, m = { l: 64, r: 16, t: 12, b: 44 };
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': spec.title, class: 'plot' });
  svg.append(el('title', {}, spec.title));
  host.append(svg);
  const xs = [], ys = [];
  for (const l of spec.lines || []) for (const [x, y] of l.points) { xs.push(x); ys.push(y); }
  for (const d of spec.dots || []) { xs.push(d.x); ys.push(d.y); }
  if (!xs.length) {
    svg.append(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, spec.empty || 'nothing to plot'));
    return;
  }
  const [x0, x1] = spec.x.domain || extent(xs, spec.x.log);
  const [y0, y1] = spec.y.domain || extent(ys, spec.y.log);
  const sx = scale(x0, x1, spec.x.log, m.l, W - m.r);
  const sy = scale(y0, y1, spec.y.log, H - m.b, m.t);
  const grid = el('g', { class: 'grid' });
  for (const t of ticks(x0, x1, spec.x.log)) {
    grid.append(el('line', { x1: sx(t), x2: sx(t), y1: m.t, y2: H - m.b }));
    grid.append(el('text', { x: sx(t), y: H - m.b + 16, 'text-anchor': 'middle' }, si(t)));
  }
  for (const t of ticks(y0, y1, spec.y.log)) {
    grid.append(el('line', { x1: m.l, x2: W - m.r, y1: sy(t), y2: sy(t) }));
    grid.append(el('text', { x: m.l - 6, y: sy(t) + 4, 'text-anchor': 'end' }, si(t)));
  }
  svg.append(grid);
  svg.append(el('text', { x: (m.l + W - m.r) / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis x' }, spec.x.label));
  svg.append(el('text', { x: 14, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', class: 'axis y', transform: `rotate(-90 14 ${(m.t + H - m.b) / 2})` }, spec.y.label));
  const clip = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  const inside = (b) => b.x >= m.l && b.x + b.w <= W - m.r && b.y >= m.t - 2 && b.y + b.h <= H - m.b + 2;
  const taken = []; // boxes of the labels placed so far
  const labels = el('g', { class: 'labels' });
  /** Places `text` at the first candidate [x, y, anchor] where it is free; false if none is. */
  const place = (text, cls, candidates, attrs = {}) => {
    const node = el('text', { class: cls, ...attrs }, text);
    labels.append(node);
    for (const [x, y, anchor] of candidates) {
      const b = box(node, x, y, anchor);
      if (inside(b) && !taken.some((t) => overlaps(t, b))) {
        node.setAttribute('x', x.toFixed(1));
        node.setAttribute('y', y.toFixed(1));
        node.setAttribute('text-anchor', anchor);
        taken.push(b);
        return true;
      }
    }
    node.remove();
    return false;
  };
  const paths = [];
  for (const l of spec.lines || []) {
    const pts = l.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.x.log || x > 0) && (!spec.y.log || y > 0));
    if (pts.length < 2) continue;
    const screen = pts.map(([x, y]) => [clip(sx(x), m.l, W - m.r), clip(sy(y), m.t, H - m.b)]);
    const d = screen.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join('');
    const path = el('path', { d, class: `line ${l.cls || ''}` });
    path.append(el('title', {}, l.label));
    svg.append(path);
    if (l.label && l.labelAt !== false) paths.push({ l, screen });
  }
  for (const d of spec.dots || []) {
    if (!Number.isFinite(d.x) || !Number.isFinite(d.y) || (spec.x.log && d.x <= 0) || (spec.y.log && d.y <= 0)) continue;
    const c = el('circle', { cx: sx(d.x), cy: sy(d.y), r: d.r || 4, class: `dot ${d.cls || ''}` });
    c.append(el('title', {}, d.label));
    svg.append(c);
    // Dots are obstacles for labels.
    taken.push({ x: sx(d.x) - 4, y: sy(d.y) - 4, w: 8, h: 8 });
  }
  svg.append(labels);
  // Line labels sit on their own line (centred on it, over a halo) where it runs level for the
  // label's width, tried from the right end leftwards until free: never between two lines where
  // either could claim them.
  for (const { l, screen } of paths) {
    const probe = el('text', { class: `label line-label ${l.cls || ''}` }, l.label);
    labels.append(probe);
    const w = box(probe, 0, 0, 'start').w;
    probe.remove();
    const level = [], sloped = [];
    for (let cx = W - m.r - 2 - w / 2; cx > m.l + w / 2; cx -= 6) {
      const [y, a, b] = [yAt(screen, cx), yAt(screen, cx - w / 2), yAt(screen, cx + w / 2)];
      if (y === null) continue;
      (a !== null && b !== null && Math.abs(a - y) < 2 && Math.abs(b - y) < 2 ? level : sloped).push([cx, y + 3.5, 'middle']);
    }
    // Where the line nowhere runs level for the label (one straight slope), anywhere on it.
    place(l.label, `label line-label ${l.cls || ''}`, level.length ? level : sloped, { 'data-line': l.label });
  }
  // Point labels: beside the dot, in the first free place of eight; failing that, further out
  // with a leader line to the dot.
  for (const d of spec.dots || []) {
    if (!d.text || !Number.isFinite(d.x) || !Number.isFinite(d.y)) continue;
    const [x, y] = [sx(d.x), sy(d.y)];
    const ring = (r) => [
      [x + r, y - 5, 'start'], [x + r, y + 12, 'start'], [x - r, y - 5, 'end'], [x - r, y + 12, 'end'],
      [x, y - r - 2, 'middle'], [x, y + r + 10, 'middle'], [x + r, y + 4, 'start'], [x - r, y + 4, 'end'],
    ];
    if (place(d.text, 'label dot-label', ring(7))) continue;
    for (const r of [18, 30, 44]) {
      const node = labels.lastChild;
      if (place(d.text, 'label dot-label', ring(r))) {
        const t = labels.lastChild;
        if (t === node) break;
        const tx = Number(t.getAttribute('x')), ty = Number(t.getAttribute('y')) - 4;
        labels.insertBefore(el('line', { x1: x, y1: y, x2: tx, y2: ty, class: 'leader' }), t);
        break;
      }
    }
  }
  if (spec.legend?.length) host.append(legendList(spec.legend));
  if (spec.note) host.append(html('p', { class: 'chart-note' }, spec.note));
  if (spec.table) host.append(dataTable(spec.title, spec.table));
}
