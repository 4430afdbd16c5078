// What every browser test file shares: a real `ridge serve` on a free port and Debian's Chromium
// (SwiftShader WebGPU) driven by playwright-core, started before a file's tests and stopped after;
// pages that record console problems; `ridge match --json` and `ridge plan --json` to compare with.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = resolve(process.env.RIDGE_BIN || join(root, 'target', 'debug', 'ridge'));
export const SHOTS = process.env.SCREENSHOTS || join(root, 'target', 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const TOKEN = 'rdg_browser_test_token';
const ARGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic'];

let server, browser;
/** The page's address and a scratch directory, set before the tests run. */
export let url, dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ridge-browser-'));
  mkdirSync(SHOTS, { recursive: true });
  const tokens = join(dir, 'tokens');
  execFileSync('sh', ['-c', `printf '%s\\n' ${TOKEN} > ${tokens}`]);
  // From the scratch directory, with no --web: the page comes from the binary, as it ships
  // (`cargo xtask browser` builds ridge with the page built in). RIDGE_WEB=DIR serves it from DIR
  // instead, to try a change to the page without building ridge again.
  const web = process.env.RIDGE_WEB ? ['--web', resolve(process.env.RIDGE_WEB)] : [];
  server = spawn(BIN, ['serve', '--addr', '127.0.0.1:0', '--db', join(dir, 'ridge.db'), '--token-file', tokens, ...web], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise((ok, fail) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) ok(`${m[1]}/`);
    });
    server.on('exit', (code) => fail(new Error(`ridge serve exited with ${code}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

after(async () => {
  await browser?.close();
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** A page that records console errors and warnings; returns [page, problems]. */
export async function open(path = '', options = {}) {
  const page = await browser.newPage({ viewport: options.viewport || { width: 1400, height: 1000 } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  if (options.init) await page.addInitScript(options.init);
  await page.goto(url + path);
  await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 30_000 });
  return [page, problems];
}

export const rows = (page) => page.evaluate(() => window.ridge.result.rows);

export function cli(args) {
  return JSON.parse(execFileSync(BIN, ['match', ...args, '--json'], { encoding: 'utf8' }));
}

/** `ridge plan FILE --json`: its exit code, the document (null when it printed none) and its
 * error text (exit 1 means a target is unmet, 2 a bad file: neither throws). */
export function planCli(file) {
  const r = spawnSync(BIN, ['plan', file, '--json'], { encoding: 'utf8' });
  return { status: r.status, json: r.stdout.trim() ? JSON.parse(r.stdout) : null, stderr: r.stderr };
}

export function sameRows(web, native, n) {
  assert.ok(web.length >= n, `only ${web.length} rows`);
  assert.equal(web.length, native.length, 'row count');
  for (let i = 0; i < n; i++) {
    const [a, b] = [web[i], native[i]];
    assert.equal(a.hardware, b.hardware, `row ${i + 1}`);
    assert.deepEqual([a.devices, a.batch, a.layout_text, a.provenance], [b.devices, b.batch, b.layout_text, b.provenance]);
    for (const k of ['throughput_per_s', 'usd_per_million', 'usd_per_hour']) {
      // A device with no public price has no cost in either (null), never a zero.
      if (b[k] == null) { assert.equal(a[k], b[k], `${a.hardware} ${k}`); continue; }
      assert.ok(Math.abs(a[k] - b[k]) <= 1e-9 * Math.abs(b[k]), `${a.hardware} ${k}: ${a[k]} vs ${b[k]}`);
    }
    // The memory part by part and a training budget's time and cost, where the command line has them.
    for (const [x, y, what] of [[a.memory, b.memory, 'memory'], [a.training, b.training, 'training']]) {
      if (y === undefined) { assert.equal(x, undefined, `${a.hardware} ${what}`); continue; }
      assert.deepEqual(Object.keys(x).sort(), Object.keys(y).sort(), `${a.hardware} ${what}`);
      for (const [k, v] of Object.entries(y)) {
        if (typeof v !== 'number') { assert.equal(x[k], v, `${a.hardware} ${what}.${k}`); continue; }
        assert.ok(Math.abs(x[k] - v) <= 1e-9 * Math.abs(v), `${a.hardware} ${what}.${k}: ${x[k]} vs ${v}`);
      }
    }
  }
}


const require = createRequire(import.meta.url);

/** axe-core's serious and critical violations on the page as it is: `rule: target, ...` lines. */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', ')}${v.nodes.length > 5 ? `, and ${v.nodes.length - 5} more` : ''}`);
}
