/**
 * The resource → scope → item walk of an Export{Trace,Logs,Metrics}ServiceRequest in OTLP/JSON, one for the three
 * signals (the JSON twin of proto-walk.ts): each signal's decoder supplies only its item (span, log record, metric).
 * Errors name where they happened (`resourceSpans[0].scopeSpans[1].spans[3]...`), added as they unwind.
 */
import type { SignalShape } from './descriptor.ts';
import { within } from './errors.ts';
import { element, list, resource, scope, type Obj } from './json-common.ts';
import type { ResourceInfo, ScopeInfo } from './row-builders.ts';

/** Decodes one item into `out`; `ri`, `si`, `ii` are its resource, scope and item indexes (see proto-walk.ts). */
export type JsonItem<Out> = (item: Obj, resource: ResourceInfo, scope: ScopeInfo, out: Out, ri: number, si: number, ii: number) => void;

/** One signal's list names: lowerCamelCase and the original snake_case (both are accepted). */
export interface JsonLevels {
  readonly resources: string;
  readonly resourcesSnake: string | undefined;
  readonly scopes: string;
  readonly scopesSnake: string | undefined;
  readonly items: string;
  readonly itemsSnake: string | undefined;
}

const snake = (camel: string): string | undefined => {
  const s = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return s === camel ? undefined : s;
};

export function jsonLevels(shape: SignalShape): JsonLevels {
  return {
    resources: shape.resources,
    resourcesSnake: snake(shape.resources),
    scopes: shape.scopes,
    scopesSnake: snake(shape.scopes),
    items: shape.items,
    itemsSnake: snake(shape.items),
  };
}

/** Walks a whole request, calling `item` for each item in order; returns `out`. */
export function walkJson<Out>(request: Obj, levels: JsonLevels, item: JsonItem<Out>, out: Out): Out {
  const resources = list(request, levels.resources, levels.resourcesSnake);
  for (let i = 0; i < resources.length; i++) {
    try {
      const rx = element(resources[i]);
      const res = resource(rx);
      const scopes = list(rx, levels.scopes, levels.scopesSnake);
      for (let j = 0; j < scopes.length; j++) {
        try {
          const sx = element(scopes[j]);
          const sc = scope(sx);
          const items = list(sx, levels.items, levels.itemsSnake);
          for (let k = 0; k < items.length; k++) {
            try {
              item(element(items[k]), res, sc, out, i, j, k);
            } catch (err) {
              throw within(err, `${levels.items}[${k}]`);
            }
          }
        } catch (err) {
          throw within(err, `${levels.scopes}[${j}]`);
        }
      }
    } catch (err) {
      throw within(err, `${levels.resources}[${i}]`);
    }
  }
  return out;
}
