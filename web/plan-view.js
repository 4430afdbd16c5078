// The fleet page's answer (plan.html): the verdict in one sentence, the cost per hour split, the
// assignment, why each workload runs where it does (core's own sentences: `why` and
// `alternatives`), the pools with what they leave idle, and what to rent or buy to close a gap.
// Every figure is plan()'s (`ridge plan --json`'s document); this file only lays them out.

import { fmtDuration } from './format.js';

const $ = (id) => document.getElementById(id);

/** USD per hour as the command line prints it: "$2.96/h". */
export const perHour = (v) => `$${v.toFixed(2)}/h`;

/** A count of tokens in words: "2 billion". */
export function tokensText(n) {
  for (const [s, w] of [[1e12, 'trillion'], [1e9, 'billion'], [1e6, 'million']]) if (n >= s) return `${+(n / s).toPrecision(3)} ${w}`;
  return String(+n.toPrecision(3));
}


/** A workload's target in brief: "2 req/s, TTFT ≤ 1 s, TPOT ≤ 100 ms", "2 billion tokens in 72 h". */
export function targetText(t) {
  if (t.kind === 'train') return `${tokensText(t.tokens)} tokens in ${+t.deadline_h.toPrecision(4)} h`;
  const limits = [t.ttft_s != null && `TTFT ≤ ${fmtDuration(t.ttft_s)}`, t.tpot_s != null && `TPOT ≤ ${fmtDuration(t.tpot_s)}`, t.latency_s != null && `latency ≤ ${fmtDuration(t.latency_s)}`].filter(Boolean);
  return [`${+t.requests_per_s.toPrecision(4)} req/s`, ...limits].join(', ');
}

/** Where, as the command line writes it: "pools[0] v100-sxm2-32gb (owned)", "rent mi300x". */
export function placeText(p) {
  if (!p) return 'unmet';
  return p.on === 'pool' ? `pools[${p.pool}] ${p.hardware} (${p.paid})` : `rent ${p.hardware}`;
}

/** A place as a key the tests compare: "pools[1]" or "rent:mi300x". */
const placeKey = (p) => (!p ? 'unmet' : p.on === 'pool' ? `pools[${p.pool}]` : `rent:${p.hardware}`);

function cells(row, values) {
  for (const [text, cls] of values) {
    const c = row.insertCell();
    c.textContent = text;
    if (cls) c.className = cls;
  }
}

const strong = (k, v, text) => {
  const s = document.createElement('strong');
  s.dataset.k = k;
  s.dataset.v = String(v);
  s.textContent = text;
  return s;
};

function verdict(r) {
  const out = [];
  const n = r.workloads.length;
  const unmet = r.workloads.filter((w) => !w.place);
  const rented = r.workloads.filter((w) => w.place?.on === 'rent');
  if (r.meets_all_targets) {
    out.push(strong('verdict', 'met', n === 1 ? 'The target is met' : `All ${n} targets are met`));
    const where = rented.length ? `, renting for ${rented.map((w) => w.name).join(' and ')},` : ' on the fleet alone, nothing rented,';
    out.push(`${where} for `, strong('total', r.cost.total_usd_per_hour, perHour(r.cost.total_usd_per_hour)), ` in all (${perHour(r.cost.sunk_usd_per_hour)} of it sunk in the pools).`);
  } else {
    const names = unmet.map((w) => w.name).join(', ');
    out.push(strong('verdict', 'unmet', `${unmet.length} of ${n} target${n === 1 ? '' : 's'} cannot be met`), `: ${names}`);
    const gap = r.gaps.some((g) => !g.rented);
    out.push(gap ? ' (renting is off; what would close the gap is below). ' : ' (see why below). ');
    out.push('The rest cost ', strong('total', r.cost.total_usd_per_hour, perHour(r.cost.total_usd_per_hour)), ' in all.');
  }
  $('answer').replaceChildren(...out);
}

function cost(c) {
  $('cost').replaceChildren('Per hour: ',
    strong('sunk', c.sunk_usd_per_hour, perHour(c.sunk_usd_per_hour)), ' sunk (the pools, paid whether used or idle) + ',
    strong('energy', c.energy_usd_per_hour, perHour(c.energy_usd_per_hour)), ' energy of the owned devices at work + ',
    strong('rent', c.rent_usd_per_hour, perHour(c.rent_usd_per_hour)), ' rent = ',
    strong('total', c.total_usd_per_hour, perHour(c.total_usd_per_hour)), '.');
}

function assignment(r) {
  const body = $('assignment').tBodies[0];
  body.replaceChildren();
  for (const w of r.workloads) {
    const row = body.insertRow();
    row.dataset.workload = w.name;
    row.dataset.place = placeKey(w.place);
    if (w.fit) { row.dataset.devices = String(w.fit.devices); row.dataset.usdPerHour = String(w.fit.usd_per_hour); }
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = w.name;
    row.append(th);
    cells(row, [
      [`${targetText(w.target)} (${w.workload})`, 'wrap'],
      [placeText(w.place), w.place ? '' : 'unmet'],
      [w.fit ? String(w.fit.devices) : '–', 'num'],
      [w.fit ? w.fit.layout : '–'],
      [w.fit ? w.fit.usd_per_hour.toFixed(2) : '–', 'num'],
    ]);
  }
}

function why(r) {
  const host = $('why-list');
  host.replaceChildren();
  for (const w of r.workloads) {
    const item = document.createElement('section');
    item.className = `why-item${w.place ? '' : ' unmet'}`;
    item.dataset.workload = w.name;
    const h = document.createElement('h3');
    h.textContent = w.name;
    const p = document.createElement('p');
    p.textContent = w.why;
    item.append(h, p);
    if (w.alternatives.length) {
      const ul = document.createElement('ul');
      for (const a of w.alternatives) {
        const li = document.createElement('li');
        li.textContent = a;
        ul.append(li);
      }
      item.append(ul);
    }
    host.append(item);
  }
}

function pools(r) {
  const body = $('pools-table').tBodies[0];
  body.replaceChildren();
  for (const u of r.pools) {
    const row = body.insertRow();
    row.dataset.place = placeKey(u.place);
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = placeText(u.place);
    row.append(th);
    cells(row, [
      [String(u.place.count), 'num'],
      [String(u.used), 'num'],
      [String(u.idle), 'num'],
      [u.workloads.join(', ') || 'none', 'wrap'],
      [u.sunk_usd_per_hour == null ? 'not costed' : u.sunk_usd_per_hour.toFixed(2), 'num'],
      [u.energy_unknown ? 'no TDP' : u.energy_usd_per_hour.toFixed(2), 'num'],
    ]);
  }
}

function gaps(r) {
  $('gaps').hidden = !r.gaps.length;
  $('gaps-list').replaceChildren(...r.gaps.map((g) => {
    const li = document.createElement('li');
    li.dataset.workload = g.workload;
    const buy = g.buy_usd != null ? `, or buy ${g.devices} for $${Math.round(g.buy_usd).toLocaleString('en-US')} (the catalog's estimate)` : '';
    li.textContent = `${g.workload}: rent ${g.devices} ${g.hardware} at ${perHour(g.rent_usd_per_hour)}${buy} (${g.rented ? 'rented in this plan' : 'renting is off: not in this plan'}).`;
    return li;
  }));
}

/** Shows plan `r`. */
export function renderPlan(r) {
  $('error').hidden = true;
  $('error').textContent = '';
  verdict(r);
  cost(r.cost);
  assignment(r);
  why(r);
  pools(r);
  gaps(r);
  $('answered').hidden = false;
}

/** Clears the answer (nothing stale stays on screen) and says why there is none. */
export function clearPlan(message, sentence) {
  $('answered').hidden = true;
  for (const id of ['assignment', 'pools-table']) $(id).tBodies[0].replaceChildren();
  $('why-list').replaceChildren();
  $('gaps-list').replaceChildren();
  $('cost').textContent = '';
  $('error').textContent = message;
  $('error').hidden = false;
  $('answer').textContent = sentence;
}
