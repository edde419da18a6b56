/**
 * Each registry page's module (under ui/src), so index.html's early script can preload a page's code for the
 * address it opens at (./early.ts): the page's chunk and everything it imports statically, plus the shell's
 * (shell/start.tsx), all fetched at once as the HTML is parsed instead of one after another (the entry, then what
 * it imports, then the page). The build writes which files each module needs (ui/vite.config.mjs); pages.ts's
 * `load()`s import exactly these modules (page-code.test.ts checks). Pure: part of the inline early script.
 */
import { matchFirst } from './match.ts';

/** The shell: loaded on every first load beside the page (main.tsx). */
export const SHELL_MODULE = 'shell/start.tsx';

export const PAGE_MODULES: readonly { path: string; module: string }[] = [
  { path: '/services', module: 'services/ServicesPage.tsx' },
  { path: '/services/:name', module: 'services/ServicePage.tsx' },
  { path: '/traces', module: 'traces/TracesPage.tsx' },
  { path: '/traces/:traceId', module: 'traces/TracePage.tsx' },
  { path: '/logs', module: 'logs/LogsPage.tsx' },
  { path: '/explore', module: 'explore/ExplorePage.tsx' },
];

/** The files to preload at `pathname`, given the build's module → files map; each once, the shell's first. */
export function codeFor(pathname: string, files: Readonly<Record<string, readonly string[]>>): string[] {
  const page = matchFirst(PAGE_MODULES, pathname)?.page.module;
  return [...new Set([...(files[SHELL_MODULE] ?? []), ...(page === undefined ? [] : (files[page] ?? []))])];
}
