// The UI build (Vite 8: Rolldown bundles, @vitejs/plugin-react transforms JSX). Output in ui/dist, which the
// query role serves at / (query/ui.ts): hashed files under /assets (cached for good), index.html never cached.
// `npm run dev:ui` serves the sources with hot reload on 127.0.0.1:5173, proxying the API to a running
// `npm start` on :8080.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { build } from 'rolldown';
import { defineConfig } from 'vite';

const api = 'http://127.0.0.1:8080';

/** The early script's bundle is inlined in every page load: past this, the build fails rather than grow it. */
const EARLY_MAX_BYTES = 12_000;

const SRC = fileURLToPath(new URL('src/', import.meta.url));

/**
 * For each lazily loaded module under src/ (the pages, the shell), the files it needs beyond the entry: its own
 * chunk and the chunks it imports statically, as URLs, the chunk first. The entry's own static imports are left
 * out: the page already preloads them.
 */
function codeFiles(bundle, entry) {
  const chunks = Object.values(bundle).filter((c) => c.type === 'chunk');
  const byName = new Map(chunks.map((c) => [c.fileName, c]));
  const loaded = new Set([entry?.fileName, ...(entry?.imports ?? [])]);
  const closure = (name, out) => {
    if (loaded.has(name) || out.includes(name)) return out;
    out.push(name);
    for (const dep of byName.get(name)?.imports ?? []) closure(dep, out);
    return out;
  };
  const files = {};
  for (const c of chunks) {
    if (!c.isDynamicEntry || !c.facadeModuleId?.startsWith(SRC)) continue;
    files[c.facadeModuleId.slice(SRC.length)] = closure(c.fileName, []).map((f) => `/${f}`);
  }
  return files;
}

/**
 * Inlines src/shell/early.ts, bundled on its own as a classic script, into index.html's <head>, so it runs as
 * the HTML is parsed and starts the first page's API requests before the entry has downloaded (see that file).
 * Bundled with rolldown, the bundler Vite itself runs on.
 */
function inlineEarlyScript() {
  return {
    name: 'crowsnest-inline-early-script',
    async transformIndexHtml(_html, ctx) {
      const out = await build({
        input: fileURLToPath(new URL('src/shell/early.ts', import.meta.url)),
        write: false,
        logLevel: 'warn',
        output: { format: 'iife', minify: true },
      });
      const code = out.output[0].code.trim();
      if (code.length > EARLY_MAX_BYTES) throw new Error(`the early script is ${code.length} bytes (limit ${EARLY_MAX_BYTES}): keep its imports pure and small`);
      if (code.includes('</script')) throw new Error('the early script contains "</script": it cannot be inlined');
      // Before it: each page module's files (ui/src/shell/page-code.ts), known only once the bundle is (not in dev).
      const files = ctx.bundle ? codeFiles(ctx.bundle, ctx.chunk) : {};
      return [
        { tag: 'script', children: `var __crowsnestCode=${JSON.stringify(files)};`, injectTo: 'head-prepend' },
        { tag: 'script', children: code, injectTo: 'head-prepend' },
      ];
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react(), inlineEarlyScript()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: true, proxy: { '/api': api, '/openapi.json': api } },
});
