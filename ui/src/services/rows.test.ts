import { describe, expect, it } from 'vitest';
import type { ServiceSeriesResponse, ServiceStats } from '../../../query/contract.ts';
import { choices, serviceRows } from './rows.ts';

const stats = (serviceName: string, namespaces: string[] = [], environments: string[] = []): ServiceStats => ({
  serviceName,
  source: 'entry',
  requests: 1,
  requestRate: 1,
  errors: 0,
  errorRate: 0,
  latencyNano: { p50: 1, p95: 1, p99: 1 },
  namespaces,
  environments,
});
const series: ServiceSeriesResponse = {
  stepMs: 1000,
  timestamps: [0],
  services: [{ serviceName: 'checkout', requests: [1], errors: [0], p50: [1], p95: [1], p99: [1] }],
};

describe('serviceRows', () => {
  it.each([
    ['', ['checkout', 'cart', 'Payments']],
    ['  CART ', ['cart']],
    ['pay', ['Payments']],
    ['zzz', []],
  ])('filter %j', (filter, names) => {
    expect(serviceRows([stats('checkout'), stats('cart'), stats('Payments')], series, filter).map((r) => r.serviceName)).toEqual(names);
  });

  it('joins each service with its series, none when the series has not arrived', () => {
    const [checkout, cart] = serviceRows([stats('checkout'), stats('cart')], series, '');
    expect(checkout!.series?.requests).toEqual([1]);
    expect(cart!.series).toBeUndefined();
    expect(serviceRows([stats('checkout')], undefined, '')[0]!.series).toBeUndefined();
  });
});

describe('choices', () => {
  it('unions and sorts the namespaces and environments', () => {
    expect(choices([stats('a', ['shop', 'infra'], ['prod']), stats('b', ['shop'], ['staging', 'prod'])])).toEqual({
      namespaces: ['infra', 'shop'],
      environments: ['prod', 'staging'],
    });
    expect(choices(undefined)).toEqual({ namespaces: [], environments: [] });
  });
});
