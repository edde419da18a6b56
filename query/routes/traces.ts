/**
 * GET /api/v1/traces/{traceId}: every span of a trace; `shape=compact` (what the UI reads) lists each resource
 * and scope once and gives times as offsets (see toCompactTrace).
 * GET /api/v1/traces: trace search, newest first, as summaries, paged with a cursor.
 * GET /api/v1/traces/scatter: duration over time of the matching spans (the search page's chart), capped.
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { defineFeature } from '../features.ts';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '#core/errors.ts';
import type { Store } from '#storage/client.ts';
import type {
  CompactSpan,
  CompactTraceResponse,
  ScatterPoint,
  Span,
  TraceParams,
  TraceQuery,
  TraceResponse,
  TraceScatterQuery,
  TraceScatterResponse,
  TraceSearchQuery,
  TraceSearchResponse,
  TraceSummary,
} from '../contract.ts';
import { parseAttrFilters, parseTraceId } from '../params/filters.ts';
import { parseDurationNs, resolveRange } from '../params/time.ts';
import { acceptsGzip } from '../accept-encoding.ts';
import { runQuery, trimToLimit } from '../run.ts';
import { traceScatterSchema, traceSchema, traceSearchSchema } from '../schemas/traces.ts';
import {
  type TraceCursor,
  type TraceFilters,
  type TraceSearch,
  traceByIdSql,
  traceEventsSql,
  traceResourcesSql,
  traceScatterSql,
  traceSearchSql,
  traceSpansCompactSql,
} from '../sql/traces.ts';

export interface TraceRouteOptions {
  store: Store;
}

interface TraceRoute {
  Params: TraceParams;
  Querystring: TraceQuery;
  Reply: { 200: TraceResponse | CompactTraceResponse };
}

interface TraceSearchRoute {
  Querystring: TraceSearchQuery;
  Reply: { 200: TraceSearchResponse };
}

interface TraceScatterRoute {
  Querystring: TraceScatterQuery;
  Reply: { 200: TraceScatterResponse };
}

/** Cursors are opaque to clients: base64url of `<matching time ns>.<trace id>`. */
export function encodeTraceCursor(c: { matchTimeUnixNano: string; traceId: string }): string {
  return Buffer.from(`${c.matchTimeUnixNano}.${c.traceId}`).toString('base64url');
}

export function decodeTraceCursor(raw: string): TraceCursor {
  const m = /^(\d{1,20})\.([0-9a-f]{32})$/.exec(Buffer.from(raw, 'base64url').toString('latin1'));
  if (!m) throw new AppError('BAD_REQUEST', 'querystring/cursor is not a cursor this API returned');
  return { tsNs: BigInt(m[1]!), traceId: m[2]! };
}

/** Validated filters → what the SQL builders take. */
export function toTraceFilters(q: TraceScatterQuery | TraceSearchQuery, nowMs: number): TraceFilters {
  const duration = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const ns = parseDurationNs(v, 'ns');
    if (ns === undefined) throw new AppError('BAD_REQUEST', `querystring/${name} must be nanoseconds or a duration like 250ms, got "${v.slice(0, 64)}"`);
    return ns;
  };
  const minDurationNs = duration('minDuration', q.minDuration);
  const maxDurationNs = duration('maxDuration', q.maxDuration);
  if (minDurationNs !== undefined && maxDurationNs !== undefined && minDurationNs > maxDurationNs) {
    throw new AppError('BAD_REQUEST', 'querystring/minDuration must not exceed maxDuration');
  }
  return {
    range: resolveRange(q, nowMs),
    service: q.service,
    operation: q.operation,
    minDurationNs,
    maxDurationNs,
    status: q.status,
    attrs: parseAttrFilters('attr', q.attr),
  };
}

/** Validated query string → the search the SQL builder takes (exported for the benchmark and tests). */
export function toTraceSearch(q: TraceSearchQuery, nowMs: number): TraceSearch {
  return { ...toTraceFilters(q, nowMs), limit: q.limit, cursor: q.cursor === undefined ? undefined : decodeTraceCursor(q.cursor) };
}

/** A span as traceSpansCompactSql selects it (`nested`: it has events or links, which traceEventsSql reads). */
export interface CompactSpanRow {
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: string;
  startNs: string;
  durationNs: string;
  statusCode: string;
  statusMessage: string;
  attributes: Record<string, string>;
  resourceKey: string;
  scopeKey: string;
  nested: boolean | number;
}

/** A span's events and links as traceEventsSql selects them. */
export interface NestedRow {
  spanId: string;
  startNs: string;
  eventTimes: string[];
  eventNames: string[];
  eventAttributes: Record<string, string>[];
  linkTraceIds: string[];
  linkSpanIds: string[];
  linkTraceStates: string[];
  linkAttributes: Record<string, string>[];
}

/** A (resource, scope) pair as traceResourcesSql selects it. */
export interface ResourceRow {
  resourceKey: string;
  scopeKey: string;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  scopeName: string;
  scopeVersion: string;
}

/** A 64-bit decimal as a JSON number while exact, else the decimal string (the schema's `nanosNumber`). */
function exact(n: bigint): number | string {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

/**
 * The compact answer from the rows of traceSpansCompactSql (in start order, already trimmed to the limit),
 * traceResourcesSql and traceEventsSql (empty when no span has events or links). Resources and scopes are numbered in order of first use, so a trace of one service has
 * `resources: [one]`; a span's start is its offset from the earliest start. Exported for tests.
 */
export function toCompactTrace(
  traceId: string,
  rows: readonly CompactSpanRow[],
  pairs: readonly ResourceRow[],
  nestedRows: readonly NestedRow[],
  truncated: boolean,
): CompactTraceResponse {
  const nestedOf = new Map<string, NestedRow>();
  for (const n of nestedRows) nestedOf.set(`${n.spanId}/${n.startNs}`, n);
  const resourceOf = new Map<string, ResourceRow>();
  const scopeOf = new Map<string, ResourceRow>();
  for (const p of pairs) {
    if (!resourceOf.has(p.resourceKey)) resourceOf.set(p.resourceKey, p);
    if (!scopeOf.has(p.scopeKey)) scopeOf.set(p.scopeKey, p);
  }
  const resources: CompactTraceResponse['resources'] = [];
  const scopes: CompactTraceResponse['scopes'] = [];
  const resourceIndex = new Map<string, number>();
  const scopeIndex = new Map<string, number>();
  const base = rows.length === 0 ? 0n : BigInt(rows[0]!.startNs);
  const spans = rows.map((r): CompactSpan => {
    let resource = resourceIndex.get(r.resourceKey);
    if (resource === undefined) {
      const p = resourceOf.get(r.resourceKey);
      // Step 2 runs after step 1 and spans are only added, so a key is always found; were a part merged away
      // in between, the span keeps its place with an empty resource rather than failing the whole trace.
      resource = resources.push({ serviceName: p?.serviceName ?? '', attributes: p?.resourceAttributes ?? {} }) - 1;
      resourceIndex.set(r.resourceKey, resource);
    }
    let scope = scopeIndex.get(r.scopeKey);
    if (scope === undefined) {
      const p = scopeOf.get(r.scopeKey);
      scope = scopes.push({ name: p?.scopeName ?? '', version: p?.scopeVersion ?? '' }) - 1;
      scopeIndex.set(r.scopeKey, scope);
    }
    const d = Number(r.durationNs);
    const span: CompactSpan = {
      spanId: r.spanId,
      parentSpanId: r.parentSpanId,
      name: r.name,
      kind: r.kind,
      start: exact(BigInt(r.startNs) - base),
      duration: Number.isSafeInteger(d) ? d : r.durationNs,
      resource,
      scope,
      attributes: r.attributes,
    };
    if (r.statusCode !== 'Unset' || r.statusMessage !== '') span.status = { code: r.statusCode, message: r.statusMessage };
    if (r.traceState !== '') span.traceState = r.traceState;
    const n = r.nested ? nestedOf.get(`${r.spanId}/${r.startNs}`) : undefined;
    if (n && n.eventNames.length > 0) {
      span.events = n.eventNames.map((name, i) => ({ timeUnixNano: n.eventTimes[i]!, name, attributes: n.eventAttributes[i]! }));
    }
    if (n && n.linkSpanIds.length > 0) {
      span.links = n.linkSpanIds.map((spanId, i) => ({ traceId: n.linkTraceIds[i]!, spanId, traceState: n.linkTraceStates[i]!, attributes: n.linkAttributes[i]! }));
    }
    return span;
  });
  return { traceId, startTimeUnixNano: base.toString(), resources, scopes, spans, truncated };
}

const gzip = promisify(gzipCallback);

/** Bodies from this size are gzipped for a client that accepts it; below it the header costs more than it saves. */
export const GZIP_MIN_BYTES = 32 * 1024;

/**
 * A trace answer as JSON, gzipped (level 1) when the client accepts it and the body is large. A trace is the
 * API's largest answer: 10,000 spans are ~2 MB compact (5.4 MB full), ~0.2 MB gzipped; level 1 took 10-25 ms
 * of a zlib thread for that (level 6: 50-90 ms for a further 9%), so a browser across a real network gets the
 * trace 10 times sooner and the event loop does not wait for the compression.
 */
async function sendJson(req: FastifyRequest, reply: FastifyReply, body: unknown): Promise<FastifyReply> {
  const json = JSON.stringify(body);
  reply.type('application/json; charset=utf-8').header('vary', 'accept-encoding');
  if (json.length < GZIP_MIN_BYTES || !acceptsGzip(req.headers['accept-encoding'])) return reply.send(json);
  return reply.header('content-encoding', 'gzip').send(await gzip(json, { level: 1 }));
}

/** A summary as the search SQL selects it: the schema's fields and the cursor's time (not serialized). */
type SummaryRow = TraceSummary & { matchTimeUnixNano: string };
type ScatterRow = ScatterPoint & { total: number };

export const traceRoutes: FastifyPluginCallback<TraceRouteOptions> = (app, { store }, done) => {
  // A 10,000-span trace is 5.6 MB of JSON (full shape): the schema-compiled serializer took about a second for it
  // (with its Map-shaped attributes), JSON.stringify ~0.1 s. The SQL already selects exactly the schema's shape
  // (SPAN_COLUMNS; toCompactTrace builds exactly the compact one), so the schema still documents and types the
  // answer, and nothing is lost by not filtering it again: sendJson writes it.
  // Errors still go through the schema's serializers; the 200 answer is written by sendJson.
  app.get<TraceRoute>('/traces/:traceId', { schema: traceSchema }, async (req, reply) => {
    const traceId = parseTraceId(req.params.traceId);
    if (req.query.shape === 'compact') {
      const rows = await runQuery<CompactSpanRow>(store, traceSpansCompactSql(store.database, traceId, req.query.limit));
      if (rows.length === 0) throw new AppError('NOT_FOUND', `trace ${traceId} not found`);
      const truncated = trimToLimit(rows, req.query.limit);
      // Steps 2 and 3 after step 1: spans are only added, so they see every span step 1 saw.
      const pairs = await runQuery<ResourceRow>(store, traceResourcesSql(store.database, traceId));
      const nested = rows.some((r) => r.nested) ? await runQuery<NestedRow>(store, traceEventsSql(store.database, traceId)) : [];
      return sendJson(req, reply, toCompactTrace(traceId, rows, pairs, nested, truncated));
    }
    // The SQL selects spans in the schema's shape (SPAN_COLUMNS).
    const spans = await runQuery<Span>(store, traceByIdSql(store.database, traceId, req.query.limit));
    if (spans.length === 0) throw new AppError('NOT_FOUND', `trace ${traceId} not found`);
    const truncated = trimToLimit(spans, req.query.limit);
    return sendJson(req, reply, { traceId, spans, truncated } satisfies TraceResponse);
  });

  app.get<TraceSearchRoute>('/traces', { schema: traceSearchSchema }, async (req) => {
    const s = toTraceSearch(req.query, Date.now());
    const traces = await runQuery<SummaryRow>(store, traceSearchSql(store.database, s));
    if (!trimToLimit(traces, s.limit)) return { traces };
    return { traces, nextCursor: encodeTraceCursor(traces[traces.length - 1]!) };
  });

  app.get<TraceScatterRoute>('/traces/scatter', { schema: traceScatterSchema }, async (req) => {
    const points = await runQuery<ScatterRow>(store, traceScatterSql(store.database, toTraceFilters(req.query, Date.now()), req.query.limit));
    const total = points[0]?.total ?? 0;
    return { points, total, sampled: total > points.length };
  });
  done();
};

/** Registered by the query API (../features.ts). */
export const feature = defineFeature({ name: 'traces', needs: ['store'], plugin: traceRoutes });
