// The device history view (web/history.html) in Debian's Chromium, against a real `ridge serve`
// holding synthetic runs: a device whose memory bandwidth drops 10% (a driver update) with one
// run at half speed (a throttled node), and a device as noisy but steady. The view must show the
// change and the odd run on the first and nothing on the second. Run by `cargo xtask browser`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHOTS, TOKEN, axeViolations, open, root, url } from './harness.mjs';

const FIXTURE = JSON.parse(readFileSync(join(root, 'tests', 'system', 'fixtures', 'llvmpipe-quick.json'), 'utf8'));
const RUNS = 24;
const keys = {};

/** The fixture run as device `name`, `minute` minutes after midnight, every throughput scaled. */
function run(name, minute, scale) {
  const r = structuredClone(FIXTURE);
  r.device.name = name;
  r.started_at = `2026-11-02T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:00Z`;
  for (const k of r.kernels) {
    if (!k.throughput) continue;
    k.throughput.bytes_per_s *= scale;
    k.throughput.flops_per_s *= scale;
    k.throughput.value *= scale;
  }
  return JSON.stringify(r);
}

async function upload(body) {
  const r = await fetch(`${url}api/v1/runs`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
  assert.equal(r.status, 201, await r.text());
}

/** The synthetic runs, uploaded once, before the first test that needs them (the server is
 * up by then: the harness starts it before any test). */
let uploaded;
const ready = () => (uploaded ??= uploadRuns());
async function uploadRuns() {
  // Noise of up to ±2% on both (a fixed pseudo-random sequence, so the test is repeatable).
  let seed = 7;
  const noise = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed / 2147483648 - 0.5) * 0.04; };
  for (let n = 0; n < RUNS; n++) {
    const level = n >= 12 ? 0.9 : 1.0;
    await upload(run('Step GPU', n, n === 4 ? 0.5 : level * (1 + noise())));
    await upload(run('Flat GPU', n, 1 + noise()));
  }
  const listed = await (await fetch(`${url}api/v1/devices`)).json();
  for (const d of listed.devices) keys[d.name] = d.key;
}

/** What the view shows for a ceiling: its sentence, change lines, odd and plotted dots, table rows. */
function ceiling(page, name) {
  return page.evaluate((name) => {
    const s = document.querySelector(`section.ceiling[data-ceiling="${name}"]`);
    if (!s) return null;
    return {
      verdict: s.querySelector('.verdict').textContent,
      changes: s.querySelectorAll('svg path.change').length,
      outliers: s.querySelectorAll('svg circle.outlier').length,
      dots: s.querySelectorAll('svg circle').length,
      rows: [...s.querySelectorAll('table tbody tr')].map((r) => [...r.cells].map((c) => c.textContent)),
    };
  }, name);
}

test('a 10% drop in memory bandwidth shows as one change at the run it starts, the half-speed run as odd', async () => {
  await ready();
  const [page, problems] = await open(`history.html?device=${keys['Step GPU']}`, { viewport: { width: 1280, height: 800 } });
  assert.equal(await page.inputValue('#device'), keys['Step GPU']);
  const m = await ceiling(page, 'memory_gb_per_s');
  assert.ok(m, 'no memory bandwidth section');
  assert.equal(m.changes, 1, m.verdict);
  // Run 13 is the first at the new level; the drop is 10% give or take the noise.
  const found = m.verdict.match(/^Changed once: −(\d+\.\d)% from run (\d+) /);
  assert.ok(found, m.verdict);
  assert.equal(Number(found[2]), 13);
  assert.ok(Math.abs(Number(found[1]) - 10) < 2, m.verdict);
  assert.equal(m.outliers, 1);
  assert.match(m.verdict, /1 odd run/);
  assert.equal(m.dots, RUNS);
  assert.equal(m.rows.length, RUNS);
  assert.match(m.rows[12][3], /^change −\d+\.\d% from here$/);
  assert.equal(m.rows[4][3], 'odd run');
  await page.screenshot({ path: join(SHOTS, 'history-step-1280x800.png'), fullPage: true });
  // Open the tables too, so that axe-core reads them.
  await page.$$eval('section.ceiling details', (d) => d.forEach((x) => { x.open = true; }));
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a noisy but steady device shows no change; the choice is in the URL and Back returns', async () => {
  await ready();
  const [page, problems] = await open(`history.html?device=${keys['Step GPU']}`, { viewport: { width: 390, height: 844 } });
  await page.selectOption('#device', keys['Flat GPU']);
  await page.waitForFunction((k) => location.search === `?device=${k}`, keys['Flat GPU']);
  await page.waitForFunction(() => /^Flat GPU/.test(document.querySelector('#summary').textContent));
  const m = await ceiling(page, 'memory_gb_per_s');
  assert.equal(m.changes, 0, m.verdict);
  assert.match(m.verdict, new RegExp(`^Steady over ${RUNS} runs: no change point`));
  assert.equal(m.outliers, 0);
  // Every ceiling of the steady device is steady.
  const all = await page.$$eval('section.ceiling .verdict', (v) => v.map((x) => x.textContent));
  assert.ok(all.length >= 3, all.join(' | '));
  for (const v of all) assert.match(v, /^Steady/);
  await page.screenshot({ path: join(SHOTS, 'history-flat-390x844.png'), fullPage: true });
  assert.deepEqual(await axeViolations(page), []);
  // Nothing wider than the phone's screen.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1));
  await page.goBack();
  await page.waitForFunction(() => /^Step GPU/.test(document.querySelector('#summary').textContent));
  assert.equal(await page.inputValue('#device'), keys['Step GPU']);
  assert.deepEqual(problems, []);
  await page.close();
});

test('an unknown device in the URL says so and shows a device that exists', async () => {
  await ready();
  const [page, problems] = await open('history.html?device=0123456789abcdef');
  assert.match(await page.textContent('#status'), /No device 0123456789abcdef here/);
  assert.ok(Object.values(keys).includes(await page.inputValue('#device')));
  assert.deepEqual(problems, []);
  await page.close();
});

test('the ranking page links to the history view when its service holds runs', async () => {
  await ready();
  const [page, problems] = await open('');
  await page.click('#history-link a');
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached' });
  assert.match(page.url(), /history\.html\?device=[0-9a-f]{16}$/);
  assert.ok(await ceiling(page, 'memory_gb_per_s'));
  assert.deepEqual(problems, []);
  await page.close();
});
