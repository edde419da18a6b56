/**
 * The explorer's queries and their text form, which is how they live in the URL (one `q` parameter per query,
 * in order: A, B, C …). The form reads like PromQL, so a link is readable and can be edited by hand:
 *
 *     p95(http.server.duration{ServiceName="checkout",http.route=~"/api/.*"}) by (http.route)
 *     rate(http.server.requests)              every series of the metric (no `by`)
 *     avg(memory.usage) by ()                 all series merged into one
 *     http.server.requests                    the aggregation left to the metric's default
 *     p95(latency) @histogram                 the type, only when the name exists as several
 *
 * Grammar: `[agg "("] name ["{" filter ("," filter)* "}"] [")"] [" by (" keys ")"] [" @" type]`, where a filter
 * is `key op "value"` (op one of = != =~ !~; the value a JSON string), a key is bare when it is made of
 * letters, digits and `_ . - / :` and a JSON string otherwise, and so is the name. Parsing is forgiving the way
 * URL state is everywhere in the UI: text that does not parse becomes an empty query and says why (`error`),
 * so a mangled link still opens the page.
 */
import type { MetricAgg, MetricType } from '../../../query/contract.ts';

export type FilterOp = '=' | '!=' | '=~' | '!~';
export const FILTER_OPS: readonly FilterOp[] = ['=', '!=', '=~', '!~'];

export interface LabelFilter {
  key: string;
  op: FilterOp;
  value: string;
}

/** The aggregations the explorer offers (the API's, without the bare `quantile`, which needs a q). */
export type Agg = Exclude<MetricAgg, 'quantile'>;
export const AGGS: readonly Agg[] = ['avg', 'min', 'max', 'sum', 'last', 'count', 'rate', 'increase', 'p50', 'p90', 'p95', 'p99'];

const TYPES: readonly MetricType[] = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'];

export interface ExploreQuery {
  /** The metric; '' before one is picked. */
  metric: string;
  /** Set only when the name exists as several types (the API then needs it). */
  type?: MetricType | undefined;
  /** Undefined: the metric's default (see aggs.ts). */
  agg?: Agg | undefined;
  filters: LabelFilter[];
  /** Undefined: every series apart; []: all merged into one; keys: one series per combination. */
  groupBy?: string[] | undefined;
}

export const EMPTY_QUERY: ExploreQuery = { metric: '', filters: [] };

/** Most queries on one chart, and most filters per query (the API accepts 20). */
export const MAX_QUERIES = 8;
export const MAX_FILTERS = 20;

const BARE = /^[A-Za-z_][A-Za-z0-9_.\-/:]*$/;

function word(s: string): string {
  return BARE.test(s) ? s : JSON.stringify(s);
}

/** The text form (above). */
export function formatQuery(q: ExploreQuery): string {
  if (q.metric === '') return '';
  let sel = word(q.metric);
  if (q.filters.length > 0) sel += `{${q.filters.map((f) => `${word(f.key)}${f.op}${JSON.stringify(f.value)}`).join(',')}}`;
  let out = q.agg ? `${q.agg}(${sel})` : sel;
  if (q.groupBy !== undefined) out += ` by (${q.groupBy.map(word).join(', ')})`;
  if (q.type) out += ` @${q.type}`;
  return out;
}

class Reader {
  i = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }
  peek(): string | undefined {
    return this.s[this.i];
  }
  eat(text: string): boolean {
    this.ws();
    if (this.s.startsWith(text, this.i)) {
      this.i += text.length;
      return true;
    }
    return false;
  }
  expect(text: string): void {
    if (!this.eat(text)) throw new Error(`expected "${text}" at ${this.i + 1}`);
  }
  /** A JSON string starting at the cursor. */
  string(): string {
    const start = this.i;
    let j = start + 1;
    while (j < this.s.length && this.s[j] !== '"') j += this.s[j] === '\\' ? 2 : 1;
    if (j >= this.s.length) throw new Error(`unterminated string at ${start + 1}`);
    this.i = j + 1;
    return JSON.parse(this.s.slice(start, j + 1)) as string;
  }
  /** A bare word or a JSON string. */
  word(what: string): string {
    this.ws();
    if (this.peek() === '"') return this.string();
    const m = /^[A-Za-z_][A-Za-z0-9_.\-/:]*/.exec(this.s.slice(this.i));
    if (!m) throw new Error(`expected a ${what} at ${this.i + 1}`);
    this.i += m[0].length;
    return m[0];
  }
  done(): boolean {
    this.ws();
    return this.i >= this.s.length;
  }
}

function filters(r: Reader): LabelFilter[] {
  const out: LabelFilter[] = [];
  if (!r.eat('{')) return out;
  if (r.eat('}')) return out;
  do {
    const key = r.word('label');
    r.ws();
    const op = (['=~', '!~', '!=', '='] as const).find((o) => r.eat(o));
    if (op === undefined) throw new Error(`expected = != =~ or !~ after "${key}"`);
    r.ws();
    if (r.peek() !== '"') throw new Error(`expected a quoted value after "${key}${op}"`);
    out.push({ key, op, value: r.string() });
  } while (r.eat(','));
  r.expect('}');
  return out;
}

/** The query a text form describes; an empty query and the reason when it does not parse. */
export function parseQuery(text: string): { query: ExploreQuery; error?: string } {
  const r = new Reader(text.trim());
  try {
    if (r.done()) return { query: { ...EMPTY_QUERY } };
    let agg: Agg | undefined;
    const save = r.i;
    const first = r.word('metric');
    let metric: string;
    if (r.eat('(')) {
      if (!AGGS.includes(first as Agg)) throw new Error(`unknown aggregation "${first}"`);
      agg = first as Agg;
      metric = r.word('metric');
    } else {
      r.i = save;
      metric = r.word('metric');
    }
    const fs = filters(r);
    if (agg) r.expect(')');
    let groupBy: string[] | undefined;
    if (r.eat('by')) {
      r.expect('(');
      groupBy = [];
      if (!r.eat(')')) {
        do groupBy.push(r.word('label'));
        while (r.eat(','));
        r.expect(')');
      }
    }
    let type: MetricType | undefined;
    if (r.eat('@')) {
      const t = r.word('type');
      if (!TYPES.includes(t as MetricType)) throw new Error(`unknown type "${t}"`);
      type = t as MetricType;
    }
    if (!r.done()) throw new Error(`unexpected "${r.s.slice(r.i, r.i + 12)}" at ${r.i + 1}`);
    return { query: { metric, ...(type ? { type } : {}), ...(agg ? { agg } : {}), filters: fs.slice(0, MAX_FILTERS), ...(groupBy ? { groupBy: [...new Set(groupBy)] } : {}) } };
  } catch (e) {
    return { query: { ...EMPTY_QUERY }, error: `query "${text.length > 80 ? `${text.slice(0, 80)}…` : text}" is not readable: ${(e as Error).message}` };
  }
}

/** A query's letter: A, B, … */
export function letter(index: number): string {
  return String.fromCharCode(65 + index);
}

/** The queries of a URL (every `q`, in order, at most MAX_QUERIES); one empty query when there is none. */
export function readQueries(params: URLSearchParams): { queries: ExploreQuery[]; errors: string[] } {
  const raw = params.getAll('q').slice(0, MAX_QUERIES);
  const parsed = raw.map(parseQuery);
  const queries = parsed.map((p) => p.query);
  return { queries: queries.length > 0 ? queries : [{ ...EMPTY_QUERY }], errors: parsed.flatMap((p) => (p.error ? [p.error] : [])) };
}

/** `params` with the queries written as `q` parameters (an empty lone query leaves none), everything else kept. */
export function writeQueries(params: URLSearchParams, queries: readonly ExploreQuery[]): URLSearchParams {
  const next = new URLSearchParams(params);
  next.delete('q');
  const keep = queries.length === 1 && queries[0]!.metric === '' ? [] : queries;
  for (const q of keep.slice(0, MAX_QUERIES)) next.append('q', formatQuery(q));
  return next;
}

/** The API's `filter` parameters of a query. */
export function filterParams(filters: readonly LabelFilter[]): string[] {
  return filters.map((f) => `${f.key}${f.op}${f.value}`);
}

/**
 * The URL once query `index` is removed: later queries move up a letter, so the hidden-query letters (`hide`) and
 * hidden series (`off`, ids that start with their letter) move with them; the removed query's go.
 */
export function removeQuery(params: URLSearchParams, queries: readonly ExploreQuery[], index: number): URLSearchParams {
  const next = writeQueries(params, queries.filter((_, i) => i !== index));
  const shift = (l: string): string | undefined => {
    const i = l.charCodeAt(0) - 65;
    return i === index ? undefined : i > index ? letter(i - 1) : l;
  };
  const hide = (params.get('hide') ?? '').split(',').flatMap((l) => (l === '' ? [] : [shift(l)].filter((x) => x !== undefined)));
  next.delete('hide');
  if (hide.length > 0) next.set('hide', hide.join(','));
  const off = params.getAll('off').flatMap((id) => {
    const l = shift(id.slice(0, 1));
    return l === undefined ? [] : [`${l}${id.slice(1)}`];
  });
  next.delete('off');
  for (const id of off) next.append('off', id);
  return next;
}
