/**
 * kafkajs client construction from config: brokers, TLS, SASL, every record-batch codec (codecs.ts), and
 * kafkajs's own logs routed into pino. Also creates the platform's topics (per signal, plus the dead-letter
 * topic) when they do not exist, and checks those that do.
 */
import { readFileSync } from 'node:fs';
// kafkajs is CommonJS: Node's ESM loader sees some exports by name (Kafka, logLevel), not ConfigResourceTypes.
import kafkajs, { Kafka, type KafkaConfig as KafkaJsConfig, type SASLOptions, logLevel } from 'kafkajs';
import type { Logger } from 'pino';
import type { KAFKA } from '#config/options.ts';
import type { ConfigOf } from '#config/spec.ts';
import type { Signal } from '#otlp/rows.ts';
import type { TopicFinding } from '#core/pipeline-status.ts';
import { installCodecs } from './codecs.ts';

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

export async function createKafka(config: KafkaConfig, role: string, log: Logger): Promise<Kafka> {
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
  await installCodecs();
  return new Kafka(kafkaConfig);
}

/**
 * Topics are created with `compression.type=producer` (Kafka's default): the broker keeps each batch as its
 * producer compressed it, since writers read every codec. A topic that forces a codec makes the broker
 * recompress every batch another way.
 */
const TOPIC_COMPRESSION = 'producer';

/**
 * Creates missing topics and checks the existing ones: their `compression.type` against `producer` and, for the
 * signal topics, their partition count against `partitions` (writers scale up to it). A mismatch is logged
 * (topic, found, expected) and returned, so /api/v1/pipeline shows it; it does not stop the start.
 */
export async function ensureTopics(kafka: Kafka, topics: Topics, partitions: number, replicationFactor: number, log: Logger): Promise<TopicFinding[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const all = [...Object.values(topics.bySignal), topics.dlq];
    const existing = new Set(await admin.listTopics());
    const wanted = all.filter((t) => !existing.has(t));
    if (wanted.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: wanted.map((topic) => ({
          topic,
          numPartitions: topic === topics.dlq ? 1 : partitions,
          replicationFactor,
          configEntries: [{ name: 'compression.type', value: TOPIC_COMPRESSION }],
        })),
      });
      log.info({ topics: wanted, partitions, replicationFactor }, 'created Kafka topics');
    }
    const present = [...new Set(all)].filter((t) => existing.has(t));
    if (present.length === 0) return [];
    const findings: TopicFinding[] = [];
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: ['compression.type'] })),
    });
    for (const resource of configs.resources) {
      const found = resource.configEntries.find((e) => e.configName === 'compression.type')?.configValue;
      if (found !== undefined && found !== TOPIC_COMPRESSION) {
        findings.push({
          topic: resource.resourceName,
          setting: 'compression.type',
          found,
          expected: TOPIC_COMPRESSION,
          consequence: `the broker recompresses every batch to ${found}`,
        });
      }
    }
    const metadata = await admin.fetchTopicMetadata({ topics: present.filter((t) => t !== topics.dlq) });
    for (const t of metadata.topics) {
      if (t.partitions.length !== partitions) {
        findings.push({
          topic: t.name,
          setting: 'partitions',
          found: String(t.partitions.length),
          expected: String(partitions),
          consequence: t.partitions.length < partitions ? `at most ${t.partitions.length} writers consume it` : 'writers are spread over more partitions than configured',
        });
      }
    }
    for (const f of findings) log.warn(f, `Kafka topic ${f.topic}: ${f.setting} is ${f.found}, expected ${f.expected} (${f.consequence})`);
    return findings;
  } finally {
    await admin.disconnect();
  }
}
