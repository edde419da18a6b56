/**
 * A direct protobuf encoder for OTLP `ExportMetricsServiceRequest`, from the small model the conversion builds.
 *
 * Why not OTLP/JSON + `toProtobuf`: a scrape of a busy target is tens of thousands of points, and the JSON route
 * builds objects, a string and a byte array per value before the bytes we want. This writes the wire format once
 * into one growing Buffer: nested messages reserve one length byte and are shifted in place in the rare case their
 * body passes 127 bytes. Field numbers are those of opentelemetry-proto's metrics.proto (the same as
 * `#otlp/descriptor.ts`, which the unit test decodes the result with).
 */

import { LEN, PbWriter } from '#otlp/pb-writer.ts';

/** String attributes, as Prometheus labels are strings. */
export type Attrs = [key: string, value: string][];

export interface OtlpExemplar {
  attrs: Attrs;
  timeMs: number;
  value: number;
  traceId: Uint8Array | undefined;
  spanId: Uint8Array | undefined;
}

export interface NumberPoint {
  attrs: Attrs;
  startMs: number;
  timeMs: number;
  value: number;
  /** 1: FLAG_NO_RECORDED_VALUE (a Prometheus staleness marker). */
  flags: number;
  exemplars: OtlpExemplar[];
}

export interface HistogramPoint {
  attrs: Attrs;
  startMs: number;
  timeMs: number;
  count: number;
  sum: number | undefined;
  /** Per bucket (not cumulative), one more than `bounds`: the last is the implied +Inf bucket. */
  bucketCounts: number[];
  bounds: number[];
  exemplars: OtlpExemplar[];
}

export interface SummaryPoint {
  attrs: Attrs;
  startMs: number;
  timeMs: number;
  count: number;
  sum: number;
  quantiles: [quantile: number, value: number][];
}

interface MetricBase {
  name: string;
  description: string;
  unit: string;
  /** `metric.metadata["prometheus.type"]`, as the OTel Prometheus compatibility spec asks. */
  promType: string;
}

export type OtlpMetric = MetricBase &
  (
    | { kind: 'gauge'; points: NumberPoint[] }
    | { kind: 'sum'; monotonic: boolean; points: NumberPoint[] }
    | { kind: 'histogram'; points: HistogramPoint[] }
    | { kind: 'summary'; points: SummaryPoint[] }
  );

export interface OtlpScope {
  name: string;
  version: string;
  metrics: OtlpMetric[];
}

export interface OtlpResourceMetrics {
  resource: Attrs;
  scopes: OtlpScope[];
}

const CUMULATIVE = 2;
const VARINT = 0;

function keyValues(w: PbWriter, no: number, attrs: Attrs): void {
  for (const [k, v] of attrs) {
    const kv = w.fork(no);
    w.string(1, k);
    const any = w.fork(2);
    w.string(1, v);
    w.join(any);
    w.join(kv);
  }
}

function exemplars(w: PbWriter, no: number, list: OtlpExemplar[]): void {
  for (const e of list) {
    const at = w.fork(no);
    w.timeNs(2, e.timeMs);
    w.double(3, e.value);
    if (e.spanId) w.bytes(4, e.spanId);
    if (e.traceId) w.bytes(5, e.traceId);
    keyValues(w, 7, e.attrs);
    w.join(at);
  }
}

function numberPoints(w: PbWriter, points: NumberPoint[], withStart: boolean): void {
  for (const p of points) {
    const at = w.fork(1);
    if (withStart) w.timeNs(2, p.startMs);
    w.timeNs(3, p.timeMs);
    w.double(4, p.value);
    exemplars(w, 5, p.exemplars);
    keyValues(w, 7, p.attrs);
    if (p.flags !== 0) {
      w.tag(8, VARINT);
      w.varint(p.flags);
    }
    w.join(at);
  }
}

function metric(w: PbWriter, m: OtlpMetric): void {
  const at = w.fork(2);
  w.string(1, m.name);
  if (m.description !== '') w.string(2, m.description);
  if (m.unit !== '') w.string(3, m.unit);
  switch (m.kind) {
    case 'gauge': {
      const g = w.fork(5);
      numberPoints(w, m.points, false);
      w.join(g);
      break;
    }
    case 'sum': {
      const s = w.fork(7);
      numberPoints(w, m.points, true);
      w.tag(2, VARINT);
      w.varint(CUMULATIVE);
      if (m.monotonic) {
        w.tag(3, VARINT);
        w.varint(1);
      }
      w.join(s);
      break;
    }
    case 'histogram': {
      const h = w.fork(9);
      for (const p of m.points) {
        const dp = w.fork(1);
        w.timeNs(2, p.startMs);
        w.timeNs(3, p.timeMs);
        w.fixed64(4, p.count);
        if (p.sum !== undefined) w.double(5, p.sum);
        if (p.bucketCounts.length > 0) {
          w.tag(6, LEN);
          w.varint(p.bucketCounts.length * 8);
          for (const c of p.bucketCounts) w.rawFixed64(c);
        }
        if (p.bounds.length > 0) {
          w.tag(7, LEN);
          w.varint(p.bounds.length * 8);
          w.ensure(p.bounds.length * 8);
          for (const b of p.bounds) {
            w.buf.writeDoubleLE(b, w.pos);
            w.pos += 8;
          }
        }
        exemplars(w, 8, p.exemplars);
        keyValues(w, 9, p.attrs);
        w.join(dp);
      }
      w.tag(2, VARINT);
      w.varint(CUMULATIVE);
      w.join(h);
      break;
    }
    case 'summary': {
      const s = w.fork(11);
      for (const p of m.points) {
        const dp = w.fork(1);
        w.timeNs(2, p.startMs);
        w.timeNs(3, p.timeMs);
        w.fixed64(4, p.count);
        w.double(5, p.sum);
        for (const [q, v] of p.quantiles) {
          const qv = w.fork(6);
          w.double(1, q);
          w.double(2, v);
          w.join(qv);
        }
        keyValues(w, 7, p.attrs);
        w.join(dp);
      }
      w.join(s);
      break;
    }
  }
  keyValues(w, 12, [['prometheus.type', m.promType]]);
  w.join(at);
}

/** Encodes an `ExportMetricsServiceRequest` holding these resources. */
export function encodeMetricsRequest(resources: readonly OtlpResourceMetrics[]): Uint8Array {
  const w = new PbWriter();
  for (const rm of resources) {
    const r = w.fork(1);
    const res = w.fork(1);
    keyValues(w, 1, rm.resource);
    w.join(res);
    for (const scope of rm.scopes) {
      const sm = w.fork(2);
      const sc = w.fork(1);
      w.string(1, scope.name);
      if (scope.version !== '') w.string(2, scope.version);
      w.join(sc);
      for (const m of scope.metrics) metric(w, m);
      w.join(sm);
    }
    w.join(r);
  }
  return w.finish();
}

/** Data points in a metric (a histogram or summary point counts once). */
export function pointCount(m: OtlpMetric): number {
  return m.points.length;
}

/**
 * Splits one resource's metrics into requests of at most `maxPoints` data points each (a metric larger than that
 * goes alone, whole), so a 50,000-series cAdvisor scrape does not become one request over the gateway's limit.
 */
export function splitByPoints(rm: OtlpResourceMetrics, maxPoints: number): { resources: OtlpResourceMetrics; points: number }[] {
  const out: { resources: OtlpResourceMetrics; points: number }[] = [];
  let scopes: OtlpScope[] = [];
  let points = 0;
  const flush = () => {
    if (points === 0) return;
    out.push({ resources: { resource: rm.resource, scopes }, points });
    scopes = [];
    points = 0;
  };
  for (const scope of rm.scopes) {
    let current: OtlpScope | undefined;
    for (const m of scope.metrics) {
      const n = pointCount(m);
      if (points > 0 && points + n > maxPoints) {
        flush();
        current = undefined;
      }
      if (!current) {
        current = { name: scope.name, version: scope.version, metrics: [] };
        scopes.push(current);
      }
      current.metrics.push(m);
      points += n;
    }
    current = undefined;
  }
  flush();
  return out;
}
