/**
 * Prometheus remote_write 1.0: the `prometheus.WriteRequest` protobuf (prompb/remote.proto, types.proto) decoded
 * with the platform's wire reader, and validated as Prometheus's own receiver validates it: every series has a
 * non-empty `__name__`, label names are non-empty, sorted and unique. A request that breaks a rule is rejected
 * whole (nothing is written), naming the series.
 *
 * Native histograms (TimeSeries field 4) are not part of remote_write 1.0's classic data model and OTLP has no
 * lossless place for them here: they are skipped and counted (`nativeHistograms`), the request's samples kept.
 */
import { OtlpDecodeError } from '#otlp/errors.ts';
import { I64, LEN, Reader, VARINT, i64ToNumber } from '#otlp/wire.ts';

export type PromLabels = [name: string, value: string][];

export interface PromSample {
  value: number;
  timestampMs: number;
  /** Prometheus's staleness marker (a NaN with bits 0x7ff0000000000002), told from other NaNs by its bits. */
  stale: boolean;
}

export interface PromExemplar {
  labels: PromLabels;
  value: number;
  timestampMs: number;
}

export interface PromSeries {
  labels: PromLabels;
  samples: PromSample[];
  exemplars: PromExemplar[];
}

/** prompb MetricMetadata.MetricType, by enum number. */
export const METRIC_TYPES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'] as const;
export type PromMetricType = (typeof METRIC_TYPES)[number];

export interface PromMetadata {
  type: PromMetricType;
  family: string;
  help: string;
  unit: string;
}

export interface WriteRequest {
  series: PromSeries[];
  metadata: PromMetadata[];
  /** Native histogram samples skipped. */
  nativeHistograms: number;
  /** Samples in all series. */
  samples: number;
}

const tag = (no: number, wire: number) => (no << 3) | wire;

function labelOf(r: Reader, end: number): [string, string] {
  let name = '';
  let value = '';
  while (r.pos < end) {
    const t = r.tag();
    if (t === tag(1, LEN)) name = r.string(end);
    else if (t === tag(2, LEN)) value = r.string(end);
    else r.skip(t, end, 0);
  }
  r.close(end);
  return [name, value];
}

function int64(r: Reader): number {
  r.v64();
  return i64ToNumber(r.lo, r.hi);
}

function sampleOf(r: Reader, end: number): PromSample {
  let value = 0;
  let timestampMs = 0;
  let stale = false;
  while (r.pos < end) {
    const t = r.tag();
    if (t === tag(1, I64)) {
      // Read the bits before the double: NaN payloads do not survive every path through a JS number.
      stale = r.pos + 8 <= end && r.view.getUint32(r.pos, true) === 0x00000002 && r.view.getUint32(r.pos + 4, true) === 0x7ff00000;
      value = r.double();
    }
    else if (t === tag(2, VARINT)) timestampMs = int64(r);
    else r.skip(t, end, 0);
  }
  r.close(end);
  return { value, timestampMs, stale };
}

function exemplarOf(r: Reader, end: number): PromExemplar {
  const labels: PromLabels = [];
  let value = 0;
  let timestampMs = 0;
  while (r.pos < end) {
    const t = r.tag();
    if (t === tag(1, LEN)) {
      const e = r.lenEnd(end);
      labels.push(labelOf(r, e));
    } else if (t === tag(2, I64)) value = r.double();
    else if (t === tag(3, VARINT)) timestampMs = int64(r);
    else r.skip(t, end, 0);
  }
  r.close(end);
  return { labels, value, timestampMs };
}

function seriesOf(r: Reader, end: number, counts: { nativeHistograms: number }): PromSeries {
  const labels: PromLabels = [];
  const samples: PromSample[] = [];
  const exemplars: PromExemplar[] = [];
  while (r.pos < end) {
    const t = r.tag();
    if (t === tag(1, LEN)) labels.push(labelOf(r, r.lenEnd(end)));
    else if (t === tag(2, LEN)) samples.push(sampleOf(r, r.lenEnd(end)));
    else if (t === tag(3, LEN)) exemplars.push(exemplarOf(r, r.lenEnd(end)));
    else if (t === tag(4, LEN)) {
      counts.nativeHistograms++;
      r.skip(t, end, 0);
    } else r.skip(t, end, 0);
  }
  r.close(end);
  return { labels, samples, exemplars };
}

function metadataOf(r: Reader, end: number): PromMetadata {
  const m: PromMetadata = { type: 'unknown', family: '', help: '', unit: '' };
  while (r.pos < end) {
    const t = r.tag();
    if (t === tag(1, VARINT)) m.type = METRIC_TYPES[r.i32()] ?? 'unknown';
    else if (t === tag(2, LEN)) m.family = r.string(end);
    else if (t === tag(4, LEN)) m.help = r.string(end);
    else if (t === tag(5, LEN)) m.unit = r.string(end);
    else r.skip(t, end, 0);
  }
  r.close(end);
  return m;
}

function describe(labels: PromLabels): string {
  const s = `{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`;
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

/** Decodes and validates a WriteRequest; throws OtlpDecodeError (a 400) with the reason. */
export function decodeWriteRequest(body: Uint8Array): WriteRequest {
  const r = new Reader(body);
  const end = body.length;
  const series: PromSeries[] = [];
  const metadata: PromMetadata[] = [];
  const counts = { nativeHistograms: 0 };
  let samples = 0;
  while (r.pos < end) {
    const t = r.tag();
    if (t === tag(1, LEN)) {
      const i = series.length;
      let s: PromSeries;
      try {
        s = seriesOf(r, r.lenEnd(end), counts);
      } catch (e) {
        if (e instanceof OtlpDecodeError) throw new OtlpDecodeError(`timeseries[${i}]${e.path ? `.${e.path}` : ''}`, e.reason);
        throw e;
      }
      validate(s, i);
      samples += s.samples.length;
      series.push(s);
    } else if (t === tag(3, LEN)) metadata.push(metadataOf(r, r.lenEnd(end)));
    else r.skip(t, end, 0);
  }
  return { series, metadata, nativeHistograms: counts.nativeHistograms, samples };
}

function validate(s: PromSeries, i: number): void {
  const where = `timeseries[${i}]`;
  let name: string | undefined;
  for (let j = 0; j < s.labels.length; j++) {
    const [k, v] = s.labels[j]!;
    if (k === '') throw new OtlpDecodeError(where, `empty label name in ${describe(s.labels)}`);
    if (j > 0) {
      const prev = s.labels[j - 1]![0];
      if (prev === k) throw new OtlpDecodeError(where, `duplicate label name "${k}" in ${describe(s.labels)}`);
      if (prev > k) throw new OtlpDecodeError(where, `labels are not sorted by name ("${prev}" before "${k}") in ${describe(s.labels)}`);
    }
    if (k === '__name__') name = v;
  }
  if (!name) throw new OtlpDecodeError(where, `no metric name (__name__ label) in ${describe(s.labels)}`);
}
