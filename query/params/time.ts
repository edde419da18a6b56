/**
 * Time, duration and step parameters of the query API.
 *
 * Instants are kept as bigint nanoseconds since the epoch from parse to SQL parameter, so an RFC 3339 time with
 * nine fraction digits reaches ClickHouse exactly. Accepted instant forms:
 * - epoch milliseconds: `1700000000123`
 * - RFC 3339: `2023-11-14T22:13:20Z`, `2023-11-14T22:13:20.123456789+01:00`
 * - relative to now: `now`, `now-15m`, `now-1h30m`
 */
import { AppError } from '#core/errors.ts';

export const NS_PER_MS = 1_000_000n;
export const NS_PER_S = 1_000_000_000n;

/** A closed time range in nanoseconds since the epoch, start < end. */
export interface TimeRange {
  startNs: bigint;
  endNs: bigint;
}

/** How far back a search looks when no start is given. */
export const DEFAULT_RANGE_MS = 60 * 60 * 1000;
/** Longest accepted range; longer ranges are almost always a mistake and would scan everything kept. */
export const MAX_RANGE_MS = 366 * 24 * 60 * 60 * 1000;
/** Most points a series or histogram may have (step/bucket lower bound follows from the range). */
export const MAX_POINTS = 11_000;

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  ms: NS_PER_MS,
  s: NS_PER_S,
  m: 60n * NS_PER_S,
  h: 3600n * NS_PER_S,
  d: 86_400n * NS_PER_S,
};

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;
const DURATION_PART = /(\d+)(?:\.(\d+))?(ns|us|µs|ms|s|m|h|d)/y;

function bad(name: string, message: string): AppError {
  return new AppError('BAD_REQUEST', `querystring/${name} ${message}`);
}

/**
 * Parses a duration into nanoseconds: Go-style unit sequences (`250ms`, `1.5s`, `1h30m`) or a bare number in
 * `bareUnit` (nanoseconds for span durations, seconds for steps). Returns undefined when the text is not one.
 */
export function parseDurationNs(text: string, bareUnit: 'ns' | 'ms' | 's'): bigint | undefined {
  const s = text.trim();
  if (s === '' || s.length > 64) return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return scaled(s, UNIT_NS[bareUnit]!);
  let total = 0n;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const at = DURATION_PART.lastIndex;
    const m = DURATION_PART.exec(s);
    if (!m || m.index !== at) return undefined;
    total += scaled(m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`, UNIT_NS[m[3]!]!);
  }
  return total;
}

/** `"1.5"` × unit, truncated to whole nanoseconds, without going through floating point. */
function scaled(decimal: string, unit: bigint): bigint {
  const [whole, frac = ''] = decimal.split('.') as [string, string?];
  const fracDigits = frac.slice(0, 18);
  return BigInt(whole) * unit + (fracDigits === '' ? 0n : (BigInt(fracDigits) * unit) / 10n ** BigInt(fracDigits.length));
}

/** Parses one instant parameter; `name` is used in the error message. */
export function parseInstantNs(name: string, text: string, nowMs: number): bigint {
  const s = text.trim();
  if (/^\d{1,15}$/.test(s)) return BigInt(s) * NS_PER_MS;
  if (s === 'now') return BigInt(nowMs) * NS_PER_MS;
  if (s.startsWith('now-')) {
    const d = parseDurationNs(s.slice(4), 's');
    if (d !== undefined) return BigInt(nowMs) * NS_PER_MS - d;
    throw bad(name, `has a bad duration after now-: "${s.slice(4)}" (use e.g. now-15m)`);
  }
  const m = RFC3339.exec(s);
  if (m) {
    const [, y, mo, d, h, mi, se, frac, tz] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string];
    const base = Date.UTC(+y, +mo - 1, +d, +h, +mi, +se);
    const check = new Date(base);
    // Date.UTC rolls 2023-02-30 over into March; a real calendar date survives the round trip.
    const valid =
      check.getUTCFullYear() === +y && check.getUTCMonth() === +mo - 1 && check.getUTCDate() === +d && +h < 24 && +mi < 60 && +se < 60;
    if (valid) {
      let offsetMin = 0;
      if (tz !== 'Z' && tz !== 'z') {
        const sign = tz.startsWith('-') ? -1 : 1;
        offsetMin = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6)));
      }
      const ms = base - offsetMin * 60_000;
      if (ms >= 0) return BigInt(ms) * NS_PER_MS + BigInt((frac ?? '').padEnd(9, '0'));
    }
  }
  throw bad(name, `must be an RFC 3339 time (2023-11-14T22:13:20.123Z), epoch milliseconds or now-<duration>, got "${truncate(s)}"`);
}

/** Resolves `start`/`end`: end defaults to now, start to `defaultRangeMs` before end; start must precede end. */
export function resolveRange(
  q: { start?: string | undefined; end?: string | undefined },
  nowMs: number,
  defaultRangeMs = DEFAULT_RANGE_MS,
): TimeRange {
  const endNs = q.end === undefined ? BigInt(nowMs) * NS_PER_MS : parseInstantNs('end', q.end, nowMs);
  const startNs = q.start === undefined ? endNs - BigInt(defaultRangeMs) * NS_PER_MS : parseInstantNs('start', q.start, nowMs);
  if (startNs >= endNs) throw bad('start', 'must be before end');
  if (endNs - startNs > BigInt(MAX_RANGE_MS) * NS_PER_MS) throw bad('start', `must be at most ${MAX_RANGE_MS / 86_400_000} days before end`);
  return { startNs, endNs };
}

/** Steps offered when the caller gives none: the smallest of these giving at most the target point count. */
const NICE_STEPS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000,
];

/** Number of step-aligned buckets a range touches. */
export function bucketCount(range: TimeRange, stepMs: number): number {
  const step = BigInt(stepMs) * NS_PER_MS;
  return Number(range.endNs / step - range.startNs / step) + 1;
}

/**
 * The step (bucket width) of a series or histogram in milliseconds. Given: it must keep the series within
 * MAX_POINTS points. Not given: the smallest "nice" width (1s, 5s, 1m, …) giving at most `targetPoints`.
 */
export function resolveStepMs(name: string, given: string | undefined, range: TimeRange, targetPoints: number, minStepMs = 1): number {
  if (given !== undefined) {
    const ns = parseDurationNs(given, 's');
    if (ns === undefined) throw bad(name, `must be a duration (30s, 1m, 250ms) or seconds, got "${truncate(given)}"`);
    if (ns < BigInt(minStepMs) * NS_PER_MS) throw bad(name, `must be at least ${minStepMs}ms`);
    if (ns % NS_PER_MS !== 0n) throw bad(name, 'must be a whole number of milliseconds');
    if (ns > BigInt(MAX_RANGE_MS) * NS_PER_MS) throw bad(name, 'is longer than the longest range');
    const stepMs = Number(ns / NS_PER_MS);
    if (bucketCount(range, stepMs) > MAX_POINTS) {
      const min = Number((range.endNs - range.startNs) / NS_PER_MS) / (MAX_POINTS - 1);
      throw bad(name, `is too small for the range: at most ${MAX_POINTS} points (use ≥ ${Math.ceil(min)}ms)`);
    }
    return stepMs;
  }
  for (const s of NICE_STEPS_MS) if (s >= minStepMs && bucketCount(range, s) <= targetPoints) return s;
  const rangeMs = Number((range.endNs - range.startNs) / NS_PER_MS);
  return Math.ceil(rangeMs / (targetPoints - 1) / 1000) * 1000;
}

/** Nanoseconds → RFC 3339 with nine fraction digits (`2023-11-14T22:13:20.123456789Z`). */
export function isoNs(ns: bigint): string {
  const ms = ns / NS_PER_MS;
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 19)}.${(ns % NS_PER_S).toString().padStart(9, '0')}Z`;
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
