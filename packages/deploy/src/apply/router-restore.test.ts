import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DockerEngine } from '@its/docker-engine';
import { EnvironmentSchema } from '../config/environment-schema.js';
import { LABEL, ROUTER_UID, environmentLabels, routerName } from '../containers/container-spec.js';
import { observe, restoreLostRouter, RouterLostError, createRouter, type Runtime } from './runtime.js';

/**
 * The lost-router path without Docker: a stand-in engine whose router "container" is a unix socket
 * server that, like HAProxy, reads haproxy.cfg and slot.map from the directory when it starts and
 * answers `show info`, `show stat` and `show map` from them.
 */

const config = {
  ...EnvironmentSchema.parse({ app: 'app', image: { repository: 'r' }, router: { port: 8080 } }),
  name: 'prod',
};
const ROUTER = routerName('app', 'prod');
const HOUR = 3_600_000;

interface World {
  dir: string;
  routerRunning: boolean;
  startedAtMs: number;
  signals: string[];
  starts: number;
  clock: number;
  server: Server | undefined;
  replicas: Array<{ slot: string; index: number; version: string; digest: string }>;
  log: string;
}

/** Starts the stand-in HAProxy on <dir>/admin.sock, serving what the files say. */
function startFakeHaproxy(world: World): Promise<void> {
  const cfg = readFileSync(join(world.dir, 'haproxy.cfg'), 'utf8');
  const map = readFileSync(join(world.dir, 'slot.map'), 'utf8');
  const rows: string[] = [];
  let backend = '';
  for (const line of cfg.split('\n')) {
    const b = /^backend (\w+)/.exec(line);
    if (b) backend = b[1]!;
    const s = /^\s+server (\S+) (\S+) .*weight (\d+)/.exec(line);
    if (s) rows.push(`${backend},${s[1]},0,UP,${s[3]},${s[2]}`);
  }
  world.server = createServer((socket) =>
    socket.on('data', (data) => {
      const command = data.toString().trim();
      if (command === 'show info') socket.end('Name: HAProxy\n');
      else if (command === 'show stat')
        socket.end(`# pxname,svname,scur,status,weight,addr\n${rows.join('\n')}\n`);
      else if (command.startsWith('show map')) socket.end(`0x1 ${map.trim()}\n`);
      else socket.end('');
    }),
  );
  return new Promise((resolve) => world.server!.listen(join(world.dir, 'admin.sock'), resolve));
}

function fakeEngine(world: World): DockerEngine {
  const replicaSummaries = () =>
    world.replicas.map((r) => {
      const name = `app-prod-${r.slot}-d${r.index}-${r.index}`;
      return {
        Id: name,
        Names: [`/${name}`],
        Image: 'r',
        State: 'running',
        Labels: {
          ...environmentLabels('app', 'prod'),
          [LABEL.role]: 'replica',
          [LABEL.slot]: r.slot,
          [LABEL.server]: `${r.slot[0]}-${r.index}`,
          [LABEL.version]: r.version,
          [LABEL.digest]: r.digest,
          [LABEL.index]: String(r.index),
        },
      };
    });
  const engine = {
    listContainers: async (labels: Record<string, string>) =>
      labels[LABEL.role] === 'replica' ? replicaSummaries() : [],
    inspectContainer: async (name: string) =>
      name === ROUTER || name === 'router-id'
        ? {
            Id: 'router-id',
            Name: `/${ROUTER}`,
            State: {
              Status: world.routerRunning ? 'running' : 'exited',
              Running: world.routerRunning,
              ExitCode: 0,
              StartedAt: new Date(world.startedAtMs).toISOString(),
            },
          }
        : undefined,
    logs: async () => world.log,
    raw: async (method: string, path: string) => {
      const signal = /\/kill\?signal=(\w+)/.exec(path);
      if (method === 'POST' && signal) {
        world.signals.push(signal[1]!);
        // HAProxy's soft stop: it stops listening, then the container exits.
        world.server?.close();
        world.routerRunning = false;
      }
      return { status: 204, text: '', body: Buffer.alloc(0), headers: {} };
    },
    stopContainer: async () => {
      world.routerRunning = false;
    },
    startContainer: async () => {
      world.routerRunning = true;
      world.startedAtMs = world.clock;
      world.starts++;
      await startFakeHaproxy(world);
    },
  };
  return engine as unknown as DockerEngine;
}

let worlds: World[] = [];
afterEach(() => {
  for (const w of worlds) {
    w.server?.close();
    rmSync(w.dir, { recursive: true, force: true });
  }
  worlds = [];
});

function setUp(over: Partial<World> = {}): { world: World; rt: Runtime } {
  const base = mkdtempSync(join(tmpdir(), 'its-router-lost-'));
  const world: World = {
    dir: join(base, 'router'),
    routerRunning: true,
    startedAtMs: 0,
    signals: [],
    starts: 0,
    clock: 10 * HOUR,
    server: undefined,
    replicas: [],
    log: '',
    ...over,
  };
  worlds.push(world);
  const now = () => world.clock;
  const sleep = async (ms: number) => {
    world.clock += ms;
  };
  const rt: Runtime = {
    config,
    engine: fakeEngine(world),
    router: createRouter(world.dir, sleep, now),
    routerDir: world.dir,
    replicaEnv: {},
    progress: () => {},
    now,
    sleep,
    signal: new AbortController().signal,
    evidence: () => {},
    joinedAt: new Map(),
  };
  return { world, rt };
}

describe('a router whose state directory was deleted while it runs', () => {
  it('observe says so at once instead of waiting 15 s for a socket that is gone', async () => {
    const { world, rt } = setUp({
      replicas: [{ slot: 'blue', index: 0, version: '1.0.0', digest: 'sha256:b' }],
    });
    const start = world.clock;
    const error = await observe(rt).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `router ${ROUTER} is running, but its state directory ${world.dir} was deleted under it: its admin socket went with it, so the router can no longer be changed (it still serves what it had)`,
    );
    expect(error).toBeInstanceOf(RouterLostError);
    expect((error as RouterLostError).fix).toMatch(/`itsctl deploy -e prod` recreates it/);
    expect(world.clock - start).toBeLessThan(1000);
  });

  it('a dry run sees it as the deploy will recreate it, and changes nothing', async () => {
    const { world, rt } = setUp({
      replicas: [
        { slot: 'blue', index: 0, version: '1.0.0', digest: 'sha256:b' },
        { slot: 'green', index: 1, version: '1.1.0', digest: 'sha256:g' },
      ],
    });
    const observed = await observe(rt, { lostRouter: { lastDigest: 'sha256:g' } });
    expect(observed.router.running).toBe(true);
    expect(observed.router.activeSlot).toBe('green');
    expect(observed.router.servers.map((s) => `${s.slot}/${s.server} ${s.state}`)).toEqual([
      'blue/b-0 ready',
      'green/g-1 ready',
    ]);
    expect(existsSync(world.dir)).toBe(false);
    expect(world.signals).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'the deploy recreates the files from the replicas and restarts the router gently; it then answers',
    async () => {
      const { world, rt } = setUp({
        replicas: [
          { slot: 'blue', index: 0, version: '1.0.0', digest: 'sha256:b' },
          { slot: 'green', index: 1, version: '1.1.0', digest: 'sha256:g' },
          { slot: 'green', index: 2, version: '1.1.0', digest: 'sha256:g' },
        ],
      });
      const said = await restoreLostRouter(rt, 'sha256:g');
      expect(said).toMatch(
        new RegExp(
          `^router ${ROUTER} recreated \\(its state directory had been deleted\\): 3 server\\(s\\), traffic on slot green; it did not accept connections for about \\d+ ms while it restarted$`,
        ),
      );
      // Soft stop first (requests in flight finish), then started again: it read the new files.
      expect(world.signals).toEqual(['SIGUSR1']);
      expect(world.starts).toBe(1);
      expect(statSync(world.dir).uid).toBe(ROUTER_UID);
      expect(statSync(world.dir).mode & 0o777).toBe(0o770);
      expect(readFileSync(join(world.dir, 'slot.map'), 'utf8')).toBe('active green\n');
      const cfg = readFileSync(join(world.dir, 'haproxy.cfg'), 'utf8');
      expect(cfg).toMatch(/backend blue\n(.*\n)*? {4}server b-0 app-prod-blue-d0-0:8000 /);
      expect(cfg).toMatch(/server g-1 app-prod-green-d1-1:8000 /);
      expect(cfg).toMatch(/server g-2 app-prod-green-d2-2:8000 /);
      const observed = await observe(rt);
      expect(observed.router.activeSlot).toBe('green');
      expect(observed.router.servers.map((s) => `${s.slot}/${s.server}`)).toEqual([
        'blue/b-0',
        'green/g-1',
        'green/g-2',
      ]);
      // Nothing lost any more: a second deploy leaves it alone.
      expect(await restoreLostRouter(rt, 'sha256:g')).toBeUndefined();
      expect(world.starts).toBe(1);
    },
  );

  it('refuses to guess the serving slot when both run and nothing says which, before touching anything', async () => {
    const { world, rt } = setUp({
      replicas: [
        { slot: 'blue', index: 0, version: '1.0.0', digest: 'sha256:b' },
        { slot: 'green', index: 1, version: '1.1.0', digest: 'sha256:g' },
      ],
    });
    await expect(restoreLostRouter(rt, undefined)).rejects.toThrow(
      /it cannot be recreated safely: both slots run replicas, blue \(1\.0\.0\) and green \(1\.1\.0\)/,
    );
    expect(world.signals).toEqual([]);
    expect(existsSync(world.dir)).toBe(false);
  });

  it('a router that only just started is waited for, not taken for lost', async () => {
    const { world, rt } = setUp();
    mkdirSync(world.dir, { recursive: true });
    writeFileSync(join(world.dir, 'haproxy.cfg'), 'backend blue\nbackend green\n');
    writeFileSync(join(world.dir, 'slot.map'), 'active blue\n');
    // A real clock here: HAProxy creates its socket a moment after the container started.
    const real = {
      ...rt,
      now: () => Date.now(),
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    };
    world.startedAtMs = Date.now() - 200;
    setTimeout(() => void startFakeHaproxy(world), 150);
    const observed = await observe(real);
    expect(observed.router).toEqual({ running: true, activeSlot: 'blue', servers: [] });
  });
});
