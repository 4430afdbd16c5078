// The fleet page (plan.html): `ridge plan` in the browser. The state is a plan file's keys (the
// JSON copy `ridge plan FILE.json` reads), kept in the address as one parameter (`?plan=`), so a
// link reproduces the fleet; every change (once typing pauses) asks the bundle's plan() again.
// The form is plan-form.js's, the answer plan-view.js's; the arithmetic is ridge-core's.

import init, { catalog, family, plan } from './pkg/ridge_wasm.js';
import { dropAddress, flushAddress, writeAddress } from './address.js';
import { EXAMPLE, placePlanError, readForm, renderForm, setup, validateForm } from './plan-form.js';
import { clearPlan, renderPlan } from './plan-view.js';

/** How long typing pauses before the fleet is planned again, in milliseconds. */
const PLAN_PAUSE_MS = 150;

const $ = (id) => document.getElementById(id);
const form = $('fleet');

const app = {
  catalog: null,
  file: null,          // the plan file the form holds now
  result: null,        // plan()'s answer to it, or null
  error: null,         // why there is none: the fields' messages or plan()'s
  defaultText: '',     // the example as the form writes it (left out of the address)
  lastText: '',
  editing: false,
  runs: 0,             // answers given (tests wait on data-runs)
  timings: [],         // milliseconds per plan() call
};
window.ridge = app; // for the browser tests and the curious

/** The plan file in the address, or the example; `bad`: a link that did not read. */
function fromAddress() {
  const text = new URLSearchParams(location.search).get('plan');
  if (!text) return { file: structuredClone(EXAMPLE) };
  try {
    const f = JSON.parse(text);
    if (f && typeof f === 'object' && !Array.isArray(f)) return { file: f };
  } catch { /* said below */ }
  return { file: structuredClone(EXAMPLE), bad: true };
}

function load() {
  const { file, bad } = fromAddress();
  renderForm(file);
  $('link-status').textContent = bad ? 'The link\'s plan did not read as JSON; this is the example fleet.' : '';
}

function answer(push) {
  const file = readForm();
  const text = JSON.stringify(file);
  app.file = file;
  app.lastText = text;
  writeAddress({ plan: text }, { plan: app.defaultText }, push);
  const problems = validateForm();
  if (problems.length) {
    app.result = null;
    app.error = problems.join('\n');
    const n = problems.length;
    clearPlan(problems.join('\n'), `No plan until ${n === 1 ? 'the field marked' : `the ${n} fields marked`} in the form ${n === 1 ? 'is' : 'are'} fixed.`);
  } else {
    const t0 = performance.now();
    try {
      app.result = plan(file);
      app.error = null;
      renderPlan(app.result);
    } catch (e) {
      const message = e.message || String(e);
      app.result = null;
      app.error = message;
      const at = placePlanError(message);
      clearPlan(message, at ? 'No plan: the field marked in the form cannot be planned as it is.' : 'No plan: the fleet cannot be planned as it is.');
    }
    app.timings.push(performance.now() - t0);
  }
  app.runs += 1;
  document.body.dataset.runs = String(app.runs);
}

/** Rows added or removed: the form is drawn again from the file with the change. */
function restructure(change) {
  const f = readForm();
  change(f);
  renderForm(f);
  answer(true);
}

function download() {
  flushAddress();
  const blob = new Blob([`${JSON.stringify(app.file, null, 2)}\n`], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'fleet-plan.json';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 0);
}

async function main() {
  await init();
  app.catalog = catalog();
  const families = new Map();
  setup(app.catalog, (id) => {
    if (!families.has(id)) {
      try { families.set(id, family({ workload: id })); } catch { families.set(id, null); }
    }
    return families.get(id);
  });
  renderForm(EXAMPLE);
  app.defaultText = JSON.stringify(readForm());
  load();

  // An edit plans again once typing pauses: a plan asks match for every workload on every pool,
  // tenths of a second, too long to wait for at each keystroke. The first keystroke of an edit
  // starts a history entry, the rest replace it; leaving the field plans at once.
  let pending = null;
  let push = false;
  form.addEventListener('input', () => {
    if (!app.editing) { app.editing = true; push = true; }
    clearTimeout(pending);
    pending = setTimeout(() => { answer(push); push = false; }, PLAN_PAUSE_MS);
  });
  form.addEventListener('change', () => {
    clearTimeout(pending);
    const changed = JSON.stringify(readForm()) !== app.lastText;
    if (changed) answer(true);
    push = false;
    flushAddress();
    app.editing = false;
  });
  form.addEventListener('submit', (e) => e.preventDefault());
  form.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-remove]');
    if (!b) return;
    const list = b.dataset.remove;
    const i = Number(b.dataset.index);
    restructure((f) => { f[list].splice(i, 1); });
    // Focus stays in the list: on the entry now at this place, else the add button.
    const next = $(list).children[Math.min(i, $(list).children.length - 1)];
    (next?.querySelector('select, input') ?? $(list === 'pools' ? 'add-pool' : 'add-workload')).focus();
  });
  $('add-pool').addEventListener('click', () => {
    restructure((f) => { f.pools.push({ hardware: 'h100-sxm', count: 1, owned: {} }); });
    $(`pool-${$('pools').children.length - 1}-hardware`).focus();
  });
  $('add-workload').addEventListener('click', () => {
    restructure((f) => {
      const names = new Set(f.workloads.map((w) => w.name));
      let n = f.workloads.length + 1;
      while (names.has(`workload-${n}`)) n++;
      f.workloads.push({ name: `workload-${n}`, workload: 'llama-3.1-8b', serve: { requests_per_s: 1 } });
    });
    $(`wl-${$('workloads').children.length - 1}-name`).focus();
  });
  $('example').addEventListener('click', () => {
    renderForm(EXAMPLE);
    answer(true);
  });
  $('download').addEventListener('click', download);
  $('copy-link').addEventListener('click', async () => {
    flushAddress();
    try {
      await navigator.clipboard.writeText(location.href);
      $('link-status').textContent = 'Link copied.';
    } catch {
      $('link-status').textContent = `Link: ${location.href}`;
    }
  });
  document.addEventListener('visibilitychange', flushAddress);
  window.addEventListener('popstate', () => {
    dropAddress();
    app.editing = false;
    load();
    answer(false);
  });
  answer(false);
  document.body.dataset.ready = '1';
}

main().catch((e) => {
  $('error').textContent = `ridge could not start: ${e.message || e}`;
  $('error').hidden = false;
});
