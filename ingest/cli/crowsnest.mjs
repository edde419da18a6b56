#!/usr/bin/env node
// The `crowsnest` command. The code is TypeScript run through tsx's loader, so there is no build step
// between a clone and a running platform.
//
// Except `crowsnest agent`, which runs on every node and must stay small: it runs the agent's precompiled bundle
// (agents/dist/agent.mjs, built by agents/scripts/build.mjs at install and rebuilt here when its sources changed),
// and through the loader only when that build fails. The bundle holds main.ts itself, so flags, config and
// signals behave the same either way.
import { pathToFileURL } from 'node:url';

const bundle = process.argv[2] === 'agent' ? (await import('../../agents/scripts/build.mjs')).currentBundle() : undefined;
if (bundle !== undefined) await import(pathToFileURL(bundle).href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('./main.ts');
  process.exitCode = await main(process.argv.slice(2), process.env);
}
