import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompressionTypes, Kafka, Partitioners, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/kafka.ts';

// The real broker, started by the script users run: jars from Maven Central on first use (minutes),
// cached in data/kafka-dist afterwards. Its own data dir and ports, so a developer's broker on 9092
// keeps running untouched.
const script = fileURLToPath(new URL('./kafka.sh', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'crowsnest-kafka-'));
const FIRST_START_MS = 600_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let env: NodeJS.ProcessEnv;
let port: number;

function kafkaSh(command: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(script, [command], { env, timeout: FIRST_START_MS }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

function lastLine(text: string): string | undefined {
  return text.trimEnd().split('\n').at(-1);
}

let started: Run;
let kafka: Kafka;
let admin: Admin | undefined;
let producer: Producer | undefined;
let consumer: Consumer | undefined;

beforeAll(async () => {
  port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  env = { ...process.env, KAFKA_DATA_DIR: dataDir, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort) };
  started = await kafkaSh('start');
  if (started.code !== 0) throw new Error(`kafka.sh start failed (${started.code}):\n${started.stderr}`);
  kafka = new Kafka({ clientId: 'kafka-sh-int', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
}, FIRST_START_MS);

afterAll(async () => {
  await consumer?.disconnect();
  await producer?.disconnect();
  await admin?.disconnect();
  // Idempotent: a no-op when the test below already stopped it, the clean-up when it failed earlier.
  await kafkaSh('stop');
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

describe('deploy/local/kafka.sh', () => {
  it('prints the bootstrap address as the last stdout line of start', () => {
    expect(lastLine(started.stdout)).toBe(`127.0.0.1:${port}`);
  });

  it('reports running with exit code 0 and the address', async () => {
    const status = await kafkaSh('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`running 127.0.0.1:${port}`);
  });

  it('leaves a running broker alone when started again', async () => {
    const again = await kafkaSh('start');
    expect(again.code).toBe(0);
    expect(lastLine(again.stdout)).toBe(`127.0.0.1:${port}`);
    expect(again.stderr).toContain('already running');
  });

  it('serves kafkajs: createTopics, produce with acks=-1 and gzip, group consume and commit', async () => {
    const topic = `kafka-sh-int-${randomUUID()}`;
    const groupId = `kafka-sh-int-${randomUUID()}`;
    const count = 30;

    admin = kafka.admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })).toBe(true);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(3);

    producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const sent = await producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: Array.from({ length: count }, (_, i) => ({ key: `key-${i}`, value: `value-${i}` })),
    });
    expect(sent.every((r) => r.errorCode === 0)).toBe(true);

    consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    const partitions = new Set<number>();
    const c = consumer;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${seen.length} of ${count} messages in 90 s`)), 90_000);
      c.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          seen.push(message.value?.toString() ?? '');
          partitions.add(partition);
          await c.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
          if (seen.length === count) {
            clearTimeout(timer);
            resolve();
          }
        },
      }).catch((error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
    await consumer.disconnect();
    consumer = undefined;

    expect(seen.sort()).toEqual(Array.from({ length: count }, (_, i) => `value-${i}`).sort());
    expect(partitions.size).toBeGreaterThan(1);
    // The committed offsets are the partitions' ends: the group would resume after the last message.
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const byPartition = (rows: { partition: number; offset: string }[]): Record<number, string> =>
      Object.fromEntries(rows.map((r) => [r.partition, r.offset]));
    expect(byPartition(committed?.partitions ?? [])).toEqual(byPartition(ends));

    await producer.disconnect();
    producer = undefined;
    await admin.disconnect();
    admin = undefined;
  });

  it('stops the broker, then reports stopped with exit code 3', async () => {
    const stop = await kafkaSh('stop');
    expect(stop.code).toBe(0);
    const status = await kafkaSh('status');
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/^stopped /);
    const again = await kafkaSh('stop');
    expect(again.code).toBe(0);
  });
});
