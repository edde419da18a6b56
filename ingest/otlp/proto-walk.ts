/**
 * The resource → scope → item walk of an Export{Trace,Logs,Metrics}ServiceRequest in protobuf, one for the three
 * signals: each signal's decoder supplies only its item (span, log record, metric).
 *
 * Fields may come in any order, but every row needs its resource and scope: each level is read twice, first for the
 * resource (or scope) and schema URL, checking every field's wire type, then for its children. Errors name where they
 * happened in OTLP/JSON terms (`resourceSpans[0].scopeSpans[1].spans[3]...`), added as they unwind.
 */
import { known, levelTags, type LevelTags, type SignalShape } from './descriptor.ts';
import { within } from './errors.ts';
import { resourceInto, scopeInto } from './proto-common.ts';
import { newScope, resourceInfo, type ResourceInfo, type ScopeInfo } from './row-builders.ts';
import type { Attrs } from './rows.ts';
import { Reader, type Fields } from './wire.ts';

/**
 * Decodes the item at `[r.pos, end)` into `out`. `ri`, `si`, `ii` are its resource, scope and item indexes, for a
 * decoder that names an item without failing the request (metrics rejected for lack of data).
 */
export type ProtoItem<Out> = (
  r: Reader,
  end: number,
  resource: ResourceInfo,
  scope: ScopeInfo,
  out: Out,
  ri: number,
  si: number,
  ii: number,
) => void;

/** One signal's levels, prepared for the walk. */
export interface ProtoLevels {
  readonly tags: LevelTags;
  /** OTLP/JSON names of the lists, for error paths. */
  readonly resources: string;
  readonly scopes: string;
  readonly items: string;
  readonly requestKnown: Fields;
  readonly resourceKnown: Fields;
  readonly scopeKnown: Fields;
}

export function protoLevels(shape: SignalShape): ProtoLevels {
  return {
    tags: levelTags(shape),
    resources: shape.resources,
    scopes: shape.scopes,
    items: shape.items,
    requestKnown: known(shape.request),
    resourceKnown: known(shape.resource),
    scopeKnown: known(shape.scope),
  };
}

/** Walks a whole request, calling `item` for each item in order; returns `out`. */
export function walkProto<Out>(body: Uint8Array, validateOnly: boolean, levels: ProtoLevels, item: ProtoItem<Out>, out: Out): Out {
  const r = new Reader(body, validateOnly);
  const end = body.length;
  const resourcesTag = levels.tags.resources;
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === resourcesTag) {
      const e = r.lenEnd(end);
      try {
        resourceLevel(r, e, levels, item, out, i);
      } catch (err) {
        throw within(err, `${levels.resources}[${i}]`);
      }
      i++;
    } else r.unknown(tag, end, levels.requestKnown);
  }
  r.close(end);
  return out;
}

/** A ResourceSpans / ResourceLogs / ResourceMetrics `[pos, end)`. */
function resourceLevel<Out>(r: Reader, end: number, levels: ProtoLevels, item: ProtoItem<Out>, out: Out, ri: number): void {
  const t = levels.tags;
  const start = r.pos;
  const attrs: Attrs = {};
  let schemaUrl = '';
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === t.resource) {
      const e = r.lenEnd(end);
      try {
        resourceInto(r, e, attrs);
      } catch (err) {
        throw within(err, 'resource');
      }
    } else if (tag === t.resourceSchemaUrl) schemaUrl = r.string(end);
    else r.unknown(tag, end, levels.resourceKnown);
  }
  r.close(end);
  const resource = resourceInfo(attrs, schemaUrl);
  r.pos = start;
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === t.scopes) {
      const e = r.lenEnd(end);
      try {
        scopeLevel(r, e, levels, resource, item, out, ri, i);
      } catch (err) {
        throw within(err, `${levels.scopes}[${i}]`);
      }
      i++;
    } else r.skip(tag, end, 0);
  }
}

/** A ScopeSpans / ScopeLogs / ScopeMetrics `[pos, end)`. */
function scopeLevel<Out>(
  r: Reader,
  end: number,
  levels: ProtoLevels,
  resource: ResourceInfo,
  item: ProtoItem<Out>,
  out: Out,
  ri: number,
  si: number,
): void {
  const t = levels.tags;
  const start = r.pos;
  const scope = newScope();
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === t.scope) {
      const e = r.lenEnd(end);
      try {
        scopeInto(r, e, scope);
      } catch (err) {
        throw within(err, 'scope');
      }
    } else if (tag === t.scopeSchemaUrl) scope.schemaUrl = r.string(end);
    else r.unknown(tag, end, levels.scopeKnown);
  }
  r.close(end);
  Object.freeze(scope.attrs);
  r.pos = start;
  const itemsTag = t.items;
  let i = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === itemsTag) {
      const e = r.lenEnd(end);
      try {
        item(r, e, resource, scope, out, ri, si, i);
      } catch (err) {
        throw within(err, `${levels.items}[${i}]`);
      }
      i++;
    } else r.skip(tag, end, 0);
  }
}
