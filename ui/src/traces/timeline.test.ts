import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../query/contract.ts';
import { T0, spans } from './fixtures.ts';
import { formatCollapsed, parseCollapsed, placeLogs, rulerTicks, serviceHue, spanLogsHref } from './timeline.ts';
import { buildTree } from './tree.ts';

const tree = buildTree(
  spans([
    ['a', '', 0, 10],
    ['b', 'a', 1, 4],
    ['c', 'b', 2, 3],
  ]),
);

function log(spanId: string, ms: number, body = 'x'): LogRecord {
  return {
    timeUnixNano: (T0 + BigInt(ms * 1e6)).toString(),
    time: '',
    traceId: 'ab'.repeat(16),
    spanId,
    traceFlags: 1,
    severityText: 'INFO',
    severityNumber: 9,
    serviceName: 'svc',
    body,
    eventName: '',
    attributes: {},
    resource: { attributes: {}, schemaUrl: '' },
    scope: { name: '', version: '', attributes: {}, schemaUrl: '' },
  };
}

describe('placeLogs', () => {
  it('puts records on their span, in time order, and the rest at the trace level', () => {
    const r = placeLogs(tree, [log('b', 3, 'second'), log('b', 2, 'first'), log('', 5, 'no span'), log('zz', 6, 'unknown span')]);
    expect(r.bySpan.get('b')!.map((p) => [p.log.body, p.atNs])).toEqual([
      ['first', 2e6],
      ['second', 3e6],
    ]);
    expect(r.traceLevel.map((p) => p.log.body)).toEqual(['no span', 'unknown span']);
  });
});

describe('rulerTicks', () => {
  it.each([
    [10e6, 5, [0, 2e6, 4e6, 6e6, 8e6, 10e6]],
    [7, 5, [0, 2, 4, 6]],
    [0, 5, [0]],
  ])('%d ns', (d, n, want) => {
    expect(rulerTicks(d, n)).toEqual(want);
  });
});

describe('links and URL forms', () => {
  it("a span's logs: trace and span ids, a minute either side", () => {
    const href = spanLogsHref('ab'.repeat(16), 'cd'.repeat(8), '1700000000000000000', '2500000000');
    const u = new URL(href, 'http://x');
    expect(u.pathname).toBe('/logs');
    expect(u.searchParams.get('traceId')).toBe('ab'.repeat(16));
    expect(u.searchParams.get('spanId')).toBe('cd'.repeat(8));
    expect(u.searchParams.get('from')).toBe('2023-11-14T22:12:20.000Z');
    expect(u.searchParams.get('to')).toBe('2023-11-14T22:14:22.500Z');
  });
  it('collapsed spans round-trip; leaves and unknown ids are dropped', () => {
    const s = parseCollapsed(tree, 'b,c,nope,a');
    expect(formatCollapsed(tree, s)).toBe('a,b');
  });
  it('a service keeps its hue', () => {
    expect(serviceHue('cart')).toBe(serviceHue('cart'));
    expect(serviceHue('cart')).not.toBe(serviceHue('checkout'));
  });
});
