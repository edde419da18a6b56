/**
 * GET /api/v1/metrics, /metrics/query and /metrics/points: the routes' schemas (query/routes/metrics.ts serves
 * them; query/contract.ts types them).
 */
import { errorResponses, limitParam, repeatable, timeRangeParams } from './common.ts';

/** The metric types of the exporter's tables (the SQL's `MetricType`; a type test keeps the two equal). */
export const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'] as const;

/** Aggregations of a series query: the SQL's aggregations and the percentile shorthands for `quantile`. */
export const AGGS = ['avg', 'min', 'max', 'sum', 'last', 'count', 'rate', 'increase', 'quantile', 'p50', 'p90', 'p95', 'p99'] as const;

/** Points a series aims for when no step is given. */
export const TARGET_POINTS = 300;

const temporality = { type: 'string', enum: ['delta', 'cumulative', 'unspecified'] } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const metricCatalogQuerystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...timeRangeParams,
    search: { type: 'string', maxLength: 256, description: 'Case-insensitive substring of the metric name.' },
    service: { type: 'string', maxLength: 1024, description: 'Only metrics this service (ServiceName) reported in the range.' },
    limit: limitParam(5000, 1000, 'metrics'),
  },
} as const;

const metricInfo = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    type: { type: 'string', enum: METRIC_TYPES },
    unit: { type: 'string' },
    description: { type: 'string' },
    temporality,
    monotonic: { type: 'boolean' },
    labels: { type: 'array', items: { type: 'string' }, description: 'Label keys: ServiceName and the data point attribute keys.' },
  },
  required: ['name', 'type', 'unit', 'description', 'temporality', 'monotonic', 'labels'],
} as const;

export const metricCatalogResponse = {
  type: 'object',
  additionalProperties: false,
  properties: { metrics: { type: 'array', items: metricInfo } },
  required: ['metrics'],
} as const;

export const metricCatalogSchema = {
  tags: ['metrics'],
  summary: 'Metrics with data points in the range: name, type, unit, description and label keys.',
  querystring: metricCatalogQuerystring,
  response: { 200: metricCatalogResponse, ...errorResponses },
} as const;

/** The parameters of a route about one metric (its series, its points): the metric, a range, label filters. */
const oneMetricParams = {
  name: { type: 'string', minLength: 1, maxLength: 1024, description: 'Metric name.' },
  type: { type: 'string', enum: METRIC_TYPES, description: 'Only needed when the name exists as more than one type.' },
  ...timeRangeParams,
  filter: repeatable('Label filter: key=value, key!=value, key=~regex, key!~regex (RE2, anchored). Keys: ServiceName or an attribute key.'),
} as const;

/** The first fields of an answer about one metric (its series, its points). */
const answeredMetric = {
  name: { type: 'string' },
  type: { type: ['string', 'null'], enum: [...METRIC_TYPES, null], description: 'null when the metric has no data in the range.' },
} as const;

export const metricSeriesQuerystring = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    ...oneMetricParams,
    step: {
      type: 'string',
      maxLength: 32,
      description: `Bucket width: a duration (30s, 5m) or seconds; at least 1s and at most 11000 points. Default: about ${TARGET_POINTS} points.`,
    },
    agg: { type: 'string', enum: AGGS, description: 'Aggregation per step; see the description.' },
    q: { type: 'number', minimum: 0, maximum: 1, description: 'Quantile for agg=quantile (0.999).' },
    groupBy: {
      type: 'array',
      items: { type: 'string', maxLength: 4096 },
      maxItems: 20,
      description: 'Label keys of the output series (comma-separated or repeated). Absent: one series per label set. Empty (groupBy=): one series.',
    },
    limit: limitParam(1000, 100, 'series'),
  },
} as const;

const series = {
  type: 'object',
  additionalProperties: false,
  properties: {
    labels: stringMap,
    points: {
      type: 'array',
      description: '[epoch ms of the bucket start, value] pairs in time order; buckets without data are absent.',
      items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
    },
  },
  required: ['labels', 'points'],
} as const;

export const metricSeriesResponse = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...answeredMetric,
    agg: { type: ['string', 'null'], description: 'The aggregation applied (quantile(0.95) for p95); the one asked for, or null, when the metric has no data.' },
    stepMs: { type: 'integer' },
    series: { type: 'array', items: series },
    truncated: { type: 'boolean', description: 'More series matched than `limit`.' },
  },
  required: ['name', 'type', 'agg', 'stepMs', 'series', 'truncated'],
} as const;

export const metricSeriesSchema = {
  tags: ['metrics'],
  summary: 'Series of one metric: label filters, step buckets and an aggregation.',
  description: [
    'Aggregations by metric type (the first is the default; a quantile default is p95):',
    "- gauge: avg, min, max, sum (of each series' latest value), last, count (points).",
    '- sum, cumulative monotonic: rate (per second, counter resets handled per series), increase, or the gauge aggregations on the raw value.',
    '- sum, delta: rate (sum per step / step seconds), increase (sum per step).',
    '- sum, cumulative non-monotonic: the gauge aggregations, or rate/increase of the net change.',
    '- histogram: quantile (p50, p90, p95, p99, or quantile with q), as Prometheus histogram_quantile from the bucket counts gained during the step, merged across series, linear interpolation within a bucket; avg (sum/count), count, sum, rate (observations per second).',
    '- exponential_histogram: avg, count, sum, rate, quantile (p50 … or q; buckets (base^i, base^(i+1)] with base 2^(2^-scale), the zero bucket at 0, then as histograms).',
    '- summary: quantile (the stored quantile values; p50 … or q), avg, count, sum, rate.',
    'Buckets are epoch-aligned, step wide; the range is widened to whole buckets.',
  ].join('\n'),
  querystring: metricSeriesQuerystring,
  response: { 200: metricSeriesResponse, ...errorResponses },
} as const;

export const metricPointsQuerystring = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { ...oneMetricParams, limit: limitParam(10_000, 100, 'points') },
} as const;

const buckets = {
  type: 'object',
  additionalProperties: false,
  properties: { offset: { type: 'integer' }, bucketCounts: { type: 'array', items: { type: 'string' } } },
  required: ['offset', 'bucketCounts'],
} as const;

/** One data point: the fields every type has, then each type's own (see the route description). */
const point = {
  type: 'object',
  additionalProperties: false,
  properties: {
    time: { type: 'string', description: 'TimeUnix, ns since the epoch.' },
    startTime: { type: 'string', description: 'StartTimeUnix, ns since the epoch.' },
    serviceName: { type: 'string' },
    attributes: stringMap,
    resourceAttributes: stringMap,
    resourceSchemaUrl: { type: 'string' },
    scopeName: { type: 'string' },
    scopeVersion: { type: 'string' },
    scopeAttributes: stringMap,
    scopeSchemaUrl: { type: 'string' },
    flags: { type: 'integer' },
    value: { type: 'number' },
    temporality,
    monotonic: { type: 'boolean' },
    count: { type: 'string' },
    sum: { type: 'number' },
    min: { type: 'number' },
    max: { type: 'number' },
    bucketCounts: { type: 'array', items: { type: 'string' } },
    explicitBounds: { type: 'array', items: { type: 'number' } },
    scale: { type: 'integer' },
    zeroCount: { type: 'string' },
    positive: buckets,
    negative: buckets,
    quantiles: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { quantile: { type: 'number' }, value: { type: 'number' } },
        required: ['quantile', 'value'],
      },
    },
    exemplars: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: { time: { type: 'string' }, value: { type: 'number' }, traceId: { type: 'string' }, spanId: { type: 'string' }, filteredAttributes: stringMap },
        required: ['time', 'value', 'traceId', 'spanId', 'filteredAttributes'],
      },
    },
  },
  required: ['time', 'startTime', 'serviceName', 'attributes', 'resourceAttributes', 'resourceSchemaUrl', 'scopeName', 'scopeVersion', 'scopeAttributes', 'scopeSchemaUrl', 'flags'],
} as const;

export const metricPointsResponse = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...answeredMetric,
    points: { type: 'array', items: point },
    truncated: { type: 'boolean', description: 'More points matched than `limit`; the newest are returned.' },
  },
  required: ['name', 'type', 'points', 'truncated'],
} as const;

export const metricPointsSchema = {
  tags: ['metrics'],
  summary: 'The stored data points of one metric, newest first, every field as exported.',
  description: [
    'For reading what an application sent: bucket counts and bounds, exponential histogram buckets, summary',
    'quantiles, exemplars, flags, and start and point times. Times are nanoseconds since the epoch and 64-bit',
    'counts are decimal strings, both exact. Fields by type:',
    '- gauge: value, exemplars. sum: value, temporality, monotonic, exemplars.',
    '- histogram: count, sum, min, max, bucketCounts, explicitBounds, temporality, exemplars.',
    '- exponential_histogram: count, sum, min, max, scale, zeroCount, positive and negative {offset, bucketCounts}, temporality, exemplars.',
    '- summary: count, sum, quantiles [{quantile, value}].',
  ].join('\n'),
  querystring: metricPointsQuerystring,
  response: { 200: metricPointsResponse, ...errorResponses },
} as const;

export const metricLabelValuesQuerystring = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'key'],
  properties: {
    ...oneMetricParams,
    key: { type: 'string', minLength: 1, maxLength: 256, description: 'The label: ServiceName or a data point attribute key.' },
    search: { type: 'string', maxLength: 256, description: 'Case-insensitive substring of the value.' },
    limit: limitParam(1000, 100, 'values'),
  },
} as const;

export const metricLabelValuesResponse = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...answeredMetric,
    key: { type: 'string' },
    values: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          value: { type: 'string' },
          series: { type: 'integer', description: 'Series (ServiceName, resource, scope, attributes) with this value in the range.' },
        },
        required: ['value', 'series'],
      },
    },
    truncated: { type: 'boolean', description: 'More values matched than `limit`.' },
  },
  required: ['name', 'type', 'key', 'values', 'truncated'],
} as const;

export const metricLabelValuesSchema = {
  tags: ['metrics'],
  summary: 'The values one label takes in a metric, most series first: for filter pickers.',
  description: [
    'Only points with the label count (an absent attribute is no value). The label filters narrow the answer as',
    'they narrow /metrics/query, so a picker offers values that still match the other filters.',
  ].join('\n'),
  querystring: metricLabelValuesQuerystring,
  response: { 200: metricLabelValuesResponse, ...errorResponses },
} as const;
