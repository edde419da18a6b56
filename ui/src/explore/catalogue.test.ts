import { describe, expect, it } from 'vitest';
import type { MetricInfo } from '../../../query/contract.ts';
import { findMetric, isAmbiguous, kindLabel, searchMetrics } from './catalogue.ts';

const m = (name: string, description = '', type: MetricInfo['type'] = 'gauge'): MetricInfo => ({
  name,
  type,
  unit: '',
  description,
  temporality: 'unspecified',
  monotonic: false,
  labels: ['ServiceName'],
});
const CATALOGUE = [
  m('http.server.request.duration', 'Duration of HTTP server requests', 'histogram'),
  m('http.client.request.duration', 'Duration of HTTP client requests', 'histogram'),
  m('process.memory.usage', 'Resident memory'),
  m('queue.depth', 'Items waiting in the http queue'),
  m('server.duration'),
  m('latency', '', 'histogram'),
  m('latency', '', 'summary'),
];

describe('searchMetrics', () => {
  it.each([
    ['', CATALOGUE.map((x) => x.name)],
    ['server', ['server.duration', 'http.server.request.duration']],
    ['HTTP', ['http.client.request.duration', 'http.server.request.duration', 'queue.depth']],
    ['client duration', ['http.client.request.duration']],
    ['resident', ['process.memory.usage']],
    ['nothing-like-it', []],
  ])('%s → %j', (text, names) => expect(searchMetrics(CATALOGUE, text).map((x) => x.name)).toEqual(names));
});

describe('catalogue lookups', () => {
  it('finds a metric by name, and by type when a name has several', () => {
    expect(findMetric(CATALOGUE, 'latency')?.type).toBe('histogram');
    expect(findMetric(CATALOGUE, 'latency', 'summary')?.type).toBe('summary');
    expect(findMetric(CATALOGUE, 'gone')).toBeUndefined();
    expect(isAmbiguous(CATALOGUE, 'latency')).toBe(true);
    expect(isAmbiguous(CATALOGUE, 'queue.depth')).toBe(false);
  });
  it.each([
    [{ type: 'sum', temporality: 'cumulative', monotonic: true }, 'counter'],
    [{ type: 'sum', temporality: 'delta', monotonic: true }, 'delta counter'],
    [{ type: 'sum', temporality: 'cumulative', monotonic: false }, 'up-down counter'],
    [{ type: 'exponential_histogram', temporality: 'cumulative', monotonic: false }, 'exp. histogram'],
  ] as const)('%j is a %s', (k, label) => expect(kindLabel(k)).toBe(label));
});
