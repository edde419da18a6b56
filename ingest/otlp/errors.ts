/**
 * The one error the OTLP decoders throw: malformed input, with WHERE (a path in OTLP/JSON field names,
 * also used for protobuf input) and WHAT.
 */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
  /** Where the problem is, e.g. `resourceSpans[0].scopeSpans[1].spans[3].traceId`; `''` for the request as a whole. */
  readonly path: string;
  /** What is wrong, e.g. `must be 16 bytes, got 3`. */
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(path === '' ? reason : `${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/**
 * Returns `err` with `segment` prepended to its path, for `catch (err) { throw within(err, `spans[${i}]`) }`.
 * Paths are built only while an error unwinds, so the happy path pays nothing for them.
 * Anything that is not an OtlpDecodeError passes through untouched.
 */
export function within(err: unknown, segment: string): unknown {
  if (!(err instanceof OtlpDecodeError)) return err;
  const p = err.path;
  const path = p === '' ? segment : p.charCodeAt(0) === 91 /* [ */ ? segment + p : `${segment}.${p}`;
  return new OtlpDecodeError(path, err.reason);
}
