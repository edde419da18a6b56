import { describe, expect, it } from 'vitest';
import { type ExploreQuery, formatQuery, letter, parseQuery, readQueries, removeQuery, writeQueries } from './query.ts';

describe('the text form of a query', () => {
  const cases: [string, ExploreQuery][] = [
    ['http.server.requests', { metric: 'http.server.requests', filters: [] }],
    ['rate(http.server.requests)', { metric: 'http.server.requests', agg: 'rate', filters: [] }],
    [
      'p95(http.server.duration{ServiceName="checkout",http.route=~"/api/.*"}) by (http.route)',
      {
        metric: 'http.server.duration',
        agg: 'p95',
        filters: [
          { key: 'ServiceName', op: '=', value: 'checkout' },
          { key: 'http.route', op: '=~', value: '/api/.*' },
        ],
        groupBy: ['http.route'],
      },
    ],
    ['avg(memory.usage) by ()', { metric: 'memory.usage', agg: 'avg', filters: [], groupBy: [] }],
    ['max(queue_depth{pod!="a",zone!~"eu-.*"}) by (pod, zone)', {
      metric: 'queue_depth',
      agg: 'max',
      filters: [
        { key: 'pod', op: '!=', value: 'a' },
        { key: 'zone', op: '!~', value: 'eu-.*' },
      ],
      groupBy: ['pod', 'zone'],
    }],
    ['p99(latency) @histogram', { metric: 'latency', agg: 'p99', filters: [], type: 'histogram' }],
    // Names and keys outside the bare alphabet are quoted; values may hold anything.
    ['"my metric"{"key with space"="a \\"quoted\\" }, value"} by ("a b")', {
      metric: 'my metric',
      filters: [{ key: 'key with space', op: '=', value: 'a "quoted" }, value' }],
      groupBy: ['a b'],
    }],
    ['job:rate5m', { metric: 'job:rate5m', filters: [] }],
    ['rate(rate)', { metric: 'rate', agg: 'rate', filters: [] }],
  ];
  it.each(cases)('%s', (text, query) => {
    expect(parseQuery(text)).toEqual({ query });
    expect(formatQuery(query)).toBe(text);
  });

  it('reads spacing it would not write', () => {
    expect(parseQuery('  rate ( m { a = "1" , b != "2" } )  by ( x ,y ) ').query).toEqual({
      metric: 'm',
      agg: 'rate',
      filters: [
        { key: 'a', op: '=', value: '1' },
        { key: 'b', op: '!=', value: '2' },
      ],
      groupBy: ['x', 'y'],
    });
  });

  it.each([
    ['median(m)', 'unknown aggregation "median"'],
    ['rate(m', 'expected ")"'],
    ['m{a=1}', 'expected a quoted value'],
    ['m{a~"1"}', 'expected = != =~ or !~'],
    ['m{a="1}', 'unterminated string'],
    ['m @counter', 'unknown type "counter"'],
    ['m junk', 'unexpected "junk"'],
    ['{a="1"}', 'expected a metric'],
  ])('%s is refused: %s, and opens as an empty query', (text, why) => {
    const r = parseQuery(text);
    expect(r.query).toEqual({ metric: '', filters: [] });
    expect(r.error).toContain(why);
  });
});

describe('queries in the URL', () => {
  it('are the q parameters in order, other parameters untouched', () => {
    const a: ExploreQuery = { metric: 'a.b', agg: 'rate', filters: [] };
    const b: ExploreQuery = { metric: 'c', filters: [{ key: 'k', op: '=', value: 'v&w=x' }], groupBy: [] };
    const params = writeQueries(new URLSearchParams('from=now-15m&q=old'), [a, b]);
    expect(params.getAll('q')).toEqual(['rate(a.b)', 'c{k="v&w=x"} by ()']);
    expect(params.get('from')).toBe('now-15m');
    expect(readQueries(new URLSearchParams(params.toString()))).toEqual({ queries: [a, b], errors: [] });
  });
  it('a lone empty query writes nothing; no q reads as one empty query', () => {
    expect(writeQueries(new URLSearchParams('q=x'), [{ metric: '', filters: [] }]).toString()).toBe('');
    expect(readQueries(new URLSearchParams())).toEqual({ queries: [{ metric: '', filters: [] }], errors: [] });
  });
  it('says which query it could not read', () => {
    const r = readQueries(new URLSearchParams('q=rate(m)&q=oops('));
    expect(r.queries.map((q) => q.metric)).toEqual(['m', '']);
    expect(r.errors[0]).toMatch(/^query "oops\(" is not readable/);
  });
  it('keeps at most 8 queries, lettered A…H', () => {
    const many = new URLSearchParams(Array.from({ length: 12 }, (_, i) => ['q', `m${i}`]));
    expect(readQueries(many).queries).toHaveLength(8);
    expect([0, 1, 7].map(letter)).toEqual(['A', 'B', 'H']);
  });
});

describe('removing a query', () => {
  it('moves later queries, their hidden flags and hidden series up a letter, and drops the removed one’s', () => {
    const qs: ExploreQuery[] = ['a', 'b', 'c'].map((metric) => ({ metric, filters: [] }));
    const params = new URLSearchParams('q=a&q=b&q=c&hide=B,C&off=A{x="1"}&off=B{x="2"}&off=C{x="3"}&step=1m');
    const next = removeQuery(params, qs, 1);
    expect(next.getAll('q')).toEqual(['a', 'c']);
    expect(next.get('hide')).toBe('B');
    expect(next.getAll('off')).toEqual(['A{x="1"}', 'B{x="3"}']);
    expect(next.get('step')).toBe('1m');
  });
});
