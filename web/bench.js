// "Benchmark this device": loaded only when asked. Runs the benchmark kernels of `ridge run`
// (the same WGSL, from the benchmark bundle) in a Web Worker through WebGPU, verifies every
// output against a CPU reference, and reports the device's measured ceilings.

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
      progress.textContent = `${data.adapter}: every kernel verified.`;
      const ul = document.createElement('ul');
      ul.id = 'bench-results';
      for (const k of data.kernels) {
        const li = document.createElement('li');
        li.dataset.kernel = k.name;
        li.dataset.verified = String(k.verified);
        li.textContent = k.verified
          ? `${k.name}: ${si(k.value)} ${k.unit} (median of ${k.samples}, CV ${(k.cv * 100).toFixed(1)}%, verified ${k.checked} values)`
          : `${k.name}: FAILED verification (${k.detail}); no figure reported`;
        ul.append(li);
      }
      status.append(ul);
      const ok = (n) => data.kernels.find((k) => k.name === n && k.verified);
      const copy = ok('stream.copy'), fma = ok('compute.fma.fp32.x8');
      if (copy && fma) {
        line(`Placed on the roofline of the selected row: ${si(copy.value)} GB/s and ${si(fma.value)} TFLOP/s fp32 (measured, this browser).`);
        onDone({ bytes: copy.value * 1e9, flops: fma.value * 1e12, adapter: data.adapter, kernels: data.kernels });
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
