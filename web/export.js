// What an export carries besides the ranking: the inputs that produced it (workload, targets,
// prices entered, date, ridge version), so a file read later says what it answers.

const num = (v) => (v === undefined || v === '' ? undefined : Number(v));

/**
 * The inputs of a ranking, in the form's own units (ms, $/hour, %). `s`: the form state;
 * `ctx`: { workload (the preset or custom spec), decoder, prices, purchases, measuredFrom,
 * version, date, url }.
 */
export function exportInputs(s, ctx) {
  const owned = s.mode === 'owned';
  const inputs = {
    workload: ctx.workload?.id ?? s.w,
    workload_name: ctx.workload?.name,
    custom_workload: s.custom !== undefined,
    precision: s.precision || 'preset default',
    batch: num(s.batch) ?? 'searched',
    prompt_tokens: num(s.prompt),
    output_tokens: ctx.decoder ? num(s.output) : undefined,
    max_devices: num(s.maxdev),
    required_throughput: num(s.tput),
    requests_per_s: ctx.decoder ? num(s.rate) : undefined,
    ttft_ms: ctx.decoder ? num(s.ttft) : undefined,
    tpot_ms: ctx.decoder ? num(s.tpot) : undefined,
    latency_ms: ctx.decoder ? undefined : num(s.latency),
    batching: ctx.decoder ? (s.batching === 'static' ? 'static' : 'continuous') : undefined,
    budget_usd_per_hour: num(s.budget),
    power_cap_w: num(s.power),
    cost_mode: owned ? 'owned' : 'cloud',
    provider_class: owned ? undefined : (s.cls || 'cheapest of any'),
    years: owned ? num(s.years) : undefined,
    usd_per_kwh: owned ? num(s.kwh) : undefined,
    pue: owned ? num(s.pue) : undefined,
    utilization_percent: owned ? num(s.util) : undefined,
    prices_usd_per_device_hour: owned ? undefined : ctx.prices,
    purchase_prices_usd: owned ? ctx.purchases : undefined,
    datasheet_only: s.datasheet === '1',
    calibrated: s.cal === '1',
    offload: s.offload === '1',
    // As the ranking used it: a recommender's offloaded tables only.
    cache_hits_percent: s.offload === '1' && ctx.workload?.dlrm ? num(s.hits) : undefined,
    // As the ranking used it: a mixture-of-experts model's only.
    expert_imbalance: ctx.moe ? num(s.imb) : undefined,
    measured_ceilings: s.datasheet === '1' ? 'none' : ctx.measuredFrom,
    date: ctx.date,
    ridge_version: ctx.version,
    url: ctx.url,
  };
  for (const k of Object.keys(inputs)) if (inputs[k] === undefined) delete inputs[k];
  if (s.custom) { try { inputs.custom_workload = JSON.parse(s.custom); } catch { inputs.custom_workload = s.custom; } }
  return inputs;
}

/** `# key: value` lines for a CSV's head (the columns below are `ridge match --csv`'s). */
export function csvComments(inputs) {
  const lines = ['# ridge match, exported from the browser tool: the inputs, then the ranking (the columns of `ridge match --csv`)'];
  for (const [k, v] of Object.entries(inputs)) {
    const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
    lines.push(`# ${k}: ${text.replace(/[\r\n]+/g, ' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `ridge-match-llama-3.1-70b-2026-12-02.csv`. */
export function exportName(workload, date, ext) {
  const safe = String(workload).replace(/[^A-Za-z0-9._-]+/g, '-');
  return `ridge-match-${safe}-${date}.${ext}`;
}
