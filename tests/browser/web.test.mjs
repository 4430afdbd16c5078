// The browser tool in a real browser: Debian's Chromium (SwiftShader WebGPU) driven by
// playwright-core, against the page served by a real `ridge serve` (harness.mjs). Run by `cargo
// xtask browser`, which builds the bundle and the binary and sets RIDGE_BIN; screenshots go to
// $SCREENSHOTS. The issue-18 features (what a buyer reads first) are in buyer.test.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, SHOTS, TOKEN, cli, dir, open, root, rows, sameRows, url } from './harness.mjs';

test('DeepSeek-R1 on the 2026 shortlist: the same rows as the command line, unpriced devices marked, your price used', async () => {
  const [page, problems] = await open('?w=deepseek-r1&ttft=2000&tpot=50');
  const native = cli(['-w', 'deepseek-r1', '--ttft', '2s', '--tpot', '50ms']).rows;
  const web = await rows(page);
  sameRows(web, native, native.length);
  for (const hw of ['b200', 'h200-sxm', 'mi355x', 'gb200']) assert.ok(web.some((r) => r.hardware === hw), hw);
  // A device with no public price is in the table, after the priced ones, and says so.
  const mi = page.locator('#ranking tbody tr[data-hardware="mi355x"]');
  assert.match(await mi.textContent(), /no price/);
  assert.match(await mi.textContent(), /no public price/);
  // Give it a price in the page: the ranking is the command line's with --price.
  await mi.click();
  await page.fill('#your-price', '0.5');
  await page.locator('#your-price').dispatchEvent('change');
  await page.waitForFunction(() => window.ridge.result.rows.find((r) => r.hardware === 'mi355x')?.usd_per_hour != null);
  sameRows(await rows(page), cli(['-w', 'deepseek-r1', '--ttft', '2s', '--tpot', '50ms', '--price', 'mi355x=0.5']).rows, native.length);
  assert.match(page.url(), /prices=mi355x%3A0\.5/);
  await page.screenshot({ path: join(SHOTS, 'deepseek-r1.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the page loads without console errors and ranks like `ridge match --json`', async () => {
  const [page, problems] = await open();
  sameRows(await rows(page), cli(['-w', 'llama-3.1-70b']).rows, 4);
  const first = await page.locator('#ranking tbody tr').first().locator('td.name').textContent();
  assert.equal(first, (await rows(page))[0].name);
  // Served with continuous batching at targets the page names (assumed: none were given), and
  // the first row's curve of throughput per device against speed per user, its point marked.
  assert.match(await page.locator('#targets').textContent(), /≤ 450 ms .* ≤ 40 ms \(assumed/);
  const top = (await rows(page))[0];
  assert.equal(await page.locator('#serving-chart circle.dot').count(), top.curve.length);
  const point = await page.locator('#serving-chart circle.dot.selected title').allTextContents();
  assert.equal(point.length, 1, point.join(' | '));
  assert.match(point[0], new RegExp(`^${top.batch} in flight`));
  await page.screenshot({ path: join(SHOTS, 'ranking.png'), fullPage: true });

  // Choose a workload and constraints: the same answer as the command line.
  await page.selectOption('#workload', 'llama-3.1-8b');
  await page.fill('#maxdev', '4');
  await page.fill('#tpot', '50');
  await page.fill('#budget', '10');
  await page.selectOption('#precision', 'fp8');
  sameRows(await rows(page), cli(['-w', 'llama-3.1-8b', '--max-devices', '4', '--tpot', '50ms', '--budget-per-hour', '10', '--precision', 'fp8']).rows, 3);
  // Calibrated ceilings, the same as the command line's.
  await page.check('#calibrated');
  sameRows(await rows(page), cli(['-w', 'llama-3.1-8b', '--max-devices', '4', '--tpot', '50ms', '--budget-per-hour', '10', '--precision', 'fp8', '--calibrated']).rows, 3);
  assert.equal((await rows(page))[0].provenance === 'calibrated' || (await rows(page))[0].provenance === 'measured', true);
  await page.uncheck('#calibrated');
  // Static batches (offline jobs), the same as the command line's.
  await page.selectOption('#batching', 'static');
  sameRows(await rows(page), cli(['-w', 'llama-3.1-8b', '--max-devices', '4', '--tpot', '50ms', '--budget-per-hour', '10', '--precision', 'fp8', '--batching', 'static']).rows, 3);
  await page.selectOption('#batching', '');
  // A request rate asks for rate x output tokens per second.
  await page.fill('#rate', '10');
  sameRows(await rows(page), cli(['-w', 'llama-3.1-8b', '--max-devices', '4', '--tpot', '50ms', '--budget-per-hour', '10', '--precision', 'fp8', '--throughput', '2560']).rows, 1);
  await page.fill('#rate', '');
  // A recommender whose tables spill to host memory on small devices.
  await page.selectOption('#workload', 'dlrm-v2');
  await page.check('#offload');
  sameRows(await rows(page), cli(['-w', 'dlrm-v2', '--max-devices', '4', '--budget-per-hour', '10', '--precision', 'fp8', '--offload']).rows, 3);
  await page.uncheck('#offload');
  await page.selectOption('#workload', 'llama-3.1-8b');
  // Owned mode and a required throughput.
  await page.check('input[name=mode][value=owned]');
  await page.fill('#tput', '3000');
  sameRows(await rows(page), cli(['-w', 'llama-3.1-8b', '--max-devices', '4', '--tpot', '50ms', '--budget-per-hour', '10', '--precision', 'fp8',
    '--owned', '--throughput', '3000', '--years', '3', '--usd-per-kwh', '0.12', '--pue', '1.3', '--utilization', '70%']).rows, 1);
  await page.screenshot({ path: join(SHOTS, 'owned-with-targets.png'), fullPage: true });

  // Timings: first complete render, and re-ranks after one input change, measured in the page:
  // the ranking itself, and the change to the next painted frame (rank, table, answer, charts).
  for (const v of ['5', '6', '7', '8', '6']) await page.fill('#maxdev', v);
  const paints = [];
  for (const v of ['3', '4', '5', '6', '7', '8', '5', '4', '6', '7', '3']) {
    paints.push(await page.evaluate((value) => new Promise((done) => {
      const input = document.getElementById('maxdev');
      const t0 = performance.now();
      input.value = value;
      input.dispatchEvent(new Event('input', { bubbles: true }));
      requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));
    }), v));
  }
  const t = await page.evaluate(() => window.ridge.timings);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [rankMedian, paintMedian] = [median(t.rank), median(paints)];
  console.log(`# browser timings: first complete render ${t.firstRender.toFixed(0)} ms; re-rank median ${rankMedian.toFixed(1)} ms (max ${Math.max(...t.rank).toFixed(1)} over ${t.rank.length}); input to painted frame median ${paintMedian.toFixed(1)} ms (max ${Math.max(...paints).toFixed(1)} over ${paints.length})`);
  const size = readFileSync(join(root, 'web', 'pkg', 'ridge_wasm_bg.wasm')).length + readFileSync(join(root, 'web', 'pkg', 'ridge_wasm.js')).length;
  console.log(`# ranking bundle: ${(size / 1e3).toFixed(0)} KB uncompressed`);
  // Reported, not asserted: speed is measured (issue 18's targets are first render under 1 s and
  // a re-rank under 50 ms at the median on a quiet machine), and a shared CI machine is noisy.
  assert.ok(Number.isFinite(t.firstRender) && t.rank.length > 0, 'the page recorded its timings');
  assert.deepEqual(problems, []);
  await page.close();
});

test('a mixture of experts is ranked with expert-parallel layouts, like the command line', async () => {
  const [page, problems] = await open();
  // Qwen3-235B's 128 experts: expert parallel over 8 leads on many devices (whole experts, `EP8`,
  // on the first).
  await page.selectOption('#workload', 'qwen3-235b-a22b');
  const web = await rows(page);
  sameRows(web, cli(['-w', 'qwen3-235b-a22b']).rows, 5);
  const ep = web.find((r) => (r.layout.expert_parallel || 1) > 1);
  assert.ok(ep, `no expert-parallel row: ${web.map((r) => r.layout_text).join(', ')}`);
  // Its detail: the roofline of that layout (ops of an expert-parallel estimate) and the scaling
  // curve with the expert-parallel line beside the tensor-parallel one.
  await page.locator(`#ranking tbody tr[data-hardware="${ep.hardware}"]`).click();
  await page.waitForFunction((hw) => document.querySelector('#detail h2')?.textContent.includes(hw), ep.name);
  assert.match(await page.locator('#detail h2').textContent(), /EP\d/);
  assert.ok(await page.locator('#roofline-chart circle.dot.op').count() > 0, 'roofline has the operations');
  assert.equal(await page.locator('#scaling-chart path.line.ep').count(), 1);
  const selected = await page.locator('#scaling-chart circle.dot.selected title').allTextContents();
  assert.equal(selected.length, 1, selected.join(' | '));
  assert.match(selected[0], new RegExp(`\\(${ep.layout_text}\\)`));
  await page.screenshot({ path: join(SHOTS, 'expert-parallel.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the URL holds the whole state', async () => {
  const [page, problems] = await open();
  await page.selectOption('#workload', 'mixtral-8x7b');
  await page.fill('#ttft', '2000');
  await page.fill('#output', '512');
  await page.check('#datasheet');
  await page.locator('#ranking tbody tr').nth(1).click();
  const shared = page.url();
  assert.match(shared, /w=mixtral-8x7b/);
  const before = await rows(page);
  const selected = await page.evaluate(() => window.ridge.selected);
  const [copy, problems2] = await open(shared.slice(url.length));
  assert.equal(await copy.inputValue('#workload'), 'mixtral-8x7b');
  assert.equal(await copy.inputValue('#ttft'), '2000');
  assert.equal(await copy.inputValue('#output'), '512');
  assert.equal(await copy.isChecked('#datasheet'), true);
  assert.equal(await copy.evaluate(() => window.ridge.selected), selected);
  assert.deepEqual(await rows(copy), before);
  await copy.screenshot({ path: join(SHOTS, 'shared-link-detail.png'), fullPage: true });
  assert.deepEqual([...problems, ...problems2], []);
  await page.close();
  await copy.close();
});

test('bad input shows the reason and custom workloads are validated', async () => {
  const [page, problems] = await open();
  await page.fill('#maxdev', '0');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /Max devices must be at least 1 \(got 0\)/);
  assert.equal(await page.getAttribute('#maxdev', 'aria-invalid'), 'true');
  await page.fill('#maxdev', '8');
  await page.waitForSelector('#error', { state: 'hidden' });
  await page.click('#custom-box summary');
  await page.click('#custom-load');
  const custom = JSON.parse(await page.inputValue('#custom'));
  custom.transformer.layers = 0;
  await page.fill('#custom', JSON.stringify(custom));
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /field `transformer.layers`: must be at least 1/);
  custom.transformer.layers = 40;
  await page.fill('#custom', JSON.stringify(custom));
  await page.waitForSelector('#error', { state: 'hidden' });
  assert.equal((await page.evaluate(() => window.ridge.result.workload)), 'llama-3.1-70b-custom');
  // The form: one field per number of the model; halving the layers matches the command line on
  // the same file.
  await page.click('#custom-load');
  await page.fill('input[data-path="transformer.layers"]', '40');
  const edited = JSON.parse(await page.inputValue('#custom'));
  assert.equal(edited.transformer.layers, 40);
  const file = join(dir, 'custom.json');
  writeFileSync(file, JSON.stringify(edited));
  sameRows(await rows(page), cli(['-w', file]).rows, 3);
  await page.screenshot({ path: join(SHOTS, 'custom-workload.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the in-page benchmark runs on SwiftShader WebGPU and verifies its kernels', async () => {
  const [page, problems] = await open('?w=llama-3.1-8b');
  await page.click('#bench-start');
  await page.waitForSelector('#bench-results', { timeout: 180_000 });
  const kernels = await page.$$eval('#bench-results li', (lis) => lis.map((l) => [l.dataset.kernel, l.dataset.verified, l.textContent]));
  assert.deepEqual(kernels.map((k) => k[0]), ['stream.copy', 'compute.fma.fp32.x8']);
  for (const [name, verified, text] of kernels) assert.equal(verified, 'true', `${name}: ${text}`);
  // SwiftShader runs the kernels on the CPU: the page says so beside the figures (issue 18).
  assert.match(await page.textContent('#bench-software'), /software renderer: these figures measure this computer's CPU, not a GPU/);
  console.log(`# in-page benchmark: ${kernels.map((k) => k[2]).join('; ')}`);
  // Every output is checked (4 floats per invocation: 65,536 FMA invocations; the copy's 8 bytes
  // moved per float), and each figure is its work over the median sample.
  const results = await page.evaluate(() => window.ridge.userDevice.kernels);
  const [copy, fma] = results;
  assert.equal(fma.verification.checked, 262_144);
  assert.equal(copy.verification.checked, copy.work.bytes / 8);
  assert.ok(Math.abs(copy.throughput.value - copy.work.bytes / copy.summary.median_s / 1e9) <= 1e-9 * copy.throughput.value);
  assert.ok(Math.abs(fma.throughput.value - fma.work.flops / fma.summary.median_s / 1e12) <= 1e-9 * fma.throughput.value);
  // Given its memory and price, the device joins the ranking as a measured row (as a static
  // batch job: a laptop's GPU meets no interactive serving target).
  await page.selectOption('#batching', 'static');
  await page.fill('#udmem', '64');
  await page.fill('#udprice', '0.5');
  await page.waitForSelector('#ranking tr[data-hardware="this-device"] .badge.measured');
  const mine = (await rows(page)).find((r) => r.hardware === 'this-device');
  assert.equal(mine.provenance, 'measured');
  await page.screenshot({ path: join(SHOTS, 'benchmark.png'), fullPage: true });
  // Selected, its own roofline is drawn (issue 18): one fp32 roof at the measured FMA rate, its
  // ridge at the measured FLOP/s over the measured bytes/s.
  await page.locator('#ranking tbody tr[data-hardware="this-device"]').click();
  await page.waitForFunction(() => document.querySelector('#roofline-chart svg > title')?.textContent.startsWith('Roofline of This device'));
  const peak = fma.throughput.flops_per_s, bw = copy.throughput.bytes_per_s;
  const three = (v) => { for (const [s, u] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']]) if (v >= s) return `${+(v / s).toPrecision(3)}${u}`; return `${+v.toPrecision(3)}`; };
  assert.equal(await page.locator('#roofline-chart path.line.roof').count(), 1);
  const roofRow = await page.$$eval('#roofline-chart details.chart-table tbody tr', (trs) => trs.map((t) => [...t.cells].map((c) => c.textContent)).find((c) => c[0].startsWith('fp32 roof of This device')));
  assert.deepEqual(roofRow.slice(1, 3), [`ridge at ${three(peak / bw)}`, three(peak)]);
  assert.ok(await page.locator('#roofline-chart circle.dot.op').count() > 0);
  // Kept in the URL: a reload ranks the device again, with the same figures, without a rerun.
  assert.match(page.url(), /[?&]ud=/);
  const [again, problems2] = await open(page.url().slice(url.length));
  const back = (await rows(again)).find((r) => r.hardware === 'this-device');
  assert.ok(back, 'the benchmarked device is ranked after a reload');
  assert.equal(back.throughput_per_s, (await rows(page)).find((r) => r.hardware === 'this-device').throughput_per_s);
  assert.equal(await again.inputValue('#udmem'), '64');
  assert.equal(await again.isVisible('#user-device'), true);
  assert.match(await again.textContent('#bench-status'), /^Measured earlier in this browser \(kept in the link\)/);
  assert.equal(await again.evaluate(() => window.ridge.selected), 'this-device');
  assert.match(await again.locator('#roofline-chart svg > title').textContent(), /^Roofline of This device/);
  for (const [w, h] of [[1280, 800], [390, 844]]) {
    await again.setViewportSize({ width: w, height: h });
    await again.locator('#bench-start').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await again.screenshot({ path: join(SHOTS, `view-benchmark-${w}x${h}.png`) });
  }
  assert.deepEqual([...problems, ...problems2], []);
  await again.close();
  await page.close();
});

test('without WebGPU the page says so and the rest works', async () => {
  const [page, problems] = await open('', { init: () => { delete Object.getPrototypeOf(navigator).gpu; } });
  assert.ok((await rows(page)).length > 0);
  await page.click('#bench-start');
  await page.waitForFunction(() => document.querySelector('#bench-status').textContent.includes('no WebGPU'));
  assert.deepEqual(problems, []);
  await page.close();
});

test('measured ceilings from ridge serve are used and marked', async () => {
  // A lavapipe run relabelled as an H100 SXM run, uploaded to the server the page comes from.
  const run = JSON.parse(readFileSync(join(root, 'tests', 'system', 'fixtures', 'llvmpipe-quick.json'), 'utf8'));
  run.catalog_id = 'h100-sxm';
  run.device.name = 'NVIDIA H100 80GB HBM3 (test)';
  const resp = await fetch(`${url}api/v1/runs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(run) });
  assert.equal(resp.status, 201);
  // lavapipe's ceilings meet no interactive serving target: rank static batches.
  const [page, problems] = await open('?w=llama-3.1-8b&batching=static');
  assert.match(await page.textContent('#measured-source'), /Measured ceilings of 1 device/);
  const h100 = (await rows(page)).find((r) => r.hardware === 'h100-sxm');
  assert.equal(h100?.provenance, 'measured');
  assert.ok(await page.locator('#ranking tr[data-hardware="h100-sxm"] .badge.measured').count());
  // A phone-sized screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SHOTS, 'phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
  await page.close();
});
