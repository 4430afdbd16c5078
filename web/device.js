// The device benchmarked in this page: kept in the link by the figures the ranking uses, and
// turned into a catalog entry and a measurement that `rank` and `roofline` take as
// `extra_hardware` and `measurements`.

/** The benchmarked device from the URL's `ud` (GB/s|TFLOP/s fp32|software|adapter, the figures
 * the ranking uses); null if none or malformed. */
export function readDevice(text) {
  const [gbps, tflops, software, ...adapter] = (text || '').split('|');
  const b = Number(gbps), f = Number(tflops);
  if (!(b > 0) || !(f > 0)) return null;
  return {
    copy: { value: b, unit: 'GB/s', bytes_per_s: b * 1e9 },
    fma: { value: f, unit: 'TFLOP/s', flops_per_s: f * 1e12 },
    software: software === '1',
    adapter: adapter.join('|') || 'an earlier benchmark',
    kernels: null,
    fromUrl: true,
  };
}

/**
 * The benchmarked device `u` as a catalog entry and a measurement, once the visitor gives what a
 * browser cannot see: `given` { memoryGb, usdPerHour, purchaseUsd, watts } (undefined when not
 * typed). Null without a device or its memory.
 */
export function deviceEntry(u, given) {
  const mem = given.memoryGb;
  if (!u || mem === undefined) return null;
  const today = new Date().toISOString().slice(0, 10);
  const price = given.usdPerHour, buy = given.purchaseUsd, watts = given.watts;
  const hardware = {
    id: 'this-device', name: `This device (${u.adapter}${u.software ? ', a software renderer: the CPU' : ''})`, vendor: 'measured in this browser', form_factor: 'browser',
    launch_year: Number(today.slice(0, 4)), confidence: 'uncertain', sources: ["ridge's WebGPU benchmark in this browser"],
    dense_tflops: { fp32: { value: u.fma.value } },
    memory: { kind: 'unknown', capacity_gb: { value: mem }, bandwidth_gb_per_s: { value: u.copy.value } },
    power: watts === undefined ? {} : { tdp_w: { value: watts } },
    cloud_prices: price === undefined ? [] : [{ provider: 'entered in the page', class: 'marketplace', usd_per_device_hour: price, checked: today, source: 'entered in the page', confidence: 'uncertain' }],
  };
  if (buy !== undefined) hardware.purchase = { usd: buy, date: today, source: 'entered in the page', confidence: 'uncertain' };
  const measurement = {
    id: 'this-browser', hardware: 'this-device', date: today, source: `ridge WebGPU benchmark in this browser (${u.adapter})`,
    method: 'stream.copy and compute.fma.fp32.x8, host-timed, verified', memory_gb_per_s: { value: u.copy.value }, compute_tflops: { fp32: { value: u.fma.value } },
  };
  return { hardware, measurement };
}
