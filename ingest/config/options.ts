/**
 * Every option of the platform's roles, in groups that roles combine into their config section:
 *
 *   PROCESS  every process: listeners, logs, auth          STORAGE  ClickHouse (embedded chDB or a server)
 *   KAFKA    brokers, security, topics, consumer group     GATEWAY  OTLP receivers and their limits
 *   WRITER   batching of inserts
 *
 * Each option has a flag (`--data-dir`), an environment variable (`CROWSNEST_DATA_DIR`) and a config-file key
 * (`dataDir`); precedence: flag > environment > config file > default. load.ts validates the merged result once
 * at boot and freezes it; nothing else reads `process.env` or argv. Roles that come later (the agent, the
 * metrics adapter) declare their own groups beside their code with the same `OptionSpec` shapes (spec.ts).
 */
import type { ConfigOf, ConfigSpec } from './spec.ts';

const MiB = 1024 * 1024;

/** Every process: where it listens, how it logs, who may call it. */
export const PROCESS = {
  config: { type: 'string', doc: 'Path to a YAML or JSON config file whose keys are the camelCase option names.' },
  host: { type: 'string', default: '127.0.0.1', doc: 'Address every listener binds to (use 0.0.0.0 in containers).' },
  httpPort: { type: 'int', default: 8080, min: 0, max: 65535, doc: 'HTTP port of every role: /healthz, /readyz, /metrics, and the query API where the query role runs (0 picks a free port).' },
  logLevel: {
    type: 'string',
    default: 'info',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    doc: 'Log level of the logs on stdout.',
  },
  logFormat: {
    type: 'string',
    default: 'auto',
    choices: ['auto', 'json', 'pretty'],
    doc: 'Log lines: JSON (one object per line, for collectors), pretty (human-readable), or auto: pretty on a terminal, JSON otherwise.',
  },
  authToken: {
    type: 'list',
    secret: true,
    doc: 'Bearer tokens accepted by ingest and query, comma-separated. Unset: no authentication.',
  },
} as const satisfies ConfigSpec;

/** ClickHouse: embedded chDB in a data directory, or a server or cluster by URL; retention; insert slots. */
export const STORAGE = {
  dataDir: { type: 'string', default: './data', doc: 'Directory of the embedded ClickHouse (chDB) data, and of the write-ahead log without Kafka.' },
  clickhouseUrl: {
    type: 'string',
    secret: true,
    doc: 'ClickHouse server HTTP URL (http://user:pass@host:8123). Unset: the embedded chDB engine in --data-dir.',
  },
  clickhouseDatabase: { type: 'string', default: 'otel', doc: 'Database holding the otel_* tables.' },
  clickhouseCluster: {
    type: 'string',
    doc: 'Cluster name: DDL runs ON CLUSTER with Replicated*MergeTree tables and Distributed tables in front.',
  },
  tracesTtlDays: { type: 'int', default: 7, min: 0, max: 36500, doc: 'Days spans are kept (0 keeps them forever).' },
  logsTtlDays: { type: 'int', default: 7, min: 0, max: 36500, doc: 'Days log records are kept (0 keeps them forever).' },
  metricsTtlDays: { type: 'int', default: 30, min: 0, max: 36500, doc: 'Days metric points are kept (0 keeps them forever).' },
  insertConcurrency: {
    type: 'int',
    default: 2,
    min: 1,
    max: 64,
    doc: 'Inserts into ClickHouse that run at once. Embedded, each runs on a chDB connection of its own, so queries never wait behind them.',
  },
} as const satisfies ConfigSpec;

/** The Kafka transport between gateways and writers: brokers, security, topics, the consumer group of the writers. */
export const KAFKA = {
  kafkaBrokers: {
    type: 'list',
    doc: 'Kafka bootstrap brokers (host:port, comma-separated). Set: receivers publish to Kafka and writers consume from it. Unset: the write-ahead log in --data-dir, read by the writer of the same process.',
  },
  kafkaClientId: { type: 'string', default: 'crowsnest', doc: 'Kafka client id (prefix; the role is appended).' },
  kafkaTls: { type: 'bool', default: false, doc: 'Connect to Kafka over TLS.' },
  kafkaTlsCaFile: { type: 'string', doc: 'PEM file of the CA that signed the brokers\' certificates (default: the system CAs).' },
  kafkaSaslMechanism: { type: 'string', choices: ['plain', 'scram-sha-256', 'scram-sha-512'], doc: 'SASL mechanism; unset: no SASL.' },
  kafkaSaslUsername: { type: 'string', doc: 'SASL user name.' },
  kafkaSaslPassword: { type: 'string', secret: true, doc: 'SASL password.' },
  kafkaTopicSpans: { type: 'string', default: 'otlp_spans', doc: 'Topic of OTLP trace requests (otlp_proto encoding).' },
  kafkaTopicLogs: { type: 'string', default: 'otlp_logs', doc: 'Topic of OTLP log requests (otlp_proto encoding).' },
  kafkaTopicMetrics: { type: 'string', default: 'otlp_metrics', doc: 'Topic of OTLP metric requests (otlp_proto encoding).' },
  kafkaTopicDlq: { type: 'string', default: 'otlp_dlq', doc: 'Dead-letter topic for messages that can never be decoded.' },
  kafkaGroupId: { type: 'string', default: 'crowsnest-writer', doc: 'Consumer group of the writers.' },
  kafkaPartitions: { type: 'int', default: 6, min: 1, max: 10_000, doc: 'Partitions of topics the platform creates (writers scale up to this many).' },
  kafkaReplicationFactor: { type: 'int', default: 1, min: 1, max: 16, doc: 'Replication factor of topics the platform creates (3 in production).' },
} as const satisfies ConfigSpec;

/** The OTLP receivers (HTTP and gRPC) and what they accept. */
export const GATEWAY = {
  otlpHttpPort: { type: 'int', default: 4318, min: 0, max: 65535, doc: 'OTLP/HTTP receiver port (0 picks a free port).' },
  otlpGrpcPort: { type: 'int', default: 4317, min: 0, max: 65535, doc: 'OTLP/gRPC receiver port (0 picks a free port).' },
  maxRequestBytes: {
    type: 'int',
    default: 16 * MiB,
    min: 1024,
    doc: 'Largest accepted request body, before and after decompression; larger gets 413.',
  },
  queueMaxBytes: {
    type: 'int',
    default: 256 * MiB,
    min: 1024,
    doc: 'With Kafka: bytes of accepted requests waiting for the brokers\' acknowledgement, held in memory; beyond it receivers answer 503 + Retry-After.',
  },
  kafkaCompression: {
    type: 'string',
    default: 'gzip',
    choices: ['gzip', 'snappy', 'lz4', 'zstd', 'none'],
    doc:
      'Compression of the record batches the gateway produces (writers read every codec, whatever produced them): gzip (level 1, the default), ' +
      'snappy, lz4, zstd (level 1) or none. On OTLP trace requests zstd made smaller batches than gzip for less CPU (18 % of the size against 22 %, ' +
      '0.8 µs per span against 1.2), lz4 the cheapest (0.4 µs, 27 %).',
  },
} as const satisfies ConfigSpec;

/** How writers batch rows into ClickHouse inserts. */
export const WRITER = {
  batchMaxRows: { type: 'int', default: 100_000, min: 1, doc: 'A batch is inserted once it holds this many rows.' },
  batchMaxAgeMs: {
    type: 'int',
    default: 1000,
    min: 1,
    doc: "Without Kafka: a batch read from the write-ahead log is inserted once its oldest request is this old. No client waits on it (requests are answered once in the log); it is how soon data shows in queries.",
  },
  walMaxBytes: {
    type: 'int',
    default: 1024 * MiB,
    min: 64 * 1024,
    doc: 'Without Kafka: bytes of acknowledged requests in the write-ahead log (<data-dir>/wal) not yet in ClickHouse; beyond it receivers answer 503 + Retry-After.',
  },
  walSegmentBytes: { type: 'int', default: 64 * MiB, min: 64 * 1024, doc: 'Without Kafka: size of a write-ahead log segment file; a segment is deleted once all of it is in ClickHouse.' },
  kafkaBatchMaxAgeMs: {
    type: 'int',
    default: 5000,
    min: 1,
    doc: "Kafka writers: a partition's batch is inserted once its oldest message is this old, or as soon as the writer has had nothing new on any partition for 200 ms (the load stopped). No client waits on it (Kafka already holds the data), and fewer, bigger inserts cost ClickHouse less.",
  },
} as const satisfies ConfigSpec;

/** Every option of the roles in this file: a process refuses `CROWSNEST_*` variables and file keys outside it. */
export const ALL_OPTIONS = { ...PROCESS, ...STORAGE, ...KAFKA, ...GATEWAY, ...WRITER } as const satisfies ConfigSpec;

/** The configuration of the all-in-one process (`crowsnest start`), which every role's config is a part of. */
export type Config = ConfigOf<typeof ALL_OPTIONS>;
