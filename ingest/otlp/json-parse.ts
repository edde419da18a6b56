/**
 * JSON parsing for OTLP/JSON.
 *
 * `JSON.parse` is native and fast but turns `1700000000123456789` into a rounded double. OTLP/JSON should send 64-bit
 * integers as strings, yet JSON numbers are allowed and must stay exact. So the decoder parses with `JSON.parse`
 * first and, only if it meets a 64-bit integer field holding an unsafe number, parses again with `parseExact`,
 * which keeps such numbers as their source text (`ExactNumber`).
 */
import { OtlpDecodeError } from './errors.ts';

/** A JSON number kept as its source text because a double cannot hold it exactly. */
export class ExactNumber {
  constructor(readonly text: string) {}
}

/** Thrown by field readers to ask for the exact re-parse; never escapes `decodeJson`. */
export class NeedExactNumbers extends Error {
  static readonly instance = new NeedExactNumbers('a 64-bit integer field holds a JSON number beyond 2^53');
}

export function parseFast(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new OtlpDecodeError('', `invalid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Deep enough for any real OTLP document (AnyValue nesting is bounded separately, and lower). */
const MAX_DEPTH = 512;

/**
 * A strict RFC 8259 parser producing what `JSON.parse` produces, except that integer literals beyond 2^53 in
 * magnitude become `ExactNumber` (other numbers: as `JSON.parse` reads them).
 */
export function parseExact(text: string): unknown {
  const p = new ExactParser(text);
  p.ws();
  const v = p.value(0);
  p.ws();
  if (p.pos !== text.length) p.fail('unexpected data after the JSON value');
  return v;
}

class ExactParser {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new OtlpDecodeError('', `invalid JSON: ${what} at position ${this.pos}`);
  }

  ws(): void {
    const s = this.s;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case 0x7b:
        return this.object(depth);
      case 0x5b:
        return this.array(depth);
      case 0x22:
        return this.string();
      case 0x74:
        return this.literal('true', true);
      case 0x66:
        return this.literal('false', false);
      case 0x6e:
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        if (Number.isNaN(c)) return this.fail('unexpected end of input');
        return this.fail(`unexpected character ${JSON.stringify(this.s[this.pos])}`);
    }
  }

  private literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.pos)) this.fail('invalid literal');
    this.pos += word.length;
    return v;
  }

  private object(depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.pos++;
    this.ws();
    if (this.s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.s.charCodeAt(this.pos) !== 0x22) this.fail('expected a property name');
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.ws();
      const v = this.value(depth + 1);
      // Like JSON.parse: an own property even for "__proto__", last duplicate wins.
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x7d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("expected ',' or '}'");
      }
      this.ws();
    }
  }

  private array(depth: number): unknown[] {
    const out: unknown[] = [];
    this.pos++;
    this.ws();
    if (this.s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("expected ',' or ']'");
      }
      this.ws();
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.pos;
    let p = start + 1;
    // Find the closing quote while validating characters and escapes, then let JSON.parse decode the literal.
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x22) break;
      if (Number.isNaN(c)) {
        this.pos = p;
        this.fail('unterminated string');
      }
      if (c < 0x20) {
        this.pos = p;
        this.fail('control character in string');
      }
      p += c === 0x5c ? 2 : 1;
    }
    this.pos = p + 1;
    try {
      return JSON.parse(s.slice(start, p + 1)) as string;
    } catch {
      this.pos = start;
      return this.fail('invalid string escape');
    }
  }

  private number(): number | ExactNumber {
    const s = this.s;
    const start = this.pos;
    NUMBER.lastIndex = start;
    const found = NUMBER.exec(s);
    if (found === null) this.fail('invalid number');
    this.pos = start + found[0].length;
    const text = found[0];
    const n = Number(text);
    // Also `1.7e18`-style literals: whatever denotes an integer a double cannot hold exactly.
    return Number.isInteger(n) && !Number.isSafeInteger(n) ? new ExactNumber(text) : n;
  }
}
