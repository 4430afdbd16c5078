// "Benchmark this device": loaded only when asked. Runs the benchmark kernels of `ridge run`
// (the same WGSL, from the benchmark bundle) in a Web Worker through WebGPU; ridge-core verifies
// every output against its CPU reference and computes the figures shown here.

import { si } from './chart.js';

export function runBenchmark(status, onDone) {
  status.replaceChildren();
  const line = (text, cls) => {
    const p = document.createElement('p');
    p.textContent = text;
    if (cls) p.className = cls;
    status.append(p);
    return p;
  };
  if (!('gpu' in navigator)) {
    line('This browser has no WebGPU, so it cannot benchmark this device; everything else works.');
    return;
  }
  const progress = line('Starting the benchmark…');
  const worker = new Worker(new URL('./bench-worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = ({ data }) => {
    if (data.type === 'progress') progress.textContent = data.message;
    else if (data.type === 'unsupported' || data.type === 'error') {
      progress.textContent = data.message;
      progress.className = data.type === 'error' ? 'error' : '';
      worker.terminate();
    } else if (data.type === 'done') {
      progress.textContent = data.kernels.every((k) => k.verification.ok)
        ? `${data.adapter}: every kernel verified.`
        : `${data.adapter}: a kernel failed verification.`;
      const ul = document.createElement('ul');
      ul.id = 'bench-results';
      for (const k of data.kernels) {
        const li = document.createElement('li');
        const v = k.verification, t = k.throughput;
        li.dataset.kernel = k.kernel;
        li.dataset.verified = String(v.ok);
        li.textContent = !v.ok
          ? `${k.kernel}: FAILED verification (${v.detail}); no figure reported`
          : t
            ? `${k.kernel}: ${si(t.value)} ${t.unit} (median of ${k.summary.n}, CV ${(k.summary.cv * 100).toFixed(1)}%, verified ${v.checked} values)`
            : `${k.kernel}: verified ${v.checked} values, but the timer gave no usable samples; no figure reported`;
        ul.append(li);
      }
      status.append(ul);
      if (data.software) {
        const warn = line(`${data.adapter} is a software renderer: these figures measure this computer's CPU, not a GPU.`, 'warn');
        warn.id = 'bench-software';
      }
      const figure = (n) => data.kernels.find((k) => k.kernel === n && k.verification.ok)?.throughput;
      const copy = figure('stream.copy'), fma = figure('compute.fma.fp32.x8');
      if (copy && fma) {
        line(`Placed on the roofline of the selected row: ${si(copy.value)} ${copy.unit} and ${si(fma.value)} ${fma.unit} fp32 (measured, this browser).`);
        onDone({ copy, fma, adapter: data.adapter, software: Boolean(data.software), kernels: data.kernels });
      }
      worker.terminate();
    }
  };
  worker.onerror = (e) => {
    progress.textContent = `The benchmark stopped: ${e.message}`;
    progress.className = 'error';
  };
  worker.postMessage({ start: true });
}
