/**
 * DDL of the OpenTelemetry Collector ClickHouse exporter's tables, with the same names, columns and types, so
 * tools made for the exporter (Grafana's ClickHouse data source in OTel mode) read our data unchanged.
 *
 * Layouts chosen (see `docs` in README "Storage"):
 * - otel_traces, otel_traces_trace_id_ts(+_mv): the exporter's current template (bloom-filter indexes, which every
 *   ClickHouse version understands).
 * - otel_logs: the 2026 default (no TimestampTime, EventName, ORDER BY toStartOfFiveMinutes(Timestamp), …).
 * - otel_metrics_*: the long-standing default (`TimeUnix DateTime64(9)`), so metric timestamps keep nanoseconds.
 *
 * Cluster mode (a cluster name set): every statement runs `ON CLUSTER`, data lives in `<table>_local`
 * Replicated*MergeTree tables, and a `Distributed` table under the exporter's name sits in front of each, so
 * readers and writers use the same names in both modes.
 *
 * Names, retention expressions and sharding keys come from the table registry (`../tables.ts`).
 *
 * These builders render what the released migrations run: their output is pinned by checksum
 * (`migrations.test.ts`), and an edit that changes it fails that test. Change a table with a new numbered
 * migration (an `ALTER`, built by a new function), never by editing a builder here.
 */
import { type DataTable, type MetricType, type TableSpec, TABLES, metricTable, storageName } from '../tables.ts';

export interface DdlOptions {
  database: string;
  /** Cluster name; unset for a single server or embedded chDB. */
  cluster?: string | undefined;
  /** Retention per signal in days, 0 for none (`--<signal>-ttl-days`). */
  ttlDays: Record<DataTable['signal'], number>;
}

const Z = 'CODEC(ZSTD(1))';
const MAP = 'Map(LowCardinality(String), String)';

function q(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid identifier: ${name}`);
  return `\`${name}\``;
}

function onCluster(o: DdlOptions): string {
  return o.cluster ? ` ON CLUSTER ${q(o.cluster)}` : '';
}

/** The table that holds the rows: `<name>_local` in cluster mode, the name itself otherwise. */
export function storageTable(o: DdlOptions, spec: TableSpec): string {
  return storageName(spec, o.cluster);
}

function engine(o: DdlOptions, table: string, kind: 'MergeTree' | 'ReplacingMergeTree' = 'MergeTree'): string {
  if (!o.cluster) return `${kind}()`;
  return `Replicated${kind}('/clickhouse/tables/{shard}/${o.database}/${table}', '{replica}')`;
}

/** `TTL …` of a data table's retention, written on its registry time expression; nothing for 0 days. */
function ttl(o: DdlOptions, t: DataTable): string {
  const days = o.ttlDays[t.signal];
  return days > 0 ? `\nTTL ${t.ttlOn} + toIntervalDay(${days})` : '';
}

/** `CREATE TABLE` for a table that holds rows plus, in cluster mode, its Distributed front table. */
function table(
  o: DdlOptions,
  spec: DataTable | (typeof TABLES)['migrations' | 'kafkaBatches'],
  columns: string[],
  tail: string,
  kind: 'MergeTree' | 'ReplacingMergeTree' = 'MergeTree',
): string[] {
  const local = storageTable(o, spec);
  const create = `CREATE TABLE IF NOT EXISTS ${q(o.database)}.${q(local)}${onCluster(o)}\n(\n    ${columns.join(',\n    ')}\n)\nENGINE = ${engine(o, local, kind)}\n${tail}`;
  if (!o.cluster) return [create];
  return [
    create,
    `CREATE TABLE IF NOT EXISTS ${q(o.database)}.${q(spec.name)}${onCluster(o)} AS ${q(o.database)}.${q(local)}\nENGINE = Distributed(${q(o.cluster)}, ${q(o.database)}, ${q(local)}, ${spec.shardKey})`,
  ];
}

const SETTINGS = 'SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1';

export function tracesDdl(o: DdlOptions): string[] {
  const columns = [
    'Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))',
    `TraceId String ${Z}`,
    `SpanId String ${Z}`,
    `ParentSpanId String ${Z}`,
    `TraceState String ${Z}`,
    `SpanName LowCardinality(String) ${Z}`,
    `SpanKind LowCardinality(String) ${Z}`,
    `ServiceName LowCardinality(String) ${Z}`,
    `ResourceAttributes ${MAP} ${Z}`,
    `ScopeName String ${Z}`,
    `ScopeVersion String ${Z}`,
    `SpanAttributes ${MAP} ${Z}`,
    'Duration UInt64 CODEC(T64, ZSTD(1))',
    `StatusCode LowCardinality(String) ${Z}`,
    `StatusMessage String ${Z}`,
    `Events Nested(Timestamp DateTime64(9), Name LowCardinality(String), Attributes ${MAP}) ${Z}`,
    `Links Nested(TraceId String, SpanId String, TraceState String, Attributes ${MAP}) ${Z}`,
    'INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1',
    'INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_duration Duration TYPE minmax GRANULARITY 1',
    'INDEX idx_lower_span_name lower(SpanName) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8',
  ];
  const tail = [
    'PARTITION BY toDate(Timestamp)',
    'PRIMARY KEY (ServiceName, SpanName, toDateTime(Timestamp))',
    `ORDER BY (ServiceName, SpanName, toDateTime(Timestamp), Timestamp)${ttl(o, TABLES.traces)}`,
    SETTINGS,
  ].join('\n');
  return table(o, TABLES.traces, columns, tail);
}

/** The trace id → time range lookup the exporter keeps, so a trace by id reads only its own time window. */
export function traceIdTsDdl(o: DdlOptions): string[] {
  const columns = [
    `TraceId String ${Z}`,
    'Start DateTime CODEC(Delta, ZSTD(1))',
    'End DateTime CODEC(Delta, ZSTD(1))',
    'INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1',
  ];
  const tail = [`PARTITION BY toDate(Start)`, `ORDER BY (TraceId, Start)${ttl(o, TABLES.traceIdTs)}`, SETTINGS].join('\n');
  const tables = table(o, TABLES.traceIdTs, columns, tail);
  // The view reads the storage table (each shard aggregates its own inserts) and writes the local lookup table.
  const view = TABLES.traceIdTsView;
  const mv =
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${q(o.database)}.${q(storageTable(o, view))}${onCluster(o)}\n` +
    `TO ${q(o.database)}.${q(storageTable(o, view.to))}\n` +
    `AS SELECT TraceId, min(Timestamp) AS Start, max(Timestamp) AS End\n` +
    `FROM ${q(o.database)}.${q(storageTable(o, view.from))}\nWHERE TraceId != ''\nGROUP BY TraceId`;
  return [...tables, mv];
}

export function logsDdl(o: DdlOptions): string[] {
  const k8s = [
    'k8s.cluster.name',
    'k8s.container.name',
    'k8s.deployment.name',
    'k8s.namespace.name',
    'k8s.node.name',
    'k8s.pod.name',
    'k8s.pod.uid',
    'deployment.environment.name',
  ].map((attr) => `\`__${attr.replace(/\./g, '_')}\` LowCardinality(String) MATERIALIZED ResourceAttributes['${attr}'] ${Z}`);
  const columns = [
    'Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1))',
    `TraceId String ${Z}`,
    `SpanId String ${Z}`,
    'TraceFlags UInt8',
    `SeverityText LowCardinality(String) ${Z}`,
    'SeverityNumber UInt8',
    `ServiceName LowCardinality(String) ${Z}`,
    `Body String ${Z}`,
    `ResourceSchemaUrl LowCardinality(String) ${Z}`,
    `ResourceAttributes ${MAP} ${Z}`,
    `ScopeSchemaUrl LowCardinality(String) ${Z}`,
    `ScopeName String ${Z}`,
    `ScopeVersion LowCardinality(String) ${Z}`,
    `ScopeAttributes ${MAP} ${Z}`,
    `LogAttributes ${MAP} ${Z}`,
    `EventName String ${Z}`,
    ...k8s,
    'INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1',
    'INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_lower_body lower(Body) TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8',
  ];
  const tail = [
    'PARTITION BY toDate(Timestamp)',
    `ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)${ttl(o, TABLES.logs)}`,
    SETTINGS,
  ].join('\n');
  return table(o, TABLES.logs, columns, tail);
}

const EXEMPLARS = `Exemplars Nested(FilteredAttributes ${MAP}, TimeUnix DateTime64(9), Value Float64, SpanId String, TraceId String) ${Z}`;

const METRIC_COLUMNS: Record<MetricType, string[]> = {
  gauge: [`Value Float64 ${Z}`, `Flags UInt32 ${Z}`, EXEMPLARS],
  sum: [`Value Float64 ${Z}`, `Flags UInt32 ${Z}`, EXEMPLARS, `AggregationTemporality Int32 ${Z}`, `IsMonotonic Boolean ${Z}`],
  histogram: [
    'Count UInt64 CODEC(Delta, ZSTD(1))',
    `Sum Float64 ${Z}`,
    `BucketCounts Array(UInt64) ${Z}`,
    `ExplicitBounds Array(Float64) ${Z}`,
    EXEMPLARS,
    `Flags UInt32 ${Z}`,
    `Min Float64 ${Z}`,
    `Max Float64 ${Z}`,
    `AggregationTemporality Int32 ${Z}`,
  ],
  exponential_histogram: [
    'Count UInt64 CODEC(Delta, ZSTD(1))',
    `Sum Float64 ${Z}`,
    `Scale Int32 ${Z}`,
    `ZeroCount UInt64 ${Z}`,
    `PositiveOffset Int32 ${Z}`,
    `PositiveBucketCounts Array(UInt64) ${Z}`,
    `NegativeOffset Int32 ${Z}`,
    `NegativeBucketCounts Array(UInt64) ${Z}`,
    EXEMPLARS,
    `Flags UInt32 ${Z}`,
    `Min Float64 ${Z}`,
    `Max Float64 ${Z}`,
    `AggregationTemporality Int32 ${Z}`,
  ],
  summary: [
    'Count UInt64 CODEC(Delta, ZSTD(1))',
    `Sum Float64 ${Z}`,
    `ValueAtQuantiles Nested(Quantile Float64, Value Float64) ${Z}`,
    `Flags UInt32 ${Z}`,
  ],
};

export function metricDdl(o: DdlOptions, kind: MetricType): string[] {
  const columns = [
    `ResourceAttributes ${MAP} ${Z}`,
    `ResourceSchemaUrl String ${Z}`,
    `ScopeName String ${Z}`,
    `ScopeVersion String ${Z}`,
    `ScopeAttributes ${MAP} ${Z}`,
    `ScopeDroppedAttrCount UInt32 ${Z}`,
    `ScopeSchemaUrl String ${Z}`,
    `ServiceName LowCardinality(String) ${Z}`,
    `MetricName String ${Z}`,
    `MetricDescription String ${Z}`,
    `MetricUnit String ${Z}`,
    `Attributes ${MAP} ${Z}`,
    'StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1))',
    'TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1))',
    ...METRIC_COLUMNS[kind],
    'INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1',
    'INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1',
  ];
  const tail = [
    'PARTITION BY toDate(TimeUnix)',
    `ORDER BY (ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix))${ttl(o, metricTable(kind))}`,
    SETTINGS,
  ].join('\n');
  return table(o, metricTable(kind), columns, tail);
}

export function databaseDdl(o: DdlOptions): string {
  return `CREATE DATABASE IF NOT EXISTS ${q(o.database)}${onCluster(o)}`;
}

/** The ledger of applied migrations; replicated in cluster mode so every node sees one history. */
export function migrationsTableDdl(o: DdlOptions): string[] {
  const columns = ['version UInt32', 'name String', 'applied_at DateTime64(3) DEFAULT now64(3)'];
  return table(o, TABLES.migrations, columns, 'ORDER BY version', 'ReplacingMergeTree');
}

/**
 * The checksum of each applied migration (see `checksums.ts`), added to ledgers created before checksums were
 * recorded. Not part of `migrationsTableDdl`, so every install, old or new, gets the column the same way.
 */
export function migrationsChecksumDdl(o: DdlOptions): string[] {
  const t = TABLES.migrations;
  const names = o.cluster ? [storageTable(o, t), t.name] : [t.name];
  return names.map((n) => `ALTER TABLE ${q(o.database)}.${q(n)}${onCluster(o)} ADD COLUMN IF NOT EXISTS checksum String DEFAULT ''`);
}

/**
 * Insert deduplication, which makes a replayed Kafka batch a no-op: an insert carrying an
 * `insert_deduplication_token` already seen in the last N inserts is dropped. Non-replicated MergeTree keeps no
 * such window by default; the view's target table needs its own, or a replay would still double its rows.
 * The tables are named by the caller (migration 4 lists the ones that existed then): a table created later sets
 * its window in the migration that creates it, so adding one to the registry never changes migration 4.
 */
export function deduplicationDdl(o: DdlOptions, tables: readonly DataTable[]): string[] {
  const setting = o.cluster ? 'replicated_deduplication_window' : 'non_replicated_deduplication_window';
  return tables.map((t) => `ALTER TABLE ${q(o.database)}.${q(storageTable(o, t))}${onCluster(o)} MODIFY SETTING ${setting} = 10000`);
}

/**
 * The Kafka writers' plan ledger: the offset range of each batch, written before its rows are inserted. After a
 * crash, a writer resuming a partition at a recorded first offset replays exactly that range with the same
 * deduplication tokens, so rows already inserted are not inserted again.
 */
export function kafkaLedgerDdl(o: DdlOptions): string[] {
  const t = TABLES.kafkaBatches;
  const columns = [
    'topic LowCardinality(String)',
    'partition UInt32',
    'first_offset UInt64',
    'last_offset UInt64',
    'planned_at DateTime64(3) DEFAULT now64(3)',
  ];
  const tail = `ORDER BY (topic, partition, first_offset)\nTTL ${t.ttl.on} + toIntervalDay(${t.ttl.days})`;
  return table(o, t, columns, tail, 'ReplacingMergeTree');
}
