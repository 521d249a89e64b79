import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '@its/docker-engine';
import {
  DOCKER,
  buildTestImages,
  cleanUp,
  freePort,
  makeEnvironments,
  repoRoot,
  runItsctl,
  type TestEnvironments,
} from './test-support.fixture.js';

// The API's answers as far as this test reads them. The delivery system never imports the product's
// packages (LAYERS in .dependency-cruiser.cjs), so these few fields are spelled here.
interface Camera {
  id: string;
  status: { state: string };
}
interface WorkerList {
  workers: {
    id: string;
    name: string;
    version: string | null;
    live: boolean;
    cameras: { cameraId: string }[];
  }[];
}
interface AggregateSeries {
  buckets: { start: string; volume: number }[];
}

// The product itself, deployed the way `./scripts/deploy.sh -e development` does: the repository's three
// development files (API + PostgreSQL + Redis, dashboard, vision worker), only renamed (a unique app,
// free ports) so the test never touches a developer's running stack. Needs its-camera-ai:production and
// the accessory images (scripts/ci-containers.sh builds them); about a minute on two cores.
// Then a rolling deploy of the worker tier (two replicas, start-first) under the running stack while
// the workers count a live stream: about five more minutes, most of it waiting for whole minutes.

const APP = `itsprod${process.pid % 10000}`;
const IMAGES = ['its-camera-ai:production', 'its-camera-ai/postgres:latest', 'its-camera-ai/redis:latest'];
const engine = new DockerEngine({ socketPath: '/var/run/docker.sock' });
let envs: TestEnvironments;
const ports = { api: 0, web: 0, vision: 0 };

function productFile(name: string): string {
  return readFileSync(join(repoRoot, 'deploy', 'environments', `${name}.yml`), 'utf8')
    .replaceAll('app: its-camera-ai', `app: ${APP}`)
    .replaceAll('its-camera-ai-development', `${APP}-development`)
    .replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.api}`)
    .replaceAll('127.0.0.1:3080', `127.0.0.1:${ports.web}`)
    .replaceAll('localhost:3080', `localhost:${ports.web}`)
    .replace(/port: 8080\n/, `port: ${ports.api}\n`)
    .replace(/port: 3080\n/, `port: ${ports.web}\n`)
    .replace(/port: 8090\n/, `port: ${ports.vision}\n`);
}

const volumes = () =>
  spawnSync(DOCKER, ['volume', 'ls', '-q', '--filter', `label=its.app=${APP}`], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);

beforeAll(async () => {
  for (const image of IMAGES)
    if (spawnSync(DOCKER, ['image', 'inspect', image], { stdio: 'ignore' }).status !== 0)
      throw new Error(`${image} is missing: build it with scripts/ci-containers.sh`);
  buildTestImages();
  await cleanUp([APP]);
  ports.api = await freePort();
  ports.web = await freePort();
  ports.vision = await freePort();
  envs = makeEnvironments({
    development: productFile('development'),
    'development-web': productFile('development-web'),
    'development-vision': productFile('development-vision'),
  });
}, 300_000);

afterAll(async () => {
  spawnSync(DOCKER, ['rm', '-f', CAMERA_CONTAINER], { stdio: 'ignore' });
  await cleanUp([APP]);
  spawnSync(DOCKER, ['rmi', `its-camera-ai:${NEXT_VERSION}`], { stdio: 'ignore' });
  if (clipDir) rmSync(clipDir, { recursive: true, force: true });
  for (const v of volumes()) spawnSync(DOCKER, ['volume', 'rm', '-f', v]);
});

// ---------------------------------------------------------------------------------------------------
// The worker tier's rolling deploy. A camera container on the stack's network renders a live MPEG-TS
// stream over HTTP (one ffmpeg, every client sees the same moment, like a real camera): a real
// pedestrian crosses the count line once every LOOP_S seconds, so the truth is PER_MINUTE
// crossings per camera per minute, whoever counts them. Two cameras watch it, so each of the two
// workers holds one and every replaced worker hands a camera over.

const LOOP_S = 10;
const PER_MINUTE = 60 / LOOP_S;
const MINUTE = 60_000;
/** Lease TTL is 15 s: a gap this short shows a hand-over by release (SIGTERM), not by expiry. */
const GAP_BOUND_MS = 10_000;
const CAMERA_CONTAINER = `${APP}-camera`;
const NEXT_VERSION = `rolling-${process.pid % 10000}`;
let clipDir = '';

/** The pedestrian of the vision worker's end-to-end test (the only real street photo in node_modules). */
function renderPerson(dir: string): void {
  const photo = createRequire(import.meta.url).resolve('autocannon/test/j5.jpeg');
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-i', photo],
    ...['-vf', 'crop=260:340:715:240,scale=-1:220', join(dir, 'person.png')],
  ]);
}

/**
 * The camera: one ffmpeg renders the scene live (-re: at wall-clock rate, like a camera; the truth per
 * minute then follows from the wall clock alone), the person walking across every LOOP_S seconds, a key frame every half second so that a worker joining the
 * stream decodes at once; its MPEG-TS bytes go to every client.
 */
const CAMERA_SERVER = `
const http = require('node:http');
const { spawn } = require('node:child_process');
const clients = new Set();
const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error',
  '-re', '-f', 'lavfi', '-i', 'color=c=0x707070:s=640x360:r=10',
  '-loop', '1', '-framerate', '10', '-i', '/media/person.png',
  '-filter_complex', "[0:v][1:v]overlay=x='-120+130*(t-${LOOP_S}*floor(t/${LOOP_S}))':y=110,format=yuv420p",
  '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '5',
  '-f', 'mpegts', 'pipe:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
ff.stdout.on('data', (chunk) => { for (const res of clients) res.write(chunk); });
ff.on('exit', (code) => { console.error('ffmpeg exited', code); process.exit(1); });
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'video/mp2t' });
  clients.add(res);
  res.on('close', () => clients.delete(res));
}).listen(8554);
process.on('SIGTERM', () => process.exit(0));
`;

interface HolderPoll {
  at: number;
  /** Per camera: the live workers that hold it. */
  holders: Record<string, string[]>;
}

/**
 * Pure: per camera, the longest span without a holder (from the last poll that saw it held to the next
 * one, when a poll between saw it unheld) and how often it changed hands.
 */
function leaseGaps(polls: HolderPoll[], cameraIds: string[]) {
  return Object.fromEntries(
    cameraIds.map((id) => {
      let lastHeld: { at: number; by: string } | null = null;
      let unheldSince = false;
      let longestMs = 0;
      let moves = 0;
      for (const p of polls) {
        const by = p.holders[id] ?? [];
        if (by.length === 0) {
          unheldSince = true;
          continue;
        }
        if (lastHeld) {
          if (unheldSince) longestMs = Math.max(longestMs, p.at - lastHeld.at);
          if (by[0] !== lastHeld.by) moves++;
        }
        lastHeld = { at: p.at, by: by[0]! };
        unheldSince = false;
      }
      return [id, { longestMs, moves }];
    }),
  );
}

describe('the product stack (api, web, vision, postgres, redis) from the development files', () => {
  it('deploys and every tier works with the others', async () => {
    const run = await runItsctl(['deploy', '-e', 'development', '--json'], envs);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      stack: { tiers: Array<{ environment: string; url: string }> };
    };
    expect(summary.stack.tiers.map((t) => t.url)).toEqual([
      `http://127.0.0.1:${ports.api}`,
      `http://127.0.0.1:${ports.web}`,
      `http://127.0.0.1:${ports.vision}`,
    ]);
    // The API runs on the PostgreSQL and Redis accessories, not its embedded store.
    const ready = (await (await fetch(`http://127.0.0.1:${ports.api}/health/ready`)).json()) as {
      checks: Array<{ name: string; status: string }>;
    };
    expect(ready.checks.filter((c) => c.name === 'database' || c.name === 'redis')).toEqual([
      expect.objectContaining({ name: 'database', status: 'ok' }),
      expect.objectContaining({ name: 'redis', status: 'ok' }),
    ]);
    const replicas = await engine.listContainers({
      'its.app': APP,
      'its.environment': 'development',
      'its.role': 'replica',
    });
    const env = spawnSync(DOCKER, ['inspect', '-f', '{{json .Config.Env}}', replicas[0]!.Id], {
      encoding: 'utf8',
    }).stdout;
    expect(env).toContain('@postgres:5432/its');
    // The dashboard sends the browser to the API's router.
    const config = (await (await fetch(`http://127.0.0.1:${ports.web}/config.json`)).json()) as {
      apiBaseUrl: string;
    };
    expect(config.apiBaseUrl).toBe(`http://127.0.0.1:${ports.api}`);
    // The worker is up, with the key the stack created, which the API accepts.
    expect(
      ((await (await fetch(`http://127.0.0.1:${ports.vision}/health`)).json()) as { status: string }).status,
    ).toBe('ok');
    const secrets = readFileSync(join(envs.stateDir, 'development', 'secrets.env'), 'utf8');
    const key = /VISION_API_KEY=(.+)/.exec(secrets)![1]!;
    // With the scopes the worker needs (stack.apiKeys[].scopes), and no more: it cannot write cameras.
    const check = await fetch(`http://127.0.0.1:${ports.api}/api/v1/auth/check?scopes=ingest,read`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(check.status).toBe(204);
    const write = await fetch(`http://127.0.0.1:${ports.api}/api/v1/cameras`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', streamUrl: 'rtsp://10.0.0.1/x', location: { lat: 0, lon: 0 } }),
    });
    expect(write.status).toBe(403);
    expect(`${run.stdout}${run.stderr}`).not.toContain(key);
  }, 300_000);

  it('a rolling deploy of the worker tier keeps every camera counted by one worker: no minute lost or doubled', async () => {
    const secrets = readFileSync(join(envs.stateDir, 'development', 'secrets.env'), 'utf8');
    const admin = /ADMIN_TOKEN=(.+)/.exec(secrets)![1]!;
    const api = `http://127.0.0.1:${ports.api}`;
    const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${admin}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };
    const visionReplicas = async () =>
      (
        await engine.listContainers({
          'its.app': APP,
          'its.environment': 'development-vision',
          'its.role': 'replica',
        })
      ).filter((c) => c.State === 'running');
    expect(await visionReplicas()).toHaveLength(2);
    // Per running worker, from its /metrics: frames, inferences, drops, crossings, refused batches.
    const workerFigures = async () =>
      Promise.all(
        (await visionReplicas()).map((c) => {
          const metrics = spawnSync(
            DOCKER,
            [
              'exec',
              c.Id,
              'node',
              '-e',
              "fetch('http://127.0.0.1:9464/metrics').then((r) => r.text()).then(console.log)",
            ],
            { encoding: 'utf8' },
          ).stdout;
          const sum = (name: string) =>
            [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
              (t, m) => t + Number(m[1]),
              0,
            );
          return {
            worker: c.Names[0]?.slice(-4),
            framesIn: sum('its_vision_frames_in_total'),
            inferred: sum('its_vision_inference_seconds_count'),
            dropped: sum('its_vision_frames_dropped_total'),
            crossings: sum('its_vision_crossings_total'),
            rejected: sum('its_vision_batches_rejected_total'),
          };
        }),
      );

    clipDir = mkdtempSync(join(tmpdir(), 'its-rolling-camera-'));
    chmodSync(clipDir, 0o755);
    renderPerson(clipDir);
    const started = spawnSync(
      DOCKER,
      [
        ...['run', '-d', '--no-healthcheck', '--name', CAMERA_CONTAINER, '--network', `${APP}-development`],
        ...[
          '-v',
          `${clipDir}:/media:ro`,
          '--entrypoint',
          'node',
          'its-camera-ai:production',
          '-e',
          CAMERA_SERVER,
        ],
      ],
      { encoding: 'utf8' },
    );
    expect(started.status, started.stderr).toBe(0);
    try {
      const cameras = await Promise.all(
        ['rolling east', 'rolling west'].map((name) =>
          call<Camera>('POST', '/api/v1/cameras', {
            name,
            streamUrl: `http://${CAMERA_CONTAINER}:8554/live.ts`,
            location: { lat: 52.52, lon: 13.4 },
            lines: [
              {
                id: 'mid',
                name: 'Middle',
                a: { x: 0.5, y: 0.05 },
                b: { x: 0.5, y: 0.95 },
                lane: 'east',
                direction: 'both',
              },
            ],
          }),
        ),
      );
      const ids = cameras.map((c) => c.id);

      // Every lease holder seen, every 500 ms, from now to the end.
      const polls: HolderPoll[] = [];
      const doubled: HolderPoll[] = [];
      let pollFailures = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const at = Date.now();
          try {
            const list = await call<WorkerList>('GET', '/api/v1/workers');
            const holders = Object.fromEntries(
              ids.map((id) => [
                id,
                list.workers
                  .filter((w) => w.live && w.cameras.some((c) => c.cameraId === id))
                  .map((w) => w.id),
              ]),
            );
            const poll = { at, holders };
            polls.push(poll);
            if (ids.some((id) => holders[id]!.length > 1)) doubled.push(poll);
          } catch {
            pollFailures++;
          }
          await new Promise((r) => setTimeout(r, Math.max(0, at + 500 - Date.now())));
        }
      })();

      // Ready: both cameras held (one each) and online, i.e. a worker decodes the stream.
      const readyBy = Date.now() + 180_000;
      for (;;) {
        const states = await Promise.all(ids.map((id) => call<Camera>('GET', `/api/v1/cameras/${id}`)));
        const last = polls.at(-1);
        const held = last && ids.every((id) => last.holders[id]!.length === 1);
        if (held && states.every((c) => c.status.state === 'online')) break;
        if (Date.now() > readyBy)
          throw new Error(`cameras not counting after 180 s: ${JSON.stringify(states.map((c) => c.status))}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      // Judge whole minutes only, from the first one that starts with both cameras counting.
      const firstMinute = Math.ceil(Date.now() / MINUTE) * MINUTE;
      // One whole minute before the deploy: what the workers count undisturbed on this host.
      await new Promise((r) => setTimeout(r, firstMinute + MINUTE + 2000 - Date.now()));
      const before = await workerFigures();
      // The old workers' logs (warnings: delivery failures, batches left) outlive their containers here.
      const oldLogs = (await visionReplicas()).map((c) => {
        const child = spawn(DOCKER, ['logs', '-f', c.Id], { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.stderr.on('data', (d: Buffer) => (text += d.toString()));
        return { name: c.Names[0], child, text: () => text };
      });
      const createdMinute = Math.floor(Date.parse(cameras[0]!.createdAt) / MINUTE) * MINUTE;
      const seriesSoFar = async () =>
        Promise.all(
          ids.map(async (id) =>
            (
              await call<AggregateSeries>(
                'GET',
                `/api/v1/aggregates?cameraId=${id}&bucket=1m&from=${new Date(createdMinute).toISOString()}&to=${new Date(Date.now() + MINUTE).toISOString()}`,
              )
            ).buckets.map((b) => `${b.start.slice(11, 16)}=${b.volume}`),
          ),
        );
      const seriesBefore = await seriesSoFar();

      const built = spawnSync(DOCKER, ['build', '-q', '-t', `its-camera-ai:${NEXT_VERSION}`, '-'], {
        input: `FROM its-camera-ai:production\nLABEL its.test.version=${NEXT_VERSION}\n`,
        encoding: 'utf8',
        env: { ...process.env, DOCKER_BUILDKIT: '0' },
      });
      expect(built.status, built.stderr).toBe(0);
      // Start-first shows on the engine: a third worker runs before an old one stops, never fewer than two.
      let most = 0;
      let fewest = Infinity;
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          const n = (await visionReplicas()).length;
          most = Math.max(most, n);
          fewest = Math.min(fewest, n);
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      const deployStart = Date.now();
      const deploy = await runItsctl(
        ['deploy', '-e', 'development-vision', '-v', NEXT_VERSION, '--json'],
        envs,
      );
      const deployEnd = Date.now();
      watching = false;
      await watcher;
      expect(deploy.code, deploy.stderr).toBe(0);
      expect(most).toBe(3);
      expect(fewest).toBe(2);

      // The new workers hold every camera, and the old ones have left.
      const holdersBy = Date.now() + 30_000;
      let list = await call<WorkerList>('GET', '/api/v1/workers');
      const settled = () =>
        list.workers.filter((w) => w.live).every((w) => w.version === NEXT_VERSION) &&
        ids.every((id) => list.workers.some((w) => w.live && w.cameras.some((c) => c.cameraId === id)));
      while (!settled() && Date.now() < holdersBy) {
        await new Promise((r) => setTimeout(r, 500));
        list = await call<WorkerList>('GET', '/api/v1/workers');
      }
      expect(list.workers.filter((w) => w.live).map((w) => w.version)).toEqual([NEXT_VERSION, NEXT_VERSION]);
      expect(list.unassigned).toEqual([]);

      // The minute the deploy ended in must be whole and delivered (the worker sends a minute once it ends).
      const lastMinute = Math.floor(deployEnd / MINUTE) * MINUTE;
      await new Promise((r) => setTimeout(r, Math.max(0, lastMinute + MINUTE + 2000 - Date.now())));
      const minutes: number[] = [];
      for (let m = firstMinute; m <= lastMinute; m += MINUTE) minutes.push(m);
      const volumes = async () => {
        const out: Record<string, number[]> = {};
        for (const id of ids) {
          const series = await call<AggregateSeries>(
            'GET',
            `/api/v1/aggregates?cameraId=${id}&bucket=1m&from=${new Date(firstMinute).toISOString()}&to=${new Date(lastMinute + MINUTE).toISOString()}`,
          );
          const byStart = new Map(series.buckets.map((b) => [Date.parse(b.start), b.volume]));
          out[id] = minutes.map((m) => byStart.get(m) ?? 0);
        }
        return out;
      };
      let stored = await volumes();
      const deliveredBy = Date.now() + 60_000;
      while (ids.some((id) => stored[id]!.at(-1) === 0) && Date.now() < deliveredBy) {
        await new Promise((r) => setTimeout(r, 1000));
        stored = await volumes();
      }
      polling = false;
      await poller;
      const after = await workerFigures();
      const seriesAfter = await seriesSoFar();
      for (const l of oldLogs) l.child.kill();
      const statuses = await Promise.all(ids.map((id) => call<Camera>('GET', `/api/v1/cameras/${id}`)));
      console.log(
        `series before the deploy ${JSON.stringify(seriesBefore)}, after ${JSON.stringify(seriesAfter)}; ` +
          `status ${JSON.stringify(statuses.map((c) => c.status))}`,
      );
      for (const l of oldLogs)
        if (
          l
            .text()
            .replace(/^\[WARN {2}tini[^]*?run Tini as PID 1\.\n/, '')
            .trim()
        )
          console.log(`old worker ${l.name}:\n${l.text().slice(-3000)}`);

      const window = polls.filter((p) => p.at >= deployStart - 1000);
      const gaps = leaseGaps(window, ids);
      const longestGapMs = Math.max(...Object.values(gaps).map((g) => g.longestMs));
      console.log(
        `rolling deploy of the worker tier: ${((deployEnd - deployStart) / 1000).toFixed(1)} s; ` +
          `longest time a camera had no live holder: ${(longestGapMs / 1000).toFixed(1)} s; ` +
          `per camera ${JSON.stringify(Object.values(gaps))}; ${polls.length} polls (${pollFailures} failed); ` +
          `volume per minute from ${new Date(firstMinute).toISOString()} (truth ${PER_MINUTE}): ` +
          JSON.stringify(Object.values(stored)),
      );
      console.log(
        `worker figures before the deploy ${JSON.stringify(before)}, after ${JSON.stringify(after)}`,
      );
      if (ids.some((id) => stored[id]!.some((v) => v < 1 || v > PER_MINUTE)))
        for (const c of await engine.listContainers({
          'its.app': APP,
          'its.environment': 'development-vision',
        }))
          console.log(
            `${c.Names[0]}:\n${spawnSync(DOCKER, ['logs', '--tail', '40', c.Id], { encoding: 'utf8' }).stderr}`,
          );
      // Never two live workers on one camera, not for one poll.
      expect(doubled).toEqual([]);
      // Every camera moved (each old worker was replaced), each time within a few seconds.
      for (const id of ids) expect(gaps[id]!.moves, id).toBeGreaterThanOrEqual(1);
      expect(longestGapMs).toBeLessThan(GAP_BOUND_MS);
      expect(pollFailures).toBeLessThan(polls.length / 10);
      // The deploy spans whole minutes; in each, each camera counted, and never more than the stream shows.
      expect(minutes.length).toBeGreaterThanOrEqual(2);
      for (const id of ids)
        for (const [i, volume] of stored[id]!.entries()) {
          expect(volume, `${id} ${new Date(minutes[i]!).toISOString()}`).toBeGreaterThanOrEqual(1);
          expect(volume, `${id} ${new Date(minutes[i]!).toISOString()}`).toBeLessThanOrEqual(PER_MINUTE);
        }
    } finally {
      spawnSync(DOCKER, ['rm', '-f', CAMERA_CONTAINER], { stdio: 'ignore' });
    }
  }, 600_000);

  it('teardown --volumes --yes leaves nothing of it on the engine', async () => {
    const run = await runItsctl(['teardown', '-e', 'development', '--volumes', '--yes'], envs);
    expect(run.code, run.stderr).toBe(0);
    expect(await engine.listContainers({ 'its.app': APP })).toEqual([]);
    expect(volumes()).toEqual([]);
  }, 120_000);
});
