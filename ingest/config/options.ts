/**
 * Every configuration option of every role, in one table.
 *
 * Each option has a flag (`--data-dir`), an environment variable (`CROWSNEST_` + the flag in upper snake case,
 * `CROWSNEST_DATA_DIR`) and a config-file key (the camelCase name, `dataDir`). Precedence: flag > environment >
 * config file > default. `load.ts` validates the merged result once at boot and freezes it; nothing else reads
 * `process.env` or argv.
 */

export type OptionType = 'string' | 'int' | 'bool' | 'list';

export interface OptionSpec {
  type: OptionType;
  doc: string;
  /** `undefined` means "unset" (the feature is off). */
  default?: string | number | boolean | readonly string[];
  min?: number;
  max?: number;
  /** Allowed values for strings. */
  choices?: readonly string[];
  /** Never printed or logged. */
  secret?: boolean;
}

const MiB = 1024 * 1024;

export const OPTIONS = {
  config: { type: 'string', doc: 'Path to a YAML or JSON config file whose keys are the camelCase option names.' },
  host: { type: 'string', default: '127.0.0.1', doc: 'Address every listener binds to (use 0.0.0.0 in containers).' },
  otlpHttpPort: { type: 'int', default: 4318, min: 0, max: 65535, doc: 'OTLP/HTTP receiver port (0 picks a free port).' },
  otlpGrpcPort: { type: 'int', default: 4317, min: 0, max: 65535, doc: 'OTLP/gRPC receiver port (0 picks a free port).' },
  httpPort: { type: 'int', default: 8080, min: 0, max: 65535, doc: 'Query API port (0 picks a free port).' },
  authToken: {
    type: 'list',
    secret: true,
    doc: 'Bearer tokens accepted by ingest and query, comma-separated. Unset: no authentication.',
  },
  dataDir: { type: 'string', default: './data', doc: 'Directory of the embedded ClickHouse (chDB) data.' },
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
    doc: 'Bytes of accepted-but-unwritten requests held in memory; beyond it receivers answer 503 + Retry-After.',
  },
  batchMaxRows: { type: 'int', default: 100_000, min: 1, doc: 'A table batch is inserted once it holds this many rows.' },
  batchMaxAgeMs: { type: 'int', default: 1000, min: 1, doc: 'A table batch is inserted once its oldest row is this old.' },
  insertConcurrency: {
    type: 'int',
    default: 2,
    min: 1,
    max: 64,
    doc: 'Inserts into ClickHouse that run at once. Embedded, each runs on a chDB connection of its own, so queries never wait behind them.',
  },
  kafkaBatchMaxAgeMs: {
    type: 'int',
    default: 5000,
    min: 1,
    doc: "Kafka writers: a partition's batch is inserted once its oldest message is this old, or as soon as the writer has had nothing new on any partition for 200 ms (the load stopped). No client waits on it (Kafka already holds the data), and fewer, bigger inserts cost ClickHouse less.",
  },
  kafkaBrokers: {
    type: 'list',
    doc: 'Kafka bootstrap brokers (host:port, comma-separated). Set: receivers publish to Kafka and writers consume from it. Unset: the in-process queue.',
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
  kafkaCompression: { type: 'string', default: 'gzip', choices: ['gzip', 'none'], doc: 'Compression of produced batches.' },
  logLevel: {
    type: 'string',
    default: 'info',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    doc: 'Log level of the JSON logs on stdout.',
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

type ValueOf<T extends OptionType> = T extends 'int' ? number : T extends 'bool' ? boolean : T extends 'list' ? readonly string[] : string;

type Spec<K extends OptionName> = (typeof OPTIONS)[K];

/** The validated, frozen configuration. Options without a default are `undefined` when unset. */
export type Config = {
  readonly [K in OptionName]: Spec<K> extends { default: unknown } ? ValueOf<Spec<K>['type']> : ValueOf<Spec<K>['type']> | undefined;
};

/** `dataDir` → `data-dir`. */
export function flagName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `dataDir` → `CROWSNEST_DATA_DIR`. */
export function envName(name: string): string {
  return `CROWSNEST_${flagName(name).replace(/-/g, '_').toUpperCase()}`;
}
