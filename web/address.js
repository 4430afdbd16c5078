// The page's address: the state as a query string, one history entry per committed change.

/** How long typing pauses before the address follows it, in milliseconds. */
const PAUSE_MS = 300;

const here = () => `${location.pathname}${location.search}`;
let pending = null;
let timer = null;

/**
 * Writes state `s` (fields equal to `defaults` left out) into the address. `push`: a committed
 * change (a field left, a choice made, a row selected) gets its own entry, so Back undoes it.
 * Otherwise the keystrokes of one edit replace each other, written once typing pauses: each
 * history call takes milliseconds that would delay the next frame.
 */
export function writeAddress(s, defaults, push) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(s)) if (v !== '' && v !== undefined && defaults[k] !== v) q.set(k, v);
  const url = `${location.pathname}${q.toString() ? `?${q}` : ''}`;
  if (push) {
    flushAddress();
    if (url !== here()) history.pushState(null, '', url);
  } else if (url !== (pending ?? here())) {
    clearTimeout(timer);
    timer = setTimeout(flushAddress, PAUSE_MS);
    pending = url;
  }
}

/** Writes the address an edit left pending (before anything reads it). */
export function flushAddress() {
  clearTimeout(timer);
  if (pending == null) return;
  if (pending !== here()) history.replaceState(null, '', pending);
  pending = null;
}

/** Forgets a pending address (Back or Forward moved to another). */
export function dropAddress() {
  clearTimeout(timer);
  pending = null;
}
