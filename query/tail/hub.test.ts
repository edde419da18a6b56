import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { silentLogger } from '#core/log.ts';
import type { LogRecord } from '../contract.ts';
import { TailHub, type TailHubOptions, type TailSink, type TailSource } from './hub.ts';
import { TailRecord } from './record.ts';

/** A sink recording its events (stands in for the HTTP response; the int test drives real ones). */
class RecordingSink implements TailSink {
  events: { name: string; data: unknown }[] = [];
  comments = 0;
  ended = false;
  backpressured = false;
  event(name: string, data: string): void {
    this.events.push({ name, data: JSON.parse(data) });
  }
  comment(): void {
    this.comments++;
  }
  end(): void {
    this.ended = true;
  }
  bodies(): string[] {
    return this.events.filter((e) => e.name === 'records').flatMap((e) => (e.data as { records: LogRecord[] }).records.map((r) => r.body));
  }
  named(name: string): unknown[] {
    return this.events.filter((e) => e.name === name).map((e) => e.data);
  }
}

/** A source the test pushes records through. */
class ManualSource implements TailSource {
  readonly name = 'writer';
  starts = 0;
  stops = 0;
  deliver: (r: readonly TailRecord[]) => void = () => undefined;
  start(deliver: (r: readonly TailRecord[]) => void): void {
    this.starts++;
    this.deliver = deliver;
  }
  live(): Promise<void> {
    return Promise.resolve();
  }
  stop(): void {
    this.stops++;
  }
}

function record(body: string, serviceName = 'cart'): TailRecord {
  return new TailRecord({
    timeUnixNano: '1700000000000000000',
    time: '2023-11-14T22:13:20.000000000Z',
    traceId: '',
    spanId: '',
    traceFlags: 0,
    severityText: 'INFO',
    severityNumber: 9,
    serviceName,
    body,
    eventName: '',
    attributes: {},
    resource: { attributes: {}, schemaUrl: '' },
    scope: { name: '', version: '', attributes: {}, schemaUrl: '' },
  });
}

let registry: Registry;
let source: ManualSource;
beforeEach(() => {
  vi.useFakeTimers();
  registry = new Registry();
  source = new ManualSource();
});
afterEach(() => vi.useRealTimers());

function hub(opts: Partial<TailHubOptions> = {}): TailHub {
  return new TailHub(source, { maxViewers: 3, bufferRecords: 5, flushMs: 100, lingerMs: 1000, ...opts }, registry, silentLogger());
}

async function metric(name: string): Promise<string> {
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith(name)).join('\n');
}

describe('TailHub', () => {
  it('sends ready with the source, then only the records each viewer matches', async () => {
    const h = hub();
    const cart = new RecordingSink();
    const pay = new RecordingSink();
    h.join({ attrs: [], service: 'cart' }, cart);
    h.join({ attrs: [], service: 'pay' }, pay);
    await vi.advanceTimersByTimeAsync(0);
    source.deliver([record('a', 'cart'), record('b', 'pay'), record('c', 'cart')]);
    await vi.advanceTimersByTimeAsync(100);
    expect(cart.events[0]).toEqual({ name: 'ready', data: { source: 'writer' } });
    expect(cart.bodies()).toEqual(['a', 'c']);
    expect(pay.bodies()).toEqual(['b']);
    expect(await metric('crowsnest_tail_records_sent_total')).toContain('crowsnest_tail_records_sent_total 3');
  });

  it('batches: one records event per flush, at most maxRecordsPerEvent records', async () => {
    const h = hub({ bufferRecords: 100, maxRecordsPerEvent: 4 });
    const s = new RecordingSink();
    h.join({ attrs: [] }, s);
    await vi.advanceTimersByTimeAsync(0);
    source.deliver(Array.from({ length: 10 }, (_, i) => record(`r${i}`)));
    await vi.advanceTimersByTimeAsync(100);
    expect(s.named('records')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(s.named('records').map((d) => (d as { records: unknown[] }).records.length)).toEqual([4, 4, 2]);
    expect(s.bodies()).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
  });

  it('a viewer that does not read loses the oldest records, is told how many, and the others are unaffected', async () => {
    const h = hub();
    const slow = new RecordingSink();
    const fast = new RecordingSink();
    h.join({ attrs: [] }, slow);
    h.join({ attrs: [] }, fast);
    await vi.advanceTimersByTimeAsync(0);
    slow.backpressured = true;
    for (let i = 0; i < 8; i++) {
      source.deliver([record(`r${i}`)]);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(fast.bodies()).toHaveLength(8);
    expect(slow.bodies()).toEqual([]);
    slow.backpressured = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(slow.named('dropped')).toEqual([{ count: 3, reason: 'slow-reader' }]);
    expect(slow.bodies()).toEqual(['r3', 'r4', 'r5', 'r6', 'r7']);
    expect(await metric('crowsnest_tail_dropped_total')).toContain('crowsnest_tail_dropped_total{reason="slow-reader"} 3');
  });

  it('records faster than the events carry them are dropped as overflow', async () => {
    const h = hub({ bufferRecords: 5, maxRecordsPerEvent: 2 });
    const s = new RecordingSink();
    h.join({ attrs: [] }, s);
    await vi.advanceTimersByTimeAsync(0);
    source.deliver(Array.from({ length: 7 }, (_, i) => record(`r${i}`)));
    await vi.advanceTimersByTimeAsync(100);
    expect(s.named('dropped')).toEqual([{ count: 2, reason: 'overflow' }]);
    expect(s.bodies()).toEqual(['r2', 'r3']);
  });

  it('counts viewers against the cap and frees them on leave; the source stops after the linger', async () => {
    const h = hub();
    const sinks = [new RecordingSink(), new RecordingSink(), new RecordingSink()];
    const viewers = sinks.map((s) => h.join({ attrs: [] }, s));
    expect(h.full).toBe(true);
    expect(await metric('crowsnest_tail_viewers')).toContain('crowsnest_tail_viewers 3');
    expect(source.starts).toBe(1);
    for (const v of viewers) h.leave(v);
    expect(h.full).toBe(false);
    expect(sinks.every((s) => s.ended)).toBe(true);
    expect(await metric('crowsnest_tail_viewers')).toContain('crowsnest_tail_viewers 0');
    await vi.advanceTimersByTimeAsync(500);
    h.join({ attrs: [] }, new RecordingSink()); // back within the linger: the source kept running
    expect(source.starts).toBe(1);
    expect(source.stops).toBe(0);
    h.close();
    expect(source.stops).toBe(1);
  });

  it('stops the source once the linger passed without viewers', async () => {
    const h = hub();
    h.leave(h.join({ attrs: [] }, new RecordingSink()));
    await vi.advanceTimersByTimeAsync(999);
    expect(source.stops).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(source.stops).toBe(1);
    expect(h.running).toBe(false);
  });

  it('sends a keepalive comment to every viewer', async () => {
    const h = hub({ keepaliveMs: 1000 });
    const s = new RecordingSink();
    h.join({ attrs: [] }, s);
    await vi.advanceTimersByTimeAsync(3000);
    expect(s.comments).toBe(3);
    h.close();
  });
});
