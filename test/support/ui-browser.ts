/**
 * The browser tests' fixture, one per test file: the UI built when its sources are newer (as `npm start` does),
 * Debian's Chromium (./chromium.ts), the real platform in this process (./platform.ts) and one page; screenshots
 * go to test/e2e/screenshots/ (git-ignored). Torn down after the file.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { type TestBrowser, launchChromium } from './chromium.ts';
import { type TestPlatform, startTestPlatform } from './platform.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SHOTS = join(ROOT, 'test', 'e2e', 'screenshots');

export interface UiFixture {
  platform: TestPlatform;
  chrome: TestBrowser;
  page: Page;
  /** A screenshot of the page as `<name>.png`; the whole page unless `fullPage` is false. */
  shot(name: string, fullPage?: boolean): Promise<Buffer>;
}

/** Registers the fixture's hooks (before the file's own, so they can use it); `flags` go to the platform. */
export function useUiFixture(flags: string[] = []): () => UiFixture {
  let fixture: UiFixture | undefined;
  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'ui', 'scripts', 'ensure-built.mjs')], { stdio: 'inherit' });
    const chrome = await launchChromium();
    const platform = await startTestPlatform(flags);
    const page = await chrome.context.newPage();
    mkdirSync(SHOTS, { recursive: true });
    fixture = { platform, chrome, page, shot: (name, fullPage = true) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage }) };
  }, 900_000);
  afterAll(async () => {
    await fixture?.chrome.close();
    await fixture?.platform.stop();
  });
  return () => {
    if (fixture === undefined) throw new Error('the UI fixture is used before its beforeAll ran');
    return fixture;
  };
}
