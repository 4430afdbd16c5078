// Small SVG charts: linear or log axes with labelled ticks, lines and labelled points. Hand-drawn
// because the page needs three simple plots and no dependency; every chart has a text title and
// each point a tooltip (<title>), so screen readers and keyboard users get the numbers too.

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const e = document.createElementNS(NS, name);
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

/**
 * Draws a chart into `host`.
 * spec: { title, x: {label, log}, y: {label, log}, lines: [{label, cls, points: [[x, y]]}],
 *         dots: [{x, y, label, cls}], empty }
 */
export function draw(host, spec) {
  host.replaceChildren();
  const W = 480, H = 300, m = { l: 64, r: 16, t: 12, b: 44 };
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': spec.title, class: 'plot' });
  svg.append(el('title', {}, spec.title));
  const xs = [], ys = [];
  for (const l of spec.lines || []) for (const [x, y] of l.points) { xs.push(x); ys.push(y); }
  for (const d of spec.dots || []) { xs.push(d.x); ys.push(d.y); }
  if (!xs.length) {
    svg.append(el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, spec.empty || 'nothing to plot'));
    host.append(svg);
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
  svg.append(el('text', { x: (m.l + W - m.r) / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis' }, spec.x.label));
  svg.append(el('text', { x: 14, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', class: 'axis', transform: `rotate(-90 14 ${(m.t + H - m.b) / 2})` }, spec.y.label));
  const clip = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  const taken = []; // label baselines already used, so line labels do not overprint each other
  for (const l of spec.lines || []) {
    const pts = l.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!spec.x.log || x > 0) && (!spec.y.log || y > 0));
    if (pts.length < 2) continue;
    const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${clip(sx(x), m.l, W - m.r).toFixed(1)},${clip(sy(y), m.t, H - m.b).toFixed(1)}`).join('');
    const path = el('path', { d, class: `line ${l.cls || ''}` });
    path.append(el('title', {}, l.label));
    svg.append(path);
    if (l.label && l.labelAt !== false) {
      const [lx, ly] = pts[pts.length - 1];
      let y = clip(sy(ly), m.t + 10, H - m.b) - 4;
      while (taken.some((t) => Math.abs(t - y) < 11)) y += 11;
      taken.push(y);
      svg.append(el('text', { x: clip(sx(lx), m.l, W - m.r) - 4, y, 'text-anchor': 'end', class: `label ${l.cls || ''}` }, l.label));
    }
  }
  for (const d of spec.dots || []) {
    if (!Number.isFinite(d.x) || !Number.isFinite(d.y) || (spec.x.log && d.x <= 0) || (spec.y.log && d.y <= 0)) continue;
    const c = el('circle', { cx: sx(d.x), cy: sy(d.y), r: d.r || 4, class: `dot ${d.cls || ''}` });
    c.append(el('title', {}, d.label));
    svg.append(c);
    if (d.text) svg.append(el('text', { x: sx(d.x) + 6, y: sy(d.y) - 6, class: 'label' }, d.text));
  }
  host.append(svg);
}
