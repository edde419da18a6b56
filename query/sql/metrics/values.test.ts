import { describe, expect, it } from 'vitest';
import { labelValuesSql } from './values.ts';

const EVIL = "x'); DROP TABLE otel.otel_traces; --";
const range = { startNs: 1_700_000_000_000_000_000n, endNs: 1_700_003_600_000_000_000n };

describe('label values SQL', () => {
  it('keeps the name, key, filter values and search in bound parameters', () => {
    const r = labelValuesSql('otel', {
      name: EVIL,
      type: 'histogram',
      range,
      key: EVIL,
      filters: [{ key: EVIL, op: '=~', value: EVIL }],
      search: EVIL,
      limit: 100,
    }).render();
    expect(r.text).not.toContain(EVIL);
    expect(r.text).toContain('otel_metrics_histogram');
    expect(r.text).toContain('mapContains(Attributes');
    expect(r).toMatchSnapshot();
  });

  it('reads ServiceName from its column, with no presence condition and no search when none is given', () => {
    const r = labelValuesSql('otel', { name: 'm', type: 'gauge', range, key: 'ServiceName', filters: [], limit: 10 }).render();
    expect(r.text).toContain('toString(ServiceName) AS value');
    expect(r.text).not.toContain('mapContains');
    expect(r.text).not.toContain('positionCaseInsensitive');
    expect(Object.values(r.params)).toContain(11); // one past the limit
  });
});
