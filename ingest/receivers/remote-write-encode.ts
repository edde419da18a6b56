/**
 * The OTLP `ExportMetricsServiceRequest` protobuf for converted remote_write series, written directly.
 *
 * Why not OTLP/JSON + `toProtobuf`: measured here, a 2,000-sample request took 57-93 ms that way (a JSON string
 * built, parsed again exactly, then written a byte at a time), ~35 µs a sample, a fifth of a core for a Prometheus
 * with 100k active series; this writer does the same in 2-7 ms (~1-3 µs a sample). Field numbers are opentelemetry-proto's
 * metrics.proto (the same as `#otlp/descriptor.ts`); the unit tests read the result back with the platform's decoder.
 * The writer is the shared one (#otlp/pb-writer.ts), also used by the agent's metrics.
 */

import { PbWriter } from '#otlp/pb-writer.ts';

export type Attr = [key: string, value: string];

export interface RwExemplar {
  attrs: Attr[];
  timeMs: number;
  value: number;
  traceId: Buffer | undefined;
  spanId: Buffer | undefined;
}

export interface RwPoint {
  timeMs: number;
  value: number;
  flags: number;
  exemplars: RwExemplar[] | undefined;
}

export interface RwMetric {
  name: string;
  description: string;
  unit: string;
  promType: string;
  /** undefined: a Gauge; otherwise a cumulative Sum, monotonic or not. */
  monotonic: boolean | undefined;
  /** Points, each with its series' attributes. */
  series: { attrs: Attr[]; points: RwPoint[] }[];
}

export interface RwResource {
  attrs: Attr[];
  scope: string;
  metrics: RwMetric[];
}

function keyValues(w: PbWriter, no: number, attrs: Attr[]): void {
  for (const [k, v] of attrs) {
    const kv = w.fork(no);
    w.string(1, k);
    const any = w.fork(2);
    w.string(1, v);
    w.join(any);
    w.join(kv);
  }
}

export function encodeRemoteWriteMetrics(resources: readonly RwResource[]): Uint8Array {
  const w = new PbWriter();
  for (const r of resources) {
    const rm = w.fork(1);
    const res = w.fork(1);
    keyValues(w, 1, r.attrs);
    w.join(res);
    const sm = w.fork(2);
    const sc = w.fork(1);
    w.string(1, r.scope);
    w.join(sc);
    for (const m of r.metrics) {
      const mm = w.fork(2);
      w.string(1, m.name);
      if (m.description !== '') w.string(2, m.description);
      if (m.unit !== '') w.string(3, m.unit);
      const data = w.fork(m.monotonic === undefined ? 5 : 7);
      for (const s of m.series) {
        for (const p of s.points) {
          const dp = w.fork(1);
          w.timeNs(3, p.timeMs);
          w.double(4, p.value);
          for (const e of p.exemplars ?? []) {
            const ex = w.fork(5);
            w.timeNs(2, e.timeMs);
            w.double(3, e.value);
            if (e.spanId) w.bytes(4, e.spanId);
            if (e.traceId) w.bytes(5, e.traceId);
            keyValues(w, 7, e.attrs);
            w.join(ex);
          }
          keyValues(w, 7, s.attrs);
          if (p.flags !== 0) {
            w.tag(8, 0);
            w.varint(p.flags);
          }
          w.join(dp);
        }
      }
      if (m.monotonic !== undefined) {
        w.tag(2, 0);
        w.varint(2); // cumulative
        if (m.monotonic) {
          w.tag(3, 0);
          w.varint(1);
        }
      }
      w.join(data);
      keyValues(w, 12, [['prometheus.type', m.promType]]);
      w.join(mm);
    }
    w.join(sm);
    w.join(rm);
  }
  return w.finish();
}
