/**
 * Prometheus exposition parser: the text format 0.0.4 and OpenMetrics 1.0, chosen by the response's Content-Type
 * (`formatOf`), into metric families with their samples, HELP, TYPE and UNIT.
 *
 * Design: one pass over the body, line by line, with a hand-written scanner per line (no regex on the hot path
 * except the value/timestamp checks). A malformed line rejects the whole scrape with an `ExpositionError` naming
 * the line, as Prometheus does: half a scrape would show series vanishing for one interval and fake counter resets.
 *
 * What each format allows (read against Prometheus's textparse and the OpenMetrics 1.0 spec):
 * - text 0.0.4: `# HELP`/`# TYPE` lines, any other `#` line is a comment; blank lines; spaces or tabs between tokens;
 *   a trailing comma in a label set; timestamps are integer milliseconds; types counter, gauge, histogram, summary,
 *   untyped; no exemplars, no `# EOF`.
 * - OpenMetrics: single spaces only, `# HELP`/`# TYPE`/`# UNIT`/`# EOF` and no other comments, the body must end
 *   with `# EOF` and nothing after it; timestamps are seconds (floats); types add gaugehistogram, info, stateset,
 *   unknown; exemplars (`# {labels} value [timestamp]`) after a sample; a UNIT must be a suffix of its metric name.
 * - both: label values escape `\\`, `\"`, `\n` (other backslash pairs are kept as written, like Prometheus); values
 *   are floats including NaN, +Inf, -Inf (Go's ParseFloat spellings, without hex floats and `_`); label names are
 *   unique per sample.
 *
 * Samples are grouped into families by name: an exact family name first (so a gauge named `x_created` stays a
 * gauge), then the family the name's type suffix points to (`_total`, `_created`, `_bucket`, `_count`, `_sum`,
 * `_gcount`, `_gsum`, `_info`) when that family's type has the suffix; otherwise the sample starts an untyped
 * (text) or unknown (OpenMetrics) family of its own.
 */

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown' | 'untyped';

/** Label pairs in the order the target wrote them. */
export type Labels = [name: string, value: string][];

export interface Exemplar {
  labels: Labels;
  value: number;
  /** Milliseconds since the epoch (OpenMetrics writes seconds; converted). */
  timestampMs: number | undefined;
}

export interface Sample {
  /** The full sample name, suffix included (`http_requests_total`, `latency_bucket`). */
  name: string;
  labels: Labels;
  value: number;
  /** Milliseconds since the epoch, when the target gave one. */
  timestampMs: number | undefined;
  exemplar: Exemplar | undefined;
}

export interface Family {
  name: string;
  type: FamilyType;
  help: string | undefined;
  unit: string | undefined;
  samples: Sample[];
}

export interface Exposition {
  format: ExpositionFormat;
  families: Family[];
  /** Samples in all families. */
  samples: number;
}

export interface ParseOptions {
  /** More samples than this fails the scrape (Prometheus's `sample_limit`). @default Infinity */
  sampleLimit?: number;
  /** More labels on one sample fails the scrape (Prometheus's `label_limit`). @default Infinity */
  labelLimit?: number;
}

export class ExpositionError extends Error {
  override name = 'ExpositionError';
  /** 1-based line of the problem (0: the body as a whole). */
  readonly line: number;
  constructor(line: number, message: string, text?: string) {
    super(line > 0 ? `line ${line}: ${message}${text === undefined ? '' : ` in ${JSON.stringify(truncate(text))}`}` : message);
    this.line = line;
  }
}

function truncate(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** The exposition format a response's Content-Type names (text 0.0.4 for anything else, as Prometheus falls back). */
export function formatOf(contentType: string | undefined): ExpositionFormat {
  const mediaType = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  return mediaType === 'application/openmetrics-text' ? 'openmetrics' : 'prometheus';
}

const TEXT_TYPES = new Set<FamilyType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const OM_TYPES = new Set<FamilyType>(['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown']);

/** The name suffixes each type's samples may carry ('' is the bare family name). */
const SUFFIXES: Record<FamilyType, readonly string[]> = {
  counter: ['_total', '_created'],
  gauge: [],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  summary: ['_count', '_sum', '_created'],
  info: ['_info'],
  stateset: [],
  unknown: [],
  untyped: [],
};
const ALL_SUFFIXES = ['_total', '_created', '_bucket', '_count', '_sum', '_gcount', '_gsum', '_info'];

// Go's strconv.ParseFloat spellings, minus hex floats and digit separators (which OpenMetrics forbids and no
// exporter writes).
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?)$|^nan$/i;
const INT = /^[+-]?\d+$/;

function parseFloatStrict(s: string): number | undefined {
  if (!FLOAT.test(s)) return undefined;
  const lower = s.toLowerCase();
  if (lower === 'nan') return NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(s);
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58; // a-z A-Z _ :
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}
function isLabelStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isLabelChar(c: number): boolean {
  return isLabelStart(c) || (c >= 48 && c <= 57);
}

export function isMetricName(s: string): boolean {
  if (s.length === 0 || !isNameStart(s.charCodeAt(0))) return false;
  for (let i = 1; i < s.length; i++) if (!isNameChar(s.charCodeAt(i))) return false;
  return true;
}

/** Unescapes a label value: `\\`, `\"`, `\n`; any other pair stays as written (Prometheus does the same). */
function unescapeValue(s: string, quote: boolean): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      const n = s[i + 1];
      if (n === '\\') out += '\\';
      else if (n === 'n') out += '\n';
      else if (n === '"' && quote) out += '"';
      else out += `\\${n}`;
      i++;
    } else out += c;
  }
  return out;
}

/** A scanner over one line. */
class Line {
  pos = 0;
  constructor(
    readonly text: string,
    readonly no: number,
    readonly om: boolean,
  ) {}

  fail(message: string): never {
    throw new ExpositionError(this.no, message, this.text);
  }
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(): number {
    return this.text.charCodeAt(this.pos);
  }
  /** Text format: any run of spaces and tabs. OpenMetrics: exactly one space. Returns whether any was there. */
  space(required: boolean, what: string): boolean {
    const start = this.pos;
    if (this.om) {
      if (this.text.charCodeAt(this.pos) === 32) this.pos++;
    } else {
      while (this.pos < this.text.length && (this.text.charCodeAt(this.pos) === 32 || this.text.charCodeAt(this.pos) === 9)) this.pos++;
    }
    if (required && this.pos === start) this.fail(`expected a space ${what}`);
    return this.pos > start;
  }
  /** Optional blanks inside a label set (text format only). */
  blanks(): void {
    if (!this.om) this.space(false, '');
  }
  metricName(): string {
    const start = this.pos;
    if (this.done || !isNameStart(this.peek())) this.fail('expected a metric name');
    this.pos++;
    while (!this.done && isNameChar(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
  labelName(): string {
    const start = this.pos;
    if (this.done || !isLabelStart(this.peek())) this.fail('expected a label name');
    this.pos++;
    while (!this.done && isLabelChar(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
  /** A quoted label value, unescaped. */
  labelValue(): string {
    if (this.peek() !== 34) this.fail('expected a quoted label value');
    const start = ++this.pos;
    let escaped = false;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 92) {
        escaped = true;
        this.pos += 2;
        continue;
      }
      if (c === 34) break;
      this.pos++;
    }
    if (this.pos >= this.text.length) this.fail('unterminated label value');
    const raw = this.text.slice(start, this.pos);
    this.pos++; // closing quote
    return escaped ? unescapeValue(raw, true) : raw;
  }
  /** `{name="value",...}` (the opening brace already seen); a trailing comma is allowed in the text format. */
  labels(limit: number): Labels {
    const out: Labels = [];
    this.pos++; // {
    this.blanks();
    if (this.peek() === 125) {
      this.pos++;
      return out;
    }
    for (;;) {
      const name = this.labelName();
      this.blanks();
      if (this.peek() !== 61) this.fail(`expected "=" after label name "${name}"`);
      this.pos++;
      this.blanks();
      const value = this.labelValue();
      for (const [n] of out) if (n === name) this.fail(`duplicate label name "${name}"`);
      out.push([name, value]);
      if (out.length > limit) this.fail(`more than ${limit} labels`);
      this.blanks();
      const c = this.peek();
      if (c === 125) {
        this.pos++;
        return out;
      }
      if (c !== 44) this.fail('expected "," or "}" in a label set');
      this.pos++;
      this.blanks();
      if (this.peek() === 125 && !this.om) {
        this.pos++;
        return out;
      }
    }
  }
  /** The next token up to a blank (or the end). */
  token(): string {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 32 || c === 9) break;
      this.pos++;
    }
    return this.text.slice(start, this.pos);
  }
  value(what: string): number {
    const t = this.token();
    if (t === '') this.fail(`expected a ${what}`);
    const v = parseFloatStrict(t);
    if (v === undefined) this.fail(`invalid ${what} "${t}"`);
    return v;
  }
  timestamp(what: string): number {
    const t = this.token();
    if (this.om) {
      const v = parseFloatStrict(t);
      if (v === undefined || !Number.isFinite(v)) this.fail(`invalid ${what} "${t}"`);
      return v * 1000;
    }
    if (!INT.test(t)) this.fail(`invalid ${what} "${t}" (integer milliseconds)`);
    return Number(t);
  }
}

/** Appends the HELP text: text format unescapes `\\` and `\n`, OpenMetrics also `\"`. */
function helpText(s: string, om: boolean): string {
  return unescapeValue(s, om);
}

/**
 * Parses one scrape body. Throws `ExpositionError` on the first malformed line (the scrape is rejected whole).
 */
export function parseExposition(text: string, format: ExpositionFormat, opts: ParseOptions = {}): Exposition {
  const om = format === 'openmetrics';
  const sampleLimit = opts.sampleLimit ?? Infinity;
  const labelLimit = opts.labelLimit ?? Infinity;
  const families: Family[] = [];
  const byName = new Map<string, Family>();
  /** Families declared by metadata (TYPE/HELP/UNIT), which name suffixes may resolve to. */
  const declared = new Set<Family>();
  /** Families a TYPE line named (a second, different TYPE is an error). */
  const typed = new Set<Family>();
  let samples = 0;
  let eof = false;

  const family = (name: string): Family => byName.get(name) ?? newFamily(name);
  /** The family a sample belongs to: its exact name if declared, else the family its type suffix points to. */
  const familyOf = (name: string): Family => {
    const exact = byName.get(name);
    if (exact && (declared.has(exact) || exact.samples.length > 0)) return exact;
    for (const suffix of ALL_SUFFIXES) {
      if (!name.endsWith(suffix)) continue;
      const base = byName.get(name.slice(0, -suffix.length));
      if (base && declared.has(base) && SUFFIXES[base.type].includes(suffix)) return base;
    }
    return family(name);
  };

  const lines = text.split('\n');
  // The final newline ends the last line; it does not start an empty one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    if (eof) throw new ExpositionError(lineNo, 'unexpected data after # EOF', raw);
    const lineText = !om && raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (lineText === '' || (!om && lineText.trim() === '')) {
      if (om) throw new ExpositionError(lineNo, 'blank lines are not allowed in OpenMetrics');
      continue;
    }
    const line = new Line(lineText, lineNo, om);
    if (lineText.charCodeAt(0) === 35) {
      if (om && lineText === '# EOF') eof = true;
      else metadata(line);
      continue;
    }
    sample(line);
  }
  if (om && !eof) throw new ExpositionError(0, 'OpenMetrics body does not end with "# EOF" (truncated?)');
  return { format, families, samples };

  function metadata(line: Line): void {
    const t = line.text;
    // Text format: "#", blanks, keyword, blanks. OpenMetrics: exactly "# KEYWORD ".
    line.pos = 1;
    if (om) {
      if (t.charCodeAt(1) !== 32) line.fail('expected "# " to start a metadata line');
      line.pos = 2;
    } else line.space(false, '');
    const keyword = line.token();
    if (keyword !== 'HELP' && keyword !== 'TYPE' && keyword !== 'UNIT') {
      if (om) line.fail(`unknown metadata line "# ${keyword}" (OpenMetrics allows HELP, TYPE, UNIT and EOF)`);
      return; // a comment
    }
    if (keyword === 'UNIT' && !om) return; // not part of the text format: a comment
    if (!line.space(false, '')) {
      if (om) line.fail(`expected a metric name after ${keyword}`);
      return; // "# HELP" alone is a comment in the text format
    }
    const name = line.metricName();
    const hasSpace = om ? line.text.charCodeAt(line.pos) === 32 : line.space(false, '');
    if (om && hasSpace) line.pos++;
    if (!line.done && !hasSpace) line.fail(`expected a space after the metric name in ${keyword}`);
    const rest = line.text.slice(line.pos);
    if (om && !hasSpace) line.fail(`expected text in ${keyword}`);
    const f = byName.get(name);
    if (keyword === 'TYPE') {
      const type = (om ? rest : rest.trimEnd()) as FamilyType;
      if (!(om ? OM_TYPES : TEXT_TYPES).has(type)) line.fail(`invalid metric type "${rest}"`);
      if (f && typed.has(f)) {
        if (f.type !== type) line.fail(`second TYPE line for metric "${name}" (${f.type}, then ${type})`);
        return;
      }
      // A TYPE after samples of the same name starts the family afresh (Prometheus reads metadata as it comes).
      const fam = f && f.samples.length === 0 ? f : newFamily(name);
      fam.type = type;
      typed.add(fam);
      declared.add(fam);
    } else if (keyword === 'HELP') {
      const fam = f ?? family(name);
      declared.add(fam);
      fam.help ??= helpText(om ? rest : rest, om);
    } else {
      if (rest !== '' && !name.endsWith(`_${rest}`)) line.fail(`unit "${rest}" is not a suffix of metric "${name}"`);
      const fam = f ?? family(name);
      declared.add(fam);
      fam.unit = rest === '' ? undefined : rest;
    }
  }

  function newFamily(name: string): Family {
    const f: Family = { name, type: om ? 'unknown' : 'untyped', help: undefined, unit: undefined, samples: [] };
    byName.set(name, f);
    families.push(f);
    return f;
  }

  function sample(line: Line): void {
    const name = line.metricName();
    let labels: Labels = [];
    // The text format allows blanks between the name and the label set.
    const blank = !om && line.space(false, '');
    if (line.peek() === 123) {
      labels = line.labels(labelLimit);
      line.space(true, 'before the value');
    } else if (!blank) line.space(true, 'before the value');
    const value = line.value('sample value');
    let timestampMs: number | undefined;
    let exemplar: Exemplar | undefined;
    if (line.space(false, '')) {
      if (line.done && om) line.fail('trailing space after the value');
      if (!line.done && line.peek() !== 35) {
        timestampMs = line.timestamp('timestamp');
        if (line.space(false, '') && line.done && om) line.fail('trailing space after the timestamp');
      }
      if (!line.done) {
        if (line.peek() !== 35) line.fail('unexpected text after the timestamp');
        if (!om) line.fail('exemplars are only valid in OpenMetrics');
        exemplar = exemplarOf(line);
      }
    } else if (!line.done) line.fail('expected a space after the value');
    const fam = familyOf(name);
    if (++samples > sampleLimit) throw new ExpositionError(line.no, `sample limit of ${sampleLimit} exceeded`);
    fam.samples.push({ name, labels, value, timestampMs, exemplar });
  }

  function exemplarOf(line: Line): Exemplar | undefined {
    // "# {labels} value [timestamp]", the "# " already at line.pos.
    if (line.text.charCodeAt(line.pos) !== 35 || line.text.charCodeAt(line.pos + 1) !== 32 || line.text.charCodeAt(line.pos + 2) !== 123) {
      line.fail('expected "# {" to start an exemplar');
    }
    line.pos += 2;
    const labels = line.labels(Infinity);
    line.space(true, 'before the exemplar value');
    const value = line.value('exemplar value');
    let timestampMs: number | undefined;
    if (line.space(false, '')) timestampMs = line.timestamp('exemplar timestamp');
    if (!line.done) line.fail('unexpected text after the exemplar');
    // OpenMetrics caps an exemplar's label set at 128 characters; a longer one is dropped, the sample kept.
    let length = 0;
    for (const [k, v] of labels) length += k.length + v.length;
    return length > 128 ? undefined : { labels, value, timestampMs };
  }
}
