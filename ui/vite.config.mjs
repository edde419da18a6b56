// The UI build (Vite 8: Rolldown bundles, @vitejs/plugin-react transforms JSX). Output in ui/dist, which the
// query role serves at / (query/ui.ts): hashed files under /assets (cached for good), index.html never cached.
// `npm run dev:ui` serves the sources with hot reload on 127.0.0.1:5173, proxying the API to a running
// `npm start` on :8080.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
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
