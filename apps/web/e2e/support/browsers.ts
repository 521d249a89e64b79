/**
 * Debian's Chromium and Firefox ESR driven by puppeteer-core (CDP and WebDriver BiDi), with the launch
 * options that work on our machines (RECIPES.md) and a fresh profile per launch. Never downloads a browser.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export type BrowserName = 'chromium' | 'firefox';

export const EXECUTABLES: Record<BrowserName, string> = {
  chromium: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  firefox: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
};

export async function launchBrowser(
  name: BrowserName,
): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), `its-e2e-${name}-`));
  const browser =
    name === 'chromium'
      ? await puppeteer.launch({
          executablePath: EXECUTABLES.chromium,
          headless: true,
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            `--user-data-dir=${profile}`,
          ],
        })
      : await puppeteer.launch({
          browser: 'firefox',
          executablePath: EXECUTABLES.firefox,
          headless: true,
          userDataDir: profile,
        });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
