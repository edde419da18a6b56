import { describe, expect, it } from 'vitest';
import { EMPTY_VIEW, type LogsView, addAttrFilter, apiFilters, readView, toggleFacet, writeView } from './view.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const view = (p: Partial<LogsView>): LogsView => ({ ...EMPTY_VIEW, ...p });

describe('readView', () => {
  const cases: [string, string, Partial<LogsView>, string[]][] = [
    ['nothing', '', {}, []],
    ['the trace view link', `traceId=${TRACE.toUpperCase()}&spanId=B7AD6B7169203331&from=2024-01-01T00:00:00Z`, { traceId: TRACE, spanId: 'b7ad6b7169203331' }, []],
    ['a bad trace id is ignored and reported', 'traceId=xyz&spanId=123', {}, ['traceId', 'spanId']],
    ['severity case-insensitive', 'severity=warn', { severity: 'WARN' }, []],
    ['unknown severity', 'severity=loud', {}, ['severity']],
    ['repeated attributes, in order, without duplicates', 'attr=a=1&attr=b=x%3Dy&attr=a=1', { attrs: ['a=1', 'b=x=y'] }, []],
    ['an attribute without a key', 'attr==1&attr=nokey', {}, ['attr =1', 'attr nokey']],
    ['live tail and the context tab', 'live=1&tab=context&open=1700000000123456789-abc12', { live: true, tab: 'context', open: '1700000000123456789-abc12' }, []],
    ['a mangled open key', 'open=hello', {}, ['open']],
    ['namespace, pod, service, text', 'namespace=shop&pod=web-1&service=web&q=timeout', { namespace: 'shop', pod: 'web-1', service: 'web', q: 'timeout' }, []],
  ];
  it.each(cases)('%s', (_n, qs, expected, ignored) => {
    const r = readView(new URLSearchParams(qs));
    expect(r.view).toEqual(view(expected));
    expect(r.ignored).toEqual(ignored);
  });
});

describe('writeView', () => {
  it('round-trips every field and leaves defaults and other parameters alone', () => {
    const full = view({ q: 'a b', service: 's', severity: 'ERROR', traceId: TRACE, spanId: 'b7ad6b7169203331', namespace: 'n', pod: 'p', attrs: ['k=v', 'x=1'], live: true, open: '1-a', tab: 'context' });
    const p = writeView(new URLSearchParams('from=now-15m&other=1'), full);
    expect(readView(p).view).toEqual(full);
    expect(p.get('from')).toBe('now-15m');
    expect(p.get('other')).toBe('1');
    const cleared = writeView(p, { ...EMPTY_VIEW });
    expect(cleared.toString()).toBe('from=now-15m&other=1');
  });
});

describe('apiFilters', () => {
  it('sends namespace and pod as resource attribute filters, empty fields left out', () => {
    expect(apiFilters(view({ namespace: 'shop', pod: 'web-1', attrs: ['http.route=/pay'], severity: 'WARN' }))).toEqual({
      q: undefined,
      service: undefined,
      severity: 'WARN',
      traceId: undefined,
      spanId: undefined,
      attr: ['k8s.namespace.name=shop', 'k8s.pod.name=web-1', 'http.route=/pay'],
    });
    expect(apiFilters(EMPTY_VIEW).attr).toBeUndefined();
  });
});

describe('toggleFacet', () => {
  const cases: [string, Partial<LogsView>, string, string, Partial<LogsView>][] = [
    ['select a pod', {}, 'k8s.pod.name', 'web-1', { pod: 'web-1' }],
    ['unselect it', { pod: 'web-1' }, 'k8s.pod.name', 'web-1', { pod: '' }],
    ['replace it', { pod: 'web-1' }, 'k8s.pod.name', 'web-2', { pod: 'web-2' }],
    ['namespace', {}, 'k8s.namespace.name', 'shop', { namespace: 'shop' }],
    ['service', {}, 'service.name', 'web', { service: 'web' }],
    ['severity class', {}, 'severity', 'ERROR', { severity: 'ERROR' }],
    ['UNSPECIFIED cannot be a minimum', {}, 'severity', 'UNSPECIFIED', {}],
    ['records without the field are not a filter', {}, 'k8s.pod.name', '', {}],
    ['unknown field', {}, 'x', 'y', {}],
  ];
  it.each(cases)('%s', (_n, v, field, value, patch) => {
    expect(toggleFacet(view(v), field, value)).toEqual(patch);
  });
});

describe('addAttrFilter', () => {
  it('uses the dedicated fields for the well-known keys and appends others once', () => {
    expect(addAttrFilter(EMPTY_VIEW, 'k8s.pod.name', 'p')).toEqual({ pod: 'p' });
    expect(addAttrFilter(view({ attrs: ['a=1'] }), 'b', '2')).toEqual({ attrs: ['a=1', 'b=2'] });
    expect(addAttrFilter(view({ attrs: ['a=1'] }), 'a', '1')).toEqual({});
  });
});
