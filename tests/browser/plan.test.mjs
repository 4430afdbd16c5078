// The fleet page (web/plan.html) in Debian's Chromium against `ridge plan --json` on the same
// file: the example fleet of datasets/examples/plan.toml as the page starts, the H100 pool
// emptied (the fine-tuning rents), renting then switched off (the gap is named), a bad count and
// a duplicate name refused beside their fields with nothing stale left, the address reproducing
// the fleet, axe-core at a laptop's and a phone's size. Run by `cargo xtask browser`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHOTS, axeViolations, dir, open, planCli, root } from './harness.mjs';

const EXAMPLE = readFileSync(join(root, 'datasets', 'examples', 'plan.toml'), 'utf8');
const H100_COUNT = /^count = 2$/m; // the H100 pool's count in the example

/** The example with `edit` applied, written to the scratch directory; `ridge plan` on it. */
function cliOn(name, edit) {
  const text = edit(EXAMPLE);
  assert.notEqual(text, EXAMPLE, `${name}: the edit changed nothing`);
  const file = join(dir, name);
  writeFileSync(file, text);
  return planCli(file);
}

/** What the page shows: the verdict, the cost, each assignment row, the why, pools and gaps. */
function shown(page) {
  return page.evaluate(() => {
    const text = (e) => e.textContent.trim();
    return {
      answered: !document.querySelector('#answered').hidden,
      answer: text(document.querySelector('#answer')),
      error: document.querySelector('#error').hidden ? '' : text(document.querySelector('#error')),
      verdict: document.querySelector('#answer strong[data-k=verdict]')?.dataset.v,
      cost: Object.fromEntries([...document.querySelectorAll('#cost strong')].map((s) => [s.dataset.k, Number(s.dataset.v)])),
      rows: [...document.querySelectorAll('#assignment tbody tr')].map((r) => ({
        workload: r.dataset.workload,
        place: r.dataset.place,
        devices: r.dataset.devices === undefined ? null : Number(r.dataset.devices),
        usdPerHour: r.dataset.usdPerHour === undefined ? null : Number(r.dataset.usdPerHour),
        cells: [...r.cells].map(text),
      })),
      why: [...document.querySelectorAll('.why-item')].map((s) => ({ workload: s.dataset.workload, why: text(s.querySelector('p')), alternatives: [...s.querySelectorAll('li')].map(text) })),
      pools: [...document.querySelectorAll('#pools-table tbody tr')].map((r) => [...r.cells].map(text)),
      gaps: document.querySelector('#gaps').hidden ? [] : [...document.querySelectorAll('#gaps-list li')].map(text),
    };
  });
}

const close = (a, b, what) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
const placeKey = (p) => (!p ? 'unmet' : p.on === 'pool' ? `pools[${p.pool}]` : `rent:${p.hardware}`);

/** The page's answer equals the command line's document `cli`. */
function sameAsCli(s, cli) {
  assert.ok(s.answered, `no answer on the page: ${s.error}`);
  assert.equal(s.verdict, cli.meets_all_targets ? 'met' : 'unmet', s.answer);
  for (const k of ['sunk', 'energy', 'rent', 'total']) close(s.cost[k], cli.cost[`${k}_usd_per_hour`], `cost ${k}`);
  assert.deepEqual(s.rows.map((r) => r.workload), cli.workloads.map((w) => w.name));
  cli.workloads.forEach((w, i) => {
    const r = s.rows[i];
    assert.equal(r.place, placeKey(w.place), `${w.name} runs on`);
    assert.equal(r.devices, w.fit?.devices ?? null, `${w.name} devices`);
    if (w.fit) close(r.usdPerHour, w.fit.usd_per_hour, `${w.name} $/h`);
    else assert.equal(r.usdPerHour, null, `${w.name} $/h`);
    // Where, as the command line prints it, on screen.
    const where = !w.place ? 'unmet' : w.place.on === 'pool' ? `pools[${w.place.pool}] ${w.place.hardware} (${w.place.paid})` : `rent ${w.place.hardware}`;
    assert.equal(r.cells[2], where);
    // Core's own sentences, word for word.
    assert.deepEqual(s.why[i], { workload: w.name, why: w.why, alternatives: w.alternatives });
  });
  assert.deepEqual(s.pools.map((c) => [c[1], c[2], c[3]]), cli.pools.map((p) => [String(p.place.count), String(p.used), String(p.idle)]));
  assert.equal(s.gaps.length, cli.gaps.length, s.gaps.join(' | '));
  cli.gaps.forEach((g, i) => assert.ok(s.gaps[i].startsWith(`${g.workload}: rent ${g.devices} ${g.hardware} at $${g.rent_usd_per_hour.toFixed(2)}/h`), s.gaps[i]));
}

/** Types `value` into `selector` and waits for the page to answer it. */
async function edit(page, selector, value) {
  const before = await page.evaluate(() => window.ridge.runs);
  await page.fill(selector, value);
  await page.waitForFunction((n) => window.ridge.runs > n, before);
}

test('the example fleet in the page is ridge plan --json of datasets/examples/plan.toml', async () => {
  const cli = planCli(join(root, 'datasets', 'examples', 'plan.toml'));
  assert.equal(cli.status, 0, cli.stderr);
  // The example as the command line plans it: the serving on the V100s, the fine-tuning on both H100s.
  assert.deepEqual(cli.json.workloads.map((w) => placeKey(w.place)), ['pools[0]', 'pools[0]', 'pools[1]']);
  const [page, problems] = await open('plan.html', { viewport: { width: 1280, height: 800 } });
  const s = await shown(page);
  sameAsCli(s, cli.json);
  assert.match(s.answer, /^All 3 targets are met on the fleet alone, nothing rented, for \$\d+\.\d\d\/h in all/);
  assert.equal(await page.inputValue('#pool-1-hardware'), 'h100-sxm');
  // The example is the page's default: no state in the address.
  assert.equal(await page.evaluate(() => location.search), '');
  await page.screenshot({ path: join(SHOTS, 'plan-example-1280x800.png'), fullPage: true });
  assert.deepEqual(await axeViolations(page), []);
  const timings = await page.evaluate(() => window.ridge.timings);
  console.log(`plan() in the page: ${timings.map((t) => t.toFixed(1)).join(', ')} ms`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('no H100s: the fine-tuning rents, renting off names the gap, as the CLI on the edited file; the address reproduces it', async () => {
  const [page, problems] = await open('plan.html', { viewport: { width: 1280, height: 800 } });
  await edit(page, '#pool-1-count', '0');
  const rented = cliOn('no-h100.toml', (t) => t.replace(H100_COUNT, 'count = 0'));
  assert.equal(rented.status, 0, rented.stderr);
  const s = await shown(page);
  sameAsCli(s, rented.json);
  const fineTune = s.rows.find((r) => r.workload === 'fine-tune');
  assert.match(fineTune.place, /^rent:/);
  assert.match(s.answer, /renting for fine-tune/);
  assert.equal(s.gaps.length, 1);
  assert.match(s.gaps[0], /^fine-tune: rent \d+ \S+ at \$\d+\.\d\d\/h.*\(rented in this plan\)\.$/);

  // Renting off: the fine-tuning is unmet and the gap says what would close it.
  const before = await page.evaluate(() => window.ridge.runs);
  await page.uncheck('#renting');
  await page.waitForFunction((n) => window.ridge.runs > n, before);
  const off = cliOn('no-h100-no-renting.toml', (t) => t.replace(H100_COUNT, 'count = 0').replace(/^renting = true$/m, 'renting = false'));
  assert.equal(off.status, 1, off.stderr);
  const o = await shown(page);
  sameAsCli(o, off.json);
  assert.equal(o.rows.find((r) => r.workload === 'fine-tune').place, 'unmet');
  assert.match(o.answer, /^1 of 3 targets cannot be met: fine-tune \(renting is off; what would close the gap is below\)/);
  assert.match(o.gaps[0], /renting is off: not in this plan/);

  // The address holds the fleet: a fresh page from it shows the same.
  await page.waitForFunction(() => new URLSearchParams(location.search).has('plan'));
  await page.evaluate(() => new Promise((ok) => setTimeout(ok, 400))); // the edit's address is written once typing pauses
  const address = await page.evaluate(() => location.pathname.slice(1) + location.search);
  const [fresh, freshProblems] = await open(address, { viewport: { width: 1280, height: 800 } });
  assert.equal(await fresh.inputValue('#pool-1-count'), '0');
  assert.equal(await fresh.isChecked('#renting'), false);
  assert.deepEqual(await shown(fresh), o);
  // Back returns to the fleet with renting on.
  await fresh.close();
  await page.goBack();
  await page.waitForFunction(() => document.querySelector('#renting').checked);
  assert.equal((await shown(page)).rows.find((r) => r.workload === 'fine-tune').place, fineTune.place);
  assert.deepEqual([...problems, ...freshProblems], []);
  await page.close();
});

test('a negative count and a duplicate name are refused beside their fields, with no stale table', async () => {
  const [page, problems] = await open('plan.html', { viewport: { width: 1280, height: 800 } });
  await edit(page, '#pool-1-count', '-1');
  let s = await shown(page);
  assert.equal(s.answered, false);
  assert.deepEqual([s.rows, s.why, s.pools, s.gaps], [[], [], [], []]);
  assert.match(s.answer, /^No plan until the field marked in the form is fixed/);
  assert.equal(await page.getAttribute('#pool-1-count', 'aria-invalid'), 'true');
  assert.equal(await page.textContent('#pool-1-count-error'), 'Count must be at least 0 (got -1)');
  assert.ok(await page.isVisible('#pool-1-count-error'));
  // The message is read with the field, and it sits inside the field's own label.
  assert.equal(await page.getAttribute('#pool-1-count', 'aria-describedby'), 'pool-1-count-error');
  assert.ok(await page.$eval('#pool-1-count-error', (e) => e.closest('label') === document.querySelector('#pool-1-count').closest('label')));

  // Fixed: the answer comes back and the message goes.
  await edit(page, '#pool-1-count', '2');
  assert.ok((await shown(page)).answered);
  assert.ok(!(await page.isVisible('#pool-1-count-error')));

  // A duplicate name is plan()'s to find: its message, the command line's, beside the name.
  await edit(page, '#wl-1-name', 'chat');
  const dup = cliOn('duplicate.toml', (t) => t.replace('name = "search-encoder"', 'name = "chat"'));
  assert.equal(dup.status, 2);
  const message = await page.textContent('#wl-1-name-error');
  assert.equal(message, 'workloads[1].name: `chat` is already the name of workloads[0]');
  assert.ok(dup.stderr.includes(message), dup.stderr);
  s = await shown(page);
  assert.equal(s.answered, false);
  assert.deepEqual(s.rows, []);
  assert.equal(s.error, message);
  assert.deepEqual(problems, []);
  await page.close();
});

test('on a phone: rows added and removed from the keyboard, nothing wider than the screen, no axe violation', async () => {
  const [page, problems] = await open('', { viewport: { width: 390, height: 844 } });
  // The ranking page links to this one.
  await page.click('#plan-link a');
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached' });
  assert.match(page.url(), /plan\.html$/);
  assert.equal((await shown(page)).rows.length, 3);
  await page.focus('#add-workload');
  let before = await page.evaluate(() => window.ridge.runs);
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => window.ridge.runs > n, before);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'wl-3-name');
  let s = await shown(page);
  assert.deepEqual(s.rows.map((r) => r.workload), ['chat', 'search-encoder', 'fine-tune', 'workload-4']);
  assert.ok(s.answered, s.error);
  await page.screenshot({ path: join(SHOTS, 'plan-390x844.png'), fullPage: true });
  assert.deepEqual(await axeViolations(page), []);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'wider than the screen');
  // Removed again from the keyboard: the example's answer is back.
  await page.focus('button[aria-label="Remove this workload (workloads[3], workload-4)"]');
  before = await page.evaluate(() => window.ridge.runs);
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => window.ridge.runs > n, before);
  s = await shown(page);
  sameAsCli(s, planCli(join(root, 'datasets', 'examples', 'plan.toml')).json);
  assert.deepEqual(problems, []);
  await page.close();
});
