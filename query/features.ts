/**
 * Route groups of the query API, registered without a central list: every module in query/routes/ exports a
 * `feature` (`defineFeature`), and the query API loads them all (`loadFeatures`). A new group (topology, HA,
 * dashboards, events) is a new file there. Each group says what it needs (a store, the pipeline reporter) and is
 * registered only in a process that has it, under /api/v1.
 */
import { readdir } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyPluginCallback } from 'fastify';
import type { PipelineStatus } from '#core/pipeline-status.ts';
import type { Store } from '#storage/client.ts';
import type { TailHub } from './tail/hub.ts';

/** What a process offers route groups. */
export interface FeatureDeps {
  store: Store;
  pipeline: () => PipelineStatus;
  /** The live tail's hub (the query role runs one). */
  tail: TailHub;
}

type Need = keyof FeatureDeps;

export interface QueryFeature<N extends Need = Need> {
  /** For logs and errors; unique. */
  name: string;
  needs: readonly N[];
  plugin: FastifyPluginCallback<Pick<FeatureDeps, N>> | FastifyPluginAsync<Pick<FeatureDeps, N>>;
}

export function defineFeature<N extends Need>(feature: QueryFeature<N>): QueryFeature<N> {
  return feature;
}

const ROUTES = new URL('./routes/', import.meta.url);

/** Every route group in query/routes/, by name; a module there without a `feature` export is a mistake, refused. */
export async function loadFeatures(): Promise<QueryFeature[]> {
  const files = (await readdir(ROUTES)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort();
  const features: QueryFeature[] = [];
  for (const file of files) {
    const mod = (await import(new URL(file, ROUTES).href)) as { feature?: QueryFeature };
    const f = mod.feature;
    if (f === undefined || typeof f.name !== 'string' || typeof f.plugin !== 'function' || !Array.isArray(f.needs)) {
      throw new Error(`query/routes/${file} exports no feature (export const feature = defineFeature({ … }))`);
    }
    if (features.some((g) => g.name === f.name)) throw new Error(`two route groups are named ${f.name}`);
    features.push(f);
  }
  return features;
}

/** Whether a process with `deps` can serve `feature`. */
export function servable(feature: QueryFeature, deps: { [K in keyof FeatureDeps]?: FeatureDeps[K] | undefined }): boolean {
  return feature.needs.every((n) => deps[n] !== undefined);
}
