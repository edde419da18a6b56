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
  },
  required: ['transport', 'groupId', 'updatedAt', 'error', 'topics', 'totals', 'rates'],
} as const;

/** A process without a lag reading: the in-process transport, or a Kafka gateway alone (it reads no offsets). */
export const localPipelineStatusSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'The in-process transport, or Kafka in a process that reads no offsets (a gateway alone): the transport only.',
  properties: { transport: { type: 'string', enum: ['in-process', 'kafka'] } },
  required: ['transport'],
} as const;

/**
 * The answer of `GET /api/v1/pipeline`. The serializer (fast-json-stringify) validates a value against each
 * alternative in turn and answers 500 when none matches, so the alternatives state structure and types only, no
 * ranges or patterns a surprising reading could break (a negative lag after a topic was recreated). They cannot
 * both match: the local shape is closed, and `transport` alone is no lag reading.
 */
export const pipelineStatusSchema = {
  description: 'Ingest pipeline state: the transport and, through Kafka, lag per topic and partition and produce and commit rates.',
  oneOf: [kafkaPipelineStatusSchema, localPipelineStatusSchema],
} as const;

export type KafkaPipelineStatus = FromSchema<typeof kafkaPipelineStatusSchema>;
export type TopicStatus = KafkaPipelineStatus['topics'][number];
export type PartitionLag = TopicStatus['partitions'][number];
export type LocalPipelineStatus = FromSchema<typeof localPipelineStatusSchema>;
export type PipelineStatus = FromSchema<typeof pipelineStatusSchema>;
