// The custom workload's form: a field per number of the model (transformer, mixture-of-experts,
// recommender, training), kept in step with the JSON in the textarea.

const $ = (id) => document.getElementById(id);

/** Every number (or list of numbers) of the model's configuration, by path. */
function numericLeaves(obj, prefix = '') {
  const out = [];
  for (const [k, v] of Object.entries(obj || {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number') out.push([path, v]);
    else if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'number')) out.push([path, v]);
    else if (v && typeof v === 'object' && !Array.isArray(v) && !('value' in v)) out.push(...numericLeaves(v, path));
  }
  return out;
}

function setPath(obj, path, value) {
  const keys = path.split('.');
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k];
  o[keys.at(-1)] = value;
}

/** A field per number of the custom workload's model (transformer, moe, dlrm, training). */
export function renderCustomFields() {
  const host = $('custom-fields');
  host.replaceChildren();
  let spec;
  try { spec = JSON.parse($('custom').value); } catch { return; }
  const model = {};
  for (const k of ['transformer', 'dlrm', 'training']) if (spec[k]) model[k] = spec[k];
  for (const [path, v] of numericLeaves(model)) {
    const label = document.createElement('label');
    label.textContent = path.replaceAll('.', ' › ').replaceAll('_', ' ');
    const input = document.createElement('input');
    input.dataset.path = path;
    if (Array.isArray(v)) { input.type = 'text'; input.value = v.join(', '); } else { input.type = 'number'; input.step = 'any'; input.value = String(v); }
    input.addEventListener('input', () => {
      let cur;
      try { cur = JSON.parse($('custom').value); } catch { return; }
      const raw = input.value.trim();
      const value = Array.isArray(v) ? raw.split(',').map((x) => Number(x.trim())) : Number(raw);
      setPath(cur, path, value);
      $('custom').value = JSON.stringify(cur, null, 2);
      $('custom-on').checked = true;
    });
    label.append(input);
    host.append(label);
  }
}
