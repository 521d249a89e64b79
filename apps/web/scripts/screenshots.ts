/**
 * Screenshots of every page at the three viewports, for looking at the product (not a test):
 * `node --conditions=source --import tsx scripts/screenshots.ts [baseUrl] [outDir]` against a running
 * dashboard (e.g. `npm run demo`).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { VIEWPORTS, launchChromium, type ViewportName } from '../test/support/browser.js';

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const out = process.argv[3] ?? join(process.cwd(), '../../reports/screenshots');
const only = (process.env.VIEWPORTS?.split(',') ?? Object.keys(VIEWPORTS)) as ViewportName[];
mkdirSync(out, { recursive: true });

const { browser, close } = await launchChromium();
try {
  const page = await browser.newPage();
  for (const name of only) {
    await page.setViewport(VIEWPORTS[name]);
    await page.goto(`${base}/`, { waitUntil: 'load' });
    await page.waitForSelector('[data-testid="camera-row"]');
    await page.screenshot({ path: join(out, `overview-${name}.png`), fullPage: true });
    const href = await page.$$eval(
      '[data-testid="camera-link"]',
      (links, name) => (links.find((a) => a.textContent?.includes(name)) ?? links[0])?.getAttribute('href'),
      process.env.CAMERA ?? 'Main St',
    );
    for (const range of (process.env.RANGES ?? '24h').split(',')) {
      await page.goto(`${base}${href}?range=${range}`, { waitUntil: 'load' });
      await page.waitForSelector('[data-testid="counts-table"]');
      await page.waitForSelector('[data-testid="volume-chart"] svg');
      await new Promise((r) => setTimeout(r, 2500)); // let a few live crossings arrive (visual only)
      await page.screenshot({ path: join(out, `camera-${range}-${name}.png`), fullPage: true });
    }
    await page.goto(`${base}/system`, { waitUntil: 'load' });
    await page.waitForSelector('[data-testid="readiness-banner"]');
    await page.screenshot({ path: join(out, `system-${name}.png`), fullPage: true });
    console.log(`${name}: done`);
  }
} finally {
  await close();
}
