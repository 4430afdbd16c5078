// Issue 18: the comparison page a buyer trusts in ten seconds. What a buyer reads first (the
// answer in one sentence, the columns that fit, the panel that follows the #1, checks beside the
// fields, units, exports, Back), then memory, comparison, training, charts, the benchmarked
// device, keyboard and axe-core, screenshots of every view, and agreement with `ridge match` for
// every workload family. Run by `cargo xtask browser` (harness.mjs starts the server and browser).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, SHOTS, axeViolations, cli, open, rows, sameRows, url } from './harness.mjs';

/** The visible header cells' text and the cells (header and first row) that end past the viewport. */
function overflow(page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const shown = (c) => c.getClientRects().length > 0;
    const cells = [...document.querySelectorAll('#ranking thead th, #ranking tbody tr:first-child td')].filter(shown);
    return {
      heads: [...document.querySelectorAll('#ranking thead th')].filter(shown).map((c) => c.textContent),
      over: cells.filter((c) => c.getBoundingClientRect().right > vw + 0.5).map((c) => c.textContent),
      pageScrolls: document.documentElement.scrollWidth > vw,
    };
  });
}

test('at 1280 and 1400 px the columns that matter fit without scrolling, the rest on demand (issue 18)', async () => {
  for (const width of [1280, 1400]) {
    const [page, problems] = await open('', { viewport: { width, height: 800 } });
    const fit = await overflow(page);
    assert.deepEqual(fit.over, [], `${width} px: cells past the right edge`);
    assert.equal(fit.pageScrolls, false, `${width} px: the page scrolls sideways`);
    for (const h of ['#', 'Hardware', 'Devices', 'Throughput', '$ / M', '$ / hour', 'TTFT', 'TPOT', 'Basis']) {
      assert.ok(fit.heads.some((x) => x.startsWith(h)), `${width} px: no ${h} column in ${fit.heads.join(' | ')}`);
    }
    // The rest on demand.
    assert.ok(!fit.heads.includes('Bound'));
    await page.click('#more-columns');
    const more = await overflow(page);
    for (const h of ['Batch', 'Bound', 'Comm.', 'kWh / year', 'Price source']) assert.ok(more.heads.includes(h), `${h} in ${more.heads.join(' | ')}`);
    assert.equal(await page.getAttribute('#more-columns', 'aria-expanded'), 'true');
    await page.screenshot({ path: join(SHOTS, `columns-${width}.png`) });
    assert.deepEqual(problems, []);
    await page.close();
  }
});

/** The panel's heading, and the selected rows of the table. */
async function selection(page) {
  return {
    heading: await page.locator('#detail h2').textContent(),
    selected: await page.$$eval('#ranking tbody tr[aria-selected=true]', (trs) => trs.map((t) => t.dataset.hardware)),
  };
}

test('after a re-rank the panel follows the new #1 unless the chosen device is still ranked (issue 18)', async () => {
  const [page, problems] = await open();
  await page.selectOption('#workload', 'dlrm-v2');
  let web = await rows(page);
  let now = await selection(page);
  assert.ok(now.heading.startsWith(`1. ${web[0].name}:`), now.heading);
  assert.deepEqual(now.selected, [web[0].hardware]);
  // A chosen row is kept through a re-rank while it is ranked, with its new rank.
  const chosen = web[2];
  await page.locator(`#ranking tbody tr[data-hardware="${chosen.hardware}"]`).click();
  await page.selectOption('#workload', 'llama-3.1-70b');
  web = await rows(page);
  const again = web.find((r) => r.hardware === chosen.hardware);
  assert.ok(again, `${chosen.hardware} is ranked for llama-3.1-70b`);
  assert.notEqual(again.rank, chosen.rank);
  now = await selection(page);
  assert.ok(now.heading.startsWith(`${again.rank}. ${again.name}:`), now.heading);
  assert.deepEqual(now.selected, [chosen.hardware]);
  // Not ranked any more: the panel follows the #1 again.
  await page.selectOption('#workload', 'gpt-3-175b-training');
  await page.fill('#maxdev', '64');
  web = await rows(page);
  assert.ok(web.length > 0 && !web.some((r) => r.hardware === chosen.hardware), `${chosen.hardware} still ranked`);
  now = await selection(page);
  assert.ok(now.heading.startsWith(`1. ${web[0].name}:`), now.heading);
  assert.deepEqual(now.selected, [web[0].hardware]);
  // Bad input: no ranking, and no panel describing a row that is not in the table.
  await page.fill('#maxdev', '0');
  assert.equal(await page.locator('#ranking tbody tr').count(), 0);
  assert.equal(await page.locator('#detail h2').count(), 0);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a click on a row right after typing in a field selects it (issue 18)', async () => {
  const [page, problems] = await open();
  await page.click('#tpot');
  await page.keyboard.type('60');
  await page.waitForFunction(() => /tpot=60/.test(location.search));
  const target = (await rows(page))[2];
  // One click: the field's change event (on blur) must not rebuild the row under the pointer.
  await page.locator(`#ranking tbody tr[data-hardware="${target.hardware}"]`).click();
  assert.equal(await page.evaluate(() => window.ridge.selected), target.hardware);
  const now = await selection(page);
  assert.deepEqual(now.selected, [target.hardware]);
  assert.ok(now.heading.startsWith(`${target.rank}. ${target.name}:`), now.heading);
  assert.deepEqual(problems, []);
  await page.close();
});

/** Types text into a field as a person would (a number field takes "1e" that way). */
async function typeInto(page, selector, text) {
  await page.click(selector, { clickCount: 3 });
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
}

test('bad input is reported beside the field in its own units and the stale ranking goes (issue 18)', async () => {
  const [page, problems] = await open();
  const cases = [
    ['#ttft', '-100', /^TTFT target must be more than 0 ms \(got -100 ms\)$/],
    ['#rate', '-2', /^Request rate must be more than 0 requests\/s \(got -2 requests\/s\)$/],
    ['#maxdev', '-3', /^Max devices must be at least 1 \(got -3\)$/],
    ['#maxdev', '2.5', /^Max devices must be a whole number \(got 2.5\)$/],
    ['#maxdev', '1e', /^Max devices: what is typed is not a number$/],
    ['#budget', '0', /^Budget must be more than 0 \$\/hour \(got 0 \$\/hour\)$/],
  ];
  for (const [field, text, message] of cases) {
    const before = await page.inputValue(field);
    await typeInto(page, field, text);
    const id = await page.getAttribute(field, 'aria-describedby');
    assert.ok(id, `${field}: no aria-describedby`);
    assert.equal(await page.getAttribute(field, 'aria-invalid'), 'true', field);
    const shown = await page.textContent(`#${id}`);
    assert.match(shown, message);
    assert.ok(await page.isVisible(`#${id}`));
    assert.match(await page.textContent('#error'), /^Not ranked: /);
    assert.doesNotMatch(await page.textContent('#error'), /ttft_s|required_throughput|invalid type|expected u32/);
    // The old ranking is not left on screen under the message.
    assert.equal(await page.locator('#ranking tbody tr').count(), 0, `${field} ${text}: rows still shown`);
    assert.equal(await page.evaluate(() => window.ridge.result), null);
    if (field === '#ttft') await page.screenshot({ path: join(SHOTS, 'bad-input.png') });
    await typeInto(page, field, before);
    await page.waitForSelector('#error', { state: 'hidden' });
    assert.equal(await page.getAttribute(field, 'aria-invalid'), null);
    assert.ok(await page.locator('#ranking tbody tr').count() > 0);
  }
  // An unknown workload in a link is named, not silently replaced.
  const [other, problems2] = await open('?w=no-such-model');
  assert.match(await other.textContent('#notice'), /^Unknown workload `no-such-model`; showing the default, Llama 3\.1 70B/);
  assert.ok(await other.isVisible('#notice'));
  // The routing imbalance applies to a mixture-of-experts model only: checked there; hidden and
  // not checked for a dense one, whose ranking it does not stop.
  const [moe, problems3] = await open('?w=mixtral-8x7b');
  await typeInto(moe, '#imb', '0.5');
  assert.match(await moe.textContent('#imb-error'), /^Expert imbalance must be at least 1 \(got 0\.5\)$/);
  assert.equal(await moe.locator('#ranking tbody tr').count(), 0);
  const [dense, problems4] = await open('?w=llama-3.1-70b&imb=0.5');
  assert.equal(await dense.isVisible('#imb'), false);
  assert.ok(await dense.locator('#ranking tbody tr').count() > 0);
  assert.deepEqual([...problems, ...problems2, ...problems3, ...problems4], []);
  await page.close();
  await other.close();
  await moe.close();
  await dense.close();
});

test('figures read in units a buyer uses: s above 1000 ms, devices spelled, $ per unit explained, names not ids (issue 18)', async () => {
  const [page, problems] = await open();
  const text = (sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent));
  const column = (name) => page.evaluate((h) => {
    const i = [...document.querySelectorAll('#ranking thead th')].findIndex((th) => th.textContent.startsWith(h));
    return [...document.querySelectorAll('#ranking tbody tr')].map((tr) => tr.cells[i].textContent);
  }, name);
  // $ / M explained in the header and in a legend line, in the workload's unit.
  assert.equal(await page.getAttribute('#ranking thead abbr:text-is("$ / M")', 'title'), 'US dollars per million generated tokens');
  assert.match(await page.textContent('#legend'), /\$ \/ M: US dollars per million generated tokens/);
  // Devices and layout in words.
  for (const d of await column('Devices')) assert.match(d, /^(1 device|\d+ devices · \S.*)$/);
  assert.ok(!(await column('Devices')).some((d) => /^\d+ · /.test(d)));
  // Rejections name the device.
  const names = new Map((await page.evaluate(() => window.ridge.catalog.hardware)).map((h) => [h.id, h.name]));
  const rejected = await page.$$eval('#rejected li', (lis) => lis.map((l) => [l.dataset.hardware, l.textContent]));
  assert.ok(rejected.length > 0);
  for (const [id, line] of rejected) {
    assert.ok(line.startsWith(`${names.get(id)}: `), line);
    assert.ok(!new RegExp(`(^|[^\\w-])${id}([^\\w-]|$)`).test(line), line);
  }
  // A recommender: dollars per billion samples, figures a person can read.
  await page.selectOption('#workload', 'dlrm-v2');
  assert.equal(await page.getAttribute('#ranking thead abbr:text-is("$ / B")', 'title'), 'US dollars per billion samples');
  for (const v of await column('$ / B')) if (v !== 'no price') assert.ok(!/^0\.00/.test(v), v);
  // A training step of tens of seconds reads in s.
  await page.selectOption('#workload', 'gpt-3-175b-training');
  await page.fill('#maxdev', '64');
  const latencies = await column('Step');
  assert.ok(latencies.length > 0);
  for (const v of latencies) assert.match(v, /^\d+(\.\d+)? (ms|s|min|h)$/, v);
  assert.ok(latencies.some((v) => / s$/.test(v)), latencies.join(' | '));
  assert.ok(!(await text('#ranking td, #detail')).some((v) => /k ms/.test(v)));
  assert.deepEqual(problems, []);
  await page.close();
});

test('exports carry the inputs and are named after the workload and date; Back undoes a change (issue 18)', async () => {
  const [page, problems] = await open('?w=llama-3.1-8b&tpot=50&prices=h100-sxm:1.5');
  const today = new Date().toISOString().slice(0, 10);
  const version = execFileSync(BIN, ['--version'], { encoding: 'utf8' }).trim().split(' ').at(-1);
  const save = async (button) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
    return [download.suggestedFilename(), readFileSync(await download.path(), 'utf8')];
  };
  const [csvName, csv] = await save('#export-csv');
  assert.equal(csvName, `ridge-match-llama-3.1-8b-${today}.csv`);
  const lines = csv.trimEnd().split('\n');
  const comments = lines.filter((l) => l.startsWith('#'));
  for (const want of ['# workload: llama-3.1-8b', '# tpot_ms: 50', '# max_devices: 8', '# prices_usd_per_device_hour: {"h100-sxm":1.5}', `# date: ${today}`, `# ridge_version: ${version}`]) {
    assert.ok(comments.includes(want), `${want} not in\n${comments.join('\n')}`);
  }
  // After the comment lines: `ridge match --csv`'s header and one line per row on screen (an
  // earlier test may have given the server a measurement the command line does not have).
  const body = lines.slice(comments.length);
  const native = execFileSync(BIN, ['match', '-w', 'llama-3.1-8b', '--tpot', '50ms', '--price', 'h100-sxm=1.5', '--csv'], { encoding: 'utf8' }).split('\n');
  assert.equal(body[0], native[0]);
  assert.deepEqual(body.slice(1).map((l) => l.split(',')[1]), (await rows(page)).map((r) => r.hardware));
  const [jsonName, json] = await save('#export-json');
  assert.equal(jsonName, `ridge-match-llama-3.1-8b-${today}.json`);
  const doc = JSON.parse(json);
  assert.equal(doc.inputs.workload, 'llama-3.1-8b');
  assert.equal(doc.inputs.tpot_ms, 50);
  assert.deepEqual(doc.inputs.prices_usd_per_device_hour, { 'h100-sxm': 1.5 });
  assert.equal(doc.inputs.date, today);
  assert.equal(doc.inputs.ridge_version, version);
  assert.deepEqual(doc.rows.map((r) => r.hardware), (await rows(page)).map((r) => r.hardware));

  // Back: each committed change is one step, not each keystroke.
  const first = await rows(page);
  await page.selectOption('#workload', 'mixtral-8x7b');
  const mixtral = await rows(page);
  await page.click('#maxdev', { clickCount: 3 });
  await page.keyboard.type('16');
  await page.keyboard.press('Tab');
  assert.equal(await page.inputValue('#maxdev'), '16');
  // Keystrokes write the address once typing pauses; leaving the field writes it at once.
  assert.match(await page.evaluate(() => location.search), /maxdev=16/);
  await page.goBack();
  await page.waitForFunction(() => document.getElementById('maxdev').value === '8');
  assert.equal(await page.inputValue('#workload'), 'mixtral-8x7b');
  assert.deepEqual(await rows(page), mixtral);
  await page.goBack();
  await page.waitForFunction(() => document.getElementById('workload').value === 'llama-3.1-8b');
  assert.equal(await page.inputValue('#tpot'), '50');
  assert.deepEqual(await rows(page), first);
  await page.goForward();
  await page.waitForFunction(() => document.getElementById('workload').value === 'mixtral-8x7b');
  assert.deepEqual([...problems], []);
  await page.close();
});

test('when nothing fits, the page names the smallest device count that does and offers it (issue 18)', async () => {
  const [page, problems] = await open('?w=gpt-3-175b-training');
  assert.equal((await rows(page)).length, 0);
  assert.match(await page.textContent('#summary'), /^Nothing fits on up to 8 devices/);
  const button = page.locator('#suggest-use');
  await button.waitFor({ state: 'visible' });
  const n = Number(await button.getAttribute('data-devices'));
  assert.equal(await button.textContent(), `Use ${n} devices`);
  assert.equal(await page.textContent('#suggest-text'), `The smallest device count that fits: ${n}.`);
  await page.screenshot({ path: join(SHOTS, 'nothing-fits.png') });
  // The command line agrees: nothing on one device fewer, rows at it.
  // (`ridge match` exits 1 when nothing fits, after printing the document.)
  let fewer;
  try { fewer = cli(['-w', 'gpt-3-175b-training', '--max-devices', String(n - 1)]); } catch (e) { fewer = JSON.parse(e.stdout); }
  assert.equal(fewer.rows.length, 0);
  const native = cli(['-w', 'gpt-3-175b-training', '--max-devices', String(n)]).rows;
  assert.ok(native.length > 0);
  await button.click();
  assert.equal(await page.inputValue('#maxdev'), String(n));
  sameRows(await rows(page), native, native.length);
  assert.ok(!(await page.isVisible('#suggest')));
  assert.deepEqual(problems, []);
  await page.close();
});

/** Three significant figures with an SI prefix, as a reader is shown them ("1.79k", "0.93"). */
function sig3(v) {
  for (const [s, u] of [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) if (Math.abs(v) >= s) return `${+(v / s).toPrecision(3)}${u}`;
  return Math.abs(v) >= 1 ? `${+v.toPrecision(3)}` : v.toPrecision(2);
}

const near = (a, b, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

/** The answer's figures: { key: [value, text] } from its `strong[data-k]`. */
function answerFigures(page) {
  return page.$$eval('#answer strong[data-k]', (els) => Object.fromEntries(els.map((e) => [e.dataset.k, [e.dataset.v, e.textContent]])));
}

test('the answer in one sentence is on the first screen, follows the #1 and changes with the inputs (issue 18)', async () => {
  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    const [page, problems] = await open('', { viewport });
    const box = await page.locator('#answer').boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= viewport.height, `${viewport.width} px: the answer ends at ${box?.y + box?.height} px, below the fold`);
    const top = (await rows(page))[0];
    const f = await answerFigures(page);
    assert.equal(await page.getAttribute('#answer', 'data-hardware'), top.hardware);
    assert.match(await page.textContent('#answer'), /^Rent /);
    assert.deepEqual([Number(f.devices[0]), f.hardware[1]], [top.devices, top.name]);
    // $ per million generated tokens, TTFT and TPOT, bound: the #1's, in the units of the table.
    assert.ok(near(Number(f.usd_per_million[0]), top.usd_per_million), `${f.usd_per_million} vs ${top.usd_per_million}`);
    assert.equal(f.usd_per_million[1], `$${sig3(top.usd_per_million)}`);
    assert.match(await page.textContent('#answer'), new RegExp(`\\$${sig3(top.usd_per_million).replace('.', '\\.')} per million generated tokens`));
    assert.equal(f.ttft_s[1], `${sig3(top.ttft_s * 1000)} ms`);
    assert.equal(f.tpot_s[1], `${sig3(top.tpot_s * 1000)} ms`);
    assert.equal(f.bound[0], top.bound);
    assert.equal(f.bound[1], { memory: 'memory-bandwidth bound', compute: 'compute bound' }[top.bound] ?? f.bound[1]);
    // The cost's error band: the #1's cost per million times its basis's throughput band (where
    // published runs of decoders came in against ridge), and the rows too close to call.
    const res = await page.evaluate(() => window.ridge.result);
    const tb = res.bands.find((b) => b.metric === 'throughput' && b.basis === top.band.basis && b.family === 'decoder');
    assert.equal(f.usd_per_million_band[0], `${top.usd_per_million * tb.low_ratio}-${top.usd_per_million * tb.high_ratio}`);
    assert.equal(f.usd_per_million_band[1], `$${sig3(top.usd_per_million * tb.low_ratio)}–$${sig3(top.usd_per_million * tb.high_ratio)}`);
    const close = res.rows.filter((x) => x.rank > 1 && x.band?.usd_per_million && x.band.usd_per_million.low <= top.usd_per_million * tb.high_ratio).map((x) => x.rank);
    assert.deepEqual(res.too_close_to_call, close.length ? [1, ...close] : []);
    if (close.length) assert.match(await page.textContent('#answer'), new RegExp(`Too close to call against ${close.map((k) => `#${k}`).join(', ')}: measure them`));
    assert.deepEqual(problems, []);
    await page.close();
  }
  // A change of input: the sentence follows the new #1; owned hardware is bought; a recommender
  // is priced per billion samples and timed per batch.
  const [page, problems] = await open();
  for (const change of [() => page.selectOption('#workload', 'mixtral-8x7b'), () => page.fill('#maxdev', '2'), () => page.check('input[name=mode][value=owned]'), () => page.selectOption('#workload', 'dlrm-v2')]) {
    await change();
    const top = (await rows(page))[0];
    assert.equal(await page.getAttribute('#answer', 'data-hardware'), top.hardware);
    assert.equal(Number((await answerFigures(page)).devices[0]), top.devices);
  }
  assert.match(await page.textContent('#answer'), /^Buy \d+ × .* per billion samples, .* per batch of \d+/);
  await page.fill('#maxdev', '0');
  assert.match(await page.textContent('#answer'), /^No recommendation until the input is fixed/);
  assert.deepEqual(problems, []);
  await page.close();
});

test('each row says what one device holds, part by part, against its usable memory (issue 18)', async () => {
  const [page, problems] = await open();
  const web = await rows(page);
  // Llama 3.1 70B: 70,553,706,496 parameters (the checkpoint's count) in bf16, split by tensor parallelism.
  for (const r of web) {
    const m = r.memory;
    const parts = m.weights_bytes + m.kv_cache_bytes + m.activation_bytes + m.gradient_bytes + m.optimizer_bytes;
    assert.ok(near(parts, r.memory_per_device_bytes), `${r.hardware}: parts ${parts} vs ${r.memory_per_device_bytes}`);
    assert.ok(near(m.headroom_bytes, m.usable_bytes - r.memory_per_device_bytes), r.hardware);
    assert.ok(near(m.usable_bytes, 0.9 * m.capacity_bytes), r.hardware);
    assert.ok(near(m.weights_bytes, 70_553_706_496 * 2 / r.layout.tensor_parallel, 1e-6), `${r.hardware} weights ${m.weights_bytes}`);
    assert.ok(m.fits && m.headroom_bytes >= 0, r.hardware);
  }
  // The table: held of usable, in GB, with a bar whose filled share is the share held.
  const cells = await page.$$eval('#ranking tbody tr', (trs) => trs.map((tr) => [tr.dataset.hardware, tr.querySelector('td.mem span').textContent, [...tr.querySelectorAll('td.mem .seg')].reduce((a, s) => a + parseFloat(s.style.width), 0)]));
  for (const [hw, text, filled] of cells) {
    const m = web.find((r) => r.hardware === hw).memory;
    assert.equal(text, `${+(m.per_device_bytes / 1e9).toPrecision(3)} of ${+(m.usable_bytes / 1e9).toPrecision(3)} GB`, hw);
    assert.ok(Math.abs(filled - 100 * m.per_device_bytes / m.usable_bytes) < 0.05, `${hw}: bar ${filled}%`);
  }
  // The panel of a chosen row: a line per part, the total, usable and headroom, the row's bytes.
  const pick = web[3];
  await page.locator(`#ranking tbody tr[data-hardware="${pick.hardware}"]`).click();
  const lines = Object.fromEntries(await page.$$eval('#memory-breakdown tr', (trs) => trs.map((t) => [t.dataset.part, Number(t.dataset.bytes)])));
  assert.deepEqual(lines, {
    weights: pick.memory.weights_bytes, kv_cache: pick.memory.kv_cache_bytes, activation: pick.memory.activation_bytes,
    total: pick.memory_per_device_bytes, usable: pick.memory.usable_bytes, headroom: pick.memory.headroom_bytes,
  });
  // Training holds gradients and optimizer state too.
  await page.selectOption('#workload', 'gpt-3-175b-training');
  await page.fill('#maxdev', '1024');
  const parts = await page.$$eval('#memory-breakdown tr', (trs) => trs.map((t) => t.dataset.part));
  assert.deepEqual(parts, ['weights', 'activation', 'gradient', 'optimizer', 'total', 'usable', 'headroom']);
  assert.deepEqual(problems, []);
  await page.close();
});

test('two or three rows side by side, chosen by keyboard, kept in the link and in the exports (issue 18)', async () => {
  const [page, problems] = await open('?w=llama-3.1-8b');
  const web = await rows(page);
  const chosen = [web[0], web[2], web[4]];
  // Keyboard: Tab to a row's checkbox and press Space.
  for (const r of chosen) {
    await page.focus(`#ranking tbody tr[data-hardware="${r.hardware}"] input.compare`);
    await page.keyboard.press('Space');
  }
  assert.equal(await page.isVisible('#comparison'), true);
  const heads = await page.$$eval('#comparison-table thead th', (ths) => ths.map((t) => t.dataset.hardware));
  assert.deepEqual(heads, chosen.map((r) => r.hardware));
  // A fourth cannot be added.
  assert.equal(await page.isDisabled(`#ranking tbody tr[data-hardware="${web[1].hardware}"] input.compare`), true);
  const metric = (k) => page.$$eval(`#comparison-table tr[data-metric="${k}"] td`, (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(await metric('throughput_per_s'), chosen.map((r) => `${sig3(r.throughput_per_s)} (${sig3(r.throughput_per_device)} per device)`));
  assert.deepEqual(await metric('usd_per_million'), chosen.map((r) => `$${sig3(r.usd_per_million)}`));
  assert.deepEqual(await metric('ttft_s'), chosen.map((r) => `${sig3(r.ttft_s * 1000)} ms`));
  for (const k of ['tpot_s', 'joules_per_unit', 'kwh_per_year', 'bound', 'memory_per_device_bytes', 'headroom_bytes']) assert.equal((await metric(k)).length, 3, k);
  assert.match(page.url(), new RegExp(`cmp=${chosen.map((r) => r.hardware).join('%2C')}`));
  await page.screenshot({ path: join(SHOTS, 'comparison.png'), fullPage: true });
  // The exports carry it.
  const save = async (button) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
    return readFileSync(await download.path(), 'utf8');
  };
  const doc = JSON.parse(await save('#export-json'));
  assert.deepEqual(doc.comparison.map((c) => c.hardware), chosen.map((r) => r.hardware));
  doc.comparison.forEach((c, i) => {
    assert.equal(c.throughput_per_s, chosen[i].throughput_per_s);
    assert.equal(c.usd_per_million, chosen[i].usd_per_million);
    assert.equal(c.memory_per_device_bytes, chosen[i].memory_per_device_bytes);
  });
  const compared = (await save('#export-csv')).split('\n').filter((l) => l.startsWith('# compare '));
  assert.equal(compared.length, 3);
  compared.forEach((line, i) => {
    const kv = Object.fromEntries(line.replace(/^# compare \d+: /, '').split('; ').map((p) => p.split('=')));
    assert.equal(kv.hardware, chosen[i].hardware);
    assert.equal(Number(kv.throughput_per_s), chosen[i].throughput_per_s);
    assert.equal(Number(kv.usd_per_million), chosen[i].usd_per_million);
  });
  // A reload keeps it; unticking takes a row out, and one row alone is no comparison.
  const [copy, problems2] = await open(page.url().slice(url.length));
  assert.deepEqual(await copy.$$eval('#comparison-table thead th', (ths) => ths.map((t) => t.dataset.hardware)), chosen.map((r) => r.hardware));
  await copy.close();
  await page.uncheck(`#ranking tbody tr[data-hardware="${chosen[1].hardware}"] input.compare`);
  assert.equal((await page.$$('#comparison-table thead th')).length, 2);
  await page.click('#comparison-clear');
  assert.equal(await page.isVisible('#comparison'), false);
  assert.doesNotMatch(page.url(), /cmp=/);
  assert.deepEqual([...problems, ...problems2], []);
  await page.close();
});

test("training: each row's time and cost to train the token budget, cloud and owned (issue 18)", async () => {
  const [page, problems] = await open('?w=gpt-3-175b-training&maxdev=1024');
  const web = await rows(page);
  assert.ok(web.length > 0);
  // 300 billion tokens (the preset's budget) at each row's tokens per second, at its price an hour.
  for (const r of web) {
    assert.ok(near(r.training.time_to_train_s, 300e9 / r.throughput_per_s), r.hardware);
    if (r.usd_per_hour != null) assert.ok(near(r.training.usd, r.usd_per_hour * 300e9 / r.throughput_per_s / 3600), r.hardware);
  }
  const column = (name) => page.evaluate((h) => {
    const i = [...document.querySelectorAll('#ranking thead th')].findIndex((th) => th.textContent.startsWith(h));
    return [...document.querySelectorAll('#ranking tbody tr')].map((tr) => tr.cells[i].textContent);
  }, name);
  const days = (s) => `${+(s / 86400).toPrecision(3)} days`;
  assert.deepEqual(await column('To train'), web.map((r) => days(r.training.time_to_train_s)));
  const top = web[0];
  const f = await answerFigures(page);
  assert.ok(near(Number(f.time_to_train_s[0]), top.training.time_to_train_s));
  assert.equal(f.time_to_train_s[1], days(top.training.time_to_train_s));
  assert.ok(near(Number(f.training_usd[0]), top.training.usd));
  assert.match(await page.textContent('#answer'), /to train on 300 billion tokens \(GPT-3 175B training\) in/);
  // The panel: cloud as ranked here, owned as `ridge match --owned` ranks it (the form's terms).
  const owned = cli(['-w', 'gpt-3-175b-training', '--max-devices', '1024', '--owned', '--years', '3', '--usd-per-kwh', '0.12', '--pue', '1.3', '--utilization', '70%']).rows;
  const mine = owned.find((r) => r.hardware === top.hardware);
  const dd = (k) => page.getAttribute(`#detail dd[data-k="${k}"]`, 'data-v');
  assert.ok(near(Number(await dd('train_cloud')), top.training.usd));
  if (mine?.training?.usd != null) assert.ok(near(Number(await dd('train_owned')), mine.training.usd), `${await dd('train_owned')} vs ${mine.training.usd}`);
  assert.ok(near(Number(await dd('time_to_train')), top.training.time_to_train_s));
  await page.screenshot({ path: join(SHOTS, 'training.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

/** Each chart's geometry as drawn: labels (box, text, line named), paths (class, points), axes. */
function charts(page) {
  return page.evaluate(() => Object.fromEntries(['roofline', 'pareto', 'scaling', 'serving'].map((name) => {
    const host = document.getElementById(`${name}-chart`);
    const svg = host.querySelector('svg.plot');
    const points = (d) => d.split(/[ML]/).filter(Boolean).map((p) => p.split(',').map(Number));
    return [name, {
      caption: host.closest('figure').querySelector('figcaption').textContent,
      axes: [...svg.querySelectorAll('text.axis')].map((t) => t.textContent),
      labels: [...svg.querySelectorAll('text.label')].map((t) => {
        const b = t.getBBox();
        return { text: t.textContent, line: t.dataset.line ?? null, box: { x: b.x, y: b.y, w: b.width, h: b.height } };
      }),
      paths: [...svg.querySelectorAll('path.line')].map((p) => ({ cls: p.getAttribute('class'), label: p.querySelector('title')?.textContent, points: points(p.getAttribute('d')) })),
      dots: [...svg.querySelectorAll('circle.dot')].map((c) => c.getAttribute('class')),
      legend: [...host.querySelectorAll('ul.legend li')].map((li) => [li.dataset.cls, li.textContent.trim()]),
      note: host.querySelector('.chart-note')?.textContent ?? '',
      table: [...host.querySelectorAll('details.chart-table tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent)),
      text: svg.textContent,
    }];
  })));
}

/** The y of a polyline at x (linear between its points), or null outside it. */
function yAt(points, x) {
  for (let i = 1; i < points.length; i++) {
    const [[x0, y0], [x1, y1]] = [points[i - 1], points[i]];
    if ((x - x0) * (x - x1) <= 0 && x0 !== x1) return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
  }
  return null;
}

const apart = (a, b) => a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;

function checkCharts(c, web, selected) {
  for (const [name, chart] of Object.entries(c)) {
    // A caption of one sentence saying what to read; both axes name their unit.
    assert.match(chart.caption, /^[^.]+[.:][^.]*\.$/, `${name} caption: ${chart.caption}`);
    for (const a of chart.axes) assert.match(a, /\(.+\)$/, `${name} axis without a unit: ${a}`);
    // No two labels overprint each other.
    chart.labels.forEach((a, i) => chart.labels.slice(i + 1).forEach((b) => assert.ok(apart(a.box, b.box), `${name}: "${a.text}" overlaps "${b.text}"`)));
  }
  // Roofline: each roof's label sits on its own line, nearer to it than to any other.
  const roofs = c.roofline.paths.filter((p) => /roof|user/.test(p.cls));
  assert.ok(roofs.length > 0);
  for (const l of c.roofline.labels.filter((x) => x.line)) {
    const cx = l.box.x + l.box.w / 2, cy = l.box.y + l.box.h / 2;
    const own = roofs.find((p) => p.label === l.line);
    assert.ok(own, `no line for the label ${l.line}`);
    const dist = (p) => { const y = yAt(p.points, cx); return y === null ? Infinity : Math.abs(y - cy); };
    assert.ok(dist(own) < 4, `"${l.text}" is ${dist(own)} from its line`);
    for (const p of roofs) if (p !== own) assert.ok(dist(p) > dist(own), `"${l.text}" is nearer to ${p.label}`);
  }
  // Every roof in the legend (a label on its line where there is room for one).
  for (const p of roofs) assert.ok(c.roofline.legend.some(([cls, text]) => cls === p.cls.replace(/^line /, '') && text === p.label), `no legend for ${p.label}`);
  assert.ok(c.roofline.labels.some((x) => x.line), 'no roof labelled on its line');
  // A legend for the phases' points.
  const phases = new Set(c.roofline.dots.map((d) => d.split(' ').find((x) => ['prefill', 'decode', 'step'].includes(x))));
  for (const ph of phases) assert.ok(c.roofline.legend.some(([cls]) => cls === `op ${ph}`), `no legend for ${ph}`);
  // Pareto: labels are device names.
  const names = new Set(web.map((r) => r.name));
  assert.ok(c.pareto.labels.length > 0);
  for (const l of c.pareto.labels) assert.ok(names.has(l.text), `pareto label ${l.text} is not a device name`);
  assert.equal(c.pareto.table.length, web.filter((r) => r.usd_per_million != null).length);
  // Scaling: a line never joins two points at one device count; per-device gains are explained.
  const row = web.find((r) => r.hardware === selected);
  for (const p of c.scaling.paths) {
    const xs = p.points.map(([x]) => x.toFixed(1));
    assert.equal(new Set(xs).size, xs.length, `scaling line ${p.label} joins points at one device count`);
  }
  // No bare "efficiency": a per-device figure above 100% comes with the reason.
  assert.doesNotMatch(c.scaling.text, /efficiency/);
  const shown = [...c.scaling.text.matchAll(/(\d+)% of/g)].map((x) => Number(x[1]));
  assert.equal(shown.length, row.scaling.length);
  if (shown.some((v) => v > 100)) assert.match(c.scaling.note, /more devices hold more memory, so a larger batch fits/);
  assert.equal(c.scaling.table.length, row.scaling.length);
  assert.equal(c.serving.table.length, row.curve?.length ?? 0);
}

test('charts a reader can trust: units, captions, legends, labels on their lines and apart, a table behind each (issue 18)', async () => {
  const [page, problems] = await open();
  checkCharts(await charts(page), await rows(page), (await rows(page))[0].hardware);
  // The roofline's table: each roof and each operation of the row.
  const c = await charts(page);
  assert.ok(c.roofline.table.length >= c.roofline.dots.length);
  for (const w of ['mixtral-8x7b', 'gpt-3-175b-training', 'dlrm-v2']) {
    await page.selectOption('#workload', w);
    if (w === 'gpt-3-175b-training') await page.fill('#maxdev', '1024');
    const web = await rows(page);
    checkCharts(await charts(page), web, await page.evaluate(() => window.ridge.selected));
  }
  await page.locator('.charts').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, 'charts.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('keyboard: one tab stop in the table, arrow keys move, Enter and Space select; axe-core finds nothing serious (issue 18)', async () => {
  const [page, problems] = await open();
  const web = await rows(page);
  assert.deepEqual(await page.$$eval('#ranking tbody tr[tabindex="0"]', (t) => t.map((x) => x.dataset.hardware)), [web[0].hardware]);
  await page.focus('#ranking tbody tr[tabindex="0"]');
  const focused = () => page.evaluate(() => document.activeElement.dataset.hardware);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), web[2].hardware);
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => window.ridge.selected), web[2].hardware);
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('Space');
  assert.equal(await page.evaluate(() => window.ridge.selected), web[1].hardware);
  await page.keyboard.press('End');
  assert.equal(await focused(), web.at(-1).hardware);
  await page.keyboard.press('Home');
  assert.equal(await focused(), web[0].hardware);
  // Tab leaves the rows for the next control, not the next row.
  await page.focus(`#ranking tbody tr[data-hardware="${web[1].hardware}"]`);
  await page.keyboard.press('Tab');
  assert.notEqual(await page.evaluate(() => document.activeElement.tagName), 'TR');
  // Every control has a label; no serious or critical violation on the main views.
  const views = [
    ['ranking', ''],
    ['comparison and detail', `?w=llama-3.1-8b&cmp=${web[0].hardware},${web[1].hardware}&sel=${web[1].hardware}`],
    ['training', '?w=gpt-3-175b-training&maxdev=1024&mode=owned'],
    ['recommender', '?w=dlrm-v2'],
    ['a field in error', '?maxdev=0'],
    ['nothing fits', '?w=gpt-3-175b-training'],
  ];
  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    for (const [name, path] of views) {
      const [v, p] = await open(path, { viewport });
      await v.evaluate(() => { for (const d of document.querySelectorAll('details')) d.open = true; });
      assert.deepEqual(await axeViolations(v), [], `${name} at ${viewport.width} px`);
      assert.deepEqual(p, [], name);
      await v.close();
    }
  }
  assert.deepEqual(problems, []);
  await page.close();
});

test('screenshots of each view at 1280×800 and 390×844 (issue 18)', async () => {
  const views = [
    ['ranking', '', null],
    ['detail', '?sel=h200-sxm', '#detail'],
    ['comparison', '?cmp=mi300x,h200-sxm,b200', '#comparison'],
    ['training', '?w=gpt-3-175b-training&maxdev=1024', null],
    ['charts', '', '.charts'],
  ];
  for (const [w, h] of [[1280, 800], [390, 844]]) {
    for (const [name, path, at] of views) {
      const [page, problems] = await open(path, { viewport: { width: w, height: h } });
      if (at) await page.locator(at).evaluate((e) => e.scrollIntoView({ block: 'start' }));
      await page.screenshot({ path: join(SHOTS, `view-${name}-${w}x${h}.png`) });
      assert.deepEqual(problems, [], name);
      await page.close();
    }
  }
  // The phone layout whole: every section in one column.
  const [page, problems] = await open('?cmp=mi300x,h200-sxm', { viewport: { width: 390, height: 844 } });
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'the page scrolls sideways on a phone');
  await page.screenshot({ path: join(SHOTS, 'view-phone-390x844-full.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the page and `ridge match --json` agree on every row for every workload family (issue 18)', async () => {
  const settings = [
    ['decoder', 'llama-3.1-70b', [], []],
    ['decoder, owned, fp8', 'qwen3-32b&mode=owned&precision=fp8', [], ['--owned', '--years', '3', '--usd-per-kwh', '0.12', '--pue', '1.3', '--utilization', '70%', '--precision', 'fp8']],
    ['mixture of experts', 'deepseek-r1&ttft=2000&tpot=50', [], ['--ttft', '2s', '--tpot', '50ms']],
    ['mixture of experts, routed unevenly', 'deepseek-r1&ttft=2000&tpot=50&imb=1.5', [], ['--ttft', '2s', '--tpot', '50ms', '--expert-imbalance', '1.5']],
    ['encoder', 'bert-large', [], []],
    ['vision encoder', 'vit-l-16&latency=50', [], ['--latency', '50ms']],
    ['recommender', 'dlrm-v2&offload=1', [], ['--offload']],
    ['recommender with a hot-row cache', 'dlrm-v2&offload=1&hits=90', [], ['--offload', '--cache-hits', '90%']],
    ['training', 'gpt-3-175b-training&maxdev=1024', [], ['--max-devices', '1024']],
  ];
  const families = new Set();
  for (const [name, query, , args] of settings) {
    const [page, problems] = await open(`?w=${query}`);
    const id = query.split('&')[0];
    const doc = cli(['-w', id, ...args]);
    families.add(doc.family);
    const web = await rows(page);
    assert.ok(web.length > 0, `${name}: no rows`);
    sameRows(web, doc.rows, doc.rows.length);
    assert.deepEqual(await page.evaluate(() => window.ridge.result.family), doc.family, name);
    assert.deepEqual(problems, [], name);
    await page.close();
  }
  assert.deepEqual([...families].sort(), ['decoder', 'encoder', 'moe', 'recommender', 'training']);
});
