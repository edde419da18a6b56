import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../../query/contract.ts';
import { contextSource, formatLogTime, isoFromNs, keyTimeNs, oneLine, prettyBody, recordKey, severityClass, severityLabel } from './record.ts';

const rec = (p: Partial<LogRecord> = {}, res: Record<string, string> = {}): LogRecord => ({
  timeUnixNano: '1700000090123456789',
  time: '2023-11-14T22:14:50.123456789Z',
  traceId: '',
  spanId: '',
  traceFlags: 0,
  severityText: 'INFO',
  severityNumber: 9,
  serviceName: 'web',
  body: 'hello',
  eventName: '',
  attributes: {},
  resource: { attributes: res, schemaUrl: '' },
  scope: { name: '', version: '', attributes: {}, schemaUrl: '' },
  ...p,
});

describe('recordKey', () => {
  it('is stable, starts with the time, and tells apart records of the same nanosecond', () => {
    expect(recordKey(rec())).toBe(recordKey(rec()));
    expect(recordKey(rec())).toMatch(/^1700000090123456789-[0-9a-z]+$/);
    expect(recordKey(rec({ body: 'twin a' }))).not.toBe(recordKey(rec({ body: 'twin b' })));
    expect(recordKey(rec({}, { 'k8s.pod.name': 'a' }))).not.toBe(recordKey(rec({}, { 'k8s.pod.name': 'b' })));
    expect(keyTimeNs(recordKey(rec()))).toBe(1_700_000_090_123_456_789n);
    expect(keyTimeNs('x')).toBeUndefined();
  });
});

describe('prettyBody', () => {
  const cases: [string, string, { json: boolean; text: string }][] = [
    ['plain text', 'connection refused', { json: false, text: 'connection refused' }],
    ['a JSON object', '{"user":"ann","n":1}', { json: true, text: '{\n  "user": "ann",\n  "n": 1\n}' }],
    ['a map body as stored (sorted keys)', '{"a":{"b":[1,2]}}', { json: true, text: '{\n  "a": {\n    "b": [\n      1,\n      2\n    ]\n  }\n}' }],
    ['an array', ' [1] ', { json: true, text: '[\n  1\n]' }],
    ['braces that are not JSON', '{not json}', { json: false, text: '{not json}' }],
    ['a JSON scalar stays text', '42', { json: false, text: '42' }],
  ];
  it.each(cases)('%s', (_n, body, expected) => expect(prettyBody(body)).toEqual(expected));
});

describe('oneLine', () => {
  it('collapses whitespace and cuts', () => {
    expect(oneLine('a\n  b\tc')).toBe('a b c');
    expect(oneLine('x'.repeat(10), 4)).toBe('xxxx…');
  });
});

describe('contextSource', () => {
  it('uses the pod, container and namespace when present', () => {
    expect(contextSource(rec({}, { 'k8s.pod.name': 'web-1', 'k8s.container.name': 'app', 'k8s.namespace.name': 'shop' }))).toEqual({
      params: { pod: 'web-1', container: 'app', namespace: 'shop' },
      label: 'pod shop/web-1, container app',
    });
  });
  it('a pod without a container name asks for that (empty) container', () => {
    expect(contextSource(rec({}, { 'k8s.pod.name': 'web-1' })).params).toEqual({ pod: 'web-1', container: '' });
  });
  it('falls back to the service', () => {
    expect(contextSource(rec({ serviceName: 'batch' }))).toEqual({ params: { service: 'batch' }, label: 'service batch' });
  });
});

describe('severity', () => {
  it.each([
    [0, 'UNSPECIFIED'],
    [1, 'TRACE'],
    [4, 'TRACE'],
    [5, 'DEBUG'],
    [9, 'INFO'],
    [13, 'WARN'],
    [17, 'ERROR'],
    [21, 'FATAL'],
    [24, 'FATAL'],
    [30, 'FATAL'],
  ] as const)('%i is %s', (n, c) => expect(severityClass(n)).toBe(c));
  it('labels by text, else class', () => {
    expect(severityLabel(rec({ severityText: 'Error' }))).toBe('Error');
    expect(severityLabel(rec({ severityText: '', severityNumber: 13 }))).toBe('WARN');
    expect(severityLabel(rec({ severityText: '', severityNumber: 0 }))).toBe('–');
  });
});

describe('times', () => {
  it('formats to milliseconds and builds nanosecond RFC 3339', () => {
    expect(formatLogTime('2023-11-14T22:14:50.123456789Z')).toMatch(/^2023-11-1[45] \d\d:14:50\.123$/);
    expect(isoFromNs(1_700_000_090_123_456_789n)).toBe('2023-11-14T22:14:50.123456789Z');
    expect(isoFromNs(1_700_000_090_000_000_005n)).toBe('2023-11-14T22:14:50.000000005Z');
  });
});
