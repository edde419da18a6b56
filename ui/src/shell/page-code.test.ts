/** The early script preloads the code the registry's pages really load, and only the open page's. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAGES } from './pages.ts';
import { PAGE_MODULES, SHELL_MODULE, codeFor } from './page-code.ts';

describe('PAGE_MODULES', () => {
  it('names, for every registry page, the module its load() imports (as pages.ts is written)', () => {
    expect(PAGE_MODULES.map((p) => p.path)).toEqual(PAGES.map((p) => p.path));
    const source = readFileSync(new URL('./pages.ts', import.meta.url), 'utf8');
    const written = [...source.matchAll(/page\(\{\s*path: '([^']+)'[^]*?load: \(\) => import\('\.\.\/([^']+)'\)/g)].map((m) => ({ path: m[1], module: m[2] }));
    expect(written).toEqual(PAGE_MODULES);
  });
});

describe('codeFor', () => {
  const files = {
    [SHELL_MODULE]: ['/assets/start.js', '/assets/router.js'],
    'services/ServicesPage.tsx': ['/assets/ServicesPage.js', '/assets/DataTable.js', '/assets/router.js'],
    'traces/TracePage.tsx': ['/assets/TracePage.js'],
  };
  it.each([
    ['/services', ['/assets/start.js', '/assets/router.js', '/assets/ServicesPage.js', '/assets/DataTable.js']],
    ['/', ['/assets/start.js', '/assets/router.js', '/assets/ServicesPage.js', '/assets/DataTable.js']],
    ['/traces/0123456789abcdef0123456789abcdef', ['/assets/start.js', '/assets/router.js', '/assets/TracePage.js']],
    ['/logs', ['/assets/start.js', '/assets/router.js']],
    ['/nope', ['/assets/start.js', '/assets/router.js']],
  ])('%s', (path, want) => {
    expect(codeFor(path, files)).toEqual(want);
  });

  it('without a build map (the dev server), nothing', () => {
    expect(codeFor('/services', {})).toEqual([]);
  });
});
