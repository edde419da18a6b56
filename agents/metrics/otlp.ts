/**
 * One parsed scrape → OTLP metrics with cumulative temporality, after OpenTelemetry's "Prometheus and OpenMetrics
 * Compatibility" spec (read through the search tool; it is what the Collector's prometheus receiver does):
 *
 * - counter → monotonic Sum; gauge, unknown/untyped → Gauge; histogram → Histogram (bounds from `le`, the +Inf
 *   bucket implied, per-bucket counts from Prometheus's cumulative ones; no `_count` → dropped); summary → Summary
 *   (no `_count` → dropped, no `_sum` → 0); info and stateset → non-monotonic Sum; gaugehistogram → dropped (the
 *   spec says so). Every metric keeps its Prometheus name and carries `prometheus.type` in its metadata; HELP is
 *   the description, an OpenMetrics UNIT the unit (in UCUM: `seconds` → `s`, `bytes` → `By`, `a_per_b` → `a/b`).
 * - start times: `_created` when the target wrote one; otherwise the first time this agent saw the series (the
 *   spec's "unknown start time" rule: the first point starts at itself), and a reset (a counter, or a histogram's or
 *   summary's count, going down) starts the series again at the previous scrape's time: the reset happened after
 *   it. The state is kept per target (`SeriesTracker`) and holds only the series of the last successful scrape, so
 *   memory follows what targets expose now; a series that disappears and comes back starts afresh.
 * - resource: `service.name` from the job (`ns/name` splits into `service.namespace` and `service.name`, as the
 *   Collector does), `service.instance.id` from the instance, `server.address`, `server.port`, `url.scheme` of the
 *   scraped URL (the spec's current names for the older `net.host.name`, `net.host.port`, `http.scheme`), the pod's
 *   Kubernetes attributes, and the labels of a `target_info` metric, which is then dropped.
 * - scope: `otel_scope_name`/`otel_scope_version` labels pick the scope (and `otel_scope_info` is dropped); other
 *   points get this agent's scope. Exposed `job`/`instance` labels become `exported_job`/`exported_instance`,
 *   as Prometheus renames them (the target's own are on the resource).
 * - exemplars: on counters and histogram buckets; `trace_id`/`span_id` labels (hex) become the ids, the other
 *   labels its attributes.
 */
import type { Attrs, HistogramPoint, NumberPoint, OtlpExemplar, OtlpMetric, OtlpResourceMetrics, OtlpScope, SummaryPoint } from './otlp-encode.ts';
import type { Exemplar, Exposition, Family, Labels, Sample } from './parse.ts';

export const AGENT_SCOPE = 'crowsnest/agent/prometheus';

export interface TargetMeta {
  /** Prometheus's `job`: what the target is. */
  job: string;
  /** Prometheus's `instance`: `host:port` of the scraped URL. */
  instance: string;
  url: URL;
  /** More resource attributes (the pod's `PodInfo.resource`, the node name). */
  resource: Record<string, string>;
}

/** What a conversion left out, by reason (counted by the scraper). */
export interface ConvertStats {
  points: number;
  dropped: Record<'gaugehistogram' | 'no_count' | 'bad_buckets' | 'series_limit', number>;
}

interface SeriesState {
  startMs: number;
  /** Last value (counters) or count (histograms, summaries), for reset detection. */
  last: number;
  lastMs: number;
  seen: number;
}

/**
 * Start times of one target's cumulative series. `begin()` before a scrape's conversion, `end()` after a successful
 * one: series the scrape did not contain are forgotten.
 */
export class SeriesTracker {
  readonly #series = new Map<string, SeriesState>();
  #generation = 0;
  readonly #maxSeries: number;
  constructor(maxSeries = 200_000) {
    this.#maxSeries = maxSeries;
  }
  get size(): number {
    return this.#series.size;
  }
  begin(): void {
    this.#generation++;
  }
  end(): void {
    const g = this.#generation;
    for (const [k, s] of this.#series) if (s.seen !== g) this.#series.delete(k);
  }
  /**
   * The start time of a cumulative point: `createdMs` when the target gave one; else when the series was first seen,
   * moved to the previous point's time when `value` went down (a reset). Returns undefined when the series limit is
   * reached (the caller drops the point).
   */
  start(key: string, value: number, timeMs: number, createdMs: number | undefined): number | undefined {
    let s = this.#series.get(key);
    if (!s) {
      if (this.#series.size >= this.#maxSeries) return undefined;
      s = { startMs: createdMs ?? timeMs, last: value, lastMs: timeMs, seen: this.#generation };
      this.#series.set(key, s);
      return s.startMs;
    }
    if (createdMs !== undefined) s.startMs = createdMs;
    else if (value < s.last) s.startMs = s.lastMs;
    if (!Number.isNaN(value)) s.last = value;
    s.lastMs = timeMs;
    s.seen = this.#generation;
    return s.startMs;
  }
}

const UNITS: Record<string, string> = {
  seconds: 's',
  milliseconds: 'ms',
  microseconds: 'us',
  nanoseconds: 'ns',
  minutes: 'min',
  hours: 'h',
  days: 'd',
  bytes: 'By',
  kilobytes: 'kBy',
  megabytes: 'MBy',
  gigabytes: 'GBy',
  bits: 'bit',
  ratio: '1',
  percent: '%',
  celsius: 'Cel',
  hertz: 'Hz',
  volts: 'V',
  amperes: 'A',
  joules: 'J',
  watts: 'W',
  grams: 'g',
  meters: 'm',
};

/** An OpenMetrics UNIT in UCUM, as the spec asks: full words to abbreviations, `ratio` to `1`, `a_per_b` to `a/b`. */
export function otelUnit(unit: string | undefined): string {
  if (!unit) return '';
  const per = unit.indexOf('_per_');
  if (per > 0) return `${otelUnit(unit.slice(0, per))}/${otelUnit(unit.slice(per + 5))}`;
  // `bytes_per_second`: the denominator is singular.
  return UNITS[unit] ?? UNITS[`${unit}s`] ?? unit;
}

const HEX_TRACE = /^[0-9a-fA-F]{32}$/;
const HEX_SPAN = /^[0-9a-fA-F]{16}$/;

function exemplarOf(e: Exemplar | undefined, sampleMs: number): OtlpExemplar[] {
  if (!e) return [];
  let traceId: Uint8Array | undefined;
  let spanId: Uint8Array | undefined;
  const attrs: Attrs = [];
  for (const [k, v] of e.labels) {
    if (k === 'trace_id' && HEX_TRACE.test(v)) traceId = Buffer.from(v, 'hex');
    else if (k === 'span_id' && HEX_SPAN.test(v)) spanId = Buffer.from(v, 'hex');
    else attrs.push([k, v]);
  }
  return [{ attrs, timeMs: e.timestampMs ?? sampleMs, value: e.value, traceId, spanId }];
}

/** Labels to point attributes: scope labels and `except` (le, quantile) out, exposed job/instance renamed. */
function attrsOf(labels: Labels, except?: string): Attrs {
  const out: Attrs = [];
  for (const [k, v] of labels) {
    if (k === except || k === 'otel_scope_name' || k === 'otel_scope_version') continue;
    if (k === 'job' || k === 'instance') out.push([`exported_${k}`, v]);
    else out.push([k, v]);
  }
  return out;
}

function labelKey(labels: Labels, except?: string): string {
  let key = '';
  for (const [k, v] of labels) if (k !== except) key += `${k}\u0000${v}\u0001`;
  return key;
}

/** `group` (a group's labels, without `except`) equals `labels` without `except`. */
function sameLabels(group: Labels, labels: Labels, except: string): boolean {
  let j = 0;
  for (const [k, v] of labels) {
    if (k === except) continue;
    const g = group[j++];
    if (!g || g[0] !== k || g[1] !== v) return false;
  }
  return j === group.length;
}

function scopeOf(labels: Labels): [name: string, version: string] {
  let name = AGENT_SCOPE;
  let version = '';
  for (const [k, v] of labels) {
    if (k === 'otel_scope_name') name = v;
    else if (k === 'otel_scope_version') version = v;
  }
  return [name, version];
}

function hasSuffix(sample: Sample, family: Family, suffix: string): boolean {
  return sample.name.length === family.name.length + suffix.length && sample.name.endsWith(suffix) && sample.name.startsWith(family.name);
}

/** Resource attributes of a target (before `target_info`). */
export function targetResource(t: TargetMeta): Record<string, string> {
  const r: Record<string, string> = { ...t.resource };
  const slash = t.job.indexOf('/');
  if (slash > 0) {
    r['service.namespace'] = t.job.slice(0, slash);
    r['service.name'] = t.job.slice(slash + 1);
  } else r['service.name'] = t.job;
  r['service.instance.id'] = t.instance;
  r['server.address'] = t.url.hostname.replace(/^\[|\]$/g, '');
  r['server.port'] = t.url.port || (t.url.protocol === 'https:' ? '443' : '80');
  r['url.scheme'] = t.url.protocol.replace(/:$/, '');
  return r;
}

/**
 * Converts one scrape. `tracker` is the target's start-time state: call `tracker.begin()` before and `tracker.end()`
 * after (the scraper does).
 */
export function toOtlp(exp: Exposition, target: TargetMeta, scrapeMs: number, tracker: SeriesTracker): { resourceMetrics: OtlpResourceMetrics; stats: ConvertStats } {
  const stats: ConvertStats = { points: 0, dropped: { gaugehistogram: 0, no_count: 0, bad_buckets: 0, series_limit: 0 } };
  const resource = targetResource(target);
  const scopes = new Map<string, OtlpScope>();
  const scopeFor = (labels: Labels): OtlpScope => {
    const [name, version] = scopeOf(labels);
    const key = `${name}\u0000${version}`;
    let s = scopes.get(key);
    if (!s) {
      s = { name, version, metrics: [] };
      scopes.set(key, s);
    }
    return s;
  };
  /** One OTLP metric per (scope, name) within this family. */
  const metricFor = <M extends OtlpMetric>(cache: Map<string, M>, labels: Labels, name: string, make: () => M): M => {
    const scope = scopeFor(labels);
    const key = `${scope.name}\u0000${scope.version}\u0000${name}`;
    let m = cache.get(key);
    if (!m) {
      m = make();
      cache.set(key, m);
      scope.metrics.push(m);
    }
    return m;
  };
  const base = (f: Family, name: string) => ({ name, description: f.help ?? '', unit: otelUnit(f.unit), promType: f.type === 'untyped' ? 'unknown' : f.type });

  for (const f of exp.families) {
    if (f.samples.length === 0) continue;
    if ((f.name === 'target' && f.type === 'info') || f.name === 'target_info') {
      for (const [k, v] of f.samples[0]!.labels) if (!(k in resource)) resource[k] = v;
      continue;
    }
    if (f.name === 'otel_scope' || f.name === 'otel_scope_info') continue;
    switch (f.type) {
      case 'counter':
      case 'info':
      case 'stateset':
        sums(f);
        break;
      case 'histogram':
        histograms(f);
        break;
      case 'summary':
        summaries(f);
        break;
      case 'gaugehistogram':
        stats.dropped.gaugehistogram += f.samples.length;
        break;
      default:
        gauges(f);
    }
  }
  const out: OtlpScope[] = [];
  for (const s of scopes.values()) if (s.metrics.length > 0) out.push(s);
  return { resourceMetrics: { resource: Object.entries(resource), scopes: out }, stats };

  function gauges(f: Family): void {
    const cache = new Map<string, OtlpMetric & { kind: 'gauge' }>();
    for (const s of f.samples) {
      const m = metricFor(cache, s.labels, s.name, () => ({ ...base(f, s.name), kind: 'gauge', points: [] }));
      const timeMs = s.timestampMs ?? scrapeMs;
      m.points.push({ attrs: attrsOf(s.labels), startMs: timeMs, timeMs, value: s.value, flags: 0, exemplars: [] });
      stats.points++;
    }
  }

  function sums(f: Family): void {
    const monotonic = f.type === 'counter';
    const created = new Map<string, number>();
    if (monotonic) for (const s of f.samples) if (hasSuffix(s, f, '_created')) created.set(labelKey(s.labels), s.value * 1000);
    const cache = new Map<string, OtlpMetric & { kind: 'sum' }>();
    for (const s of f.samples) {
      if (monotonic && hasSuffix(s, f, '_created')) continue;
      const timeMs = s.timestampMs ?? scrapeMs;
      const key = labelKey(s.labels);
      const startMs = tracker.start(`${s.name}\u0002${key}`, monotonic ? s.value : 0, timeMs, created.get(key));
      if (startMs === undefined) {
        stats.dropped.series_limit++;
        continue;
      }
      const m = metricFor(cache, s.labels, s.name, () => ({ ...base(f, s.name), kind: 'sum', monotonic, points: [] }));
      const point: NumberPoint = { attrs: attrsOf(s.labels), startMs, timeMs, value: s.value, flags: 0, exemplars: exemplarOf(s.exemplar, timeMs) };
      m.points.push(point);
      stats.points++;
    }
  }

  function histograms(f: Family): void {
    interface Group {
      labels: Labels;
      buckets: [le: number, cumulative: number][];
      count: number | undefined;
      sum: number | undefined;
      createdMs: number | undefined;
      timeMs: number | undefined;
      exemplars: OtlpExemplar[];
      bad: boolean;
    }
    const groups = new Map<string, Group>();
    let last: Group | undefined;
    for (const s of f.samples) {
      const isBucket = hasSuffix(s, f, '_bucket');
      // A histogram's lines come grouped: most samples belong to the previous sample's group, found without a key.
      let g = last && sameLabels(last.labels, s.labels, isBucket ? 'le' : '') ? last : undefined;
      if (!g) {
        const key = labelKey(s.labels, isBucket ? 'le' : undefined);
        g = groups.get(key);
        if (!g) {
          g = { labels: isBucket ? s.labels.filter(([k]) => k !== 'le') : s.labels, buckets: [], count: undefined, sum: undefined, createdMs: undefined, timeMs: undefined, exemplars: [], bad: false };
          groups.set(key, g);
        }
      }
      last = g;
      g.timeMs ??= s.timestampMs;
      if (isBucket) {
        const le = s.labels.find(([k]) => k === 'le')?.[1];
        const bound = le === undefined ? NaN : le === '+Inf' ? Infinity : Number(le);
        if (Number.isNaN(bound) || Number.isNaN(s.value)) g.bad = true;
        else g.buckets.push([bound, s.value]);
        if (s.exemplar) g.exemplars.push(...exemplarOf(s.exemplar, s.timestampMs ?? scrapeMs));
      } else if (hasSuffix(s, f, '_count')) g.count = s.value;
      else if (hasSuffix(s, f, '_sum')) g.sum = s.value;
      else if (hasSuffix(s, f, '_created')) g.createdMs = s.value * 1000;
      else g.bad = true; // a bare sample in a histogram family
    }
    const cache = new Map<string, OtlpMetric & { kind: 'histogram' }>();
    for (const [key, g] of groups) {
      if (g.count === undefined) {
        stats.dropped.no_count++;
        continue;
      }
      g.buckets.sort((a, b) => a[0] - b[0]);
      const bounds: number[] = [];
      const counts: number[] = [];
      let prev = 0;
      for (const [le, cumulative] of g.buckets) {
        if (le === Infinity) break;
        if (cumulative < prev) g.bad = true;
        bounds.push(le);
        counts.push(Math.round(cumulative - prev));
        prev = cumulative;
      }
      if (g.count < prev) g.bad = true;
      counts.push(Math.round(g.count - prev));
      if (g.bad) {
        stats.dropped.bad_buckets++;
        continue;
      }
      const timeMs = g.timeMs ?? scrapeMs;
      const startMs = tracker.start(`${f.name}\u0003${key}`, g.count, timeMs, g.createdMs);
      if (startMs === undefined) {
        stats.dropped.series_limit++;
        continue;
      }
      const m = metricFor(cache, g.labels, f.name, () => ({ ...base(f, f.name), kind: 'histogram', points: [] }));
      const point: HistogramPoint = { attrs: attrsOf(g.labels), startMs, timeMs, count: Math.round(g.count), sum: g.sum, bucketCounts: counts, bounds, exemplars: g.exemplars };
      m.points.push(point);
      stats.points++;
    }
  }

  function summaries(f: Family): void {
    interface Group {
      labels: Labels;
      quantiles: [number, number][];
      count: number | undefined;
      sum: number | undefined;
      createdMs: number | undefined;
      timeMs: number | undefined;
    }
    const groups = new Map<string, Group>();
    let last: Group | undefined;
    for (const s of f.samples) {
      const isQuantile = s.name === f.name;
      let g = last && sameLabels(last.labels, s.labels, isQuantile ? 'quantile' : '') ? last : undefined;
      if (!g) {
        const key = labelKey(s.labels, isQuantile ? 'quantile' : undefined);
        g = groups.get(key);
        if (!g) {
          g = { labels: isQuantile ? s.labels.filter(([k]) => k !== 'quantile') : s.labels, quantiles: [], count: undefined, sum: undefined, createdMs: undefined, timeMs: undefined };
          groups.set(key, g);
        }
      }
      last = g;
      g.timeMs ??= s.timestampMs;
      if (isQuantile) {
        const q = Number(s.labels.find(([k]) => k === 'quantile')?.[1]);
        if (!Number.isNaN(q)) g.quantiles.push([q, s.value]);
      } else if (hasSuffix(s, f, '_count')) g.count = s.value;
      else if (hasSuffix(s, f, '_sum')) g.sum = s.value;
      else if (hasSuffix(s, f, '_created')) g.createdMs = s.value * 1000;
    }
    const cache = new Map<string, OtlpMetric & { kind: 'summary' }>();
    for (const [key, g] of groups) {
      if (g.count === undefined) {
        stats.dropped.no_count++;
        continue;
      }
      const timeMs = g.timeMs ?? scrapeMs;
      const startMs = tracker.start(`${f.name}\u0004${key}`, g.count, timeMs, g.createdMs);
      if (startMs === undefined) {
        stats.dropped.series_limit++;
        continue;
      }
      g.quantiles.sort((a, b) => a[0] - b[0]);
      const m = metricFor(cache, g.labels, f.name, () => ({ ...base(f, f.name), kind: 'summary', points: [] }));
      const point: SummaryPoint = { attrs: attrsOf(g.labels), startMs, timeMs, count: Math.round(g.count), sum: g.sum ?? 0, quantiles: g.quantiles };
      m.points.push(point);
      stats.points++;
    }
  }
}

/** Prometheus's synthetic per-scrape series (`up`, `scrape_duration_seconds`, `scrape_samples_scraped`), as gauges. */
export function scrapeHealth(scrapeMs: number, up: boolean, durationSeconds: number, samples: number): OtlpMetric[] {
  const gauge = (name: string, description: string, unit: string, value: number): OtlpMetric => ({
    name,
    description,
    unit,
    promType: 'gauge',
    kind: 'gauge',
    points: [{ attrs: [], startMs: scrapeMs, timeMs: scrapeMs, value, flags: 0, exemplars: [] }],
  });
  return [
    gauge('up', 'The scraping was successful (1) or failed (0).', '', up ? 1 : 0),
    gauge('scrape_duration_seconds', 'Duration of the scrape.', 's', durationSeconds),
    gauge('scrape_samples_scraped', 'The number of samples the target exposed.', '', samples),
  ];
}
