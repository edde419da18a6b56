/**
 * The metric picker's search over the catalogue, in the browser (the catalogue is at most 5,000 entries, and a
 * round trip per keystroke would lag): every word typed must appear in the name or the description; names that
 * start with the text come first, then names containing it, then matches in the description only, each group
 * alphabetical. A name reported as two types is two entries, and only then is the type part of the query.
 */
import type { MetricInfo, MetricType } from '../../../query/contract.ts';

export function searchMetrics(metrics: readonly MetricInfo[], text: string): MetricInfo[] {
  const t = text.trim().toLowerCase();
  if (t === '') return [...metrics];
  const words = t.split(/\s+/);
  const rank = (m: MetricInfo): number => {
    const name = m.name.toLowerCase();
    const hay = `${name} ${m.description.toLowerCase()}`;
    if (!words.every((w) => hay.includes(w))) return -1;
    if (name.startsWith(t)) return 0;
    if (name.includes(t)) return 1;
    if (words.every((w) => name.includes(w))) return 2;
    return 3;
  };
  return metrics
    .map((m) => ({ m, r: rank(m) }))
    .filter((x) => x.r >= 0)
    .sort((a, b) => a.r - b.r || a.m.name.localeCompare(b.m.name))
    .map((x) => x.m);
}

/** The catalogue entry of a query's metric (of its type when given), if it has data in the range. */
export function findMetric(metrics: readonly MetricInfo[], name: string, type?: MetricType): MetricInfo | undefined {
  return metrics.find((m) => m.name === name && (type === undefined || m.type === type));
}

/** Whether a name is reported as more than one type (the API then needs the type). */
export function isAmbiguous(metrics: readonly MetricInfo[], name: string): boolean {
  return metrics.filter((m) => m.name === name).length > 1;
}

export const TYPE_LABEL: Record<MetricType, string> = {
  gauge: 'gauge',
  sum: 'counter',
  histogram: 'histogram',
  exponential_histogram: 'exp. histogram',
  summary: 'summary',
};

/** `counter`, `up-down counter`, `delta counter`, `histogram`, … */
export function kindLabel(m: Pick<MetricInfo, 'type' | 'temporality' | 'monotonic'>): string {
  if (m.type !== 'sum') return TYPE_LABEL[m.type];
  if (!m.monotonic) return 'up-down counter';
  return m.temporality === 'delta' ? 'delta counter' : 'counter';
}
