// The browser tool: ridge-core compiled to WebAssembly ranks hardware for the workload as the user
// types. The whole state lives in the URL (share it to share the comparison).

import init, { catalog, family, layoutText, rank, rankCsv, roofline, version } from './pkg/ridge_wasm.js';
import { draw } from './chart.js';
import { fmtDuration as fmtMs } from './format.js';
import { csvComments, exportInputs, exportName } from './export.js';
import { renderCustomFields } from './custom.js';
import { renderAnswer } from './answer.js';
import { MAX_COMPARED, comparisonComments, comparisonRecords, renderComparison } from './compare.js';
import { renderDetail } from './detail.js';
import { deviceEntry, readDevice } from './device.js';
import { renderPareto, renderRoofline, renderScaling, renderServing } from './plots.js';
import { renderTable } from './table.js';
import { validateFields } from './validate.js';
import { devices as serviceDevices } from './api.js';
import { dropAddress, flushAddress, writeAddress } from './address.js';

const $ = (id) => document.getElementById(id);
const form = $('inputs');

// URL parameter -> form control. Empty values are left out of the URL.
const FIELDS = {
  w: 'workload', precision: 'precision', batch: 'batch', prompt: 'prompt', output: 'output',
  maxdev: 'maxdev', tput: 'tput', rate: 'rate', ttft: 'ttft', tpot: 'tpot', latency: 'latency', budget: 'budget',
  batching: 'batching', hits: 'hits', imb: 'imb',
  power: 'power', cls: 'cls', years: 'years', kwh: 'kwh', pue: 'pue', util: 'util',
  udmem: 'udmem', udprice: 'udprice', udbuy: 'udbuy', udwatts: 'udwatts',
};
const DEFAULTS = { w: 'llama-3.1-70b', maxdev: '8', years: '3', kwh: '0.12', pue: '1.3', util: '70', mode: 'cloud' };
// When nothing fits, device limits up to this are searched for the smallest that does.
const MAX_DEVICE_SEARCH = 4096;

const app = {
  catalog: null,
  measurements: [],       // from `ridge serve` when the page is served by it
  measuredFrom: 'bundled',
  result: null,
  selected: null,
  selectedByUser: false,  // a row the user chose (kept while it is ranked) rather than the #1
  rowEls: new Map(),      // table rows by hardware id, kept across re-ranks
  headKey: '',
  lastKey: '',            // the state last ranked: a change event with nothing new does nothing
  editing: false,         // a field is being typed in: its keystrokes share one history entry
  pushNext: false,        // the next URL change starts a history entry
  suggestTimer: null,     // the search for a device count that fits, when nothing does
  timings: { rank: [], update: [], firstRender: null },
  compare: [],            // hardware ids of the rows compared side by side (in the URL as `cmp`)
  otherResult: null,      // training: the ranking in the other cost mode (cloud or owned)
  userDevice: null,       // the in-page benchmark's result (in the URL as `ud`)
  prices: {},             // your prices by catalog id: USD per device-hour (cloud)
  purchases: {},          // and USD per device (owned)
};
window.ridge = app; // for the browser tests and the curious

function readState() {
  const q = new URLSearchParams(location.search);
  const s = { ...DEFAULTS };
  for (const [k, v] of q) s[k] = v;
  return s;
}

function writeForm(s) {
  for (const [k, id] of Object.entries(FIELDS)) $(id).value = s[k] ?? '';
  for (const r of form.querySelectorAll('input[name=mode]')) r.checked = r.value === (s.mode || 'cloud');
  $('datasheet').checked = s.datasheet === '1';
  $('offload').checked = s.offload === '1';
  $('calibrated').checked = s.cal === '1';
  $('custom-on').checked = s.custom !== undefined && s.custom !== '';
  if (s.custom) $('custom').value = s.custom;
}

function formState() {
  const s = {};
  for (const [k, id] of Object.entries(FIELDS)) {
    const v = $(id).value.trim();
    if (v !== '') s[k] = v;
  }
  s.mode = form.querySelector('input[name=mode]:checked')?.value || 'cloud';
  if ($('datasheet').checked) s.datasheet = '1';
  if ($('offload').checked) s.offload = '1';
  if ($('calibrated').checked) s.cal = '1';
  if ($('custom-on').checked && $('custom').value.trim()) s.custom = $('custom').value.trim();
  if (app.selected && app.selectedByUser) s.sel = app.selected;
  if (app.compare.length) s.cmp = app.compare.join(',');
  // The benchmarked device's measured ceilings, so a reload (or a shared link) ranks it again.
  const u = app.userDevice;
  if (u) s.ud = [u.copy.value, u.fma.value, u.software ? 1 : 0, u.adapter].join('|');
  const pairs = (o) => Object.entries(o).map(([k, v]) => `${k}:${v}`).join(',');
  if (Object.keys(app.prices).length) s.prices = pairs(app.prices);
  if (Object.keys(app.purchases).length) s.buy = pairs(app.purchases);
  return s;
}

/** `id:usd,id:usd` from the URL as an object; malformed pairs are dropped. */
function readPrices(text) {
  const out = {};
  for (const pair of (text || '').split(',')) {
    const [id, usd] = pair.split(':');
    if (id && Number(usd) > 0) out[id] = Number(usd);
  }
  return out;
}

function writeUrl(s) {
  writeAddress(s, DEFAULTS, app.pushNext);
  app.pushNext = false;
}

const num = (v) => (v === undefined || v === '' ? undefined : Number(v));

/** The `rank` input for a state; throws with a readable message on bad JSON. */
function matchInput(s) {
  // Targets of the other family stay in the form (and the URL) but do not apply.
  const decoder = familyOf(s)?.generates ?? true;
  const ms = (v) => (num(v) === undefined ? undefined : num(v) / 1000);
  const rate = decoder ? num(s.rate) : undefined;
  const input = {
    query: {
      workload: s.w,
      precision: s.precision || undefined,
      prompt_tokens: num(s.prompt),
      output_tokens: num(s.output),
      datasheet_only: s.datasheet === '1',
      offload: s.offload === '1',
      // A hot-row cache applies to a recommender's offloaded tables only.
      cache_hits: s.offload === '1' && familyOf(s)?.family === 'recommender' && num(s.hits) !== undefined ? num(s.hits) / 100 : undefined,
      // Routing imbalance applies to a mixture-of-experts model only.
      expert_imbalance: familyOf(s)?.family === 'moe' ? num(s.imb) : undefined,
      calibrated: s.cal === '1',
      measurements: s.datasheet === '1' ? [] : app.measurements,
    },
    constraints: {
      max_devices: num(s.maxdev),
      batch: num(s.batch),
      ttft_s: decoder ? ms(s.ttft) : undefined,
      tpot_s: decoder ? ms(s.tpot) : undefined,
      latency_s: decoder ? undefined : ms(s.latency),
      budget_usd_per_hour: num(s.budget),
      power_cap_w: num(s.power),
      required_throughput: rate === undefined ? num(s.tput) : undefined,
      // Prices are aged against today's date; yours replace the catalog's.
      today: new Date().toISOString().slice(0, 10),
      prices: s.mode === 'owned' ? {} : app.prices,
      purchase_prices: s.mode === 'owned' ? app.purchases : {},
    },
    // Decoders: a request rate asks for rate x output tokens generated per second.
    requests_per_s: rate,
    cost: s.mode === 'owned'
      ? { mode: 'owned', years: num(s.years), usd_per_kwh: num(s.kwh), pue: num(s.pue), utilization: num(s.util) / 100 }
      : { mode: 'cloud', class: s.cls || undefined },
  };
  // Decoders are served with continuous batching unless static batches are asked for (the key
  // stays out otherwise: the constraint has a default, not an empty value).
  if (decoder && s.batching === 'static') input.constraints.batching = 'static';
  const device = userDevice();
  if (device) {
    input.extra_hardware = [device.hardware];
    input.query.measurements = [...input.query.measurements, device.measurement];
  }
  if (s.custom) {
    try {
      input.query.custom = JSON.parse(s.custom);
    } catch (e) {
      throw new Error(`custom workload: not valid JSON (${e.message})`);
    }
  }
  return input;
}

/** The benchmarked device as a catalog entry and a measurement, once its memory is given. */
function userDevice() {
  const field = (id) => num($(id).value.trim());
  return deviceEntry(app.userDevice, { memoryGb: field('udmem'), usdPerHour: field('udprice'), purchaseUsd: field('udbuy'), watts: field('udwatts') });
}

/** The state of the URL into the form, the selection and the prices; returns it. */
function loadState() {
  const s = readState();
  const notice = $('notice');
  notice.hidden = true;
  if (!workloadById(s.w)) {
    const fallback = workloadById(DEFAULTS.w);
    notice.textContent = `Unknown workload \`${s.w}\`; showing the default, ${fallback.name}.`;
    notice.hidden = false;
    s.w = DEFAULTS.w;
  }
  writeForm(s);
  app.selected = s.sel || null;
  app.selectedByUser = Boolean(s.sel);
  app.prices = readPrices(s.prices);
  app.purchases = readPrices(s.buy);
  app.compare = (s.cmp || '').split(',').filter(Boolean).slice(0, MAX_COMPARED);
  app.userDevice = readDevice(s.ud);
  $('user-device').hidden = !app.userDevice;
  if (app.userDevice?.fromUrl) {
    $('bench-status').textContent = `Measured earlier in this browser (kept in the link): ${app.userDevice.copy.value.toPrecision(3)} GB/s and ${app.userDevice.fma.value.toPrecision(3)} TFLOP/s fp32 on ${app.userDevice.adapter}${app.userDevice.software ? ', a software renderer: the CPU' : ''}.`;
  }
  renderCustomFields();
  return s;
}

function workloadById(id) {
  return app.catalog.workloads.find((w) => w.id === id);
}

/**
 * The family of the state's workload from ridge-core (`{family, generates, throughput_unit}`): the
 * custom workload's once it validates, else the preset's; null when neither resolves.
 */
/** A workload's family, asked of the bundle once per workload (a re-rank asks three times). */
const families = new Map();
function familyOf(s) {
  const key = JSON.stringify([s.w, s.custom || '']);
  if (!families.has(key)) {
    const ask = (q) => { try { return family(q); } catch { return null; } };
    let custom;
    if (s.custom) { try { custom = JSON.parse(s.custom); } catch { /* reported by the ranking */ } }
    if (families.size > 64) families.clear();
    families.set(key, (custom !== undefined && ask({ custom })) || ask({ workload: s.w }));
  }
  return families.get(key);
}

function showFamily(s) {
  let w = workloadById(s.w);
  if (s.custom) { try { w = JSON.parse(s.custom); } catch { /* reported by the ranking */ } }
  const info = familyOf(s);
  const fam = info?.family ?? 'decoder';
  const decoder = info?.generates ?? true;
  document.body.dataset.family = decoder ? 'decoder' : 'batch';
  // Mixture-of-experts only: the routing imbalance field.
  document.body.dataset.moe = fam === 'moe' ? '1' : '0';
  document.body.dataset.mode = s.mode || 'cloud';
  $('tput-unit').textContent = `(${info?.throughput_unit ?? 'generated tokens/s'})`;
  if (w) {
    const d = w.defaults || {};
    const shape = w.transformer ? `${w.transformer.layers} layers × ${w.transformer.hidden}` : w.dlrm ? `${w.dlrm.table_rows?.length ?? ''} tables × ${w.dlrm.embedding_dim}` : '';
    $('workload-info').textContent = `${w.name} — ${fam}${shape ? `, ${shape}` : ''}; default batch ${d.batch}, ${d.prompt_tokens ?? 0} in / ${d.output_tokens ?? 0} out, ${d.weights}`;
    $('prompt').placeholder = String(d.prompt_tokens ?? '');
    $('output').placeholder = String(d.output_tokens ?? '');
    $('output').disabled = !decoder;
  }
}

function hardwareName(id) {
  return app.catalog.hardware.find((h) => h.id === id)?.name ?? id;
}

function renderSelected() {
  const r = app.result;
  const row = r?.rows.find((x) => x.hardware === app.selected) || r?.rows[0];
  const detail = $('detail');
  // The selected row is the table's one tab stop (arrow keys move from it).
  for (const tr of $('ranking').tBodies[0].rows) {
    const on = Boolean(row && tr.dataset.hardware === row.hardware);
    tr.setAttribute('aria-selected', String(on));
    tr.tabIndex = on ? 0 : -1;
  }
  if (!row) {
    detail.replaceChildren();
    renderRoofline(null);
    renderScaling(null);
    renderServing(null);
    return;
  }
  renderServing(row);
  const s = formState();
  let series = null;
  try {
    const input = matchInput(s);
    series = roofline({ query: input.query, hardware: row.hardware, layout: row.layout, batch: row.batch, extra_hardware: input.extra_hardware ?? [] });
  } catch {
    series = null;
  }
  renderRoofline(row, series, r.family, app.userDevice);
  renderScaling(row, r.throughput_unit, layoutText);
  const other = app.otherResult?.rows.find((x) => x.hardware === row.hardware) ?? null;
  renderDetail(detail, row, r, { owned: s.mode === 'owned', other, priceEditor: priceEditor(row) });
}

/** An input for your own price of the selected device (per hour renting, per device owned). */
function priceEditor(row) {
  const owned = formState().mode === 'owned';
  const mine = owned ? app.purchases : app.prices;
  const label = document.createElement('label');
  label.textContent = owned ? 'Your purchase price, $ per device ' : 'Your price, $ per device-hour ';
  const input = document.createElement('input');
  input.type = 'number';
  input.min = '0';
  input.step = 'any';
  input.id = 'your-price';
  input.placeholder = row.usd_per_hour == null ? 'no public price' : 'catalog price';
  if (mine[row.hardware] !== undefined) input.value = String(mine[row.hardware]);
  input.addEventListener('change', () => {
    const v = Number(input.value);
    if (input.value.trim() === '') delete mine[row.hardware];
    else if (v > 0) mine[row.hardware] = v;
    else return;
    app.pushNext = true;
    update();
  });
  label.append(input);
  return label;
}

function select(hw) {
  app.selected = hw;
  app.selectedByUser = true;
  app.pushNext = true;
  writeUrl(formState());
  app.lastKey = stateKey();
  renderSelected();
  renderPareto(app.result, app.selected);
}

/** Adds a row to the comparison or takes it out (at most MAX_COMPARED); `null` empties it. One
 * history entry. */
function compare(hw, chosen) {
  app.compare = hw === null ? [] : app.compare.filter((x) => x !== hw);
  if (hw !== null && chosen && app.compare.length < MAX_COMPARED) app.compare.push(hw);
  app.pushNext = true;
  writeUrl(formState());
  app.lastKey = stateKey();
  renderTable(app.result, app, tableHooks());
  renderComparison($('comparison'), app.result, app.compare, comparisonHooks);
}

const comparisonHooks = { clear: () => compare(null, false) };

function tableHooks() {
  return { pick: select, compare, compared: app.compare, name: hardwareName };
}

/** What a ranking depends on, to tell a change event that brings nothing new. */
function stateKey() {
  return JSON.stringify([formState(), ['udmem', 'udprice', 'udbuy', 'udwatts'].map((id) => $(id).value), Boolean(app.userDevice)]);
}

/** No ranking on screen: the input has a problem; the message says which. */
function showError(message) {
  const err = $('error');
  err.textContent = message;
  err.hidden = false;
  app.result = null;
  $('ranking').tBodies[0].replaceChildren();
  app.rowEls.clear();
  $('rejected').replaceChildren();
  $('summary').textContent = 'No ranking until the input is fixed.';
  $('targets').textContent = '';
  $('legend').textContent = '';
  $('suggest').hidden = true;
  clearTimeout(app.suggestTimer);
  draw($('pareto-chart'), { title: 'Cost against throughput', x: { label: 'throughput', log: true }, y: { label: '$', log: true }, empty: 'no ranking' });
  renderAnswer($('answer'), null, {});
  renderComparison($('comparison'), null, [], {});
  app.otherResult = null;
  renderSelected();
}

/**
 * The smallest device limit at which something fits, searched above the state's: doubling up to
 * MAX_DEVICE_SEARCH, then halving the gap; null if nothing fits even there.
 */
function fittingDeviceCount(s) {
  const fits = (n) => {
    try { return rank(matchInput({ ...s, maxdev: String(n) })).rows.length > 0; } catch { return false; }
  };
  let lo = num(s.maxdev) ?? Number(DEFAULTS.maxdev), hi = null;
  for (let n = lo * 2; n <= MAX_DEVICE_SEARCH; n *= 2) {
    if (fits(n)) { hi = n; break; }
    lo = n;
  }
  if (hi === null) return null;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) hi = mid; else lo = mid;
  }
  return hi;
}

/** Offers the smallest device limit that fits, found after the page has drawn (it may take a
 * few rankings). */
function suggestDevices(s) {
  clearTimeout(app.suggestTimer);
  app.suggestTimer = setTimeout(() => {
    const n = fittingDeviceCount(s);
    if (!n) return;
    $('suggest-text').textContent = `The smallest device count that fits: ${n}.`;
    $('suggest-use').textContent = `Use ${n} devices`;
    $('suggest-use').dataset.devices = String(n);
    $('suggest').hidden = false;
  }, 0);
}

function update() {
  const s = formState();
  showFamily(s);
  const info = familyOf(s);
  const applies = new Set([(info?.generates ?? true) ? 'decoder' : 'batch', s.mode === 'owned' ? 'owned' : 'cloud']);
  if (info?.family === 'moe') applies.add('moe');
  if (app.userDevice) applies.add('device');
  const bad = validateFields(applies, info?.throughput_unit ?? 'generated tokens/s');
  app.lastKey = stateKey();
  if (bad.length) {
    showError(bad.length === 1 ? `Not ranked: ${bad[0]}.` : `Not ranked: ${bad.length} fields need fixing (marked): ${bad.join('; ')}.`);
    writeUrl(s);
    return;
  }
  const err = $('error');
  let result;
  const t0 = performance.now();
  try {
    result = rank(matchInput(s));
  } catch (e) {
    showError(`Not ranked: ${e.message || String(e)}`);
    writeUrl(s);
    return;
  }
  const ms = performance.now() - t0;
  app.timings.rank.push(ms);
  // Training: the same ranking in the other cost mode, for each row's cost to train both ways.
  app.otherResult = null;
  if (result.family === 'training') {
    try { app.otherResult = rank(matchInput({ ...s, mode: s.mode === 'owned' ? 'cloud' : 'owned' })); } catch { /* shown as not ranked */ }
  }
  err.hidden = true;
  app.result = result;
  // The panel follows the #1 unless the user chose a row that is still ranked.
  if (!(app.selectedByUser && result.rows.some((x) => x.hardware === app.selected))) {
    app.selected = result.rows[0]?.hardware ?? null;
    app.selectedByUser = false;
  }
  writeUrl(formState());
  app.lastKey = stateKey();
  $('suggest').hidden = true;
  clearTimeout(app.suggestTimer);
  if (result.rows.length) {
    $('summary').textContent = `${result.rows.length} configurations ranked by ${result.ranked_by.replaceAll('_', ' ')} in ${ms.toFixed(1)} ms`;
  } else {
    $('summary').textContent = `Nothing fits on up to ${s.maxdev ?? DEFAULTS.maxdev} devices; the reasons are below.`;
    suggestDevices(s);
  }
  const t = result.latency_targets;
  $('targets').textContent = t && (t.ttft_s || t.tpot_s)
    ? `Ranked at time to first token ≤ ${fmtMs(t.ttft_s)} and time per output token ≤ ${fmtMs(t.tpot_s)}${t.assumed ? ' (assumed: MLPerf Inference\'s interactive targets; set your own above)' : ''}.`
    : '';
  // Rows compared that are no longer ranked drop out.
  app.compare = app.compare.filter((hw) => result.rows.some((x) => x.hardware === hw));
  renderAnswer($('answer'), result, { owned: s.mode === 'owned', workloadName: workloadName(s), maxDevices: s.maxdev ?? DEFAULTS.maxdev });
  renderTable(result, app, tableHooks());
  renderComparison($('comparison'), result, app.compare, comparisonHooks);
  renderPareto(result, app.selected);
  renderSelected();
  app.timings.update.push(performance.now() - t0);
}

/** The name of the state's workload (the custom one's when it parses). */
function workloadName(s) {
  if (s.custom) { try { return JSON.parse(s.custom).name || 'the custom workload'; } catch { /* reported */ } }
  return workloadById(s.w)?.name ?? s.w;
}

function download(name, type, text) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function loadMeasurements() {
  // Served by `ridge serve`: its measured ceilings, per catalog device, replace the bundled ones.
  try {
    const devices = await serviceDevices();
    app.measurements = devices.filter((d) => d.catalog_id && d.measurement).map((d) => d.measurement);
    app.measuredFrom = 'server';
    $('history-link').hidden = !devices.length;
    $('measured-source').textContent = app.measurements.length
      ? `Measured ceilings of ${app.measurements.length} device(s) from this ridge serve are used (marked measured).`
      : 'This ridge serve holds no measurement of a catalog device yet; the bundled reference measurements are used.';
  } catch {
    $('measured-source').textContent = 'Using the bundled reference measurements (marked measured).';
  }
}

async function main() {
  const t0 = performance.now();
  await init();
  app.catalog = catalog();
  const sel = $('workload');
  for (const w of app.catalog.workloads) {
    const o = document.createElement('option');
    o.value = w.id;
    o.textContent = `${w.name} (${family({ workload: w.id }).family})`;
    sel.append(o);
  }
  const s = loadState();
  if (s.custom) $('custom-box').open = true;
  $('custom').addEventListener('change', renderCustomFields);
  $('workload').addEventListener('change', () => { $('notice').hidden = true; });
  await loadMeasurements();
  // Each keystroke re-ranks; the first of an edit starts a history entry, and leaving the field
  // (its change event) ends the edit without re-ranking when nothing is new, so the table does
  // not change under a click that made the field lose focus.
  form.addEventListener('input', () => {
    if (!app.editing) { app.editing = true; app.pushNext = true; }
    update();
  });
  form.addEventListener('change', () => {
    // The edit is over: its address is written now.
    flushAddress();
    const editing = app.editing;
    app.editing = false;
    if (stateKey() === app.lastKey) { app.pushNext = false; return; }
    if (!editing) app.pushNext = true;
    update();
  });
  document.addEventListener('visibilitychange', flushAddress);
  window.addEventListener('popstate', () => {
    dropAddress();
    app.editing = false;
    app.pushNext = false;
    loadState();
    update();
  });
  $('suggest-use').addEventListener('click', () => {
    $('maxdev').value = $('suggest-use').dataset.devices;
    app.pushNext = true;
    update();
  });
  $('more-columns').addEventListener('click', () => {
    const more = $('ranking').classList.toggle('more');
    $('more-columns').setAttribute('aria-expanded', String(more));
    $('more-columns').textContent = more ? 'Fewer columns' : 'More columns';
  });
  form.addEventListener('submit', (e) => e.preventDefault());
  $('custom-load').addEventListener('click', () => {
    const w = workloadById($('workload').value);
    $('custom').value = JSON.stringify({ ...w, id: `${w.id}-custom`, name: `${w.name} (custom)` }, null, 2);
    $('custom-on').checked = true;
    renderCustomFields();
    app.pushNext = true;
    update();
  });
  // The CSV of `ridge match --csv`, written by ridge-core for the ranking on screen, after `#`
  // lines that give the inputs; the JSON: `ridge match --json`'s document with an `inputs` object.
  const inputsNow = (s) => {
    const date = new Date().toISOString().slice(0, 10);
    let workload = workloadById(s.w);
    if (s.custom) { try { workload = JSON.parse(s.custom); } catch { /* reported by the ranking */ } }
    const decoder = familyOf(s)?.generates ?? true;
    const moe = familyOf(s)?.family === 'moe';
    return exportInputs(s, { workload, decoder, moe, prices: app.prices, purchases: app.purchases, measuredFrom: app.measuredFrom, version: version(), date, url: (flushAddress(), location.href) });
  };
  // The rows compared side by side go with both: `# compare N:` lines in the CSV's head, a
  // `comparison` list in the JSON.
  $('export-csv').addEventListener('click', () => {
    if (!app.result) return;
    const s = formState(), inputs = inputsNow(s);
    const compared = comparisonComments(comparisonRecords(app.result, app.compare));
    download(exportName(inputs.workload, inputs.date, 'csv'), 'text/csv', csvComments(inputs) + compared + rankCsv(matchInput(s)));
  });
  $('export-json').addEventListener('click', () => {
    if (!app.result) return;
    const inputs = inputsNow(formState());
    const comparison = comparisonRecords(app.result, app.compare);
    download(exportName(inputs.workload, inputs.date, 'json'), 'application/json', JSON.stringify({ inputs, ...(comparison.length ? { comparison } : {}), ...app.result }, null, 2));
  });
  $('copy-link').addEventListener('click', async () => {
    try {
      flushAddress();
      await navigator.clipboard.writeText(location.href);
      $('summary').textContent = 'Link copied.';
    } catch {
      $('summary').textContent = `Link: ${location.href}`;
    }
  });
  $('bench-start').addEventListener('click', async () => {
    const { runBenchmark } = await import('./bench.js');
    runBenchmark($('bench-status'), (device) => {
      app.userDevice = device;
      $('user-device').hidden = false;
      app.pushNext = true;
      update();
    });
  });
  update();
  app.timings.firstRender = performance.now() - t0;
  document.body.dataset.ready = '1';
}

main().catch((e) => {
  $('error').textContent = `ridge could not start: ${e.message || e}`;
  $('error').hidden = false;
});
