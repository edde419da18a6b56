/**
 * The table registry: every table Crow's Nest creates, declared once with what the rest of the code needs to
 * know about it. The DDL builders (`schema/ddl.ts`), the migrations, the retention check at start
 * (`migrate.ts`), the writers' codecs (`codecs.ts`), the OTLP row types (`#otlp/rows.ts`, keyed by these
 * names), the Kafka writer's ledger and the query SQL all read it, so a name is spelled here and nowhere else
 * (call sites that write a literal name are checked against `TableName` by the compiler).
 *
 * Kinds:
 * - `exporter`: a table of the OpenTelemetry Collector ClickHouse exporter, same name, columns and types, so tools
 *   built for the exporter read our data unchanged.
 * - `own`: an aggregate of our own beside them (none yet; topology and dashboards bring the first).
 * - `view`: a materialized view, filling one table from another's inserts.
 * - `ledger`: bookkeeping (applied migrations, Kafka batch plans): never queried by the API, no retention option.
 *
 * Adding a table here creates nothing: a table is created by a new numbered migration (`schema/migrations.ts`).
 */
import type { Signal, TableRows } from '#otlp/rows.ts';

interface DataTableSpec {
  readonly name: string;
  readonly kind: 'exporter' | 'own';
  readonly signal: Signal;
  /** Retention: `TTL <on> + toIntervalDay(days)`, days from the signal's `--<signal>-ttl-days` (0: no TTL). */
  readonly ttlOn: string;
  /** Sharding key of the Distributed table in front of it in cluster mode. */
  readonly shardKey: string;
  /** How rows arrive: inserted by the writers (which compile a Native codec for it), or written by a view. */
  readonly filledBy: 'writer' | 'view';
}

interface ViewSpec {
  readonly name: string;
  readonly kind: 'view';
  readonly signal: Signal;
  /** The table whose inserts it reads, and the table it writes. */
  readonly from: DataTableSpec;
  readonly to: DataTableSpec;
}

interface LedgerSpec {
  readonly name: string;
  readonly kind: 'ledger';
  readonly shardKey: string;
  /** A fixed retention, not an option: `TTL <on> + toIntervalDay(days)`. */
  readonly ttl?: { readonly on: string; readonly days: number };
}

export type TableSpec = DataTableSpec | ViewSpec | LedgerSpec;
export type TableKind = TableSpec['kind'];

const traces = {
  name: 'otel_traces',
  kind: 'exporter',
  signal: 'traces',
  ttlOn: 'toDateTime(Timestamp)',
  // Spans of one trace land on one shard, so a trace lookup reads one shard's parts.
  shardKey: 'cityHash64(TraceId)',
  filledBy: 'writer',
} as const satisfies DataTableSpec;

/** The exporter's trace id → time range lookup, so a trace by id reads only its own time window. */
const traceIdTs = {
  name: 'otel_traces_trace_id_ts',
  kind: 'exporter',
  signal: 'traces',
  ttlOn: 'Start',
  shardKey: 'cityHash64(TraceId)',
  filledBy: 'view',
} as const satisfies DataTableSpec;

export const TABLES = {
  traces,
  traceIdTs,
  traceIdTsView: { name: 'otel_traces_trace_id_ts_mv', kind: 'view', signal: 'traces', from: traces, to: traceIdTs },
  logs: { name: 'otel_logs', kind: 'exporter', signal: 'logs', ttlOn: 'toDateTime(Timestamp)', shardKey: 'rand()', filledBy: 'writer' },
  metricsGauge: metricTableSpec('otel_metrics_gauge'),
  metricsSum: metricTableSpec('otel_metrics_sum'),
  metricsHistogram: metricTableSpec('otel_metrics_histogram'),
  metricsExponentialHistogram: metricTableSpec('otel_metrics_exponential_histogram'),
  metricsSummary: metricTableSpec('otel_metrics_summary'),
  /** Applied migrations (`migrate.ts`); replicated in cluster mode so every node sees one history. */
  migrations: { name: 'crowsnest_migrations', kind: 'ledger', shardKey: 'version' },
  /** The Kafka writers' batch plans (`ingest/kafka/writer.ts`): kept a week, far longer than any replay needs. */
  kafkaBatches: { name: 'crowsnest_kafka_batches', kind: 'ledger', shardKey: 'partition', ttl: { on: 'toDateTime(planned_at)', days: 7 } },
} as const satisfies Record<string, TableSpec>;

function metricTableSpec<N extends string>(name: N) {
  return { name, kind: 'exporter', signal: 'metrics', ttlOn: 'toDateTime(TimeUnix)', shardKey: 'rand()', filledBy: 'writer' } as const;
}

type Specs = (typeof TABLES)[keyof typeof TABLES];
export type TableName = Specs['name'];
/** Tables that hold rows (exporter tables and our own aggregates): what the query API reads. */
export type DataTable = Extract<Specs, { kind: 'exporter' | 'own' }>;
export type DataTableName = DataTable['name'];
/** Tables the writers insert into; the OTLP decoders produce rows keyed by these names. */
export type WriterTableName = Extract<Specs, { filledBy: 'writer' }>['name'];

/** The OTLP row types (`#otlp/rows.ts`, keyed by these names) cover exactly the tables the writers fill. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _rowsMatchWriterTables: Same<keyof TableRows, WriterTableName> = true;

const ALL: readonly Specs[] = Object.values(TABLES);

/** Every data table, in registry order. */
export const DATA_TABLES: readonly DataTable[] = ALL.filter((t): t is DataTable => t.kind !== 'view' && t.kind !== 'ledger');

/** The tables the writers insert into, in registry order. */
export const WRITER_TABLES: readonly WriterTableName[] = ALL.flatMap((t) => ('filledBy' in t && t.filledBy === 'writer' ? [t.name] : []));

/** OTLP metric data point types, each stored in a table of its own. */
export const METRIC_TYPES = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

const METRIC_TABLES = {
  gauge: TABLES.metricsGauge,
  sum: TABLES.metricsSum,
  histogram: TABLES.metricsHistogram,
  exponential_histogram: TABLES.metricsExponentialHistogram,
  summary: TABLES.metricsSummary,
} as const satisfies Record<MetricType, DataTableSpec>;

export type MetricTableName = (typeof METRIC_TABLES)[MetricType]['name'];

/** The table that stores data points of this type. */
export function metricTable<T extends MetricType>(type: T): (typeof METRIC_TABLES)[T] {
  return METRIC_TABLES[type];
}

/**
 * The name of the table that holds a table's rows: `<name>_local` in cluster mode (a Replicated*MergeTree table,
 * with a Distributed table under the plain name in front of it), the name itself otherwise. A view has no
 * Distributed front: each node's view reads that node's inserts and writes its local target, and is named after
 * that target (`<target>_local_mv` in cluster mode), as migration 1 created it.
 */
export function storageName(spec: TableSpec, cluster: string | undefined): string {
  if (spec.kind === 'view') return cluster ? `${storageName(spec.to, cluster)}_mv` : spec.name;
  return cluster ? `${spec.name}_local` : spec.name;
}
