/**
 * A batch whose acknowledgement a `kill -9` of the agent lost is stored once through a Kafka gateway too
 * (agents/README.md "Restart"; ingest/kafka/transport.ts "Retries").
 *
 * Real parts: a Kafka broker (test/support/kafka.ts), the platform in Kafka mode (gateway → Kafka → writer →
 * chDB), and `crowsnest agent` processes tailing a file the test writes. Between the agent and the gateway an
 * HTTP relay of the test's (`ackKiller`) passes requests through and, on the first acknowledged one, `kill -9`s
 * the agent before handing the answer over: the gateway stored the batch, the agent never learned it. The agent
 * is started again on the same data dir, rebuilds the batch it had in flight into the same bytes and sends it
 * again; every line must be stored exactly once.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { param, sql } from '#storage/sql.ts';
import { type CrowsnestProcess, startCrowsnest } from '../support/crowsnest-process.ts';
import { eventually } from '../support/eventually.ts';
import { type TestBroker, freePort, startTestBroker } from '../support/kafka.ts';
import { type TestPlatform, startTestPlatform } from '../support/platform.ts';

let broker: TestBroker;
let platform: TestPlatform;
const tmp = mkdtempSync(join(tmpdir(), 'crowsnest-agent-kafka-retry-'));
beforeAll(async () => {
  broker = await startTestBroker();
  platform = await startTestPlatform(['--kafka-brokers', broker.bootstrap, '--kafka-partitions', '2', '--kafka-batch-max-age-ms', '200']);
}, 600_000);
afterAll(async () => {
  await platform?.stop();
  await broker?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * Passes the agent's requests to the gateway; on the first one the gateway acknowledged, kills `victim()` and
 * drops the answer. Keeps the SHA-256 of every request body (decompressed) with the gateway's status.
 */
async function ackKiller(gateway: string, victim: () => CrowsnestProcess | undefined) {
  const seen: { hash: string; status: number; killed: boolean }[] = [];
  let armed = true;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const up = request(`${gateway}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        const back: Buffer[] = [];
        answer.on('data', (c: Buffer) => back.push(c));
        answer.on('end', () => {
          const plain = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
          const kill = armed && answer.statusCode === 200 && req.url === '/v1/logs';
          seen.push({ hash: createHash('sha256').update(plain).digest('hex'), status: answer.statusCode ?? 0, killed: kill });
          if (kill) {
            armed = false;
            // The gateway has it; the agent dies before it hears so.
            void victim()?.kill();
            res.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(Buffer.concat(back));
        });
      });
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function storedBodies(prefix: string): Promise<string[]> {
  const rows = await platform.store!.rows<{ Body: string }>(sql`SELECT Body FROM otel.otel_logs WHERE startsWith(Body, ${param('String', prefix)})`);
  return rows.map((r) => r.Body);
}

describe('agent → Kafka gateway: a batch whose acknowledgement was lost', () => {
  it('is stored once when the agent, kill -9ed after the gateway acknowledged, sends it again', async () => {
    const logs = join(tmp, 'logs');
    mkdirSync(logs, { recursive: true });
    const file = join(logs, 'app.log');
    writeFileSync(file, '');
    const dataDir = join(tmp, 'agent');
    let agent: CrowsnestProcess | undefined;
    const relay = await ackKiller(platform.otlpHttpUrl, () => agent);
    const args = ['--tail', join(logs, '*.log'), '--data-dir', dataDir, '--otlp-endpoint', relay.url, '--forward-max-retry-delay-ms', '200'];
    try {
      agent = await startCrowsnest('agent', args, await freePort());
      const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => `kafka-retry line ${String(from + i).padStart(5, '0')}`);
      appendFileSync(file, `${lines(0, 300).join('\n')}\n`);
      const code = await agent.exited;
      expect(code).toBeNull(); // killed, not exited
      const lost = relay.seen.find((s) => s.killed)!;
      expect(lost).toBeDefined();
      // The gateway stored what the agent never heard of.
      await eventually(async () => expect((await storedBodies('kafka-retry line')).length).toBeGreaterThan(0), 60_000, 200);

      agent = await startCrowsnest('agent', args, await freePort());
      appendFileSync(file, `${lines(300, 100).join('\n')}\n`);
      const want = lines(0, 400);
      await eventually(async () => expect((await storedBodies('kafka-retry line')).length).toBeGreaterThanOrEqual(want.length), 90_000, 250);
      // The restarted agent sent the lost batch again, byte for byte.
      expect(relay.seen.filter((s) => s.hash === lost.hash).length).toBeGreaterThanOrEqual(2);
      // A second copy, were there one, would have been produced before the recognised retry was answered; give
      // the writer time to insert anything still in Kafka, then count.
      await new Promise((r) => setTimeout(r, 2000));
      const stored = await storedBodies('kafka-retry line');
      expect(stored.filter((b, i) => stored.indexOf(b) !== i)).toEqual([]);
      expect(stored.sort()).toEqual(want);
      // The gateway recognised it (and did not produce it again).
      const metrics = await (await fetch(`${platform.apiUrl}/metrics`)).text();
      expect(metrics).toMatch(/crowsnest_kafka_retries_recognized_total\{topic="otlp_logs"\} [1-9]/);
    } finally {
      await agent?.stop();
      await relay.close();
    }
  }, 240_000);
});
