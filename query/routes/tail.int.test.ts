/**
 * GET /api/v1/logs/tail over real HTTP, in the all-in-one platform (embedded chDB, the write-ahead log, bearer
 * auth), fed by the OpenTelemetry SDK's OTLP log exporter: 50 concurrent tails with different filters receive
 * exactly the lines GET /api/v1/logs returns for the same filters, record for record; the viewer cap answers 503
 * with Retry-After; closing frees the viewers; a viewer that does not read is told what it lost while the others
 * get everything. Latency from a record's emit to its arrival is printed, not asserted.
 */
import { type IncomingMessage, request } from 'node:http';
import { context, trace } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/eventually.ts';
import { type TestPlatform, getJson, startTestPlatform } from '../../test/support/platform.ts';
import type { LogRecord } from '../contract.ts';
import { type TailClient, inOrder, openTail } from '../tail/testing/sse-client.ts';

const TOKEN = 'tail-test-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const MAX_VIEWERS = 50;

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform(['--auth-token', TOKEN, '--tail-max-viewers', String(MAX_VIEWERS), '--tail-buffer-records', '1000']);
}, 120_000);
afterAll(async () => {
  await platform?.stop();
});

function loggers(service: string, environment: string): LoggerProvider {
  return new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'deployment.environment': environment }),
    processors: [
      new BatchLogRecordProcessor({
        exporter: new OTLPLogExporter({ url: `${platform.otlpHttpUrl}/v1/logs`, headers: AUTH }),
        scheduledDelayMillis: 100,
        maxQueueSize: 20_000,
        maxExportBatchSize: 500,
      }),
    ],
  });
}

async function viewers(): Promise<number> {
  const text = await (await fetch(`${platform.apiUrl}/metrics`)).text();
  return Number(/^crowsnest_tail_viewers (\d+)/m.exec(text)?.[1]);
}


function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

/** Filters of the 50 tails: each kind alone, then pairs of them. */
function filterSets(): string[] {
  const single = [
    '',
    'service=cart',
    'service=pay',
    'service=checkout',
    'severity=warn',
    'severity=ERROR',
    'severity=9',
    'q=refused',
    'q=connection%20refused',
    'q=refused%20connection',
    'q=timeout',
    'q=db-1',
    'q=%C3%A9chec',
    'q=%C3%89CHEC',
    'q=key%3Duser',
    'attr=http.route%3D%2Fcart',
    'attr=deployment.environment%3Dprod',
    'attr=absent%3D',
    'attr=attempt%3D1',
    `traceId=${TRACE.toUpperCase()}`,
    `spanId=${SPAN}`,
  ];
  const sets = [...single];
  for (let i = 1; sets.length < MAX_VIEWERS; i++) {
    const a = single[i % single.length]!;
    const b = single[(i * 7 + 3) % single.length]!;
    const key = (f: string) => f.split('=')[0];
    // attr repeats (every one must hold); the other filters are single-valued.
    if (a !== '' && b !== '' && a !== b && (key(a) !== key(b) || key(a) === 'attr')) sets.push(`${a}&${b}`);
  }
  return sets.slice(0, MAX_VIEWERS);
}

describe('live tail', () => {
  it('refuses a bad filter with 400 and a missing token with 401, before any stream', async () => {
    const bad = await fetch(`${platform.apiUrl}/api/v1/logs/tail?severity=loud`, { headers: AUTH });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/severity/);
    const unknown = await fetch(`${platform.apiUrl}/api/v1/logs/tail?start=now-1h`, { headers: AUTH });
    expect(unknown.status).toBe(400);
    const anonymous = await fetch(`${platform.apiUrl}/api/v1/logs/tail`);
    expect(anonymous.status).toBe(401);
  });

  it('is documented in OpenAPI as an event stream', async () => {
    const { body } = await getJson<{ paths: Record<string, { get: { responses: Record<string, { content?: Record<string, unknown> }>; parameters: { name: string }[] } }> }>(
      `${platform.apiUrl}/openapi.json`,
    );
    const op = body.paths['/api/v1/logs/tail']!.get;
    expect(Object.keys(op.responses['200']!.content!)).toEqual(['text/event-stream']);
    expect(op.parameters.map((p) => p.name).sort()).toEqual(['attr', 'q', 'service', 'severity', 'spanId', 'traceId']);
    expect(Object.keys(op.responses)).toContain('503');
  });

  it('50 concurrent tails with different filters get exactly what the search returns for the same filters; the cap answers 503; closing frees them', async () => {
    const since = Date.now() - 1000;
    const sets = filterSets();
    const tails: TailClient[] = await Promise.all(sets.map((q) => openTail(platform.apiUrl, q, TOKEN)));
    try {
      expect(tails.map((t) => t.status)).toEqual(sets.map(() => 200));
      expect(new Set((await Promise.all(tails.map((t) => t.ready))).map((r) => r.source))).toEqual(new Set(['writer']));
      expect(await viewers()).toBe(MAX_VIEWERS);

      // One more is over the cap.
      const refused = await fetch(`${platform.apiUrl}/api/v1/logs/tail`, { headers: AUTH });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('OVERLOADED');

      const providers = [loggers('cart', 'prod'), loggers('pay', 'prod'), loggers('checkout', 'dev')];
      const bodies = (i: number) => [
        `order ${i} placed`,
        `Connection refused by upstream db-${i % 3} (attempt ${i % 2})`,
        `refused: connection pool exhausted`,
        `timeout after ${i * 10}ms`,
        `Échec de paiement ${i}`,
        `cache miss for key=user:${i}`,
      ];
      const severities: [number, string][] = [[5, 'DEBUG'], [9, 'INFO'], [13, 'WARN'], [17, 'ERROR'], [0, '']];
      const routes = ['/cart', '/pay', '/'];
      const traced = trace.setSpan(context.active(), trace.wrapSpanContext({ traceId: TRACE, spanId: SPAN, traceFlags: 1 }));
      let sent = 0;
      for (let i = 0; i < 40; i++) {
        providers.forEach((p, s) => {
          const list = bodies(i);
          const [severityNumber, severityText] = severities[(i + s) % severities.length]!;
          p.getLogger('tail-test').emit({
            // The wall clock, as the latency below is measured against it (the SDK's own clock can drift from it).
            timestamp: Date.now(),
            body: list[(i + s) % list.length],
            severityNumber,
            severityText,
            attributes: { 'http.route': routes[(i + s) % routes.length], attempt: i % 2 },
            ...(i % 9 === 0 ? { context: traced } : {}),
          });
          sent++;
        });
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 150)); // several inserts, not one
      }
      await Promise.all(providers.map((p) => p.forceFlush()));
      await platform.inserted();

      const search = async (q: string) => {
        const { status, body } = await getJson<{ logs: LogRecord[] }>(`${platform.apiUrl}/api/v1/logs?${q}&start=${since}&end=now&limit=1000`, AUTH);
        expect(status).toBe(200);
        return body.logs;
      };
      await eventually(async () => expect(await search('')).toHaveLength(sent));
      const expected = await Promise.all(sets.map((q) => search(q)));
      expect(expected.filter((e) => e.length > 0).length).toBeGreaterThan(40); // the filters are not all empty
      await eventually(() => {
        tails.forEach((t, i) => expect(t.records.length, sets[i]).toBeGreaterThanOrEqual(expected[i]!.length));
      }, 30_000);
      await new Promise((r) => setTimeout(r, 1000)); // nothing more may come
      tails.forEach((t, i) => {
        expect(inOrder(t.records.map((r) => r.record)), `tail ?${sets[i]}`).toEqual(inOrder(expected[i]!));
        expect(t.dropped, sets[i]).toEqual([]);
      });

      const latencies = tails[0]!.records.map((r) => r.at - Number(BigInt(r.record.timeUnixNano) / 1_000_000n)).sort((a, b) => a - b);
      console.log(
        `live tail (WAL, --batch-max-age-ms 50, SDK batch delay 100 ms, 50 tails): emit → delivered over ${latencies.length} records: ` +
          `p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, max ${latencies.at(-1)} ms`,
      );
    } finally {
      for (const t of tails) t.close();
    }
    await eventually(async () => expect(await viewers()).toBe(0));
    const accepted = await openTail(platform.apiUrl, 'service=cart', TOKEN); // a freed place is usable again
    expect(accepted.status).toBe(200);
    accepted.close();
  }, 180_000);

  it('a viewer that does not read is told how many lines it lost, and the other viewers get every line', async () => {
    // The slow viewer: a real HTTP client whose response is paused, so its socket stops reading.
    let slowText = '';
    const slowResponse = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(`${platform.apiUrl}/api/v1/logs/tail?service=bulk`, { headers: AUTH }, resolve);
      req.on('error', reject);
      req.end();
    });
    expect(slowResponse.statusCode).toBe(200);
    slowResponse.pause();
    const small = await openTail(platform.apiUrl, 'service=small', TOKEN);
    await small.ready;
    await eventually(async () => expect(await viewers()).toBe(2));

    const bulk = loggers('bulk', 'prod');
    const smallLogs = loggers('small', 'prod');
    const BULK = 4000;
    const SMALL = 200;
    const padding = 'x'.repeat(4000);
    for (let i = 0; i < BULK; i++) {
      bulk.getLogger('flood').emit({ body: `bulk ${i} ${padding}`, severityNumber: 9 });
      if (i % (BULK / SMALL) === 0) smallLogs.getLogger('steady').emit({ body: `small ${i / (BULK / SMALL)}`, severityNumber: 9 });
      // Paced below what one viewer is sent (about 1000 such lines a second), so what this viewer loses is
      // lost to its not reading, not to the rate.
      if (i % 200 === 199) {
        await bulk.forceFlush();
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await Promise.all([bulk.forceFlush(), smallLogs.forceFlush()]);
    await platform.inserted(60_000);

    await eventually(() => expect(small.records.map((r) => r.record.body)).toEqual(Array.from({ length: SMALL }, (_, i) => `small ${i}`)), 60_000);
    expect(small.dropped).toEqual([]);

    // Now the slow viewer reads: what it got and what it was told it lost add up to every matching line.
    slowResponse.setEncoding('utf8');
    slowResponse.on('data', (chunk: string) => (slowText += chunk));
    slowResponse.resume();
    const tally = () => {
      const frames = slowText.split('\n\n');
      let delivered = 0;
      let dropped = 0;
      const reasons = new Set<string>();
      for (const f of frames) {
        const data = /^data: (.*)$/m.exec(f)?.[1];
        if (f.includes('event: records')) delivered += (JSON.parse(data!) as { records: unknown[] }).records.length;
        if (f.includes('event: dropped')) {
          const d = JSON.parse(data!) as { count: number; reason: string };
          dropped += d.count;
          reasons.add(d.reason);
        }
      }
      return { delivered, dropped, reasons };
    };
    const final = await eventually(() => {
      const t = tally();
      expect(t.delivered + t.dropped).toBe(BULK);
      return t;
    }, 60_000, 250);
    console.log(`live tail slow reader: ${final.delivered} of ${BULK} lines of 4 KB delivered, ${final.dropped} dropped (${[...final.reasons].join(', ')})`);
    expect(final.dropped).toBeGreaterThan(0);
    expect(final.reasons.has('slow-reader')).toBe(true);
    const metrics = await (await fetch(`${platform.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/crowsnest_tail_dropped_total\{reason="slow-reader"\} [1-9]/);

    slowResponse.destroy();
    small.close();
    await eventually(async () => expect(await viewers()).toBe(0));
    await Promise.all([bulk.shutdown(), smallLogs.shutdown()]);
  }, 240_000);
});
