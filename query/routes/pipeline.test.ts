import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { KafkaPipelineStatus, PipelineResponse } from '../contract.ts';
import { pipelineRoutes } from './pipeline.ts';

/** A lag monitor reading: two partitions, one not yet committed; rates from two polls. */
const kafkaStatus: KafkaPipelineStatus = {
  transport: 'kafka',
  groupId: 'crowsnest-writers',
  updatedAt: '2026-01-02T03:04:05.000Z',
  error: null,
  topics: [
    {
      topic: 'otlp_spans',
      lag: 12,
      producedPerSecond: 40.5,
      committedPerSecond: null,
      partitions: [
        { partition: 0, endOffset: '9007199254740993', committedOffset: '9007199254740991', lag: 2 },
        { partition: 1, endOffset: '10', committedOffset: null, lag: 10 },
      ],
    },
  ],
  totals: { produced: 100, consumed: 88, deadLettered: 1, writerRetries: 3 },
  rates: { produced: 2.5, consumed: 0 },
  writer: { state: 'restarting', error: 'ZSTD compression not implemented', restarts: 2 },
  topicFindings: [{ topic: 'otlp_spans', setting: 'partitions', found: '3', expected: '6', consequence: 'at most 3 writers consume it' }],
};

async function serve(status: PipelineResponse) {
  const app = Fastify();
  await app.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 't', version: '1' } } });
  await app.register(pipelineRoutes, { pipeline: () => status, prefix: '/api/v1' });
  await app.ready();
  return app;
}

describe('GET /api/v1/pipeline', () => {
  it('serializes a lag monitor reading through the contract, every field and exact offsets kept', async () => {
    const app = await serve(kafkaStatus);
    const r = await app.inject({ url: '/api/v1/pipeline' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual(kafkaStatus);
    expect(r.body).toContain('"endOffset":"9007199254740993"');
    await app.close();
  });

  it('serializes a reading whose commit is past the end of the log (a recreated topic): a negative lag is no 500', async () => {
    const recreated: KafkaPipelineStatus = {
      ...kafkaStatus,
      writer: null,
      topicFindings: [],
      error: 'This server does not host this topic-partition',
      topics: [{ topic: 'otlp_logs', lag: -40, producedPerSecond: 0, committedPerSecond: 0, partitions: [{ partition: 0, endOffset: '2', committedOffset: '42', lag: -40 }] }],
    };
    const app = await serve(recreated);
    const r = await app.inject({ url: '/api/v1/pipeline' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual(recreated);
    await app.close();
  });

  it('answers a process without a reading of its own (a Kafka gateway, a query process apart) with the transport alone', async () => {
    for (const status of [{ transport: 'wal' }, { transport: 'kafka' }] as const) {
      const app = await serve(status);
      expect((await app.inject({ url: '/api/v1/pipeline' })).json()).toEqual(status);
      await app.close();
    }
  });

  it('documents the three answers in OpenAPI', async () => {
    const app = await serve({ transport: 'wal' });
    const doc = app.swagger() as { paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: { oneOf: { properties: object }[] } }> }> } }> };
    const schema = doc.paths['/api/v1/pipeline']!.get.responses['200']!.content['application/json']!.schema;
    expect(schema.oneOf.map((s) => Object.keys(s.properties))).toEqual([
      ['transport', 'groupId', 'updatedAt', 'error', 'topics', 'totals', 'rates', 'writer', 'topicFindings'],
      ['transport', 'appendedOffset', 'insertedOffset', 'pendingRecords', 'pendingBytes', 'maxBytes', 'segments', 'oldestPendingSeconds', 'error', 'deadLettered'],
      ['transport'],
    ]);
    await app.close();
  });
});
