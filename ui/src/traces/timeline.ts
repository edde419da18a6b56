/**
 * Small pure helpers of the trace view: a service's colour, ticks of the waterfall's time ruler, the logs of a
 * trace placed on its spans, the link to a span's logs, and the collapsed set's URL form.
 */
import type { LogRecord } from '../../../query/contract.ts';
import type { SpanTree } from './tree.ts';

/** A stable hue per service name, so one service keeps its colour across the view. */
export function serviceHue(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return h % 360;
}

/** Ruler ticks for a duration: 1-2-5 steps, about `count` of them, from 0. */
export function rulerTicks(durationNs: number, count = 5): number[] {
  if (durationNs <= 0) return [0];
  const raw = durationNs / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let t = 0; t <= durationNs * (1 + 1e-9); t += step) out.push(t);
  return out;
}

export interface PlacedLog {
  log: LogRecord;
  /** Nanoseconds from the trace's start (may be negative or past its end). */
  atNs: number;
}

/**
 * Each record at its span (by span id), or at the trace level when it has no span id or names a span not in the
 * trace; both lists in time order.
 */
export function placeLogs(tree: SpanTree, logs: readonly LogRecord[]): { bySpan: Map<string, PlacedLog[]>; traceLevel: PlacedLog[] } {
  const bySpan = new Map<string, PlacedLog[]>();
  const traceLevel: PlacedLog[] = [];
  for (const log of logs) {
    const p = { log, atNs: Number(BigInt(log.timeUnixNano) - tree.startUnixNano) };
    if (log.spanId !== '' && tree.byId.has(log.spanId)) {
      const list = bySpan.get(log.spanId);
      if (list) list.push(p);
      else bySpan.set(log.spanId, [p]);
    } else traceLevel.push(p);
  }
  const byTime = (a: PlacedLog, b: PlacedLog) => a.atNs - b.atNs;
  for (const l of bySpan.values()) l.sort(byTime);
  traceLevel.sort(byTime);
  return { bySpan, traceLevel };
}

/** Margin either side of a span in the link to its logs (records are often written just before or after). */
export const LOG_MARGIN_MS = 60_000;

/** `/logs?traceId=…&spanId=…&from=…&to=…`: the span's logs, over its time with a minute either side. */
export function spanLogsHref(traceId: string, spanId: string, startUnixNano: string, durationNano: string): string {
  const startMs = Number(BigInt(startUnixNano) / 1_000_000n);
  const endMs = startMs + Math.ceil(Number(durationNano) / 1e6);
  const sp = new URLSearchParams({
    traceId,
    spanId,
    from: new Date(startMs - LOG_MARGIN_MS).toISOString(),
    to: new Date(endMs + LOG_MARGIN_MS).toISOString(),
  });
  return `/logs?${sp.toString()}`;
}

/** The collapsed spans in the URL: span ids, comma-separated; unknown ids ignored. */
export function parseCollapsed(tree: SpanTree, raw: string): Set<number> {
  const out = new Set<number>();
  if (raw === '') return out;
  for (const id of raw.split(',')) {
    const i = tree.byId.get(id);
    if (i !== undefined && tree.nodes[i]!.children.length > 0) out.add(i);
  }
  return out;
}

export function formatCollapsed(tree: SpanTree, set: ReadonlySet<number>): string {
  return [...set]
    .sort((a, b) => a - b)
    .map((i) => tree.nodes[i]!.span.spanId)
    .join(',');
}
