import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse.ts';

const ev = (event: string, data: string, id = ''): SseEvent => ({ event, data, id });

/** Feeds the chunks and collects every event and comment. */
function run(chunks: string[], maxLine?: number) {
  const p = new SseParser(maxLine);
  const events: SseEvent[] = [];
  let comments = 0;
  let retryMs: number | undefined;
  for (const c of chunks) {
    const o = p.push(c);
    events.push(...o.events);
    comments += o.comments;
    if (o.retryMs !== undefined) retryMs = o.retryMs;
  }
  return { events, comments, retryMs };
}

describe('SseParser', () => {
  const cases: [string, string[], SseEvent[]][] = [
    ['one named event', ['event: ready\ndata: {"source":"writer"}\n\n'], [ev('ready', '{"source":"writer"}')]],
    ['default event name', ['data: x\n\n'], [ev('message', 'x')]],
    ['multi-line data joined with \\n', ['data: a\ndata: b\n\n'], [ev('message', 'a\nb')]],
    ['no space after the colon', ['event:records\ndata:{}\n\n'], [ev('records', '{}')]],
    ['only one leading space dropped', ['data:  two\n\n'], [ev('message', ' two')]],
    ['CRLF line endings', ['event: a\r\ndata: 1\r\n\r\n'], [ev('a', '1')]],
    ['CR line endings', ['event: a\rdata: 1\r\r'], [ev('a', '1')]],
    ['CRLF split across chunks', ['data: 1\r', '\n\r', '\n'], [ev('message', '1')]],
    ['an event split at every character', [...'event: records\ndata: {"records":[]}\n\n'], [ev('records', '{"records":[]}')]],
    ['no dispatch without the blank line', ['data: pending\n'], []],
    ['an event without data is dropped', ['event: ready\n\n'], []],
    ['event name resets after dispatch', ['event: a\ndata: 1\n\ndata: 2\n\n'], [ev('a', '1'), ev('message', '2')]],
    ['id persists', ['id: 7\ndata: 1\n\ndata: 2\n\n'], [ev('message', '1', '7'), ev('message', '2', '7')]],
    ['a field without a colon', ['data\n\n'], [ev('message', '')]],
    ['unknown fields ignored', ['foo: bar\ndata: 1\n\n'], [ev('message', '1')]],
    ['UTF-8 text kept', ['data: {"body":"crème ✓"}\n\n'], [ev('message', '{"body":"crème ✓"}')]],
    ['several events in a chunk', ['data: 1\n\ndata: 2\n\nevent: dropped\ndata: {"count":3}\n\n'], [ev('message', '1'), ev('message', '2'), ev('dropped', '{"count":3}')]],
  ];
  it.each(cases)('%s', (_name, chunks, expected) => {
    expect(run(chunks).events).toEqual(expected);
  });

  it('counts comments (keepalives) without dispatching', () => {
    expect(run([': keepalive\n\n', ': keepalive\n'])).toEqual({ events: [], comments: 2, retryMs: undefined });
  });

  it('reads retry with digits only', () => {
    expect(run(['retry: 2500\n']).retryMs).toBe(2500);
    expect(run(['retry: 2s\n']).retryMs).toBeUndefined();
  });

  it('refuses a line longer than the bound instead of buffering it', () => {
    expect(() => run(['data: ' + 'x'.repeat(100)], 50)).toThrow(/longer than 50/);
    expect(run(['data: ' + 'x'.repeat(40) + '\n\n'], 50).events).toHaveLength(1);
  });
});
