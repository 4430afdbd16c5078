// The in-page benchmark, in a worker: WebGPU dispatches of ridge's kernels, timed on the host
// around a submission of several dispatches, each output checked against a CPU reference. A
// kernel whose output does not verify reports no figure.

import init, { kernels } from './pkg-bench/ridge_wasm_bench.js';

const post = (m) => postMessage(m);
const SAMPLES = 7;

function grid(n) {
  const groups = Math.ceil(n / 256);
  const x = Math.min(groups, 65535);
  return { x, y: Math.ceil(groups / x), stride: x * 256 };
}

function params(words) {
  // 8 x 32-bit words; floats are written through a shared buffer.
  const buf = new ArrayBuffer(32);
  const u = new Uint32Array(buf), f = new Float32Array(buf);
  words.forEach((w, i) => { if (typeof w === 'object') f[i] = w.f; else u[i] = w; });
  return buf;
}

function summary(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, s.length - 1));
  return { median, cv: sd / mean };
}

async function run(device, code, entry, n, words, inputs, repeats) {
  const module = device.createShaderModule({ code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) throw new Error(`${entry}: WGSL: ${errors.map((m) => m.message).join('; ')}`);
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: entry } });
  const { x, y, stride } = grid(n);
  const uniform = device.createBuffer({ size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniform, 0, params([n, stride, ...words]));
  const a = device.createBuffer({ size: inputs.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(a, 0, inputs);
  const out = device.createBuffer({ size: n * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: n * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: uniform } }, { binding: 1, resource: { buffer: a } }, { binding: 3, resource: { buffer: out } }],
  });
  const submit = async (times) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < times; i++) {
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(x, y);
      pass.end();
    }
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / 1000 / times;
  };
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  await submit(1); // warm-up
  const samples = [];
  for (let i = 0; i < SAMPLES; i++) samples.push(await submit(repeats));
  const oom = await device.popErrorScope();
  const invalid = await device.popErrorScope();
  if (oom || invalid) throw new Error(`${entry}: ${(oom || invalid).message}`);
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(out, 0, read, 0, n * 16);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const got = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [uniform, a, out, read]) b.destroy();
  return { got, ...summary(samples) };
}

function verify(got, want, indices, tolerance) {
  for (const i of indices ?? got.keys()) {
    const err = Math.abs(got[i] - want(i)) / Math.max(Math.abs(want(i)), 1);
    if (!(err <= tolerance)) return { ok: false, detail: `value ${i}: got ${got[i]}, expected ${want(i)}` };
  }
  return { ok: true, checked: indices ? indices.length : got.length };
}

function randomInputs(count, seed) {
  const v = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; v[i] = s / 4294967296 * 2 - 1; }
  return v;
}

function sample(count, limit) {
  const idx = [0, count - 1];
  const step = Math.max(1, Math.floor(count / limit));
  for (let i = step; i < count - 1 && idx.length < limit; i += step) idx.push(i);
  return idx;
}

onmessage = async () => {
  try {
    if (!self.navigator.gpu) return post({ type: 'unsupported', message: 'This browser has no WebGPU in workers; everything else works.' });
    post({ type: 'progress', message: 'Loading the benchmark kernels…' });
    await init();
    const src = kernels().kernels;
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return post({ type: 'unsupported', message: 'WebGPU is present but offers no adapter here.' });
    const device = await adapter.requestDevice();
    let lost = null;
    device.lost.then((i) => { lost = i.message || 'device lost'; });
    const info = adapter.info || {};
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'this GPU';
    const results = [];

    // stream.copy: c = a over 2^20 vec4 (16 MiB per array); 32 bytes moved per element.
    const n = Math.min(1 << 20, Math.floor(device.limits.maxStorageBufferBindingSize / 16));
    post({ type: 'progress', message: `stream.copy on ${name}…` });
    const a = randomInputs(n * 4, 7);
    const copy = await run(device, src.stream, 'copy', n, [0, 0, { f: 0 }, 0, 0, 0], a, 4);
    const cv = verify(copy.got, (i) => a[i], null, 0);
    results.push({ name: 'stream.copy', unit: 'GB/s', value: cv.ok ? (n * 32) / copy.median / 1e9 : null, verified: cv.ok, checked: cv.checked, detail: cv.detail, cv: copy.cv, samples: SAMPLES });

    // compute.fma.fp32.x8: 8 chains of `iters` fma() on 4 lanes: 64 FLOPs per step per invocation.
    const m = Math.fround(0.9990234), c = Math.fround(0.0009765625), step = Math.fround(0.0625);
    const fn = 65536, iters = 64, chains = 8;
    post({ type: 'progress', message: `compute.fma.fp32.x8 on ${name}…` });
    const seed = randomInputs(fn * 4, 11);
    const fma = await run(device, src.fma_fp32_x8, 'fma_peak', fn, [iters, 0, { f: m }, { f: c }, { f: step }, { f: 0 }], seed, 2);
    const want = (i) => {
      let sum = 0;
      for (let k = 0; k < chains; k++) {
        let x = Math.fround(seed[i] + Math.fround(k * step));
        for (let j = 0; j < iters; j++) x = Math.fround(x * m + c);
        sum = Math.fround(sum + x);
      }
      return sum;
    };
    const fv = verify(fma.got, want, sample(fn * 4, 4096), 1e-4);
    results.push({ name: 'compute.fma.fp32.x8', unit: 'TFLOP/s', value: fv.ok ? (fn * chains * iters * 8) / fma.median / 1e12 : null, verified: fv.ok, checked: fv.checked, detail: fv.detail, cv: fma.cv, samples: SAMPLES });
    if (lost) throw new Error(`the GPU was lost: ${lost}`);
    device.destroy();
    post({ type: 'done', adapter: name, kernels: results });
  } catch (e) {
    post({ type: 'error', message: `The benchmark stopped: ${e.message || e}` });
  }
};
