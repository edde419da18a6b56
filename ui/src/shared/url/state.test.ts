import { describe, expect, it } from 'vitest';
import { carry, integer, oneOf, readState, sort, text, writeState } from './state.ts';

const schema = {
  q: text(),
  view: oneOf(['table', 'chart'], 'table'),
  page: integer(1, 1, 100),
  sort: sort(['name', 'rate', 'p95'], { column: 'name', desc: false }),
};

describe('readState', () => {
  it.each([
    ['', { q: '', view: 'table', page: 1, sort: { column: 'name', desc: false } }],
    ['q=checkout&view=chart&page=3&sort=-p95', { q: 'checkout', view: 'chart', page: 3, sort: { column: 'p95', desc: true } }],
    ['sort=rate', { q: '', view: 'table', page: 1, sort: { column: 'rate', desc: false } }],
    // unreadable values fall back to defaults instead of breaking the page
    ['view=pie&page=0&sort=-bogus', { q: '', view: 'table', page: 1, sort: { column: 'name', desc: false } }],
    ['page=1e3&q=a%20b%26c', { q: 'a b&c', view: 'table', page: 1, sort: { column: 'name', desc: false } }],
  ])('?%s', (qs, state) => expect(readState(schema, new URLSearchParams(qs))).toEqual(state));
});

describe('writeState', () => {
  it.each([
    ['', { q: 'api' }, 'q=api'],
    ['q=api', { q: '' }, ''],
    ['from=now-5m&q=api', { sort: { column: 'p95', desc: true } }, 'from=now-5m&q=api&sort=-p95'],
    ['sort=-p95&page=2', { sort: { column: 'name', desc: false }, page: 1 }, ''],
    ['view=chart', { view: 'table' }, ''],
    ['other=1', { q: 'x&y=z' }, 'other=1&q=x%26y%3Dz'],
  ] as const)('?%s + %j → ?%s', (before, patch, after) => {
    expect(writeState(schema, new URLSearchParams(before), patch).toString()).toBe(after);
  });

  it('round-trips every state it writes', () => {
    const state = { q: 'a b', view: 'chart' as const, page: 7, sort: { column: 'rate' as const, desc: true } };
    expect(readState(schema, writeState(schema, new URLSearchParams(), state))).toEqual(state);
  });
});

describe('carry', () => {
  it.each([
    ['from=now-5m&sort=-p95&refresh=30s', {}, '?from=now-5m&refresh=30s'],
    ['sort=-p95', {}, ''],
    ['from=1&to=2', { service: 'api', empty: '' }, '?from=1&to=2&service=api'],
  ])('?%s carries %j → %s', (qs, extra, out) => expect(carry(new URLSearchParams(qs), extra)).toBe(out));
});
