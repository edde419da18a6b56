/**
 * A log record as the tail handles it: the API's `LogRecord` (exactly what GET /api/v1/logs returns for the same
 * stored row), built from the row the writer inserted (#otlp's decoder output, the same bytes), plus what the
 * predicates of every viewer share, computed at most once per record however many viewers look at it: the body
 * lowercased as ClickHouse's `lower` does (ASCII only), its word tokens, and the record's JSON.
 */
import type { LogRow } from '#otlp/rows.ts';
import type { LogRecord } from '../contract.ts';

/** ASCII-only lowercase, as ClickHouse's `lower` and `positionCaseInsensitive` fold (not `É` → `é`). */
export function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]/g, (c) => c.toLowerCase()) : s;
}

// eslint-disable-next-line no-control-regex -- ClickHouse's token separators: ASCII that is not a letter or digit
const SEPARATORS = /[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+/;

export class TailRecord {
  #bodyLower: string | undefined;
  #tokens: Set<string> | undefined;
  #json: string | undefined;

  constructor(readonly record: LogRecord) {}

  get bodyLower(): string {
    return (this.#bodyLower ??= asciiLower(this.record.body));
  }

  /** Whole words of the lowercased body, as `hasToken(lower(Body), …)` sees them. */
  get tokens(): Set<string> {
    return (this.#tokens ??= new Set(this.bodyLower.split(SEPARATORS)));
  }

  /** The record serialized once, shared by every viewer's event. */
  get json(): string {
    return (this.#json ??= JSON.stringify(this.record));
  }
}

const NS_PER_S = 1_000_000_000n;

/** RFC 3339 with nine fraction digits, as ClickHouse writes a DateTime64(9) with `date_time_output_format = 'iso'`. */
export function isoNanos(ns: string): string {
  const n = BigInt(ns);
  let s = n / NS_PER_S;
  let frac = n % NS_PER_S;
  if (frac < 0n) {
    frac += NS_PER_S;
    s -= 1n;
  }
  const base = new Date(Number(s) * 1000).toISOString(); // …T22:14:50.000Z
  return `${base.slice(0, -5)}.${frac.toString().padStart(9, '0')}Z`;
}

/** The API's record for an inserted otel_logs row (query/sql/logs.ts selects the same columns under these names). */
export function toLogRecord(row: LogRow): LogRecord {
  return {
    timeUnixNano: row.Timestamp,
    time: isoNanos(row.Timestamp),
    traceId: row.TraceId,
    spanId: row.SpanId,
    traceFlags: row.TraceFlags,
    severityText: row.SeverityText,
    severityNumber: row.SeverityNumber,
    serviceName: row.ServiceName,
    body: row.Body,
    eventName: row.EventName,
    attributes: row.LogAttributes,
    resource: { attributes: row.ResourceAttributes, schemaUrl: row.ResourceSchemaUrl },
    scope: { name: row.ScopeName, version: row.ScopeVersion, attributes: row.ScopeAttributes, schemaUrl: row.ScopeSchemaUrl },
  };
}
