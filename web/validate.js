// Each number field checked in the page, in its own units, before the model is asked: the message
// sits beside the field (aria-describedby, aria-invalid) and names what was typed.

// id -> what the field holds. `int`: a whole number; `min` with `open`: strictly above it.
// `when` (decoder, batch, moe, owned, cloud, device): the field applies only then.
const RULES = {
  maxdev: { label: 'Max devices', int: true, min: 1 },
  batch: { label: 'Batch', int: true, min: 1 },
  imb: { label: 'Expert imbalance', min: 1, when: 'moe' },
  prompt: { label: 'Prompt tokens', int: true, min: 1 },
  output: { label: 'Output tokens', int: true, min: 1, when: 'decoder' },
  tput: { label: 'Required throughput', unit: '', min: 0, open: true },
  rate: { label: 'Request rate', unit: 'requests/s', min: 0, open: true, when: 'decoder' },
  ttft: { label: 'TTFT target', unit: 'ms', min: 0, open: true, when: 'decoder' },
  tpot: { label: 'TPOT target', unit: 'ms', min: 0, open: true, when: 'decoder' },
  latency: { label: 'Latency target', unit: 'ms', min: 0, open: true, when: 'batch' },
  budget: { label: 'Budget', unit: '$/hour', min: 0, open: true },
  power: { label: 'Power cap', unit: 'W', min: 0, open: true },
  years: { label: 'Years', unit: 'years', min: 0, open: true, when: 'owned' },
  kwh: { label: '$ / kWh', unit: '$/kWh', min: 0, when: 'owned' },
  pue: { label: 'PUE', min: 1, when: 'owned' },
  util: { label: 'Utilisation', unit: '%', min: 0, open: true, max: 100, when: 'owned' },
  udmem: { label: 'Its memory', unit: 'GB', min: 0, open: true, when: 'device' },
  udprice: { label: 'Its price', unit: '$/hour', min: 0, open: true, when: 'device' },
  udbuy: { label: 'Purchase', unit: '$', min: 0, open: true, when: 'device' },
  udwatts: { label: 'Power', unit: 'W', min: 0, open: true, when: 'device' },
};

const withUnit = (v, unit) => (unit ? `${v} ${unit}` : `${v}`);

/** The problem with one field's text, or null (also used by the fleet page, plan.js). */
export function problem(rule, input, unit) {
  const raw = input.value.trim();
  // A number field holding text that is not a number ("1e", "--3") reads as empty.
  if (input.validity?.badInput) return `${rule.label}: what is typed is not a number`;
  if (raw === '') return null;
  const v = Number(raw);
  if (!Number.isFinite(v)) return `${rule.label}: \`${raw}\` is not a number`;
  if (rule.int && !Number.isInteger(v)) return `${rule.label} must be a whole number (got ${raw})`;
  if (rule.open && v <= rule.min) return `${rule.label} must be more than ${withUnit(rule.min, unit)} (got ${withUnit(raw, unit)})`;
  if (!rule.open && v < rule.min) return `${rule.label} must be at least ${withUnit(rule.min, unit)} (got ${withUnit(raw, unit)})`;
  if (rule.max !== undefined && v > rule.max) return `${rule.label} must be at most ${withUnit(rule.max, unit)} (got ${withUnit(raw, unit)})`;
  return null;
}

/** The message element beside a field, created once. */
export function messageFor(input) {
  const id = `${input.id}-error`;
  let el = document.getElementById(id);
  if (!el) {
    el = document.createElement('span');
    el.id = id;
    el.className = 'field-error';
    el.hidden = true;
    input.insertAdjacentElement('afterend', el);
    input.setAttribute('aria-describedby', id);
  }
  return el;
}

/**
 * Checks every field that applies (`applies`: the set of conditions that hold now, e.g.
 * `decoder`, `owned`); marks the bad ones and returns their messages (empty when all are fine).
 * `throughputUnit` names the required throughput's unit.
 */
export function validateFields(applies, throughputUnit) {
  const messages = [];
  for (const [id, rule] of Object.entries(RULES)) {
    const input = document.getElementById(id);
    if (!input) continue;
    const unit = id === 'tput' ? throughputUnit : rule.unit;
    const text = rule.when && !applies.has(rule.when) ? null : problem(rule, input, unit);
    const el = text || input.hasAttribute('aria-describedby') ? messageFor(input) : null;
    if (text) {
      el.textContent = text;
      el.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      messages.push(text);
    } else {
      if (el) { el.textContent = ''; el.hidden = true; }
      input.removeAttribute('aria-invalid');
    }
  }
  return messages;
}
