/** The preferences replygate honours from an RFC 7240 `Prefer` header. */
export interface Preferences {
  /** `respond-async`: answer 202 at once and let the client fetch the reply later. */
  respondAsync: boolean;
  /** `wait=<seconds>`: how long the client is willing to wait, in milliseconds. */
  waitMs?: number;
}

/** Parse `Prefer` header values (several headers or comma-separated); unknown preferences are ignored. */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const prefs: Preferences = { respondAsync: false };
  if (header === undefined) return prefs;
  const parts = (Array.isArray(header) ? header.join(',') : header).split(',');
  for (const part of parts) {
    const [token = '', ...rest] = part.split(';');
    const [name = '', value] = token
      .trim()
      .split('=')
      .map((s) => s.trim());
    if (name.toLowerCase() === 'respond-async') prefs.respondAsync = true;
    if (name.toLowerCase() === 'wait' && value !== undefined && /^\d{1,6}$/.test(value.replace(/"/g, ''))) {
      prefs.waitMs = Number(value.replace(/"/g, '')) * 1000;
    }
    void rest;
  }
  return prefs;
}
