/**
 * The ingest pipeline's state as `GET /api/v1/pipeline` answers it: a contract between its producer (the Kafka
 * lag monitor in ingest/kafka/lag.ts, or the composition root when there is none) and the query API, which may
 * not import ingest/kafka. The JSON schema is the source: the route serializes through it, OpenAPI documents it,
 * and the TypeScript types are derived from it, so producer, route and UI cannot drift apart.
 *
 * No runtime imports: the UI reads these types through query/contract.ts.
 */
import type { FromSchema } from 'json-schema-to-ts';

const perSecond = (description: string) => ({ type: ['number', 'null'], description }) as const;

const partitionLag = {
  type: 'object',
  additionalProperties: false,
  properties: {
    partition: { type: 'integer' },
    endOffset: { type: 'string', description: 'Offset of the next message to be appended (the high watermark), as a decimal string.' },
    committedOffset: {
      type: ['string', 'null'],
      description: "The writer group's committed offset, as a decimal string; null before the group's first commit.",
    },
    lag: {
      type: 'integer',
      description:
        'Messages appended and not yet committed (from the start of the log without a commit); negative when the commit is past ' +
        'the end of the log, as after a topic was recreated.',
    },
  },
  required: ['partition', 'endOffset', 'committedOffset', 'lag'],
} as const;

const topicStatus = {
  type: 'object',
  additionalProperties: false,
  properties: {
    topic: { type: 'string' },
    lag: { type: 'integer', description: "Sum of the partitions' lag." },
    producedPerSecond: perSecond('Messages/s appended to the topic by all producers between the last two polls; null until there have been two.'),
    committedPerSecond: perSecond('Messages/s committed by the whole writer group between the last two polls; null until there have been two.'),
    partitions: { type: 'array', items: partitionLag, description: 'In partition order.' },
  },
  required: ['topic', 'lag', 'producedPerSecond', 'committedPerSecond', 'partitions'],
} as const;

const count = { type: 'integer' } as const;
const rate = { type: 'number' } as const;

/** The Kafka writer of this process: its consumer's state, as /readyz also reports it. */
const writerStatus = {
  type: 'object',
  additionalProperties: false,
  description: "This process's Kafka writer (consumer group member).",
  properties: {
    state: {
      type: 'string',
      enum: ['starting', 'running', 'restarting'],
      description: '`restarting` from a consumer crash until a fresh consumer fetched again (the process is not ready meanwhile).',
    },
    error: { type: ['string', 'null'], description: 'The crash that made it restart, or its latest failed restart; null while running.' },
    restarts: { type: 'integer', description: 'Consumers started again after a crash since the process started.' },
  },
  required: ['state', 'error', 'restarts'],
} as const;

/** A platform topic whose existing settings differ from what the platform would have created. */
const topicFinding = {
  type: 'object',
  additionalProperties: false,
  properties: {
    topic: { type: 'string' },
    setting: { type: 'string', enum: ['compression.type', 'partitions'] },
    found: { type: 'string' },
    expected: { type: 'string' },
    consequence: { type: 'string', description: 'What the difference costs.' },
  },
  required: ['topic', 'setting', 'found', 'expected', 'consequence'],
} as const;

/** A process that reads the writer group's offsets from Kafka (writer and query roles, with Kafka). */
export const kafkaPipelineStatusSchema = {
  type: 'object',
  additionalProperties: false,
  description:
    'Through Kafka, read from its offsets: per topic the lag and rates of the whole pipeline (every producer, the whole writer group), ' +
    "so any process reports them; `totals` and `rates` are this process's own producer and writers.",
  properties: {
    transport: { type: 'string', const: 'kafka' },
    groupId: { type: 'string', description: "The writers' consumer group." },
    updatedAt: { type: ['string', 'null'], description: 'When the last successful reading was taken (RFC 3339); null before the first.' },
    error: { type: ['string', 'null'], description: 'Why the latest poll failed; the figures are then those of `updatedAt`, not current.' },
    topics: { type: 'array', items: topicStatus },
    totals: {
      type: 'object',
      additionalProperties: false,
      description: "This process's messages produced, consumed and dead-lettered, and its writers' insert retries, since it started.",
      properties: { produced: count, consumed: count, deadLettered: count, writerRetries: count },
      required: ['produced', 'consumed', 'deadLettered', 'writerRetries'],
    },
    rates: {
      type: 'object',
      additionalProperties: false,
      description: "Messages per second over the last poll interval, this process's own producer and writers.",
      properties: { produced: rate, consumed: rate },
      required: ['produced', 'consumed'],
    },
    writer: {
      anyOf: [writerStatus, { type: 'null' }],
      description: "This process's Kafka writer; null in a process that runs none (a query process apart).",
    },
    topicFindings: {
      type: 'array',
      items: topicFinding,
      description: 'Existing topics whose compression.type or partition count differ from what the platform creates, checked at start.',
    },
  },
  required: ['transport', 'groupId', 'updatedAt', 'error', 'topics', 'totals', 'rates', 'writer', 'topicFindings'],
} as const;

/**
 * The embedded default: requests are acknowledged once in the process's write-ahead log on local disk
 * (ingest/pipeline/wal), and its writer moves them into ClickHouse. Offsets are WAL record sequence numbers.
 */
export const walPipelineStatusSchema = {
  type: 'object',
  additionalProperties: false,
  description: "The write-ahead log in the data directory: what was acknowledged to clients and not yet inserted, and the writer's state.",
  properties: {
    transport: { type: 'string', const: 'wal' },
    appendedOffset: { type: 'string', description: 'Offset the next acknowledged request will get (records below it are durable), as a decimal string.' },
    insertedOffset: { type: 'string', description: 'Every record below this offset is in ClickHouse, as a decimal string.' },
    pendingRecords: { type: 'integer', description: 'Acknowledged requests not yet inserted (appendedOffset - insertedOffset).' },
    pendingBytes: { type: 'integer', description: 'Bytes of the WAL not yet inserted; at maxBytes receivers answer 503 + Retry-After.' },
    maxBytes: { type: 'integer' },
    segments: { type: 'integer', description: 'Segment files on disk (a segment is removed once every record in it is inserted).' },
    oldestPendingSeconds: { type: ['number', 'null'], description: 'Age of the oldest acknowledged request not yet inserted; null when none is pending.' },
    error: { type: ['string', 'null'], description: 'Why the latest insert failed while it is being retried; null when the writer is healthy.' },
    deadLettered: { type: 'integer', description: 'Records that could never be decoded, moved to the dead-letter directory since start.' },
  },
  required: ['transport', 'appendedOffset', 'insertedOffset', 'pendingRecords', 'pendingBytes', 'maxBytes', 'segments', 'oldestPendingSeconds', 'error', 'deadLettered'],
} as const;

/** A process without a reading of its own: a Kafka gateway alone (it reads no offsets), or a query process without Kafka. */
export const localPipelineStatusSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'A process that reads no pipeline state (a Kafka gateway alone, a query process apart without Kafka): the transport only.',
  properties: { transport: { type: 'string', enum: ['kafka', 'wal'] } },
  required: ['transport'],
} as const;

/**
 * The answer of `GET /api/v1/pipeline`. The serializer (fast-json-stringify) validates a value against each
 * alternative in turn and answers 500 when none matches, so the alternatives state structure and types only, no
 * ranges or patterns a surprising reading could break (a negative lag after a topic was recreated). No two can
 * match: each is closed, and `transport` alone is no reading.
 */
export const pipelineStatusSchema = {
  description: 'Ingest pipeline state: the transport and, through Kafka, lag per topic and partition and produce and commit rates.',
  oneOf: [kafkaPipelineStatusSchema, walPipelineStatusSchema, localPipelineStatusSchema],
} as const;

export type KafkaPipelineStatus = FromSchema<typeof kafkaPipelineStatusSchema>;
export type TopicStatus = KafkaPipelineStatus['topics'][number];
export type PartitionLag = TopicStatus['partitions'][number];
export type WriterStatus = FromSchema<typeof writerStatus>;
export type TopicFinding = FromSchema<typeof topicFinding>;
export type LocalPipelineStatus = FromSchema<typeof localPipelineStatusSchema>;
export type WalPipelineStatus = FromSchema<typeof walPipelineStatusSchema>;
export type PipelineStatus = FromSchema<typeof pipelineStatusSchema>;
