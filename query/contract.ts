/**
 * The query API's contract: the TypeScript types of every route's parameters and answers, derived from the
 * JSON schemas the routes validate and serialize with (query/schemas/*.ts, and #core/pipeline-status.ts for the
 * pipeline), so the routes, the tests and the UI read one definition and a schema change is a type change.
 *
 * Types only, and nothing but schema modules behind them (no fastify, no node built-ins, no SQL): the UI imports
 * it with `import type` and type-checks it with browser settings (contract.test.ts checks that it does).
 *
 * Names: per route a `…Query` (query string, as validated: defaults filled in), `…Params` (path) and
 * `…Response` (the 200 answer); the elements of its lists by their own names. Every error is an `ErrorResponse`.
 */
import type { FromSchema } from 'json-schema-to-ts';
import type { errorBody } from './schemas/common.ts';
import type { logTailDropped, logTailQuerystring, logTailReady } from './schemas/tail.ts';
import type {
  logContextQuerystring,
  logContextResponse,
  logFacetsQuerystring,
  logFacetsResponse,
  logHistogramQuerystring,
  logHistogramResponse,
  logSearchQuerystring,
  logSearchResponse,
} from './schemas/logs.ts';
import type {
  metricCatalogQuerystring,
  metricCatalogResponse,
  metricLabelValuesQuerystring,
  metricLabelValuesResponse,
  metricPointsQuerystring,
  metricPointsResponse,
  metricSeriesQuerystring,
  metricSeriesResponse,
} from './schemas/metrics.ts';
import type {
  operationsQuerystring,
  operationsResponse,
  serviceSeriesQuerystring,
  serviceSeriesResponse,
  servicesQuerystring,
  servicesResponse,
} from './schemas/services.ts';
import type {
  compactTraceResponse,
  traceParams,
  traceQuerystring,
  traceResponse,
  traceScatterQuerystring,
  traceScatterResponse,
  traceSearchQuerystring,
  traceSearchResponse,
} from './schemas/traces.ts';

/** Every 4xx and 503 answer: `{ error: { code, message } }`. */
export type ErrorResponse = FromSchema<typeof errorBody>;

/** GET /api/v1/services */
export type ServicesQuery = FromSchema<typeof servicesQuerystring>;
export type ServicesResponse = FromSchema<typeof servicesResponse>;
export type ServiceStats = ServicesResponse['services'][number];

/** GET /api/v1/services/series */
export type ServiceSeriesQuery = FromSchema<typeof serviceSeriesQuerystring>;
export type ServiceSeriesResponse = FromSchema<typeof serviceSeriesResponse>;
export type ServiceSeries = ServiceSeriesResponse['services'][number];

/** GET /api/v1/services/operations */
export type OperationsQuery = FromSchema<typeof operationsQuerystring>;
export type OperationsResponse = FromSchema<typeof operationsResponse>;
export type OperationStats = OperationsResponse['operations'][number];

/** GET /api/v1/traces/{traceId} */
export type TraceParams = FromSchema<typeof traceParams>;
export type TraceQuery = FromSchema<typeof traceQuerystring>;
export type TraceResponse = FromSchema<typeof traceResponse>;
export type Span = TraceResponse['spans'][number];
/** GET /api/v1/traces/{traceId}?shape=compact: resources and scopes once, spans referencing them by index. */
export type CompactTraceResponse = FromSchema<typeof compactTraceResponse>;
export type CompactSpan = CompactTraceResponse['spans'][number];
export type TraceResource = CompactTraceResponse['resources'][number];
export type TraceScope = CompactTraceResponse['scopes'][number];

/** GET /api/v1/traces */
export type TraceSearchQuery = FromSchema<typeof traceSearchQuerystring>;
export type TraceSearchResponse = FromSchema<typeof traceSearchResponse>;
export type TraceSummary = TraceSearchResponse['traces'][number];

/** GET /api/v1/traces/scatter */
export type TraceScatterQuery = FromSchema<typeof traceScatterQuerystring>;
export type TraceScatterResponse = FromSchema<typeof traceScatterResponse>;
export type ScatterPoint = TraceScatterResponse['points'][number];

/** GET /api/v1/logs */
export type LogSearchQuery = FromSchema<typeof logSearchQuerystring>;
export type LogSearchResponse = FromSchema<typeof logSearchResponse>;
export type LogRecord = LogSearchResponse['logs'][number];

/** GET /api/v1/logs/histogram */
export type LogHistogramQuery = FromSchema<typeof logHistogramQuerystring>;
export type LogHistogramResponse = FromSchema<typeof logHistogramResponse>;
export type LogBucket = LogHistogramResponse['buckets'][number];

/** GET /api/v1/logs/facets */
export type LogFacetsQuery = FromSchema<typeof logFacetsQuerystring>;
export type LogFacetsResponse = FromSchema<typeof logFacetsResponse>;
export type LogFacet = LogFacetsResponse['facets'][number];

/** GET /api/v1/logs/context */
export type LogContextQuery = FromSchema<typeof logContextQuerystring>;
export type LogContextResponse = FromSchema<typeof logContextResponse>;

/** GET /api/v1/logs/tail (Server-Sent Events: `ready`, `records` with `LogRecord`s, `dropped`; see query/schemas/tail.ts) */
export type LogTailQuery = FromSchema<typeof logTailQuerystring>;
/** `data` of the `ready` event. */
export type LogTailReady = FromSchema<typeof logTailReady>;
/** `data` of a `records` event. */
export interface LogTailRecords {
  records: LogRecord[];
}
/** `data` of a `dropped` event. */
export type LogTailDropped = FromSchema<typeof logTailDropped>;

/** GET /api/v1/metrics (the catalogue) */
export type MetricCatalogQuery = FromSchema<typeof metricCatalogQuerystring>;
export type MetricCatalogResponse = FromSchema<typeof metricCatalogResponse>;
export type MetricInfo = MetricCatalogResponse['metrics'][number];
export type MetricType = MetricInfo['type'];

/** GET /api/v1/metrics/query (series) */
export type MetricSeriesQuery = FromSchema<typeof metricSeriesQuerystring>;
export type MetricSeriesResponse = FromSchema<typeof metricSeriesResponse>;
export type MetricSeries = MetricSeriesResponse['series'][number];
export type MetricAgg = NonNullable<MetricSeriesQuery['agg']>;

/** GET /api/v1/metrics/points */
export type MetricPointsQuery = FromSchema<typeof metricPointsQuerystring>;
export type MetricPointsResponse = FromSchema<typeof metricPointsResponse>;
export type MetricPoint = MetricPointsResponse['points'][number];

/** GET /api/v1/metrics/label-values */
export type MetricLabelValuesQuery = FromSchema<typeof metricLabelValuesQuerystring>;
export type MetricLabelValuesResponse = FromSchema<typeof metricLabelValuesResponse>;
export type MetricLabelValue = MetricLabelValuesResponse['values'][number];

/** GET /api/v1/pipeline: the shared pipeline-status contract (its producer is the Kafka lag monitor). */
export type { KafkaPipelineStatus, LocalPipelineStatus, PartitionLag, PipelineStatus as PipelineResponse, TopicStatus } from '#core/pipeline-status.ts';
