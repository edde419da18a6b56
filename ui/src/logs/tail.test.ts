import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../query/contract.ts';
import { type TailAction, type TailState, backoffMs, initialTail, parseRetryAfter, tailReducer, tailStatus } from './tail.ts';

const rec = (body: string): LogRecord => ({
  timeUnixNano: '1',
  time: '',
  traceId: '',
  spanId: '',
  traceFlags: 0,
  severityText: '',
  severityNumber: 9,
  serviceName: 's',
  body,
  eventName: '',
  attributes: {},
  resource: { attributes: {}, schemaUrl: '' },
  scope: { name: '', version: '', attributes: {}, schemaUrl: '' },
});
const recs = (...bodies: string[]) => bodies.map(rec);
const run = (actions: TailAction[], cap = 5) => actions.reduce(tailReducer, initialTail(cap));
const bodies = (l: LogRecord[]) => l.map((r) => r.body);

describe('tailReducer', () => {
  it('shows records newest first as they arrive (events carry them oldest first)', () => {
    const s = run([{ type: 'connect' }, { type: 'ready', source: 'writer' }, { type: 'records', records: recs('a', 'b') }, { type: 'records', records: recs('c') }]);
    expect(bodies(s.lines)).toEqual(['c', 'b', 'a']);
    expect(s).toMatchObject({ connection: 'live', source: 'writer', received: 3, trimmed: 0 });
  });

  const capCases: [string, string[][], string[], number][] = [
    ['under the cap', [['a', 'b']], ['b', 'a'], 0],
    ['at the cap', [['a', 'b', 'c', 'd', 'e']], ['e', 'd', 'c', 'b', 'a'], 0],
    ['over the cap in one event', [['a', 'b', 'c', 'd', 'e', 'f', 'g']], ['g', 'f', 'e', 'd', 'c'], 2],
    ['over the cap across events', [['a', 'b', 'c'], ['d', 'e', 'f']], ['f', 'e', 'd', 'c', 'b'], 1],
  ];
  it.each(capCases)('keeps at most cap lines, oldest dropped and counted: %s', (_n, events, shown, trimmed) => {
    const s = run(events.map((e) => ({ type: 'records', records: recs(...e) })));
    expect(bodies(s.lines)).toEqual(shown);
    expect(s.trimmed).toBe(trimmed);
  });

  it('holds lines while paused and shows them on resume, saying how many arrived', () => {
    let s = run([{ type: 'ready', source: 'w' }, { type: 'records', records: recs('a') }, { type: 'pause' }, { type: 'records', records: recs('b', 'c') }]);
    expect(bodies(s.lines)).toEqual(['a']);
    expect(bodies(s.held)).toEqual(['c', 'b']);
    expect(tailStatus(s, 0)).toEqual({ kind: 'paused', text: 'Paused · 2 new lines waiting' });
    s = tailReducer(s, { type: 'resume' });
    expect(bodies(s.lines)).toEqual(['c', 'b', 'a']);
    expect(s.resumed).toEqual({ arrived: 2, dropped: 0 });
    expect(s.held).toEqual([]);
  });

  it('drops the oldest held lines beyond the cap while paused, and says so', () => {
    let s = run([{ type: 'records', records: recs('a', 'b') }, { type: 'pause' }, { type: 'records', records: recs('c', 'd', 'e', 'f') }, { type: 'records', records: recs('g', 'h', 'i') }]);
    expect(bodies(s.held)).toEqual(['i', 'h', 'g', 'f', 'e']);
    expect(s.heldDropped).toBe(2);
    expect(tailStatus(s, 0).text).toBe('Paused · 7 new lines waiting, 2 beyond the cap will not be shown');
    s = tailReducer(s, { type: 'resume' });
    expect(bodies(s.lines)).toEqual(['i', 'h', 'g', 'f', 'e']);
    expect(s.resumed).toEqual({ arrived: 7, dropped: 2 });
    expect(s.trimmed).toBe(2); // a and b left the page
  });

  it('counts what the server dropped, with its reason', () => {
    const s = run([{ type: 'ready', source: 'kafka' }, { type: 'dropped', count: 3, reason: 'slow-reader' }, { type: 'dropped', count: 4, reason: 'overflow' }]);
    expect(s.serverDropped).toBe(7);
    expect(tailStatus(s, 0).text).toBe('Live (kafka) · 0 received · server dropped 7 (overflow)');
  });

  it('reconnects: attempts count up while broken, reset once live again; lines are kept', () => {
    let s: TailState = run([{ type: 'connect' }, { type: 'ready', source: 'w' }, { type: 'records', records: recs('a') }]);
    s = tailReducer(s, { type: 'broken', error: 'stream ended', retryAtMs: 3000 });
    expect(tailStatus(s, 1000)).toEqual({ kind: 'reconnecting', text: 'Reconnecting in 2s (attempt 1: stream ended)' });
    s = tailReducer(s, { type: 'connect' });
    expect(s.connection).toBe('reconnecting');
    s = tailReducer(s, { type: 'broken', error: 'HTTP 503', retryAtMs: 9000 });
    expect(s.attempt).toBe(2);
    s = tailReducer(tailReducer(s, { type: 'connect' }), { type: 'ready', source: 'w' });
    expect(s).toMatchObject({ connection: 'live', attempt: 0, error: undefined });
    expect(bodies(s.lines)).toEqual(['a']);
  });

  it('stops on a refusal that retrying will not fix', () => {
    const s = run([{ type: 'connect' }, { type: 'failed', error: 'UNAUTHORIZED' }]);
    expect(tailStatus(s, 0)).toEqual({ kind: 'failed', text: 'Stopped: UNAUTHORIZED' });
  });

  it('clear empties the page but keeps the connection', () => {
    const s = run([{ type: 'ready', source: 'w' }, { type: 'records', records: recs('a', 'b', 'c', 'd', 'e', 'f') }, { type: 'clear' }]);
    expect(s).toMatchObject({ lines: [], trimmed: 0, connection: 'live', received: 6 });
  });
});

describe('backoffMs', () => {
  const cases: [number, number, number | undefined, number][] = [
    [1, 0, undefined, 250],
    [1, 1, undefined, 500],
    [2, 1, undefined, 1000],
    [3, 0.5, undefined, 1500],
    [6, 1, undefined, 15_000],
    [30, 1, undefined, 15_000],
    [1, 0.3, 7000, 7000],
    [1, 0.3, 600_000, 60_000],
  ];
  it.each(cases)('attempt %i, random %d, Retry-After %s → %i ms', (attempt, random, retryAfter, ms) => {
    expect(backoffMs(attempt, random, retryAfter)).toBe(ms);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['5', 5000],
    ['0', 0],
    ['Wed, 21 Oct 2015 07:28:10 GMT', 10_000],
    ['soon', undefined],
  ] as const)('%s', (raw, ms) => {
    expect(parseRetryAfter(raw, Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(ms);
  });
  it('absent', () => expect(parseRetryAfter(null, 0)).toBeUndefined());
});
