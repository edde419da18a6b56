import { describe, expect, it } from 'vitest';
import { loadFeatures, servable } from './features.ts';

describe('route groups', () => {
  it('are found in query/routes without a list: one per module, each with what it needs', async () => {
    const features = await loadFeatures();
    expect(features.map((f) => [f.name, [...f.needs]])).toEqual([
      ['logs', ['store']],
      ['metrics', ['store']],
      ['pipeline', ['pipeline']],
      ['services', ['store']],
      ['logs-tail', ['tail']],
      ['traces', ['store']],
    ]);
  });

  it('are served only where the process has what they need', async () => {
    const features = await loadFeatures();
    const names = (deps: Parameters<typeof servable>[1]) => features.filter((f) => servable(f, deps)).map((f) => f.name);
    expect(names({ store: undefined, pipeline: () => ({ transport: 'wal' }) })).toEqual(['pipeline']);
    expect(names({})).toEqual([]);
  });
});
