/**
 * The shared time range of every page: relative ("the last 15 minutes", moving with now) or absolute (a fixed
 * window, which a drag on a time chart makes), its URL form (`from`/`to`, Grafana's spelling: `now-15m`/`now`, or
 * RFC 3339 / epoch ms), and the auto-refresh interval (`refresh=30s`). Pure: `now` is always an argument, so a
 * page resolves the range once per refresh and every query of that refresh agrees on it.
 */

/** A window ending now. `text` is how it is written (`15m`), `ms` its length. */
export interface RelativeRange {
  kind: 'relative';
  text: string;
  ms: number;
}

/** A fixed window, epoch milliseconds, from < to. */
export interface AbsoluteRange {
  kind: 'absolute';
  fromMs: number;
  toMs: number;
}

export type TimeRange = RelativeRange | AbsoluteRange;

/** A range resolved against a moment: what queries are sent with. */
export interface Resolved {
  startMs: number;
  endMs: number;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** The picker's choices, 5 minutes to 7 days. */
export const PRESETS = ['5m', '15m', '30m', '1h', '3h', '6h', '12h', '24h', '2d', '7d'] as const;

export const DEFAULT_RANGE: RelativeRange = { kind: 'relative', text: '1h', ms: 3_600_000 };

/** The API refuses longer ranges (query/params/time.ts MAX_RANGE_MS). */
export const MAX_RANGE_MS = 366 * 86_400_000;
/** Narrower zooms are almost always a mis-drag (a click). */
export const MIN_ZOOM_MS = 1000;

/** `15m`, `1h30m`, `7d` → milliseconds; undefined when not a positive duration in s/m/h/d/w. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!/^(\d+[smhdw])+$/.test(s)) return undefined;
  let ms = 0;
  for (const m of s.matchAll(/(\d+)([smhdw])/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 ? ms : undefined;
}

/** Milliseconds → the shortest `1h30m` form. */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms / 1000) * 1000;
  let out = '';
  for (const u of ['d', 'h', 'm', 's'] as const) {
    const n = Math.floor(rest / UNIT_MS[u]!);
    if (n > 0) out += `${n}${u}`;
    rest -= n * UNIT_MS[u]!;
  }
  return out === '' ? '0s' : out;
}

/** An instant in a URL: epoch milliseconds or RFC 3339. */
function parseInstant(text: string): number | undefined {
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The range a URL's `from`/`to` describe. Missing: the default. Unreadable, reversed or too long: the default,
 * with `error` saying why, so a mangled link still opens a page and says what it ignored.
 */
export function parseRange(from: string | null, to: string | null): { range: TimeRange; error?: string } {
  if (from === null && to === null) return { range: DEFAULT_RANGE };
  const f = from ?? '';
  if ((to === null || to === 'now') && f.startsWith('now-')) {
    const ms = parseDuration(f.slice(4));
    if (ms !== undefined && ms <= MAX_RANGE_MS) return { range: { kind: 'relative', text: formatDuration(ms), ms } };
    return { range: DEFAULT_RANGE, error: `"${f}" is not a duration back from now (now-15m, now-2h, now-7d)` };
  }
  const fromMs = parseInstant(f);
  const toMs = to === null || to === 'now' ? undefined : parseInstant(to);
  if (fromMs === undefined || toMs === undefined) {
    return { range: DEFAULT_RANGE, error: `the time range "${f}" → "${to ?? ''}" is not readable (use now-1h, or two RFC 3339 times)` };
  }
  if (fromMs >= toMs) return { range: DEFAULT_RANGE, error: 'the time range ends before it starts' };
  if (toMs - fromMs > MAX_RANGE_MS) return { range: DEFAULT_RANGE, error: 'the time range is longer than 366 days' };
  return { range: { kind: 'absolute', fromMs, toMs } };
}

/** The URL form; `null` for the default, which URLs leave out. */
export function formatRange(range: TimeRange): { from: string | null; to: string | null } {
  if (range.kind === 'relative') {
    return range.ms === DEFAULT_RANGE.ms ? { from: null, to: null } : { from: `now-${range.text}`, to: null };
  }
  return { from: new Date(range.fromMs).toISOString(), to: new Date(range.toMs).toISOString() };
}

export function relative(text: string): RelativeRange | undefined {
  const ms = parseDuration(text);
  return ms === undefined ? undefined : { kind: 'relative', text: formatDuration(ms), ms };
}

/** The window a range covers at `nowMs` (relative ranges end at now, rounded down to the second). */
export function resolve(range: TimeRange, nowMs: number): Resolved {
  if (range.kind === 'absolute') return { startMs: range.fromMs, endMs: range.toMs };
  const endMs = Math.floor(nowMs / 1000) * 1000;
  return { startMs: endMs - range.ms, endMs };
}

/**
 * The absolute range between two points of a chart (a drag, in either direction), kept inside the shown window;
 * undefined for a drag narrower than MIN_ZOOM_MS (a click).
 */
export function zoom(shown: Resolved, a: number, b: number): AbsoluteRange | undefined {
  const fromMs = Math.max(Math.min(a, b), shown.startMs);
  const toMs = Math.min(Math.max(a, b), shown.endMs);
  if (toMs - fromMs < MIN_ZOOM_MS) return undefined;
  return { kind: 'absolute', fromMs: Math.round(fromMs), toMs: Math.round(toMs) };
}

/** Twice as wide around the same middle, never past `nowMs` nor wider than the API allows. */
export function zoomOut(shown: Resolved, nowMs: number): AbsoluteRange {
  const width = Math.min((shown.endMs - shown.startMs) * 2, MAX_RANGE_MS);
  let toMs = Math.round((shown.startMs + shown.endMs) / 2 + width / 2);
  if (toMs > nowMs) toMs = nowMs;
  return { kind: 'absolute', fromMs: toMs - width, toMs };
}

const PRESET_LABEL: Record<string, string> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' };

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `2024-03-01 14:05:09` in the viewer's time zone. */
export function formatInstant(ms: number, withSeconds = true): string {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}${withSeconds ? `:${pad(d.getSeconds())}` : ''}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** "Last 15 minutes", "Last 1h30m", or "2024-03-01 14:00:00 → 15:00:00". */
export function describeRange(range: TimeRange): string {
  if (range.kind === 'relative') {
    const m = /^(\d+)([smhdw])$/.exec(range.text);
    if (m) return `Last ${m[1] === '1' ? '' : `${m[1]} `}${PRESET_LABEL[m[2]!]}${m[1] === '1' ? '' : 's'}`;
    return `Last ${range.text}`;
  }
  const from = formatInstant(range.fromMs);
  const to = formatInstant(range.toMs);
  return `${from} → ${from.slice(0, 10) === to.slice(0, 10) ? to.slice(11) : to}`;
}

/** Auto-refresh choices; off is the default. */
export const REFRESH_CHOICES = ['off', '5s', '10s', '30s', '1m', '5m'] as const;

/** `refresh=30s` → 30000; off, missing or shorter than 5 s (which would hammer the store) → undefined. */
export function parseRefresh(text: string | null): number | undefined {
  if (text === null || text === 'off') return undefined;
  const ms = parseDuration(text);
  return ms !== undefined && ms >= 5000 ? ms : undefined;
}

/** The API's `start`/`end` (epoch ms), so every query of a refresh covers exactly the same window. */
export function apiRange(r: Resolved): { start: string; end: string } {
  return { start: String(r.startMs), end: String(r.endMs) };
}
