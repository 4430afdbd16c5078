// The fleet page's form (plan.html): pools, workloads and terms as rows that can be added and
// removed, read into a `ridge plan` file's keys (the page's state, and the link's), each number
// checked in the unit it is typed in (validate.js's rules and messages), and plan()'s errors,
// which name a field of the file (`pools[1].count`), put beside the input that holds it.

import { messageFor, problem } from './validate.js';

/** datasets/examples/plan.toml as the file's JSON copy: the page starts from it. */
export const EXAMPLE = {
  renting: true,
  energy: { usd_per_kwh: 0.12, pue: 1.3, utilization: 0.7, years: 3 },
  pools: [
    { hardware: 'v100-sxm2-32gb', count: 8, owned: {} },
    { hardware: 'h100-sxm', count: 2, owned: { purchase_usd: 30000 } },
  ],
  workloads: [
    { name: 'chat', workload: 'llama-3.1-8b', precision: 'fp16', serve: { requests_per_s: 2, ttft_s: 1.0, tpot_s: 0.1 } },
    { name: 'search-encoder', workload: 'bert-large', serve: { requests_per_s: 200, latency_s: 0.1 } },
    { name: 'fine-tune', workload: 'llama-3.1-8b', train: { tokens: 2e9, deadline_h: 72 } },
  ],
};

const PRECISIONS = [['', "preset's"], ['fp32', 'fp32'], ['bf16', 'bf16'], ['fp16', 'fp16'], ['fp8', 'fp8'], ['int8', 'int8'],
  ['fp6', 'fp6 (MXFP6)'], ['fp4', 'fp4 (MXFP4/NVFP4)'], ['int4', 'int4']];

// Each field of a row: what validate.js checks (label, unit, whole number, bounds), whether it
// must be given, and the scale from the unit typed to the file's (ms to s, % to a share).
const POOL_FIELDS = {
  count: { label: 'Count', int: true, min: 0, required: true },
  purchase: { label: 'Purchase', unit: '$ per device', min: 0, open: true },
  rate: { label: 'Reservation', unit: '$ per device-hour', min: 0, open: true, required: true },
};
const WORKLOAD_FIELDS = {
  rate: { label: 'Request rate', unit: 'requests/s', min: 0, open: true, required: true },
  ttft: { label: 'TTFT target', unit: 'ms', min: 0, open: true, scale: 1e-3 },
  tpot: { label: 'TPOT target', unit: 'ms', min: 0, open: true, scale: 1e-3 },
  latency: { label: 'Latency target', unit: 'ms', min: 0, open: true, scale: 1e-3 },
  output: { label: 'Output tokens', int: true, min: 1 },
  prompt: { label: 'Prompt tokens', int: true, min: 1 },
  tokens: { label: 'Token budget', unit: 'billion tokens', min: 0, open: true, required: true, scale: 1e9 },
  deadline: { label: 'Deadline', unit: 'h', min: 0, open: true, required: true },
  batch: { label: 'Global batch', int: true, min: 1 },
};
const ENERGY_FIELDS = {
  kwh: { key: 'usd_per_kwh', label: '$ / kWh', unit: '$/kWh', min: 0 },
  pue: { key: 'pue', label: 'PUE', min: 1 },
  util: { key: 'utilization', label: 'Utilisation', unit: '%', min: 0, max: 100, scale: 1e-2 },
  years: { key: 'years', label: 'Years', unit: 'years', min: 0, open: true },
};

// A file's key -> the page's field, for plan()'s errors.
const POOL_KEYS = { hardware: 'hardware', count: 'count', owned: 'paid', 'owned.purchase_usd': 'purchase',
  'owned.usd_per_device_hour': 'purchase', 'reserved.usd_per_device_hour': 'rate' };
const WORKLOAD_KEYS = { name: 'name', workload: 'workload', spec: 'workload', serve: 'kind', train: 'kind',
  'serve.requests_per_s': 'rate', 'serve.ttft_s': 'ttft', 'serve.tpot_s': 'tpot', 'serve.latency_s': 'latency',
  'train.tokens': 'tokens', 'train.deadline_h': 'deadline', batch: 'batch', prompt_tokens: 'prompt', output_tokens: 'output' };
const ENERGY_KEYS = { usd_per_kwh: 'kwh', pue: 'pue', utilization: 'util', years: 'years' };

const $ = (id) => document.getElementById(id);
let catalog = null;
let familyOf = () => null;

/** The catalog (`catalog()`) and a workload id's family info (`family()`), from the bundle. */
export function setup(cat, family) {
  catalog = cat;
  familyOf = family;
}

/** A number of the file as the form shows it, in the field's unit. */
function shown(v, scale = 1) {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'number') return String(v);
  return String(+(v / scale).toPrecision(12));
}

/** A field's text as the file's value: a number in the file's unit, the text itself when it is
 * not a number (the link keeps it; the check names it), undefined when empty. */
function valueOf(input, scale = 1) {
  const raw = input.value.trim();
  if (raw === '') return undefined;
  const v = Number(raw);
  return Number.isFinite(v) ? +(v * scale).toPrecision(15) : raw;
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

const field = (text, input, cls = '') => el('label', cls ? { class: cls } : {}, `${text} `, input);
const number = (id, value, placeholder = '') => el('input', { id, type: 'number', step: 'any', value, placeholder });
function select(id, options, value) {
  const s = el('select', { id });
  for (const [v, text] of options) s.append(el('option', { value: v, textContent: text }));
  // A value the catalog does not hold (a link from another version) stays, for plan() to name.
  if (value && !options.some(([v]) => v === value)) s.append(el('option', { value, textContent: `${value} (not in this catalog)` }));
  s.value = value ?? options[0]?.[0] ?? '';
  return s;
}

function poolRow(p, i) {
  const paid = p.reserved ? 'reserved' : 'owned';
  const hardware = catalog.hardware.map((h) => [h.id, `${h.name} (${h.id})`]);
  const row = el('fieldset', { class: 'entry pool', 'data-paid': paid, 'data-index': String(i) },
    el('legend', {}, el('code', { textContent: `pools[${i}]` })),
    field('Device', select(`pool-${i}-hardware`, hardware, p.hardware)),
    el('div', { class: 'row' },
      field('Count', number(`pool-${i}-count`, shown(p.count))),
      field('Paid', select(`pool-${i}-paid`, [['owned', 'owned (bought)'], ['reserved', 'reserved (cloud, by the hour)']], paid))),
    field('Purchase ($ per device)', number(`pool-${i}-purchase`, shown(p.owned?.purchase_usd), "the catalog's estimate"), 'if-owned'),
    field('Reservation ($ per device-hour)', number(`pool-${i}-rate`, shown(p.reserved?.usd_per_device_hour)), 'if-reserved'),
    el('button', { type: 'button', class: 'remove', 'data-remove': 'pools', 'data-index': String(i), textContent: 'Remove this pool', 'aria-label': `Remove this pool (pools[${i}])` }));
  row.querySelector(`#pool-${i}-paid`).addEventListener('input', (e) => { row.dataset.paid = e.target.value; });
  return row;
}

function workloadRow(w, i) {
  const kind = w.train ? 'train' : 'serve';
  const presets = catalog.workloads.map((x) => [x.id, `${x.name} (${x.id})`]);
  const s = w.serve ?? {};
  const t = w.train ?? {};
  const row = el('fieldset', { class: 'entry workload', 'data-kind': kind, 'data-index': String(i) },
    el('legend', {}, el('code', { textContent: `workloads[${i}]` })),
    el('div', { class: 'row' },
      field('Name', el('input', { id: `wl-${i}-name`, type: 'text', value: w.name ?? '' })),
      field('Preset', select(`wl-${i}-workload`, presets, w.workload))),
    el('div', { class: 'row' },
      field('Target', select(`wl-${i}-kind`, [['serve', 'serve requests'], ['train', 'train by a deadline']], kind)),
      field('Precision', select(`wl-${i}-precision`, PRECISIONS, w.precision ?? ''))),
    el('div', { class: 'row if-serve' },
      field('Request rate (requests/s)', number(`wl-${i}-rate`, shown(s.requests_per_s))),
      field('Output tokens', number(`wl-${i}-output`, shown(w.output_tokens), "preset's"), 'if-decoder')),
    el('div', { class: 'row if-serve if-decoder' },
      field('TTFT target (ms)', number(`wl-${i}-ttft`, shown(s.ttft_s, 1e-3), '450 if neither set')),
      field('TPOT target (ms)', number(`wl-${i}-tpot`, shown(s.tpot_s, 1e-3), '40 if neither set'))),
    el('div', { class: 'row if-serve if-other' },
      field('Latency target (ms)', number(`wl-${i}-latency`, shown(s.latency_s, 1e-3), 'none'))),
    el('div', { class: 'row if-train' },
      field('Token budget (billion tokens)', number(`wl-${i}-tokens`, shown(t.tokens, 1e9))),
      field('Deadline (hours)', number(`wl-${i}-deadline`, shown(t.deadline_h)))),
    el('div', { class: 'row' },
      field('Prompt tokens (sequence length)', number(`wl-${i}-prompt`, shown(w.prompt_tokens), "preset's")),
      field('Global batch (sequences)', number(`wl-${i}-batch`, shown(w.batch), "64, or the preset's"), 'if-train')),
    el('button', { type: 'button', class: 'remove', 'data-remove': 'workloads', 'data-index': String(i), textContent: 'Remove this workload', 'aria-label': `Remove this workload (workloads[${i}]${w.name ? `, ${w.name}` : ''})` }));
  const preset = row.querySelector(`#wl-${i}-workload`);
  const kindSelect = row.querySelector(`#wl-${i}-kind`);
  const reclassify = () => {
    const info = familyOf(preset.value);
    row.dataset.family = info?.family ?? '';
    row.dataset.gen = info?.generates ? 'yes' : 'no';
  };
  reclassify();
  // A training preset is trained, an encoder or recommender served: the kind follows the preset
  // where only one applies (a decoder is either).
  preset.addEventListener('input', () => {
    reclassify();
    const f = row.dataset.family;
    if (f === 'training') kindSelect.value = 'train';
    if (f === 'encoder' || f === 'recommender') kindSelect.value = 'serve';
    row.dataset.kind = kindSelect.value;
  });
  kindSelect.addEventListener('input', () => { row.dataset.kind = kindSelect.value; });
  return row;
}

/** Draws the form for plan file `f`. */
export function renderForm(f) {
  $('pools').replaceChildren(...(f.pools ?? []).map(poolRow));
  $('workloads').replaceChildren(...(f.workloads ?? []).map(workloadRow));
  $('renting').checked = f.renting ?? true;
  const e = f.energy ?? {};
  for (const [id, rule] of Object.entries(ENERGY_FIELDS)) $(id).value = shown(e[rule.key], rule.scale);
}

const visible = (input) => input.checkVisibility ? input.checkVisibility() : input.offsetParent !== null;
const drop = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The form as a plan file's keys (fields hidden for the row's kind left out). */
export function readForm() {
  const pools = [...$('pools').children].map((row, i) => {
    const v = (k) => valueOf($(`pool-${i}-${k}`), POOL_FIELDS[k]?.scale);
    const p = { hardware: $(`pool-${i}-hardware`).value, count: v('count') };
    if (row.dataset.paid === 'reserved') p.reserved = drop({ usd_per_device_hour: v('rate') });
    else p.owned = drop({ purchase_usd: v('purchase') });
    return drop(p);
  });
  const workloads = [...$('workloads').children].map((row, i) => {
    const v = (k) => valueOf($(`wl-${i}-${k}`), WORKLOAD_FIELDS[k]?.scale);
    const gen = row.dataset.gen === 'yes';
    const w = { name: $(`wl-${i}-name`).value, workload: $(`wl-${i}-workload`).value, precision: $(`wl-${i}-precision`).value || undefined, prompt_tokens: v('prompt') };
    if (row.dataset.kind === 'train') {
      w.train = drop({ tokens: v('tokens'), deadline_h: v('deadline') });
      w.batch = v('batch');
    } else {
      w.serve = drop(gen ? { requests_per_s: v('rate'), ttft_s: v('ttft'), tpot_s: v('tpot') } : { requests_per_s: v('rate'), latency_s: v('latency') });
      if (gen) w.output_tokens = v('output');
    }
    return drop(w);
  });
  const energy = drop(Object.fromEntries(Object.entries(ENERGY_FIELDS).map(([id, rule]) => [rule.key, valueOf($(id), rule.scale)])));
  return drop({ renting: $('renting').checked, energy: Object.keys(energy).length ? energy : undefined, pools, workloads });
}

function mark(input, text) {
  const m = text || input.hasAttribute('aria-describedby') ? messageFor(input) : null;
  if (text) {
    m.textContent = text;
    m.hidden = false;
    input.setAttribute('aria-invalid', 'true');
  } else {
    if (m) { m.textContent = ''; m.hidden = true; }
    input.removeAttribute('aria-invalid');
  }
}

/** Checks every visible field in its own unit; marks the bad ones and returns their messages. */
export function validateForm() {
  const messages = [];
  const check = (input, rule) => {
    let text = null;
    if (visible(input)) {
      text = problem(rule, input, rule.unit);
      if (!text && rule.required && input.value.trim() === '') text = `${rule.label}: required${rule.unit ? ` (${rule.unit})` : ''}`;
    }
    mark(input, text);
    if (text) messages.push(text);
  };
  [...$('pools').children].forEach((_, i) => {
    for (const [k, rule] of Object.entries(POOL_FIELDS)) check($(`pool-${i}-${k}`), rule);
    for (const k of ['hardware', 'paid']) mark($(`pool-${i}-${k}`), null);
  });
  [...$('workloads').children].forEach((_, i) => {
    for (const [k, rule] of Object.entries(WORKLOAD_FIELDS)) check($(`wl-${i}-${k}`), rule);
    const name = $(`wl-${i}-name`);
    const text = name.value.trim() === '' ? 'Name: required (each workload needs one)' : null;
    mark(name, text);
    if (text) messages.push(text);
    for (const k of ['workload', 'kind', 'precision']) mark($(`wl-${i}-${k}`), null);
  });
  for (const [id, rule] of Object.entries(ENERGY_FIELDS)) check($(id), rule);
  for (const id of ['pools-error', 'workloads-error']) { $(id).hidden = true; $(id).textContent = ''; }
  return messages;
}

/**
 * Puts plan()'s message beside the input of the field it names (`pools[1].count: …`); returns
 * that input's id, or null when the message names no field of the form.
 */
export function placePlanError(message) {
  let id = null;
  const m = message.match(/^(pools|workloads)\[(\d+)\]\.([\w.]+): /) ?? message.match(/^(energy)\.(\w+): /) ?? message.match(/^(pools|workloads): /);
  if (m && m[1] === 'pools' && m[3]) id = POOL_KEYS[m[3]] && `pool-${m[2]}-${POOL_KEYS[m[3]]}`;
  else if (m && m[1] === 'workloads' && m[3]) id = WORKLOAD_KEYS[m[3]] && `wl-${m[2]}-${WORKLOAD_KEYS[m[3]]}`;
  else if (m && m[1] === 'energy') id = ENERGY_KEYS[m[2]];
  else if (m) {
    const box = $(`${m[1]}-error`);
    box.textContent = message;
    box.hidden = false;
    return box.id;
  }
  const input = id && $(id);
  if (!input) return null;
  mark(input, message);
  return id;
}
