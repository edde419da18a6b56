/**
 * The gateway's transport: each accepted OTLP request is published to its signal's topic as OTLP protobuf
 * `Export*ServiceRequest` bytes (the Collector kafka exporter/receiver's `otlp_proto` encoding), split so that
 * traces are keyed by trace id (all spans of a trace land in one partition, in order) and logs and metrics by
 * service. `publish` resolves only after Kafka acknowledged every message with acks = all; when Kafka cannot
 * be reached the result is retryable, and the receivers answer 503 + Retry-After. Nothing is dropped silently.
 */
import { CompressionTypes, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { splitRequest } from '../otlp/split.ts';
import { toProtobuf } from '../otlp/to-protobuf.ts';
import type { Envelope, PublishResult, Transport } from '../pipeline/transport.ts';
import type { Topics } from './client.ts';
import type { KafkaMetrics } from './metrics.ts';
import { JavaCompatiblePartitioner } from './partitioner.ts';

export interface KafkaTransportOptions {
  topics: Topics;
  compression: 'gzip' | 'none';
  /** Bytes of requests waiting for Kafka's acknowledgement before new ones get 503. */
  maxBytes: number;
  /** How long one produce may take before the client is told to retry. @default 10000 */
  timeoutMs?: number;
}

export class KafkaTransport implements Transport {
  readonly name = 'kafka';
  readonly needsRows = false;
  readonly #producer: Producer;
  #bytes = 0;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(
    kafka: Kafka,
    private readonly opts: KafkaTransportOptions,
    private readonly kmetrics: KafkaMetrics,
    private readonly log: Logger,
  ) {
    // Murmur2 on the key, as Java clients partition: a trace id maps to the same partition whoever produces it.
    this.#producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 16, createPartitioner: JavaCompatiblePartitioner });
  }

  /** Connects once; a broker that is down at start is retried by the first sends, not fatal. */
  async connect(): Promise<void> {
    await this.#producer.connect();
  }

  async publish(env: Envelope): Promise<PublishResult> {
    if (this.#closed) return { ok: false, retryable: true, reason: 'shutting down', retryAfterSeconds: 5 };
    if (this.#bytes > 0 && this.#bytes + env.bytes > this.opts.maxBytes) {
      return { ok: false, retryable: true, reason: 'Kafka produce queue is full', retryAfterSeconds: 1 };
    }
    const topic = this.opts.topics.bySignal[env.signal];
    const protobuf = env.format === 'protobuf' ? env.body : toProtobuf(env.signal, env.body);
    const messages = splitRequest(env.signal, protobuf).map((m) => ({ key: m.key, value: Buffer.from(m.value.buffer, m.value.byteOffset, m.value.byteLength) }));
    this.#bytes += env.bytes;
    const sending = this.#producer.send({
      topic,
      acks: -1,
      timeout: this.opts.timeoutMs ?? 10_000,
      compression: this.opts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
      messages,
    });
    this.#inFlight.add(sending);
    try {
      await sending;
      this.kmetrics.produced.inc({ topic }, messages.length);
      return { ok: true };
    } catch (e) {
      this.kmetrics.produceErrors.inc({ topic });
      this.log.warn({ topic, err: (e as Error).message }, 'produce failed');
      return { ok: false, retryable: true, reason: `Kafka unavailable: ${(e as Error).message}`, retryAfterSeconds: 5 };
    } finally {
      this.#inFlight.delete(sending);
      this.#bytes -= env.bytes;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    await this.#producer.disconnect();
  }
}
