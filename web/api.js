// What the page reads from the `ridge serve` it came from (nothing when it is served by a plain
// static server: callers say so).

/** Every device the service holds, following its pages (100 devices each, at most 50 pages). */
export async function devices() {
  const all = [];
  let cursor = null;
  for (let page = 0; page < 50; page++) {
    const body = await json(`api/v1/devices?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...(body.devices || []));
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return all;
}

/** A device's ceilings over its runs, outliers and change points marked. */
export function deviceHistory(key) {
  return json(`api/v1/devices/${encodeURIComponent(key)}/history`);
}

/** An error carrying the HTTP status, and the service's own reason where it gave one. */
export class ServiceError extends Error {
  constructor(status, reason) {
    super(reason || `HTTP ${status}`);
    this.status = status;
  }
}

async function json(url) {
  const resp = await fetch(url, { headers: { accept: 'application/json' } });
  if (!resp.ok) {
    const reason = await resp.json().then((b) => b.error, () => undefined);
    throw new ServiceError(resp.status, reason);
  }
  return resp.json();
}
