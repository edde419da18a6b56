/**
 * A joined record → an OTLP log record: the body as written; a JSON object body also parsed into attributes (its
 * top-level fields, at most `MAX_FIELDS`, nested values kept as maps and arrays); the severity from a level field
 * or the text (severity.ts); `log.iostream` (stdout/stderr, OpenTelemetry's log attribute).
 *
 * The body stays the original text, so full-text search finds what the application wrote whatever its shape.
 */
import type { Attr, OutRecord, Value } from './encode.ts';
import { type Rec, textOf } from './join.ts';
import { severityOfFields, severityOfText } from './severity.ts';

const MAX_FIELDS = 64;

/** Shared by every record (the encoder only reads attributes): two objects fewer per record on the hot path. */
const IOSTREAM: Readonly<Record<Rec['stream'], Attr>> = {
  stdout: Object.freeze({ key: 'log.iostream', value: 'stdout' }),
  stderr: Object.freeze({ key: 'log.iostream', value: 'stderr' }),
};

function jsonFields(body: string): Record<string, unknown> | undefined {
  if (body.length < 2 || body.charCodeAt(0) !== 0x7b || body.charCodeAt(body.length - 1) !== 0x7d) return undefined;
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** JSON.parse output is already a Value, except numbers beyond 2^53 lose precision (as in every JSON reader). */
const asValue = (v: unknown): Value => v as Value;

export function toOutRecord(rec: Rec, observedNs: bigint): OutRecord {
  const body = textOf(rec);
  const attributes: Attr[] = [IOSTREAM[rec.stream]];
  if (rec.truncated) attributes.push({ key: 'log.record.truncated', value: true });
  const fields = jsonFields(body);
  let severity = undefined;
  if (fields !== undefined) {
    let n = 0;
    for (const [key, value] of Object.entries(fields)) {
      if (n++ >= MAX_FIELDS) break;
      if (key === 'log.iostream') continue;
      attributes.push({ key, value: asValue(value) });
    }
    severity = severityOfFields(fields);
  }
  severity ??= severityOfText(body);
  return {
    timeNs: rec.timeNs,
    observedNs: rec.timeNs === 0n ? observedNs : 0n,
    severityNumber: severity?.number ?? 0,
    severityText: severity?.text ?? '',
    body,
    attributes,
  };
}
