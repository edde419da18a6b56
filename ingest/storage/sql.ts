/**
 * A typed SQL tagged template: every interpolated value becomes a ClickHouse query parameter
 * (`{p0:String}`), never text in the statement. Fragments compose (`sql` inside `sql`), and the only way to
 * put raw text in is `unsafeRaw`, spelled so a reviewer sees it.
 *
 *   const q = sql`SELECT count() FROM otel_traces WHERE ServiceName = ${param('String', svc)}`;
 *   client.query({ query: q.text, query_params: q.params })
 */

export class Param {
  constructor(
    readonly type: string,
    readonly value: unknown,
  ) {}
}

type Part = string | Param;

export class Sql {
  constructor(readonly parts: readonly Part[]) {}

  /** Renders the statement text and its parameters, numbering parameters in order. */
  render(): { text: string; params: Record<string, unknown> } {
    let text = '';
    const params: Record<string, unknown> = {};
    let n = 0;
    for (const part of this.parts) {
      if (typeof part === 'string') text += part;
      else {
        const name = `p${n++}`;
        params[name] = part.value;
        text += `{${name}:${part.type}}`;
      }
    }
    return { text, params };
  }
}

/** A bound parameter of a ClickHouse type (`String`, `UInt64`, `DateTime64(9)`, `Array(String)`, …). */
export function param(type: string, value: unknown): Param {
  return new Param(type, value);
}

export function sql(strings: TemplateStringsArray, ...values: (Param | Sql)[]): Sql {
  const parts: Part[] = [];
  strings.forEach((s, i) => {
    parts.push(s);
    const v = values[i];
    if (v instanceof Sql) parts.push(...v.parts);
    else if (v !== undefined) parts.push(v);
  });
  return new Sql(parts);
}

/** Joins fragments with a separator (`AND`, `, `). An empty list yields an empty fragment. */
export function join(fragments: readonly Sql[], separator: string): Sql {
  const parts: Part[] = [];
  fragments.forEach((f, i) => {
    if (i > 0) parts.push(separator);
    parts.push(...f.parts);
  });
  return new Sql(parts);
}

/** Raw SQL text. Only for identifiers and keywords the code itself chose, never for user input. */
export function unsafeRaw(text: string): Sql {
  return new Sql([text]);
}

/**
 * A string literal (`'…'`, backslash and quote escaped) for the few statements that cannot carry parameters (see
 * `Store.insert`). The escaping makes any value a single literal, but keep to values the code itself made.
 */
export function stringLiteral(value: string): Sql {
  return unsafeRaw(`'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`);
}

/** Quotes an identifier the code chose (database, table) with backticks. */
export function ident(name: string): Sql {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid identifier: ${name}`);
  return unsafeRaw(`\`${name}\``);
}
