/**
 * Page test: the real dashboard in Debian's Chromium and Firefox ESR against a real API (embedded store
 * in a temp dir, one API and one dashboard server per browser so the runs cannot disturb each other),
 * with data ingested through the API's HTTP endpoints. Checks that what the API holds is what the
 * operator sees — lists, counts per lane × class, range totals, live updates over SSE, readiness —
 * and that the layout holds at desktop, tablet and phone sizes. A failing step leaves a screenshot in
 * reports/screenshots/.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'vite';
import type { Browser, Page } from 'puppeteer-core';
import type { FastifyInstance } from 'fastify';
import { startApi, type RunningApi } from '@its/api';
import type { Camera, IntervalAggregate, WorkerLeases } from '@its/contracts';
import { freePort } from '@its/testkit';
import { buildWebApp } from '../src/app.js';
import {
  BROWSERS,
  VIEWPORTS,
  launchBrowser,
  type BrowserName,
  type ViewportName,
} from './support/browser.js';
import { countLine, fixedAggregate, ingestAggregates, postJson } from './support/traffic.js';

const here = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = join(here, '../../../reports/screenshots');
const MIN = 60_000;

let publicDir: string;
let buildDir: string;

/** One API (own data dir), one dashboard server and one browser, for one browser's run. */
type Stack = {
  api: RunningApi;
  web: FastifyInstance;
  webUrl: string;
  key: string;
  browser: Browser;
  main: Camera;
  side: Camera;
  close: () => Promise<void>;
};

/**
 * What we store, and so what the page must show. Main camera, last 30 whole minutes: NB-1 car 3/min,
 * NB-1 truck 1/min, NB-2 car 2/min → last hour 90 + 30 + 60 = 180. Plus 7 cars 3 h ago (24 h: 187)
 * and 11 buses 2 days ago (7 d: 198).
 */
const EXPECTED = { hour: 180, day: 187, week: 198, nb1car: 90, nb1truck: 30, nb2car: 60, sideDay: 4 };

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), 'its-web-page-'));
  publicDir = join(buildDir, 'public');
  // Build the client from the current sources, so the test never looks at a stale bundle.
  await build({
    configFile: join(here, '../vite.config.ts'),
    mode: 'production',
    logLevel: 'warn',
    build: { outDir: publicDir, emptyOutDir: true, sourcemap: false },
  });
});

afterAll(() => {
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

async function startStack(browserName: BrowserName): Promise<Stack> {
  const dataDir = mkdtempSync(join(tmpdir(), `its-web-api-${browserName}-`));
  const webPort = await freePort();
  const webUrl = `http://127.0.0.1:${webPort}`;
  // A long lease TTL: the workers the system-page test registers must stay live through a slow browser.
  const api = await startApi({ dataDir, env: { CORS_ORIGINS: webUrl, LEASE_TTL_MS: '300000' } });
  const key = (await api.createApiKey('page-test')).key;

  const main = (await postJson(
    api.url,
    '/api/v1/cameras',
    {
      name: 'Main St northbound',
      streamUrl: 'rtsp://user:secret@10.0.0.5/s1',
      location: { lat: 47.6062, lon: -122.3321 },
      lines: [countLine('nb-1', 'NB-1'), countLine('nb-2', 'NB-2')],
    },
    key,
  )) as Camera;
  const side = (await postJson(
    api.url,
    '/api/v1/cameras',
    {
      name: 'Harbor Bridge eastbound',
      streamUrl: 'rtsp://10.0.0.6/s1',
      location: { lat: 47.59, lon: -122.34 },
      lines: [countLine('eb-1', 'EB-1')],
    },
    key,
  )) as Camera;

  const m = Math.floor(Date.now() / MIN) * MIN;
  const rows: IntervalAggregate[] = [];
  for (let k = 1; k <= 30; k++) {
    const t = m - k * MIN;
    rows.push(
      fixedAggregate(main.id, t, 'NB-1', 'car', 3, 50),
      fixedAggregate(main.id, t, 'NB-1', 'truck', 1, 44),
      fixedAggregate(main.id, t, 'NB-2', 'car', 2, 56),
    );
  }
  rows.push(fixedAggregate(main.id, m - 180 * MIN, 'NB-1', 'car', 7, 48));
  rows.push(fixedAggregate(main.id, m - 2 * 1440 * MIN, 'NB-2', 'bus', 11, 40));
  rows.push(fixedAggregate(side.id, m - 10 * MIN, 'EB-1', 'car', 4, 61));
  await ingestAggregates(api.url, key, rows);
  await postJson(
    api.url,
    '/api/v1/ingest/status',
    {
      cameras: [
        { cameraId: main.id, state: 'online' },
        { cameraId: side.id, state: 'offline', reason: 'RTSP timeout: no frames for 45 s' },
      ],
    },
    key,
  );

  const web = await buildWebApp({
    config: { apiPublicUrl: api.url, version: 'page-test', logLevel: 'warn' },
    publicDir,
  });
  await web.listen({ host: '127.0.0.1', port: webPort });
  const { browser, close: closeBrowser } = await launchBrowser(browserName);
  return {
    api,
    web,
    webUrl,
    key,
    browser,
    main,
    side,
    close: async () => {
      await closeBrowser();
      await web.close();
      await api.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh page at a viewport; browser errors fail the test; a failure leaves a screenshot. */
async function withPage(
  stack: Stack,
  name: string,
  viewport: ViewportName,
  fn: (page: Page) => Promise<void>,
): Promise<void> {
  const page = await stack.browser.newPage();
  await page.setViewport(VIEWPORTS[viewport]);
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${(e as Error).message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  try {
    await fn(page);
    expect(errors, 'errors in the browser').toEqual([]);
  } catch (err) {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const browserName = (await stack.browser.version()).toLowerCase().includes('firefox')
      ? 'firefox'
      : 'chromium';
    await page
      .screenshot({ path: join(SCREENSHOTS, `${name}-${browserName}-${viewport}.png`), fullPage: true })
      .catch(() => {});
    throw err;
  } finally {
    await page.close();
  }
}

const text = (page: Page, testId: string) =>
  page.$eval(`[data-testid="${testId}"]`, (el) => el.textContent?.trim() ?? '');
type Lease = { cameraId: string; epoch: number };
const unassignedLinks = (page: Page) =>
  page.$$eval('[data-testid="unassigned-cameras"] [data-testid="unassigned-camera-link"]', (els) =>
    els.map((a) => [a.textContent?.trim(), a.getAttribute('href')]),
  );
const waitText = (page: Page, selector: string, expected: string) =>
  page.waitForFunction(
    (s, e) => document.querySelector(s)?.textContent?.trim() === e,
    {},
    selector,
    expected,
  );

describe.each(BROWSERS)('dashboard page test in %s (real API)', (browserName) => {
  let stack: Stack;
  let api: RunningApi;
  let webUrl: string;
  let key: string;
  let main: Camera;
  let side: Camera;
  beforeAll(async () => {
    stack = await startStack(browserName);
    ({ api, webUrl, key, main, side } = stack);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('lists the cameras with status, reason, last seen and 24-hour volume', async () => {
    await withPage(stack, 'camera-list', 'desktop', async (page) => {
      await page.goto(`${webUrl}/`, { waitUntil: 'load' });
      await page.waitForSelector(`[data-camera-id="${main.id}"]`);
      await waitText(
        page,
        `[data-camera-id="${main.id}"] [data-testid="camera-volume-24h"]`,
        String(EXPECTED.day),
      );

      const row = (id: string) => `[data-testid="camera-row"][data-camera-id="${id}"]`;
      expect(await page.$eval(`${row(main.id)} [data-testid="camera-link"]`, (a) => a.textContent)).toBe(
        'Main St northbound',
      );
      expect(
        await page.$eval(`${row(main.id)} [data-testid="camera-status"]`, (el) =>
          el.getAttribute('data-state'),
        ),
      ).toBe('online');
      expect(
        await page.$eval(`${row(main.id)} [data-testid="camera-last-seen"]`, (el) => el.textContent),
      ).toBe('just now');
      expect(
        await page.$eval(`${row(side.id)} [data-testid="camera-status"]`, (el) =>
          el.getAttribute('data-state'),
        ),
      ).toBe('offline');
      expect(
        await page.$eval(`${row(side.id)} [data-testid="camera-status-reason"]`, (el) => el.textContent),
      ).toBe('RTSP timeout: no frames for 45 s');
      expect(
        await page.$eval(`${row(side.id)} [data-testid="camera-volume-24h"]`, (el) => el.textContent),
      ).toBe(String(EXPECTED.sideDay));
      // Cameras that need attention are listed first.
      expect(
        await page.$$eval('[data-testid="camera-row"]', (rows) =>
          rows.map((r) => r.getAttribute('data-camera-id')),
        ),
      ).toEqual([side.id, main.id]);
      const stat = (id: string) => page.$eval(`[data-testid="${id}"] .stat__value`, (el) => el.textContent);
      expect(await stat('stat-cameras')).toBe('2');
      expect(await stat('stat-online')).toBe('1');
      expect(await stat('stat-attention')).toBe('1');
      expect(await stat('stat-volume')).toBe(String(EXPECTED.day + EXPECTED.sideDay));
      expect(await page.title()).toBe('Cameras · ITS Camera AI');
    });
  }, 60_000);

  it('shows counts per lane and class and the totals of each range on the camera page', async () => {
    await withPage(stack, 'camera-page', 'desktop', async (page) => {
      await page.goto(`${webUrl}/`, { waitUntil: 'load' });
      // Navigate as an operator does: through the list (client-side routing). The list renders after
      // its fetch resolves, so wait for the row before clicking it.
      const link = `[data-camera-id="${main.id}"] [data-testid="camera-link"]`;
      await page.waitForSelector(link);
      await page.click(link);
      await page.waitForSelector('[data-testid="counts-table"]');
      expect(new URL(page.url()).pathname).toBe(`/cameras/${main.id}`);
      expect(await text(page, 'camera-name')).toBe('Main St northbound');

      expect(await text(page, 'count-NB-1-car')).toBe(String(EXPECTED.nb1car));
      expect(await text(page, 'count-NB-1-truck')).toBe(String(EXPECTED.nb1truck));
      expect(await text(page, 'count-NB-2-car')).toBe(String(EXPECTED.nb2car));
      expect(await text(page, 'count-NB-2-truck')).toBe('0');
      expect(await text(page, 'count-total')).toBe(String(EXPECTED.hour));

      // Default range 24 h; then each range gives its own total.
      await waitText(page, '[data-testid="stat-range-volume"] dd', String(EXPECTED.day));
      for (const [range, expected] of [
        ['1h', EXPECTED.hour],
        ['7d', EXPECTED.week],
        ['24h', EXPECTED.day],
      ] as const) {
        await page.click(`[data-testid="range-picker"] [data-range="${range}"]`);
        await waitText(page, '[data-testid="stat-range-volume"] dd', expected.toLocaleString('en-GB'));
        expect(new URL(page.url()).searchParams.get('range')).toBe(range);
        expect(await page.$eval(`[data-range="${range}"]`, (b) => b.getAttribute('aria-pressed'))).toBe(
          'true',
        );
      }
      // Volume-weighted mean speed over 24 h: (90·50 + 30·44 + 60·56 + 7·48) / 187 = 51.
      expect(await page.$eval('[data-testid="stat-mean-speed"] dd', (el) => el.textContent)).toBe('51 km/h');
      expect(
        await page.$$eval('[data-testid="volume-chart"] .chart__bars rect', (r) => r.length),
      ).toBeGreaterThan(0);
      expect(
        await page.$$eval(
          '[data-testid="speed-chart"] path.chart__line',
          (p) => p.filter((x) => (x.getAttribute('d') ?? '').length > 0).length,
        ),
      ).toBe(2);
      // The stream URL's credentials never reach the screen: the API gives the dashboard (anonymous)
      // only scheme, host, port and path (it was `rtsp://•••@…`, which still told where a password was).
      expect(await page.$eval('.stream-url code', (el) => el.textContent)).toBe('rtsp://10.0.0.5/s1');
    });
  }, 60_000);

  it('shows a crossing posted during the test without a reload, and never counts it twice', async () => {
    await withPage(stack, 'live', 'desktop', async (page) => {
      await page.goto(`${webUrl}/cameras/${main.id}?range=1h`, { waitUntil: 'load' });
      await page.waitForSelector('[data-testid="counts-table"]');
      await page.waitForSelector(
        '[data-testid="live-counts"] [data-testid="live-indicator"][data-state="live"]',
      );
      await waitText(page, '[data-testid="stat-range-volume"] dd', String(EXPECTED.hour));
      await page.evaluate(() => {
        (window as unknown as { marker: string }).marker = 'same page';
      });

      const ts = new Date();
      const event = {
        id: randomUUID(),
        cameraId: main.id,
        lineId: 'nb-2',
        lane: 'NB-2',
        class: 'car',
        direction: 'forward',
        ts: ts.toISOString(),
        speedKmh: 57.4,
        trackId: 't-1',
      };
      await postJson(api.url, '/api/v1/ingest/events', { events: [event] }, key);
      await waitText(page, '[data-testid="count-NB-2-car"]', String(EXPECTED.nb2car + 1));
      await page.waitForSelector('[data-testid="feed-item"][data-lane="NB-2"][data-class="car"]');
      expect(await page.$eval('[data-testid="feed-item"]', (el) => el.textContent)).toContain('57 km/h');

      // The worker then reports that minute's aggregate, which already includes the crossing.
      const minute = Math.floor(ts.getTime() / MIN) * MIN;
      await ingestAggregates(api.url, key, [fixedAggregate(main.id, minute, 'NB-2', 'car', 1, 57.4)]);
      await waitText(page, '[data-testid="stat-range-volume"] dd', String(EXPECTED.hour + 1));
      expect(await text(page, 'count-NB-2-car')).toBe(String(EXPECTED.nb2car + 1));
      expect(await text(page, 'count-total')).toBe(String(EXPECTED.hour + 1));

      // A status change reported by the worker shows up live too.
      await postJson(
        api.url,
        '/api/v1/ingest/status',
        { cameras: [{ cameraId: main.id, state: 'offline', reason: 'stream lost' }] },
        key,
      );
      await page.waitForSelector(
        '[data-testid="camera-page"] [data-testid="camera-status"][data-state="offline"]',
      );
      expect(await text(page, 'camera-status-reason')).toBe('stream lost');
      await postJson(
        api.url,
        '/api/v1/ingest/status',
        { cameras: [{ cameraId: main.id, state: 'online' }] },
        key,
      );
      await page.waitForSelector(
        '[data-testid="camera-page"] [data-testid="camera-status"][data-state="online"]',
      );

      expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
    });
  }, 60_000);

  it('renders /health/ready on the system page', async () => {
    await withPage(stack, 'system', 'desktop', async (page) => {
      await page.goto(`${webUrl}/system`, { waitUntil: 'load' });
      await page.waitForSelector('[data-testid="readiness-banner"]');
      expect(
        await page.$eval('[data-testid="readiness-banner"]', (el) => el.getAttribute('data-status')),
      ).toBe('ok');
      expect(await page.$eval('[data-testid="check-database"]', (el) => el.getAttribute('data-status'))).toBe(
        'ok',
      );
      expect(
        await page.$eval(
          '[data-testid="check-database"] [data-testid="check-status"]',
          (el) => el.textContent,
        ),
      ).toBe('OK');
      expect(await text(page, 'api-base-url')).toBe(api.url);
      // Every check the API reports is listed.
      const report = (await (await fetch(`${api.url}/health/ready`)).json()) as {
        checks: { name: string }[];
      };
      const shown = await page.$$eval('[data-testid="readiness-checks"] > li', (lis) =>
        lis.map((li) => li.getAttribute('data-testid')),
      );
      expect(shown).toEqual(report.checks.map((c) => `check-${c.name}`));

      // No worker has registered yet: the page says how to start one, and every enabled camera is unassigned.
      await page.waitForSelector('[data-testid="workers-empty"]');
      expect(await text(page, 'workers-empty')).toContain('npm start -w @its/vision-worker');
      expect(await unassignedLinks(page)).toEqual([
        ['Harbor Bridge eastbound', `/cameras/${side.id}`],
        ['Main St northbound', `/cameras/${main.id}`],
      ]);
    });
  }, 60_000);

  it('shows each vision worker with its cameras, lease ages and heartbeat, and the unassigned cameras', async () => {
    // Registers workers through the real lease API. Runs after the tests that count cameras: it adds two.
    const heartbeat = (
      workerId: string,
      body: {
        name: string;
        capacity: number;
        version?: string;
        held?: Lease[];
        released?: Lease[];
        leaving?: boolean;
      },
    ) =>
      postJson(
        api.url,
        '/api/v1/workers/heartbeat',
        { workerId, cameraIds: null, held: [], released: [], ...body },
        key,
      ) as Promise<WorkerLeases>;
    const refs = (a: WorkerLeases) => a.leases.map((l) => ({ cameraId: l.cameraId, epoch: l.epoch }));
    const createCamera = async (name: string) =>
      (await postJson(
        api.url,
        '/api/v1/cameras',
        {
          name,
          streamUrl: 'rtsp://10.0.0.9/s1',
          location: { lat: 47.6, lon: -122.3 },
          lines: [countLine('l-1', 'L-1')],
        },
        key,
      )) as Camera;
    const dock = await createCamera('Dock Rd southbound');
    const [a, b, old] = [randomUUID(), randomUUID(), randomUUID()];

    // A worker that came and left: listed, not live, holding nothing (it held Main St: epoch 1).
    const oldAnswer = await heartbeat(old, { name: 'vision-old', capacity: 1 });
    await heartbeat(old, { name: 'vision-old', capacity: 1, held: refs(oldAnswer), leaving: true });
    // vision-a alone takes all three; vision-b joins with no camera left, so vision-a is asked to hand
    // one off; it releases that one and (vision-b still being below its share) is asked for another;
    // vision-b then takes the released camera.
    const a1 = await heartbeat(a, { name: 'vision-a', version: '1.4.0', capacity: 3 });
    expect(a1.leases).toHaveLength(3);
    expect((await heartbeat(b, { name: 'vision-b', capacity: 1 })).leases).toEqual([]);
    const a2 = await heartbeat(a, { name: 'vision-a', version: '1.4.0', capacity: 3, held: refs(a1) });
    expect(a2.handOff).toHaveLength(1);
    const released = a2.handOff[0]!;
    const a3 = await heartbeat(a, {
      name: 'vision-a',
      version: '1.4.0',
      capacity: 3,
      held: refs(a2).filter((l) => l.cameraId !== released.cameraId),
      released: [released],
    });
    expect(a3.leases).toHaveLength(2);
    expect(a3.handOff).toHaveLength(1);
    const b2 = await heartbeat(b, { name: 'vision-b', capacity: 1 });
    expect(b2.leases.map((l) => l.cameraId)).toEqual([released.cameraId]);
    // Created after every heartbeat: nobody holds it.
    const quay = await createCamera('Quay St westbound');

    const cameraName = new Map([main, side, dock, quay].map((c) => [c.id, c.name]));
    const rows = (answer: WorkerLeases) =>
      answer.leases
        .map((l) => ({
          name: cameraName.get(l.cameraId)!,
          href: `/cameras/${l.cameraId}`,
          epoch: String(l.epoch),
          handingOff: answer.handOff.some((h) => h.cameraId === l.cameraId),
        }))
        .sort((x, y) => x.name.localeCompare(y.name));

    await withPage(stack, 'workers', 'desktop', async (page) => {
      await page.goto(`${webUrl}/system`, { waitUntil: 'load' });
      await page.waitForSelector('[data-testid="worker"]');
      const workers = await page.$$eval('[data-testid="worker"]', (els) =>
        els.map((el) => {
          const q = (id: string) => el.querySelector(`[data-testid="${id}"]`)?.textContent?.trim() ?? null;
          return {
            id: el.getAttribute('data-worker-id'),
            name: q('worker-name'),
            live: el.querySelector('[data-testid="worker-live"]')?.getAttribute('data-state'),
            badge: q('worker-live'),
            version: q('worker-version'),
            load: q('worker-load'),
            heartbeat: q('worker-heartbeat'),
            heading: el.querySelector('h3')?.id === el.getAttribute('aria-labelledby'),
            cameras: [...el.querySelectorAll('[data-testid="worker-camera"]')].map((r) => ({
              name: r.querySelector('[data-testid="worker-camera-link"]')?.textContent?.trim(),
              href: r.querySelector('a')?.getAttribute('href'),
              epoch: r.querySelector('[data-testid="worker-camera-epoch"]')?.textContent?.trim(),
              handingOff: r.querySelector('[data-testid="worker-camera-handoff"]') !== null,
              age: r.querySelector('[data-testid="worker-camera-lease-age"]')?.textContent?.trim(),
            })),
          };
        }),
      );
      // Live first, then by name.
      expect(workers.map((w) => [w.id, w.name, w.live, w.badge, w.version, w.load])).toEqual([
        [a, 'vision-a', 'live', 'Live', '1.4.0', '2 / 3'],
        [b, 'vision-b', 'live', 'Live', '—', '1 / 1'],
        [old, 'vision-old', 'not-live', 'Not live', '—', '0 / 1'],
      ]);
      for (const w of workers) {
        expect(w.heartbeat).toMatch(/^\d+ s ago$/);
        expect(w.heading).toBe(true);
        for (const c of w.cameras) expect(c.age).toMatch(/^\d+ s$/);
      }
      const shownCameras = (i: number) => workers[i]!.cameras.map(({ age: _age, ...c }) => c);
      expect(shownCameras(0)).toEqual(rows(a3));
      expect(shownCameras(0).filter((c) => c.handingOff)).toHaveLength(1);
      expect(shownCameras(1)).toEqual(rows(b2));
      expect(workers[2]!.cameras).toEqual([]);
      expect(await text(page, 'workers-summary')).toBe('2 of 3 live · 3 cameras held · lease TTL 300 s');
      expect(await unassignedLinks(page)).toEqual([['Quay St westbound', `/cameras/${quay.id}`]]);
      expect(await page.$('[data-testid="workers-empty"]')).toBeNull();

      // "Check now" refreshes the workers too: vision-a releases its second hand-off and, below its share
      // now that Quay St counts, takes the free cameras; nothing is unassigned any more.
      const handing = a3.handOff[0]!;
      const a4 = await heartbeat(a, {
        name: 'vision-a',
        version: '1.4.0',
        capacity: 3,
        held: refs(a3).filter((l) => l.cameraId !== handing.cameraId),
        released: [handing],
      });
      expect(a4.leases).toHaveLength(3);
      await page.click('[data-testid="system-refresh"]');
      await page.waitForSelector('[data-testid="unassigned-cameras"]', { hidden: true });
      await waitText(page, `[data-worker-id="${a}"] [data-testid="worker-load"]`, '3 / 3');
      expect(
        await page.$$eval(`[data-worker-id="${a}"] [data-testid="worker-camera-link"]`, (els) =>
          els.map((e) => e.textContent),
        ),
      ).toEqual(rows(a4).map((r) => r.name));

      // A camera's name links to its page (client-side navigation).
      await page.click(`[data-worker-id="${b}"] [data-testid="worker-camera-link"]`);
      await page.waitForSelector('[data-testid="camera-name"]');
      expect(new URL(page.url()).pathname).toBe(`/cameras/${released.cameraId}`);
      expect(await text(page, 'camera-name')).toBe(cameraName.get(released.cameraId));
    });
  }, 60_000);

  it('shows a not-found state for an unknown camera', async () => {
    await withPage(stack, 'camera-404', 'desktop', async (page) => {
      page.removeAllListeners('console'); // the browser logs the API's 404 as a console error: expected here
      await page.goto(`${webUrl}/cameras/${randomUUID()}`, { waitUntil: 'load' });
      await page.waitForSelector('[data-testid="camera-not-found"]');
    });
  }, 60_000);

  describe.each(Object.keys(VIEWPORTS) as ViewportName[])('layout at %s', (viewport) => {
    it('has no horizontal overflow on any page and keeps the navigation reachable', async () => {
      await withPage(stack, 'layout', viewport, async (page) => {
        const pages: [string, string[]][] = [
          ['/', ['[data-testid="camera-row"]']],
          [`/cameras/${main.id}`, ['[data-testid="counts-table"]']],
          [
            '/system',
            [
              '[data-testid="check-database"]',
              // Workers when the workers test has run before, the empty state otherwise.
              '[data-testid="worker-cameras"], [data-testid="workers-empty"]',
            ],
          ],
        ];
        for (const [path, ready] of pages) {
          await page.goto(`${webUrl}${path}`, { waitUntil: 'load' });
          for (const selector of ready) await page.waitForSelector(selector);
          const m = await page.evaluate(() => ({
            scrollWidth: document.documentElement.scrollWidth,
            innerWidth: window.innerWidth,
            nav: (() => {
              const r = document.querySelector('nav[aria-label="Primary"]')!.getBoundingClientRect();
              return { right: r.right, visible: r.width > 0 && r.height > 0 };
            })(),
            // On a phone or tablet the navigation is a top bar: it must stay a bar, not eat the screen.
            barHeight: document.querySelector('.sidebar')!.getBoundingClientRect().height,
            widest: Math.max(
              ...[...document.querySelectorAll('main .card, main .stat')].map(
                (el) => el.getBoundingClientRect().right,
              ),
            ),
          }));
          // Against the device width, not innerWidth: mobile emulation widens the layout viewport
          // to fit overflowing content, which would hide exactly the overflow we look for.
          const width = VIEWPORTS[viewport].width;
          expect(m.innerWidth, `${path} layout viewport`).toBe(width);
          expect(m.scrollWidth, `${path} scrollWidth`).toBeLessThanOrEqual(width);
          expect(m.widest, `${path} widest card`).toBeLessThanOrEqual(width);
          expect(m.nav.visible, `${path} nav`).toBe(true);
          expect(m.nav.right).toBeLessThanOrEqual(width);
          if (viewport !== 'desktop') expect(m.barHeight, `${path} top bar height`).toBeLessThanOrEqual(72);
          expect(await page.$('main#main')).not.toBeNull();
        }
      });
    }, 60_000);
  });
});
