import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../contract.ts';
import { type TailFilters, compilePredicate } from './predicate.ts';
import { TailRecord, isoNanos } from './record.ts';

function rec(over: Partial<LogRecord> = {}): TailRecord {
  return new TailRecord({
    timeUnixNano: '1700000000123456789',
    time: '2023-11-14T22:13:20.123456789Z',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: 1,
    severityText: 'WARN',
    severityNumber: 13,
    serviceName: 'cart',
    body: 'Connection refused by upstream db-1 (attempt 3)',
    eventName: '',
    attributes: { 'http.route': '/cart', empty: '' },
    resource: { attributes: { 'service.name': 'cart', 'k8s.namespace.name': 'shop' }, schemaUrl: '' },
    scope: { name: 's', version: '', attributes: {}, schemaUrl: '' },
    ...over,
  });
}

const none: TailFilters = { attrs: [] };

describe('compilePredicate matches as the search SQL does', () => {
  const cases: [string, TailFilters, TailRecord, boolean][] = [
    ['no filter matches everything', none, rec(), true],
    ['service equal', { ...none, service: 'cart' }, rec(), true],
    ['service is exact, not a prefix', { ...none, service: 'car' }, rec(), false],
    ['severity at the minimum', { ...none, minSeverity: 13 }, rec(), true],
    ['severity below the minimum', { ...none, minSeverity: 17 }, rec(), false],
    ['unspecified severity is below any minimum', { ...none, minSeverity: 1 }, rec({ severityNumber: 0 }), false],
    ['trace id', { ...none, traceId: '0af7651916cd43dd8448eb211c80319c' }, rec(), true],
    ['other trace id', { ...none, traceId: '1af7651916cd43dd8448eb211c80319c' }, rec(), false],
    ['span id', { ...none, spanId: 'b7ad6b7169203331' }, rec(), true],
    ['other span id', { ...none, spanId: 'b7ad6b7169203332' }, rec(), false],
    ['record attribute', { ...none, attrs: [{ key: 'http.route', value: '/cart' }] }, rec(), true],
    ['resource attribute', { ...none, attrs: [{ key: 'k8s.namespace.name', value: 'shop' }] }, rec(), true],
    ['attribute with another value', { ...none, attrs: [{ key: 'http.route', value: '/pay' }] }, rec(), false],
    ['every attribute filter must hold', { ...none, attrs: [{ key: 'http.route', value: '/cart' }, { key: 'k8s.namespace.name', value: 'x' }] }, rec(), false],
    ['a missing key reads as empty (map subscript)', { ...none, attrs: [{ key: 'absent', value: '' }] }, rec(), true],
    ['a missing key is not a value', { ...none, attrs: [{ key: 'absent', value: 'x' }] }, rec(), false],
    ['inherited object keys are not attributes', { ...none, attrs: [{ key: 'constructor', value: '' }] }, rec(), true],
    ['text: a whole word, any case', { ...none, q: 'REFUSED' }, rec(), true],
    ['text: part of a word is not a word', { ...none, q: 'refuse' }, rec(), false],
    ['text: words split on punctuation', { ...none, q: 'db' }, rec(), true],
    ['text: phrase in order', { ...none, q: 'connection refused' }, rec(), true],
    ['text: words out of order are not the phrase', { ...none, q: 'refused connection' }, rec(), false],
    ['text: phrase with punctuation', { ...none, q: 'db-1 (attempt' }, rec(), true],
    ['text: only separators is a substring search', { ...none, q: '(' }, rec(), true],
    ['text: only separators, absent', { ...none, q: '#' }, rec(), false],
    ['text: empty filters nothing', { ...none, q: '' }, rec(), true],
    ['text: non-ASCII letters are not folded (lower() is ASCII only)', { ...none, q: 'ÉCHEC' }, rec({ body: 'échec total' }), false],
    ['text: non-ASCII letters match as written', { ...none, q: 'échec' }, rec({ body: 'Échec et échec' }), true],
    ['text: non-ASCII bytes belong to words', { ...none, q: 'caf' }, rec({ body: 'café ouvert' }), false],
    ['everything at once', { service: 'cart', minSeverity: 9, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', attrs: [{ key: 'http.route', value: '/cart' }], q: 'upstream' }, rec(), true],
  ];
  it.each(cases)('%s', (_name, filters, record, expected) => {
    expect(compilePredicate(filters)(record)).toBe(expected);
  });
});

describe('isoNanos writes what ClickHouse writes for a DateTime64(9)', () => {
  it.each([
    ['1700000000123456789', '2023-11-14T22:13:20.123456789Z'],
    ['1700000000000000000', '2023-11-14T22:13:20.000000000Z'],
    ['1700000000000000001', '2023-11-14T22:13:20.000000001Z'],
    ['0', '1970-01-01T00:00:00.000000000Z'],
  ])('%s → %s', (ns, iso) => {
    expect(isoNanos(ns)).toBe(iso);
  });
});
