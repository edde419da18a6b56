/**
 * What both decoders (protobuf and JSON) share about turning OTLP into the exporter's rows, so the two cannot drift.
 */

/** pdata `ptrace.SpanKind.String()`; `''` for values outside the enum, as pdata returns. */
const SPAN_KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
/** pdata `ptrace.StatusCode.String()`. */
const STATUS_CODES = ['Unset', 'Ok', 'Error'];

export function spanKindName(kind: number): string {
  return SPAN_KINDS[kind] ?? '';
}

export function statusCodeName(code: number): string {
  return STATUS_CODES[code] ?? '';
}

/** Enum value names accepted in OTLP/JSON besides integers (protojson accepts both). */
export const SPAN_KIND_ENUM: Readonly<Record<string, number>> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

export const STATUS_CODE_ENUM: Readonly<Record<string, number>> = {
  STATUS_CODE_UNSET: 0,
  STATUS_CODE_OK: 1,
  STATUS_CODE_ERROR: 2,
};

export const AGGREGATION_TEMPORALITY_ENUM: Readonly<Record<string, number>> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};

export const SEVERITY_NUMBER_ENUM: Readonly<Record<string, number>> = (() => {
  const out: Record<string, number> = { SEVERITY_NUMBER_UNSPECIFIED: 0 };
  const levels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
  levels.forEach((level, i) => {
    out[`SEVERITY_NUMBER_${level}`] = i * 4 + 1;
    for (let n = 2; n <= 4; n++) out[`SEVERITY_NUMBER_${level}${n}`] = i * 4 + n;
  });
  return out;
})();

/** Low 8 bits of span / log flags are the W3C trace flags (`flags & SPAN_FLAGS_TRACE_FLAGS_MASK`). */
export const TRACE_FLAGS_MASK = 0xff;

/**
 * Collects metrics that cannot become rows (their `data` oneof is absent or of an unknown kind): the request is still
 * accepted, and they are reported through OTLP partial success.
 */
export class MetricRejections {
  count = 0;
  private readonly samples: string[] = [];

  add(path: string, name: string): void {
    this.count++;
    if (this.samples.length < 5) this.samples.push(`${path} (${JSON.stringify(name)})`);
  }

  message(): string {
    if (this.count === 0) return '';
    const more = this.count > this.samples.length ? `, and ${this.count - this.samples.length} more` : '';
    return (
      `${this.count} metric${this.count === 1 ? '' : 's'} rejected: no data ` +
      `(none of gauge, sum, histogram, exponentialHistogram, summary is set): ${this.samples.join(', ')}${more}`
    );
  }
}
