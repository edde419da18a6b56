/**
 * GET /api/v1/metrics: the metric catalogue (names, types, units, label keys).
 * GET /api/v1/metrics/query: series of one metric over a range, bucketed by step and aggregated.
 * GET /api/v1/metrics/points: the stored data points of one metric, every field as exported.
 * GET /api/v1/metrics/label-values: the values one label takes in a metric, for filter pickers.
 */
import { defineFeature } from '../features.ts';
import type { FastifyPluginCallback } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { Store } from '#storage/client.ts';
import type {
  MetricAgg,
  MetricCatalogQuery,
  MetricCatalogResponse,
  MetricInfo,
  MetricLabelValue,
  MetricLabelValuesQuery,
  MetricLabelValuesResponse,
  MetricPoint,
  MetricPointsQuery,
  MetricPointsResponse,
  MetricSeries,
  MetricSeriesQuery,
  MetricSeriesResponse,
} from '../contract.ts';
import { parseGroupBy, parseLabelFilters } from '../params/filters.ts';
import { type TimeRange, NS_PER_MS, resolveRange, resolveStepMs } from '../params/time.ts';
import { runQuery, trimToLimit } from '../run.ts';
import { TARGET_POINTS, metricCatalogSchema, metricLabelValuesSchema, metricPointsSchema, metricSeriesSchema } from '../schemas/metrics.ts';
import { type Agg, type MetricKind, type MetricType, allowedAggs, metricKindSql, metricListSql } from '../sql/metrics/catalogue.ts';
import { metricPointsSql } from '../sql/metrics/points.ts';
import { type MetricQuery, lookbackMs, metricSeriesSql } from '../sql/metrics/series.ts';
import { labelValuesSql } from '../sql/metrics/values.ts';

export interface MetricRouteOptions {
  store: Store;
}

/** The series query string (the benchmark builds one). */
export type MetricQueryParams = MetricSeriesQuery;

const PERCENTILES: Partial<Record<MetricAgg, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

interface MetricCatalogRoute {
  Querystring: MetricCatalogQuery;
  Reply: { 200: MetricCatalogResponse };
}

interface MetricSeriesRoute {
  Querystring: MetricSeriesQuery;
  Reply: { 200: MetricSeriesResponse };
}

interface MetricPointsRoute {
  Querystring: MetricPointsQuery;
  Reply: { 200: MetricPointsResponse };
}

interface MetricLabelValuesRoute {
  Querystring: MetricLabelValuesQuery;
  Reply: { 200: MetricLabelValuesResponse };
}

/** The step, range and time window of a series query, before the metric's kind is known. */
export interface MetricWindow {
  range: TimeRange;
  stepMs: number;
  /** The range widened by the counter look-back, for finding the metric's kind. */
  kindRange: TimeRange;
}

export function toMetricWindow(q: Pick<MetricSeriesQuery, 'start' | 'end' | 'step'>, nowMs: number): MetricWindow {
  const range = resolveRange(q, nowMs);
  const stepMs = resolveStepMs('step', q.step, range, TARGET_POINTS, 1000);
  return { range, stepMs, kindRange: { startNs: range.startNs - BigInt(lookbackMs(stepMs) + stepMs) * NS_PER_MS, endNs: range.endNs } };
}

export interface KindRow {
  type: MetricType;
  temporality: number;
  monotonic: boolean;
}

/** Picks the metric's kind from the detected ones (the `type` parameter settles a name used by several types). */
export function pickKind(name: string, kinds: readonly KindRow[], type: MetricType | undefined): MetricKind | undefined {
  const candidates = type === undefined ? kinds : kinds.filter((k) => k.type === type);
  if (candidates.length > 1) {
    const types = [...new Set(candidates.map((k) => k.type))];
    if (types.length > 1) throw new AppError('BAD_REQUEST', `querystring/type is needed: metric "${name}" exists as ${types.join(' and ')}`);
  }
  const k = candidates[0];
  return k && { type: k.type, temporality: Number(k.temporality), monotonic: k.monotonic === true || (k.monotonic as unknown) === 1 };
}

/** The series query for a metric of a known kind; 400 when the aggregation does not apply to it. */
export function toMetricQuery(q: MetricSeriesQuery, w: MetricWindow, kind: MetricKind): MetricQuery {
  const allowed = allowedAggs(kind);
  // A kind whose first aggregation is a quantile defaults to p95 (a quantile needs a q; a 400 for no agg helps nobody).
  const requested: MetricAgg = q.agg ?? (allowed[0] === 'quantile' ? 'p95' : allowed[0]!);
  const pq = PERCENTILES[requested];
  const agg: Agg = pq === undefined ? (requested as Agg) : 'quantile';
  if (!allowed.includes(agg)) {
    const names = allowed.flatMap((a) => (a === 'quantile' ? ['p50', 'p90', 'p95', 'p99', 'quantile'] : [a]));
    throw new AppError('BAD_REQUEST', `querystring/agg "${requested}" does not apply to ${describe(kind)} "${q.name}"; use one of ${names.join(', ')}`);
  }
  if (agg === 'quantile' && pq === undefined && q.q === undefined) throw new AppError('BAD_REQUEST', 'querystring/q is required with agg=quantile');
  return {
    name: q.name,
    kind,
    range: w.range,
    stepMs: w.stepMs,
    agg,
    q: pq ?? q.q,
    filters: parseLabelFilters('filter', q.filter),
    groupBy: parseGroupBy(q.groupBy),
    limit: q.limit,
  };
}

function describe(k: MetricKind): string {
  if (k.type !== 'sum') return `a ${k.type} metric`;
  return `a ${k.temporality === 1 ? 'delta' : 'cumulative'} ${k.monotonic ? 'monotonic' : 'non-monotonic'} sum`;
}

export const metricRoutes: FastifyPluginCallback<MetricRouteOptions> = (app, { store }, done) => {
  app.get<MetricCatalogRoute>('/metrics', { schema: metricCatalogSchema }, async (req) => {
    const q = req.query;
    const metrics = await runQuery<MetricInfo>(store, metricListSql(store.database, { range: resolveRange(q, Date.now()), search: q.search, service: q.service, limit: q.limit }));
    return { metrics };
  });

  app.get<MetricSeriesRoute>('/metrics/query', { schema: metricSeriesSchema }, async (req) => {
    const q = req.query;
    const w = toMetricWindow(q, Date.now());
    const kind = pickKind(q.name, await runQuery<KindRow>(store, metricKindSql(store.database, q.name, w.kindRange)), q.type);
    if (kind === undefined) return { name: q.name, type: null, agg: q.agg ?? null, stepMs: w.stepMs, series: [], truncated: false };
    const m = toMetricQuery(q, w, kind);
    const rows = await runQuery<MetricSeries>(store, metricSeriesSql(store.database, m));
    const truncated = trimToLimit(rows, m.limit);
    return { name: q.name, type: kind.type, agg: m.agg === 'quantile' ? `quantile(${m.q})` : m.agg, stepMs: w.stepMs, series: rows, truncated };
  });

  app.get<MetricPointsRoute>('/metrics/points', { schema: metricPointsSchema }, async (req) => {
    const q = req.query;
    const range = resolveRange(q, Date.now());
    const kind = pickKind(q.name, await runQuery<KindRow>(store, metricKindSql(store.database, q.name, range)), q.type);
    if (kind === undefined) return { name: q.name, type: null, points: [], truncated: false };
    const points = await runQuery<MetricPoint>(
      store,
      metricPointsSql(store.database, { name: q.name, type: kind.type, range, filters: parseLabelFilters('filter', q.filter), limit: q.limit }),
    );
    const truncated = trimToLimit(points, q.limit);
    return { name: q.name, type: kind.type, points, truncated };
  });

  app.get<MetricLabelValuesRoute>('/metrics/label-values', { schema: metricLabelValuesSchema }, async (req) => {
    const q = req.query;
    const range = resolveRange(q, Date.now());
    const kind = pickKind(q.name, await runQuery<KindRow>(store, metricKindSql(store.database, q.name, range)), q.type);
    if (kind === undefined) return { name: q.name, type: null, key: q.key, values: [], truncated: false };
    const values = await runQuery<MetricLabelValue>(
      store,
      labelValuesSql(store.database, { name: q.name, type: kind.type, range, key: q.key, filters: parseLabelFilters('filter', q.filter), search: q.search, limit: q.limit }),
    );
    const truncated = trimToLimit(values, q.limit);
    return { name: q.name, type: kind.type, key: q.key, values: values.map((v) => ({ value: v.value, series: Number(v.series) })), truncated };
  });
  done();
};

/** Registered by the query API (../features.ts). */
export const feature = defineFeature({ name: 'metrics', needs: ['store'], plugin: metricRoutes });
