// The in-page benchmark, in a worker: WebGPU plumbing and host timing only. What to run (the WGSL
// of `ridge run`, grid, uniform, sizes), the seeded inputs, the check of every output against the
// CPU reference, the statistics and the figures come from ridge-core (`benchPlan`, `benchInputs`,
// `benchResult` of the benchmark bundle). A kernel whose output does not verify reports no figure.

import init, { benchPlan, benchInputs, benchResult } from './pkg-bench/ridge_wasm_bench.js';

const post = (m) => postMessage(m);

/** Compiles, dispatches and times one planned kernel; returns its output and samples (s/dispatch). */
async function run(device, d, inputs) {
  const module = device.createShaderModule({ code: d.source });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) throw new Error(`${d.kernel}: WGSL: ${errors.map((m) => m.message).join('; ')}`);
  const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: d.entry } });
  const uniform = device.createBuffer({ size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(uniform, 0, new Uint32Array(d.params));
  const a = device.createBuffer({ size: inputs.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(a, 0, inputs);
  const bytes = d.output_len * 4;
  const out = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: uniform } }, { binding: 1, resource: { buffer: a } }, { binding: 3, resource: { buffer: out } }],
  });
  const [x, y, z] = d.workgroups;
  const submit = async (times) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < times; i++) {
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(x, y, z);
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
  const samples = new Float64Array(d.samples);
  for (let i = 0; i < d.samples; i++) samples[i] = await submit(d.repeats);
  const oom = await device.popErrorScope();
  const invalid = await device.popErrorScope();
  if (oom || invalid) throw new Error(`${d.kernel}: ${(oom || invalid).message}`);
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(out, 0, read, 0, bytes);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const got = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [uniform, a, out, read]) b.destroy();
  return { got, samples };
}

onmessage = async () => {
  try {
    if (!self.navigator.gpu) return post({ type: 'unsupported', message: 'This browser has no WebGPU in workers; everything else works.' });
    post({ type: 'progress', message: 'Loading the benchmark kernels…' });
    await init();
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return post({ type: 'unsupported', message: 'WebGPU is present but offers no adapter here.' });
    const device = await adapter.requestDevice();
    let lost = null;
    device.lost.then((i) => { lost = i.message || 'device lost'; });
    const info = adapter.info || {};
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'this GPU';
    // A software renderer (SwiftShader, llvmpipe, WARP) runs the kernels on the CPU.
    const software = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i.test(name);
    const plan = benchPlan({
      max_storage_buffer_binding_size: device.limits.maxStorageBufferBindingSize,
      max_compute_workgroups_per_dimension: device.limits.maxComputeWorkgroupsPerDimension,
    });
    const results = [];
    for (const d of plan) {
      post({ type: 'progress', message: `${d.kernel} on ${name}…` });
      const { got, samples } = await run(device, d, benchInputs(d));
      post({ type: 'progress', message: `${d.kernel} on ${name}: checking every output…` });
      results.push(benchResult(d, got, samples));
      if (lost) throw new Error(`the GPU was lost: ${lost}`);
    }
    device.destroy();
    post({ type: 'done', adapter: name, software, kernels: results });
  } catch (e) {
    post({ type: 'error', message: `The benchmark stopped: ${e.message || e}` });
  }
};
