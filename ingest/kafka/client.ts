/**
 * kafkajs client construction from config: brokers, TLS, SASL, and kafkajs's own logs routed into pino.
 * Also creates the platform's topics (per signal, plus the dead-letter topic) when they do not exist.
 */
import { readFileSync } from 'node:fs';
import { Kafka, type KafkaConfig as KafkaJsConfig, type SASLOptions, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import type { KAFKA } from '#config/options.ts';
import type { ConfigOf } from '#config/spec.ts';
import type { Signal } from '#otlp/rows.ts';
import { installGzipCodec } from './gzip.ts';

/** The Kafka options every Kafka-using role has. */
export type KafkaConfig = ConfigOf<typeof KAFKA>;

export interface Topics {
  bySignal: Record<Signal, string>;
  dlq: string;
}

export function topicsOf(config: KafkaConfig): Topics {
  return {
    bySignal: { traces: config.kafkaTopicSpans, logs: config.kafkaTopicLogs, metrics: config.kafkaTopicMetrics },
    dlq: config.kafkaTopicDlq,
  };
}

export function signalOfTopic(topics: Topics, topic: string): Signal | undefined {
  return (Object.keys(topics.bySignal) as Signal[]).find((s) => topics.bySignal[s] === topic);
}

/** SASL settings; the config loader already checked that mechanism, user and password come together. */
function sasl(config: KafkaConfig): SASLOptions | undefined {
  const { kafkaSaslMechanism: mechanism, kafkaSaslUsername: username = '', kafkaSaslPassword: password = '' } = config;
  switch (mechanism) {
    case undefined:
      return undefined;
    case 'plain':
      return { mechanism, username, password };
    case 'scram-sha-256':
      return { mechanism, username, password };
    case 'scram-sha-512':
      return { mechanism, username, password };
  }
}

export function createKafka(config: KafkaConfig, role: string, log: Logger): Kafka {
  const brokers = config.kafkaBrokers;
  if (!brokers || brokers.length === 0) throw new Error('Kafka is not configured (--kafka-brokers)');
  const klog = log.child({ component: 'kafkajs' });
  const ssl = config.kafkaTls ? (config.kafkaTlsCaFile ? { ca: [readFileSync(config.kafkaTlsCaFile, 'utf8')] } : true) : undefined;
  const saslOptions = sasl(config);
  const kafkaConfig: KafkaJsConfig = {
    clientId: `${config.kafkaClientId}-${role}`,
    brokers: [...brokers],
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    // Short client-side retries: callers own the long-term retry policy (503 to OTLP clients, writer backoff).
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: log.isLevelEnabled('debug') ? logLevel.INFO : logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }) => {
        const { message, ...rest } = entry;
        if (level <= logLevel.ERROR) klog.error(rest, message);
        else if (level === logLevel.WARN) klog.warn(rest, message);
        else klog.debug(rest, message); // kafkajs INFO (joins, restarts) is our debug
      },
  };
  if (ssl !== undefined) kafkaConfig.ssl = ssl;
  if (saslOptions !== undefined) kafkaConfig.sasl = saslOptions;
  installGzipCodec();
  return new Kafka(kafkaConfig);
}

/** Creates missing topics; existing topics are left as they are. */
export async function ensureTopics(kafka: Kafka, topics: Topics, partitions: number, replicationFactor: number, log: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [...Object.values(topics.bySignal), topics.dlq].filter((t) => !existing.has(t));
    if (wanted.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: wanted.map((topic) => ({
        topic,
        numPartitions: topic === topics.dlq ? 1 : partitions,
        replicationFactor,
        // kafkajs consumers cannot read snappy, lz4 or zstd batches (no codecs built in). Other producers, such as
        // a Collector's kafka exporter, may send those; the broker recompresses everything to gzip on these topics.
        configEntries: [{ name: 'compression.type', value: 'gzip' }],
      })),
    });
    log.info({ topics: wanted, partitions, replicationFactor }, 'created Kafka topics');
  } finally {
    await admin.disconnect();
  }
}
