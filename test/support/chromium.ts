/**
 * Debian's Chromium for the browser tests (BRIEF decision 8): installed with apt when missing, launched through
 * playwright-core, which drives a browser it is given and downloads none. A fresh machine has no Chromium, so
 * the browser tests call `ensureChromium()` first (a few minutes once; instant after).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Installs Debian's `chromium` package when /usr/bin/chromium is missing (needs root, as on CI). */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM} is missing and this is not root: install it with \`sudo apt-get install -y chromium\``);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args: string[]) => execFileSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 900_000 });
  try {
    apt(['install', '-y', '--no-install-recommends', 'chromium']);
  } catch {
    // A fresh image often has no package lists yet.
    apt(['update']);
    apt(['install', '-y', '--no-install-recommends', 'chromium']);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
}

export interface TestBrowser {
  context: BrowserContext;
  /** The profile directory (its processes carry `--user-data-dir=<profile>`; benchmarks find them by it). */
  profile: string;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile (its --user-data-dir, which playwright takes as the persistent
 * context's directory), no background traffic (updates, sync, component downloads).
 */
export async function launchChromium(): Promise<TestBrowser> {
  ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'crowsnest-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    context,
    profile,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
