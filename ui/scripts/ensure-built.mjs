// Builds the UI (ui/dist) when it is missing or older than its sources, so `npm install && npm start` serves
// the UI on a fresh machine with no manual step: run by the root package's `prepare` (npm runs the root's own
// lifecycle scripts on `npm install`) and `prestart`, and by the browser tests before they start a platform.
// A build that is current costs a directory walk (a few ms).
//
// Every built file worth compressing gets a brotli (`.br`, quality 11) and a gzip (`.gz`, level 9) sibling,
// which the query role sends as is to a browser that accepts them (query/ui.ts, @fastify/static
// `preCompressed`): compressed once here at the best levels, never per request. node:zlib only.
//
//   node ui/scripts/ensure-built.mjs           build if stale
//   node ui/scripts/ensure-built.mjs --force   build anyway
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

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

/** Text files compress; fonts and images are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.json', '.map', '.txt']);
/** Below this a compressed copy saves less than its own headers cost. */
const MIN_BYTES = 1024;

/**
 * Writes `<file>.br` and `<file>.gz` beside every compressible file under `dir` when they come out smaller;
 * returns what was written: files, bytes before, brotli and gzip bytes after.
 */
export function compressAll(dir) {
  const out = { files: 0, raw: 0, br: 0, gzip: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = compressAll(path);
      for (const k of Object.keys(out)) out[k] += sub[k];
      continue;
    }
    if (!COMPRESSIBLE.has(extname(entry.name))) continue;
    const raw = readFileSync(path);
    if (raw.length < MIN_BYTES) continue;
    const br = brotliCompressSync(raw, {
      params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT },
    });
    const gz = gzipSync(raw, { level: 9 });
    if (br.length < raw.length) writeFileSync(`${path}.br`, br);
    if (gz.length < raw.length) writeFileSync(`${path}.gz`, gz);
    out.files += 1;
    out.raw += raw.length;
    out.br += Math.min(br.length, raw.length);
    out.gzip += Math.min(gz.length, raw.length);
  }
  return out;
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
  const c = compressAll(join(UI, 'dist'));
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  if (!quiet) {
    const kb = (n) => `${Math.round(n / 1000)} KB`;
    console.log(
      `UI built into ui/dist in ${((Date.now() - started) / 1000).toFixed(1)} s (${c.files} files: ${kb(c.raw)}, ${kb(c.br)} as brotli, ${kb(c.gzip)} as gzip)`,
    );
  }
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensureBuilt({ force: process.argv.includes('--force') }).catch((err) => {
    console.error('UI build failed:', err?.message ?? err);
    process.exit(1);
  });
}
