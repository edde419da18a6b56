/**
 * How numbers read on every page: rates, ratios, counts and durations. One place, so the table, the charts
 * and the tests that compare the page with the API agree on every digit.
 */

/** Requests per second: 3 significant digits, `<0.01` for a trickle, `k`/`M` for large. */
export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0';
  if (perSecond < 0.01) return '<0.01';
  if (perSecond < 10) return perSecond.toFixed(2);
  if (perSecond < 1000) return perSecond.toFixed(1);
  if (perSecond < 1e6) return `${(perSecond / 1000).toFixed(1)}k`;
  return `${(perSecond / 1e6).toFixed(1)}M`;
}

/** A ratio 0…1 as a percentage: `0%`, `<0.1%`, `12.3%`. */
export function formatPercent(ratio: number): string {
  if (ratio === 0) return '0%';
  const pct = ratio * 100;
  if (pct < 0.1) return '<0.1%';
  return `${pct.toFixed(1)}%`;
}

/** `12,345`. */
export function formatCount(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Nanoseconds → `850ns`, `12.3µs`, `45.6ms`, `1.23s`, `2m05s`; `–` for none. */
export function formatDurationNs(ns: number | null | undefined): string {
  if (ns === null || ns === undefined || !Number.isFinite(ns)) return '–';
  if (ns < 1e3) return `${Math.round(ns)}ns`;
  if (ns < 1e6) return `${sig(ns / 1e3)}µs`;
  if (ns < 1e9) return `${sig(ns / 1e6)}ms`;
  if (ns < 60e9) return `${sig(ns / 1e9)}s`;
  const s = Math.round(ns / 1e9);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** Three significant digits, no trailing zeros: 1.23, 12.3, 123. */
function sig(x: number): string {
  const digits = x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return String(Number(x.toFixed(digits)));
}

/** Nanoseconds → milliseconds for chart axes. */
export function nsToMs(ns: number | null): number | null {
  return ns === null ? null : ns / 1e6;
}
