// Builds the UI (ui/dist) when it is missing or older than its sources, so `npm install && npm start` serves
// the UI on a fresh machine with no manual step: run by the root package's `prepare` (npm runs the root's own
// lifecycle scripts on `npm install`) and `prestart`, and by the browser tests before they start a platform.
// A build that is current costs a directory walk (a few ms).
//
//   node ui/scripts/ensure-built.mjs           build if stale
//   node ui/scripts/ensure-built.mjs --force   build anyway
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const UI = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(UI, 'dist', '.built');
/** What the bundle is made of: a change to any makes the build stale. */
const INPUTS = ['src', 'index.html', 'vite.config.mjs', '../package-lock.json', '../query/contract.ts', '../query/schemas'];

function newestMtime(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Why the build is stale, or undefined when it is current. */
export function staleness() {
  let built;
  try {
    built = statSync(STAMP).mtimeMs;
  } catch {
    return 'ui/dist is missing';
  }
  for (const input of INPUTS) if (newestMtime(join(UI, input)) > built) return `ui/${input} changed since the last build`;
  return undefined;
}

export async function ensureBuilt({ force = false, quiet = false } = {}) {
  const why = force ? 'forced' : staleness();
  if (why === undefined) return false;
  const started = Date.now();
  if (!quiet) console.log(`building the UI (${why}) …`);
  // Always a production bundle: a caller's NODE_ENV (vitest sets `test`) would otherwise make Vite bundle React's
  // development build (537 KB instead of 315 KB of entry JavaScript), which the platform would then serve.
  process.env.NODE_ENV = 'production';
  const { build } = await import('vite');
  await build({ configFile: join(UI, 'vite.config.mjs'), mode: 'production', logLevel: quiet ? 'error' : 'warn' });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  if (!quiet) console.log(`UI built into ui/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureBuilt({ force: process.argv.includes('--force') }).catch((err) => {
    console.error('UI build failed:', err?.message ?? err);
    process.exit(1);
  });
}
