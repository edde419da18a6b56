/**
 * From the API's answers to what the explorer shows: one row per series (its query letter, a name that says
 * which series it is, last/avg/min/max over the range), which of them the chart draws, and the chart's data.
 *
 * - A series is identified by its query letter and its full label set (`A{route="/a"}`): stable across refreshes
 *   and sorting, so a legend toggle kept in the URL still points at the same line.
 * - Names show only the labels that tell the query's series apart (`ServiceName` printed on every line says
 *   nothing when all series have the same one); a query's lone series shows all its labels, and a series with
 *   none (everything merged) is named by its query.
 * - Colours follow the order the API lists series in (query, then labels), not the table's sort, so a line keeps
 *   its colour when the table is re-sorted or another series is hidden.
 * - The chart draws at most CHART_CAP series: each query's largest (by average) in turn, so one query with 500
 *   series cannot push another off the chart. The table lists every series.
 */
import type { MetricSeries } from '../../../query/contract.ts';

export const CHART_CAP = 20;

/** A qualitative palette readable on both themes. */
export const PALETTE = [
  '#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#f97316', '#6366f1',
  '#14b8a6', '#eab308', '#a855f7', '#22c55e', '#e11d48', '#0ea5e9', '#d946ef', '#65a30d', '#fb7185', '#64748b',
];

export interface QueryResult {
  letter: string;
  /** The query as written (its text form), to name a series without labels. */
  title: string;
  /** The unit of the values (aggs.ts `resultUnit`). */
  unit: string;
  series: readonly MetricSeries[];
}

export interface SeriesRow {
  id: string;
  letter: string;
  name: string;
  labels: Record<string, string>;
  unit: string;
  color: string;
  points: readonly (readonly [number, number])[];
  last: number | null;
  avg: number | null;
  min: number | null;
  max: number | null;
}

/** `{a="1",b="2"}`, keys sorted; `{}` for none. */
export function labelsText(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;
}

export function seriesId(letter: string, labels: Record<string, string>): string {
  return `${letter}${labelsText(labels)}`;
}

/** The labels whose values differ between the series (all of them when there is one series: none). */
export function distinguishingKeys(all: readonly Record<string, string>[]): string[] {
  if (all.length < 2) return [];
  const keys = [...new Set(all.flatMap((l) => Object.keys(l)))].sort();
  return keys.filter((k) => new Set(all.map((l) => l[k] ?? '\u0000absent')).size > 1);
}

/** last / avg / min / max of a series' points over the range (null without points). */
export function stats(points: readonly (readonly [number, number])[]): Pick<SeriesRow, 'last' | 'avg' | 'min' | 'max'> {
  if (points.length === 0) return { last: null, avg: null, min: null, max: null };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const [, v] of points) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { last: points[points.length - 1]![1], avg: sum / points.length, min, max };
}

/** Every series of every query, in the API's order, named, coloured and summarized. */
export function seriesRows(results: readonly QueryResult[]): SeriesRow[] {
  const rows: SeriesRow[] = [];
  const showLetter = results.length > 1;
  for (const r of results) {
    const keys = distinguishingKeys(r.series.map((s) => s.labels as Record<string, string>));
    for (const s of r.series) {
      const labels = s.labels as Record<string, string>;
      // A lone series has nothing to be told apart from: its own labels (the group-by values) name it.
      const named = r.series.length === 1 ? Object.keys(labels).sort() : keys;
      const shown = named.filter((k) => labels[k] !== undefined).map((k) => `${k}=${labels[k]}`);
      const base = shown.length > 0 ? shown.join(', ') : r.title;
      const points = s.points as unknown as (readonly [number, number])[];
      rows.push({
        id: seriesId(r.letter, labels),
        letter: r.letter,
        name: showLetter ? `${r.letter}: ${base}` : base,
        labels,
        unit: r.unit,
        color: PALETTE[rows.length % PALETTE.length]!,
        points,
        ...stats(points),
      });
    }
  }
  return rows;
}

/**
 * The series the chart draws: hidden ones left out, then each query's largest by average in turn, up to `cap`.
 * Returned in the rows' order (colours and legend stay put).
 */
export function chartSelection(rows: readonly SeriesRow[], hidden: ReadonlySet<string>, cap = CHART_CAP): SeriesRow[] {
  const byQuery = new Map<string, SeriesRow[]>();
  for (const r of rows) {
    if (hidden.has(r.id) || r.points.length === 0) continue;
    const list = byQuery.get(r.letter) ?? [];
    list.push(r);
    byQuery.set(r.letter, list);
  }
  for (const list of byQuery.values()) list.sort((a, b) => Math.abs(b.avg ?? 0) - Math.abs(a.avg ?? 0));
  const chosen = new Set<string>();
  const lists = [...byQuery.values()];
  for (let i = 0; chosen.size < cap && lists.some((l) => i < l.length); i++) {
    for (const l of lists) {
      const r = l[i];
      if (r !== undefined && chosen.size < cap) chosen.add(r.id);
    }
  }
  return rows.filter((r) => chosen.has(r.id));
}

export interface ChartData {
  timestamps: number[];
  series: { key: string; label: string; color: string; values: (number | null)[]; connectNulls: boolean }[];
}

/** The median gap between consecutive points; Infinity for fewer than two. */
function medianGap(points: readonly (readonly [number, number])[]): number {
  if (points.length < 2) return Infinity;
  const gaps = points.slice(1).map((p, i) => p[0] - points[i]![0]).sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

/**
 * The chart's rows: every timestamp of any drawn series, each series' value there or null. A series sampled
 * less often than the step (an SDK exporting every 60 s seen with 12 s steps) has a point only every few
 * buckets; drawn with gaps it would be invisible dots, so such a series connects its points. A series with a
 * point in (almost) every bucket keeps its gaps: there, a missing bucket is missing data.
 */
export function chartData(rows: readonly SeriesRow[], stepMs: number): ChartData {
  const timestamps = [...new Set(rows.flatMap((r) => r.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(timestamps.map((t, i) => [t, i]));
  return {
    timestamps,
    series: rows.map((r) => {
      const values: (number | null)[] = new Array<number | null>(timestamps.length).fill(null);
      for (const [t, v] of r.points) values[index.get(t)!] = v;
      return { key: r.id, label: r.name, color: r.color, values, connectNulls: medianGap(r.points) > stepMs * 1.5 && Number.isFinite(medianGap(r.points)) };
    }),
  };
}
