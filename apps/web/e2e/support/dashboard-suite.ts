/**
 * The user flows every browser runs at every viewport: the camera list, a camera page where a crossing
 * posted through the API during the test arrives live, changing the time range, and the system health
 * page. Each viewport gets its own camera, so flows never see each other's crossings. A failing flow
 * leaves a full-page screenshot in reports/screenshots/.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Camera, IntervalAggregate } from '@its/contracts';
import { launchBrowser, type BrowserName } from '../../test/support/browser.js';
import { countLine, fixedAggregate, ingestAggregates, postJson } from '../../test/support/traffic.js';
import { VIEWPORTS, VIEWPORT_NAMES, type ViewportName } from './viewports.js';

const SCREENSHOTS = new URL('../../../../reports/screenshots/', import.meta.url).pathname;
const MIN = 60_000;

/** Per camera: last 30 minutes NB-1 car 3/min + NB-2 car 2/min; 7 cars 3 h ago; 11 buses 2 days ago. */
const EXPECTED = { hour: 150, day: 157, week: 168, nb1car: 90, nb2car: 60 };

async function seedCamera(apiUrl: string, key: string, name: string): Promise<Camera> {
  const camera = (await postJson(
    apiUrl,
    '/api/v1/cameras',
    {
      name,
      streamUrl: 'rtsp://10.0.0.9/e2e',
      location: { lat: 47.6, lon: -122.33 },
      lines: [countLine('nb-1', 'NB-1'), countLine('nb-2', 'NB-2')],
    },
    key,
  )) as Camera;
  const m = Math.floor(Date.now() / MIN) * MIN;
  const rows: IntervalAggregate[] = [];
  for (let k = 1; k <= 30; k++)
    rows.push(
      fixedAggregate(camera.id, m - k * MIN, 'NB-1', 'car', 3, 50),
      fixedAggregate(camera.id, m - k * MIN, 'NB-2', 'car', 2, 56),
    );
  rows.push(
    fixedAggregate(camera.id, m - 180 * MIN, 'NB-1', 'car', 7, 48),
    fixedAggregate(camera.id, m - 2 * 1440 * MIN, 'NB-2', 'bus', 11, 40),
  );
  await ingestAggregates(apiUrl, key, rows);
  await postJson(
    apiUrl,
    '/api/v1/ingest/status',
    { cameras: [{ cameraId: camera.id, state: 'online' }] },
    key,
  );
  return camera;
}

const waitText = (page: Page, selector: string, expected: string) =>
  page.waitForFunction(
    (s: string, e: string) => document.querySelector(s)?.textContent?.trim() === e,
    { timeout: 15_000 },
    selector,
    expected,
  );
const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent?.trim() ?? '');

/** Nothing wider than the screen, whatever the viewport. */
async function expectNoHorizontalOverflow(page: Page, where: string): Promise<void> {
  const m = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(m.scrollWidth, `${where}: page wider than the viewport`).toBeLessThanOrEqual(m.innerWidth);
}

export function defineDashboardSuite(browserName: BrowserName): void {
  describe(`dashboard in ${browserName}`, () => {
    let browser: Browser;
    let close: (() => Promise<void>) | undefined;
    const { webUrl, apiUrl, apiKey } = inject('e2e');

    beforeAll(async () => {
      ({ browser, close } = await launchBrowser(browserName));
    });
    afterAll(async () => {
      await close?.();
    });

    /** A fresh page at the viewport; errors in the page fail the flow; a failure leaves a screenshot. */
    async function flow(
      name: string,
      viewport: ViewportName,
      fn: (page: Page) => Promise<void>,
    ): Promise<void> {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`pageerror: ${(e as Error).message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
      });
      try {
        await page.setViewport(VIEWPORTS[viewport]);
        page.setDefaultTimeout(15_000);
        await fn(page);
        expect(errors, 'errors in the page').toEqual([]);
      } catch (err) {
        mkdirSync(SCREENSHOTS, { recursive: true });
        await page
          .screenshot({
            path: join(SCREENSHOTS, `e2e-${browserName}-${viewport}-${name}.png`),
            fullPage: true,
          })
          .catch(() => {});
        throw err;
      } finally {
        await page.close();
      }
    }

    describe.each(VIEWPORT_NAMES)('at %s', (viewport) => {
      let camera: Camera;
      const row = () => `[data-testid="camera-row"][data-camera-id="${camera.id}"]`;

      beforeAll(async () => {
        camera = await seedCamera(
          apiUrl,
          apiKey,
          `E2E ${browserName} ${viewport} ${randomUUID().slice(0, 6)}`,
        );
      });

      it('camera list: the camera, its status and its 24-hour volume', async () => {
        await flow('camera-list', viewport, async (page) => {
          await page.goto(`${webUrl}/`, { waitUntil: 'load' });
          await page.waitForSelector(row());
          await waitText(page, `${row()} [data-testid="camera-volume-24h"]`, String(EXPECTED.day));
          expect(await text(page, `${row()} [data-testid="camera-link"]`)).toBe(camera.name);
          expect(
            await page.$eval(`${row()} [data-testid="camera-status"]`, (el) => el.getAttribute('data-state')),
          ).toBe('online');
          expect(await page.title()).toBe('Cameras · ITS Camera AI');
          await expectNoHorizontalOverflow(page, 'camera list');
        });
      });

      it('camera page: counts per lane, and a crossing posted now arrives live without a reload', async () => {
        await flow('camera-live', viewport, async (page) => {
          await page.goto(`${webUrl}/`, { waitUntil: 'load' });
          await page.waitForSelector(`${row()} [data-testid="camera-link"]`);
          // As an operator does: from the list, through client-side routing.
          await page.click(`${row()} [data-testid="camera-link"]`);
          await page.waitForSelector('[data-testid="counts-table"]');
          expect(new URL(page.url()).pathname).toBe(`/cameras/${camera.id}`);
          expect(await text(page, '[data-testid="camera-name"]')).toBe(camera.name);
          await waitText(page, '[data-testid="count-NB-1-car"]', String(EXPECTED.nb1car));
          await waitText(page, '[data-testid="count-NB-2-car"]', String(EXPECTED.nb2car));
          expect(await text(page, '[data-testid="count-total"]')).toBe(String(EXPECTED.hour));
          await page.waitForSelector(
            '[data-testid="live-counts"] [data-testid="live-indicator"][data-state="live"]',
          );
          await expectNoHorizontalOverflow(page, 'camera page');

          await page.evaluate(() => {
            (window as unknown as { marker: string }).marker = 'same page';
          });
          const event = {
            id: randomUUID(),
            cameraId: camera.id,
            lineId: 'nb-2',
            lane: 'NB-2',
            class: 'car',
            direction: 'forward',
            ts: new Date().toISOString(),
            speedKmh: 57.4,
            trackId: `t-${viewport}`,
          };
          await postJson(apiUrl, '/api/v1/ingest/events', { events: [event] }, apiKey);
          await waitText(page, '[data-testid="count-NB-2-car"]', String(EXPECTED.nb2car + 1));
          await waitText(page, '[data-testid="count-total"]', String(EXPECTED.hour + 1));
          await page.waitForSelector('[data-testid="feed-item"][data-lane="NB-2"][data-class="car"]');
          expect(await text(page, '[data-testid="feed-item"]')).toContain('57 km/h');
          expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe(
            'same page',
          );
        });
      });

      it('time range: each range shows its own total and is kept in the address', async () => {
        await flow('time-range', viewport, async (page) => {
          await page.goto(`${webUrl}/cameras/${camera.id}`, { waitUntil: 'load' });
          await page.waitForSelector('[data-testid="range-picker"]');
          await waitText(page, '[data-testid="stat-range-volume"] dd', String(EXPECTED.day));
          for (const [range, expected] of [
            ['1h', EXPECTED.hour],
            ['7d', EXPECTED.week],
            ['24h', EXPECTED.day],
          ] as const) {
            await page.click(`[data-testid="range-picker"] [data-range="${range}"]`);
            await waitText(page, '[data-testid="stat-range-volume"] dd', String(expected));
            expect(new URL(page.url()).searchParams.get('range')).toBe(range);
            expect(await page.$eval(`[data-range="${range}"]`, (b) => b.getAttribute('aria-pressed'))).toBe(
              'true',
            );
          }
          // The chosen range survives a reload (it lives in the address).
          await page.click('[data-testid="range-picker"] [data-range="7d"]');
          await waitText(page, '[data-testid="stat-range-volume"] dd', String(EXPECTED.week));
          await page.reload({ waitUntil: 'load' });
          await waitText(page, '[data-testid="stat-range-volume"] dd', String(EXPECTED.week));
        });
      });

      it('system health: reached from the navigation, every readiness check shown', async () => {
        await flow('system-health', viewport, async (page) => {
          await page.goto(`${webUrl}/`, { waitUntil: 'load' });
          await page.waitForSelector('nav[aria-label="Primary"] a[href="/system"]');
          await page.click('nav[aria-label="Primary"] a[href="/system"]');
          await page.waitForSelector('[data-testid="readiness-banner"]');
          expect(new URL(page.url()).pathname).toBe('/system');
          expect(
            await page.$eval('[data-testid="readiness-banner"]', (el) => el.getAttribute('data-status')),
          ).toBe('ok');
          expect(
            await page.$eval('[data-testid="check-database"]', (el) => el.getAttribute('data-status')),
          ).toBe('ok');
          const report = (await (await fetch(`${apiUrl}/health/ready`)).json()) as {
            checks: { name: string }[];
          };
          const shown = await page.$$eval('[data-testid="readiness-checks"] > li', (lis) =>
            lis.map((li) => li.getAttribute('data-testid')),
          );
          expect(shown).toEqual(report.checks.map((c) => `check-${c.name}`));
          await expectNoHorizontalOverflow(page, 'system page');
        });
      });
    });
  });
}
