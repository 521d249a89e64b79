import { describe, expect, it } from 'vitest';
import type { ObservedReplica, Slot } from '../plan/types.js';
import {
  ROUTER_START_GRACE_MS,
  describeRouterLoss,
  diagnoseRouter,
  planRouterRestore,
  type RouterFacts,
  type RouterRestoreInput,
} from './router-recovery.js';

const NOW = 1_800_000_000_000;
const facts = (over: Partial<RouterFacts>): RouterFacts => ({
  exists: true,
  running: true,
  startedAtMs: NOW - 3_600_000,
  nowMs: NOW,
  dirExists: true,
  socketExists: true,
  ...over,
});

describe('diagnoseRouter: a router whose state directory was deleted under it', () => {
  it.each<[string, Partial<RouterFacts>, ReturnType<typeof diagnoseRouter>]>([
    ['no container', { exists: false, running: false }, { kind: 'absent' }],
    [
      'stopped (its directory gone too: the plan starts it)',
      { running: false, dirExists: false },
      { kind: 'stopped' },
    ],
    ['running with its socket', {}, { kind: 'ready' }],
    [
      'running, the directory deleted',
      { dirExists: false, socketExists: false },
      { kind: 'lost', what: 'directory' },
    ],
    ['running for an hour, the socket deleted', { socketExists: false }, { kind: 'lost', what: 'socket' }],
    [
      'just started, no socket yet: starting, not lost',
      { socketExists: false, startedAtMs: NOW - 500 },
      { kind: 'starting' },
    ],
    [
      'no socket at the end of the grace period: lost',
      { socketExists: false, startedAtMs: NOW - ROUTER_START_GRACE_MS },
      { kind: 'lost', what: 'socket' },
    ],
    [
      'start time unknown, no socket: waited on as starting',
      { socketExists: false, startedAtMs: undefined },
      { kind: 'starting' },
    ],
    [
      'directory deleted right after the start: lost at once',
      { dirExists: false, socketExists: false, startedAtMs: NOW - 100 },
      { kind: 'lost', what: 'directory' },
    ],
  ])('%s', (_name, over, expected) => {
    expect(diagnoseRouter(facts(over))).toEqual(expected);
  });

  it('says what happened, naming the router and the directory', () => {
    expect(describeRouterLoss('app-prod-router', '/s/prod/router', 'directory')).toBe(
      'router app-prod-router is running, but its state directory /s/prod/router was deleted under it: its admin socket went with it, so the router can no longer be changed (it still serves what it had)',
    );
    expect(describeRouterLoss('app-prod-router', '/s/prod/router', 'socket')).toMatch(
      /its admin socket \/s\/prod\/router\/admin\.sock was deleted under it/,
    );
  });
});

const replica = (slot: Slot, index: number, over: Partial<ObservedReplica> = {}): ObservedReplica => ({
  id: `${slot}${index}`,
  name: `app-prod-${slot}-d1-${index}`,
  server: `${slot[0]}-d1-${index}`,
  slot,
  version: slot === 'blue' ? '1.0.0' : '1.1.0',
  image: 'img',
  digest: slot === 'blue' ? 'sha256:b' : 'sha256:g',
  deploymentId: 'd1',
  index,
  running: true,
  ...over,
});

const input = (over: Partial<RouterRestoreInput>): RouterRestoreInput => ({
  replicas: [],
  containerPort: 8000,
  persistedSlot: undefined,
  lastDigest: undefined,
  lastLoggedBackend: undefined,
  dir: '/s/prod/router',
  ...over,
});

describe('planRouterRestore: what the recreated files hold', () => {
  it('every running replica in its slot, ready at full weight; baselines and stopped ones left out', () => {
    const restore = planRouterRestore(
      input({
        replicas: [
          replica('green', 0),
          replica('green', 1),
          replica('green', 2, { running: false }),
          replica('green', 3, { baseline: true }),
        ],
      }),
    );
    expect(restore).toEqual({
      ok: true,
      activeSlot: 'green',
      because: 'only slot green runs replicas',
      servers: [
        {
          slot: 'green',
          server: 'g-d1-0',
          host: 'app-prod-green-d1-0',
          port: 8000,
          state: 'ready',
          weight: 100,
        },
        {
          slot: 'green',
          server: 'g-d1-1',
          host: 'app-prod-green-d1-1',
          port: 8000,
          state: 'ready',
          weight: 100,
        },
      ],
    });
  });

  const both = [replica('blue', 0), replica('green', 0)];
  it.each<[string, Partial<RouterRestoreInput>, Slot, RegExp]>([
    [
      'only one slot runs: it, whatever else says',
      { replicas: [replica('blue', 0)], persistedSlot: 'green' },
      'blue',
      /only slot blue/,
    ],
    ['nothing runs: the map left behind, else blue', { persistedSlot: 'green' }, 'green', /no replica runs/],
    ['nothing runs, no map: blue', {}, 'blue', /no replica runs/],
    [
      'both run: a slot map left in the directory decides',
      { replicas: both, persistedSlot: 'green', lastDigest: 'sha256:b' },
      'green',
      /slot map left in \/s\/prod\/router/,
    ],
    [
      'both run: the last successful deployment decides',
      { replicas: both, lastDigest: 'sha256:b', lastLoggedBackend: 'green' },
      'blue',
      /last successful deployment \(sha256:b\)/,
    ],
    [
      "both run, history names neither: the router's last logged request",
      { replicas: both, lastDigest: 'sha256:x', lastLoggedBackend: 'green' },
      'green',
      /last logged request went to green/,
    ],
  ])('%s', (_name, over, slot, because) => {
    const restore = planRouterRestore(input(over));
    expect(restore).toMatchObject({ ok: true, activeSlot: slot });
    expect(restore.ok && restore.because).toMatch(because);
  });

  it('both slots run and nothing says which served: refuses to guess, says how to decide', () => {
    expect(planRouterRestore(input({ replicas: both }))).toEqual({
      ok: false,
      reason:
        "both slots run replicas, blue (1.0.0) and green (1.1.0), and neither the deployment history nor the router's log says which one served",
      fix: 'write the serving slot into /s/prod/router/slot.map (`active blue` or `active green`), then run the command again',
    });
  });
});
