import { describe, expect, it } from 'vitest';
import { planBlueGreen } from './plan-blue-green.js';
import { planCanary } from './plan-canary.js';
import { planRollback } from './plan-rollback.js';
import { keptSetExpired, planRetireIdle } from './plan-retire.js';
import { planRolling } from './plan-rolling.js';
import { describeStep, renderPlan } from './render-plan.js';
import type {
  ObservedReplica,
  ObservedServer,
  ObservedState,
  PlanSettings,
  Slot,
  Step,
  Target,
} from './types.js';
import { currentVersion, otherSlot, servingReplicas, strayReplicas } from './types.js';

const settings: PlanSettings = {
  environment: 'staging',
  app: 'app',
  replicas: 2,
  batchSize: 1,
  keepPreviousSeconds: 600,
  drainTimeoutMs: 5000,
  migration: undefined,
  stopFirst: false,
  watchSeconds: 0,
  watch: { intervalMs: 2000, windowSeconds: 10, minSamples: 20, failAfter: 2, slo: { maxErrorRate: 0.05 } },
  canary: {
    replicas: 1,
    steps: [
      { weight: 10, pauseSeconds: 30 },
      { weight: 50, pauseSeconds: 30 },
      { weight: 100, pauseSeconds: 0 },
    ],
    baseline: 'serving',
    judgment: { thresholds: { alpha: 0.05 }, warmupSeconds: 5, maxExtensions: 3 },
  },
};
const target: Target = {
  version: '1.1.0',
  image: 'repo@sha256:new',
  digest: 'sha256:new',
  deploymentId: 'd2',
};

function replica(
  slot: Slot,
  index: number,
  version = '1.0.0',
  deploymentId = 'd1',
  running = true,
): ObservedReplica {
  return {
    id: `${slot}${index}`,
    name: `app-staging-${slot}-${deploymentId}-${index}`,
    server: `${slot[0]}-${deploymentId}-${index}`,
    slot,
    version,
    image: `repo@sha256:${version}`,
    digest: `sha256:${version}`,
    deploymentId,
    index,
    running,
  };
}
function server(r: ObservedReplica): ObservedServer {
  return {
    slot: r.slot,
    server: r.server,
    address: '172.18.0.2:8000',
    state: 'ready',
    status: 'UP',
    weight: 100,
    sessions: 0,
  };
}
function state(replicas: ObservedReplica[], activeSlot: Slot = 'blue', inRouter = replicas): ObservedState {
  return { replicas, router: { running: true, activeSlot, servers: inRouter.map(server) } };
}
const kinds = (steps: Array<{ step: Step }>) =>
  steps.map(
    (s) =>
      `${s.step.kind}${s.step.kind !== 'add-server' && 'replica' in s.step && typeof s.step.replica === 'string' ? ` ${s.step.replica}` : ''}${'server' in s.step ? ` ${s.step.server}` : ''}`,
  );

describe('planRolling', () => {
  const cases: Array<{
    name: string;
    observed: ObservedState;
    settings?: Partial<PlanSettings>;
    expected: string[];
  }> = [
    {
      name: 'first deployment: router missing, nothing to retire',
      observed: { replicas: [], router: { running: false, activeSlot: 'blue', servers: [] } },
      expected: [
        'ensure-router',
        'start-replica',
        'check-replicas',
        'add-server b-d2-0',
        'start-replica',
        'check-replicas',
        'add-server b-d2-1',
      ],
    },
    {
      name: 'two old replicas, batch 1: start-first, one at a time, old removed at the end',
      observed: state([replica('blue', 0), replica('blue', 1)]),
      expected: [
        'start-replica',
        'check-replicas',
        'add-server b-d2-0',
        'drain-server b-d1-0',
        'stop-replica app-staging-blue-d1-0',
        'start-replica',
        'check-replicas',
        'add-server b-d2-1',
        'drain-server b-d1-1',
        'stop-replica app-staging-blue-d1-1',
        'remove-server b-d1-0',
        'remove-replica app-staging-blue-d1-0',
        'remove-server b-d1-1',
        'remove-replica app-staging-blue-d1-1',
      ],
    },
    {
      name: 'batch 2 replaces both at once',
      observed: state([replica('blue', 0), replica('blue', 1)]),
      settings: { batchSize: 2 },
      expected: [
        'start-replica',
        'start-replica',
        'check-replicas',
        'add-server b-d2-0',
        'add-server b-d2-1',
        'drain-server b-d1-0',
        'stop-replica app-staging-blue-d1-0',
        'drain-server b-d1-1',
        'stop-replica app-staging-blue-d1-1',
        'remove-server b-d1-0',
        'remove-replica app-staging-blue-d1-0',
        'remove-server b-d1-1',
        'remove-replica app-staging-blue-d1-1',
      ],
    },
    {
      name: 'scale down 3 → 1: the last batch retires every old replica left',
      observed: state([replica('blue', 0), replica('blue', 1), replica('blue', 2)]),
      settings: { replicas: 1 },
      expected: [
        'start-replica',
        'check-replicas',
        'add-server b-d2-0',
        'drain-server b-d1-0',
        'stop-replica app-staging-blue-d1-0',
        'drain-server b-d1-1',
        'stop-replica app-staging-blue-d1-1',
        'drain-server b-d1-2',
        'stop-replica app-staging-blue-d1-2',
        'remove-server b-d1-0',
        'remove-replica app-staging-blue-d1-0',
        'remove-server b-d1-1',
        'remove-replica app-staging-blue-d1-1',
        'remove-server b-d1-2',
        'remove-replica app-staging-blue-d1-2',
      ],
    },
    {
      name: 'a stray container (not in the router) is removed first; a migration runs before any replica',
      observed: state([replica('blue', 0), replica('blue', 5, '1.1.0', 'dX')], 'blue', [replica('blue', 0)]),
      settings: { replicas: 1, migration: ['migrate'] },
      expected: [
        'remove-replica app-staging-blue-dX-5',
        'run-migration',
        'start-replica',
        'check-replicas',
        'add-server b-d2-0',
        'drain-server b-d1-0',
        'stop-replica app-staging-blue-d1-0',
        'remove-server b-d1-0',
        'remove-replica app-staging-blue-d1-0',
      ],
    },
    {
      name: 'router stopped with 2 live replicas: none is stray, they serve until the new set is healthy',
      observed: {
        replicas: [replica('blue', 0), replica('blue', 1)],
        router: { running: false, activeSlot: 'blue', servers: [] },
      },
      expected: [
        'ensure-router',
        'start-replica',
        'check-replicas',
        'add-server b-d2-0',
        'drain-server b-d1-0',
        'stop-replica app-staging-blue-d1-0',
        'start-replica',
        'check-replicas',
        'add-server b-d2-1',
        'drain-server b-d1-1',
        'stop-replica app-staging-blue-d1-1',
        'remove-server b-d1-0',
        'remove-replica app-staging-blue-d1-0',
        'remove-server b-d1-1',
        'remove-replica app-staging-blue-d1-1',
      ],
    },
    {
      name: 'rolling on green when green is live',
      observed: state([replica('green', 0)], 'green'),
      settings: { replicas: 1 },
      expected: [
        'start-replica',
        'check-replicas',
        'add-server g-d2-0',
        'drain-server g-d1-0',
        'stop-replica app-staging-green-d1-0',
        'remove-server g-d1-0',
        'remove-replica app-staging-green-d1-0',
      ],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      expect(kinds(planRolling(c.observed, { ...settings, ...c.settings }, target).steps)).toEqual(
        c.expected,
      );
    });

  it('router stopped with 2 live replicas: the serving version is still the rollback target', () => {
    const observed: ObservedState = {
      replicas: [replica('blue', 0), replica('blue', 1)],
      router: { running: false, activeSlot: 'blue', servers: [] },
    };
    expect(strayReplicas(observed)).toEqual([]);
    const rolling = planRolling(observed, settings, target);
    expect(rolling.from).toEqual({ version: '1.0.0', digest: 'sha256:1.0.0' });
    expect(rolling.steps.filter((s) => s.phase === 'prepare' && s.step.kind === 'remove-replica')).toEqual(
      [],
    );
    const blueGreen = planBlueGreen(observed, settings, target);
    expect(blueGreen.from).toEqual({ version: '1.0.0', digest: 'sha256:1.0.0' });
    expect(kinds(blueGreen.steps).slice(0, 2)).toEqual(['ensure-router', 'start-replica']);
    expect(kinds(blueGreen.steps).filter((k) => k.startsWith('remove-replica'))).toEqual([]);
    expect(planRetireIdle(observed)).toEqual([]);
  });

  it('proves the version with all five checks in the first batch and each later replica with two', () => {
    const plan = planRolling(state([replica('blue', 0), replica('blue', 1)]), settings, target);
    const checks = plan.steps
      .filter((s) => s.step.kind === 'check-replicas')
      .map((s) => (s.step as { checks: string[] }).checks);
    expect(checks).toEqual([
      ['container', 'api', 'database', 'external', 'performance'],
      ['container', 'api'],
    ]);
    expect(plan.from).toEqual({ version: '1.0.0', digest: 'sha256:1.0.0' });
  });

  it('gives every changing step its undo: the previous replica set comes back', () => {
    const plan = planRolling(state([replica('blue', 0)]), { ...settings, replicas: 1 }, target);
    const undo = Object.fromEntries(plan.steps.map((s) => [s.step.kind, s.undo.map((u) => u.kind)]));
    expect(undo['start-replica']).toEqual(['remove-replica']);
    expect(undo['add-server']).toEqual(['drain-server', 'remove-server']);
    expect(undo['drain-server']).toEqual(['ready-server']);
    expect(undo['stop-replica']).toEqual(['restart-replica']);
    expect(plan.steps.filter((s) => s.phase === 'finalize').every((s) => s.undo.length === 0)).toBe(true);
    expect(plan.steps.find((s) => s.step.kind === 'start-replica')!.step).toMatchObject({
      replica: {
        name: 'app-staging-blue-d2-0',
        server: 'b-d2-0',
        slot: 'blue',
        version: '1.1.0',
        image: 'repo@sha256:new',
        digest: 'sha256:new',
        deploymentId: 'd2',
        index: 0,
      },
    });
  });
});

describe('planBlueGreen', () => {
  it('starts the full green set, checks it, registers it, switches once, keeps blue', () => {
    const plan = planBlueGreen(state([replica('blue', 0), replica('blue', 1)]), settings, target);
    expect(kinds(plan.steps)).toEqual([
      'start-replica',
      'start-replica',
      'check-replicas',
      'add-server g-d2-0',
      'add-server g-d2-1',
      'switch-slot',
      'retain-slot',
    ]);
    expect(plan.steps.filter((s) => s.step.kind === 'switch-slot')).toHaveLength(1);
    expect(plan.steps.find((s) => s.step.kind === 'switch-slot')).toMatchObject({
      step: { from: 'blue', to: 'green' },
      phase: 'shift',
      undo: [{ kind: 'switch-slot', from: 'green', to: 'blue' }],
    });
    // Every step before the switch is "prepare": green gets no traffic until then.
    const switchAt = plan.steps.findIndex((s) => s.step.kind === 'switch-slot');
    expect(plan.steps.slice(0, switchAt).every((s) => s.phase === 'prepare')).toBe(true);
    expect(plan).toMatchObject({ activeSlot: 'blue', targetSlot: 'green', strategy: 'blue-green' });
  });

  it('retires the set kept from the previous switch before starting the new one', () => {
    const observed = state([replica('green', 0, '1.0.0', 'd0'), replica('blue', 0, '1.0.5', 'd1')], 'blue');
    expect(kinds(planBlueGreen(observed, { ...settings, replicas: 1 }, target).steps)).toEqual([
      'remove-server g-d0-0',
      'remove-replica app-staging-green-d0-0',
      'start-replica',
      'check-replicas',
      'add-server g-d2-0',
      'switch-slot',
      'retain-slot',
    ]);
  });

  it('retires blue at once (drained) when the keep window is 0', () => {
    const plan = planBlueGreen(
      state([replica('blue', 0)]),
      { ...settings, replicas: 1, keepPreviousSeconds: 0 },
      target,
    );
    expect(kinds(plan.steps).slice(-4)).toEqual([
      'switch-slot',
      'drain-server b-d1-0',
      'remove-server b-d1-0',
      'remove-replica app-staging-blue-d1-0',
    ]);
    expect(plan.steps.slice(-3).every((s) => s.phase === 'finalize')).toBe(true);
  });

  it('on an empty environment needs no retain step', () => {
    const plan = planBlueGreen(
      { replicas: [], router: { running: false, activeSlot: 'blue', servers: [] } },
      { ...settings, replicas: 1 },
      target,
    );
    expect(kinds(plan.steps)).toEqual([
      'ensure-router',
      'start-replica',
      'check-replicas',
      'add-server g-d2-0',
      'switch-slot',
    ]);
    expect(plan.from).toBeUndefined();
  });
});

describe('planRollback', () => {
  it('flips traffic back to the kept set: nothing starts', () => {
    const observed = state([replica('blue', 0, '1.0.0', 'd1'), replica('green', 0, '1.1.0', 'd2')], 'green');
    const plan = planRollback(observed, settings, { strategy: 'blue-green', previous: undefined })!;
    expect(plan.strategy).toBe('rollback-flip');
    expect(kinds(plan.steps)).toEqual([
      'check-replicas',
      'ready-server b-d1-0',
      'switch-slot',
      'retain-slot',
    ]);
    expect(plan.to.version).toBe('1.0.0');
    // History records a reference Docker can create a container from, never a bare digest.
    expect(plan.to).toEqual({ version: '1.0.0', digest: 'sha256:1.0.0', image: 'repo@sha256:1.0.0' });
    expect(plan.from?.version).toBe('1.1.0');
  });

  it('redeploys the previous digest through rolling when nothing is kept', () => {
    const observed = state([replica('blue', 0, '1.1.0', 'd2')]);
    const previous: Target = {
      version: '1.0.0',
      image: 'repo@sha256:old',
      digest: 'sha256:old',
      deploymentId: 'd3',
    };
    const plan = planRollback(
      observed,
      { ...settings, replicas: 1, migration: ['migrate'] },
      { strategy: 'rolling', previous },
    )!;
    expect(plan.strategy).toBe('rolling');
    expect(plan.to).toEqual({ version: '1.0.0', digest: 'sha256:old', image: 'repo@sha256:old' });
    // Migrations only go forward: a rollback never runs them.
    expect(kinds(plan.steps)).not.toContain('run-migration');
  });

  it('redeploys through blue-green when that is the strategy', () => {
    const plan = planRollback(state([replica('blue', 0, '1.1.0')]), settings, {
      strategy: 'blue-green',
      previous: { ...target, version: '1.0.0' },
    })!;
    expect(plan.strategy).toBe('blue-green');
  });

  it('has nothing to return to without a kept set or history', () => {
    expect(
      planRollback(state([replica('blue', 0)]), settings, { strategy: 'rolling', previous: undefined }),
    ).toBeUndefined();
  });

  it('with the router stopped, the flip starts it first', () => {
    const observed: ObservedState = {
      replicas: [replica('blue', 0, '1.0.0', 'd1'), replica('green', 0, '1.1.0', 'd2')],
      router: { running: false, activeSlot: 'green', servers: [] },
    };
    const plan = planRollback(observed, settings, { strategy: 'blue-green', previous: undefined })!;
    expect(plan.strategy).toBe('rollback-flip');
    expect(plan.from).toEqual({ version: '1.1.0', digest: 'sha256:1.1.0' });
    expect(kinds(plan.steps).slice(0, 2)).toEqual(['ensure-router', 'check-replicas']);
  });

  it('does not flip to a kept set of the version already serving', () => {
    const observed = state([replica('blue', 0, '1.0.0', 'd1'), replica('green', 0, '1.0.0', 'd1')], 'green');
    expect(planRollback(observed, settings, { strategy: 'blue-green', previous: undefined })).toBeUndefined();
  });
});

describe('observed-state helpers and rendering', () => {
  it('reads the serving version as the majority of live replicas', () => {
    expect(
      currentVersion(
        state([replica('blue', 0, '1.0.0'), replica('blue', 1, '1.1.0'), replica('blue', 2, '1.1.0')]),
      ),
    ).toEqual({ version: '1.1.0', digest: 'sha256:1.1.0' });
    expect(currentVersion(state([]))).toBeUndefined();
    expect(otherSlot('green')).toBe('blue');
    expect(strayReplicas(state([replica('blue', 0)], 'blue', []))).toHaveLength(1);
  });

  it('describes every step kind and renders a plan with phases and undo', () => {
    const all: Step[] = [
      { kind: 'ensure-router' },
      { kind: 'run-migration', image: 'i', command: ['migrate', 'up'] },
      { kind: 'ready-server', slot: 'blue', server: 's' },
      { kind: 'restart-replica', replica: 'r' },
      { kind: 'retain-slot', slot: 'blue', seconds: 60 },
      { kind: 'remove-replica', replica: 'r' },
    ];
    expect(all.map(describeStep)).toEqual([
      'start the router (HAProxy) and the environment network',
      'run migrations: i migrate up',
      'router: set blue/s ready',
      'start r again and wait until it is healthy',
      'keep slot blue running 60 s for an instant rollback (retired by the next deployment)',
      'remove r',
    ]);
    const text = renderPlan({
      ...planBlueGreen(state([replica('blue', 0)]), { ...settings, replicas: 1 }, target),
      note: 'n',
    });
    expect(text).toContain('plan: blue-green of staging: 1.0.0 (sha256:1.0.0) → 1.1.0 (sha256:new)');
    expect(text).toContain('note: n');
    expect(text).toContain('[shift] router: switch all traffic blue → green (one step)');
    expect(text).toContain('undo: router: switch all traffic green → blue (one step)');
    expect(
      renderPlan(
        planRolling(
          { replicas: [], router: { running: false, activeSlot: 'blue', servers: [] } },
          settings,
          target,
        ),
      ),
    ).toContain('(nothing running)');
  });
});

describe('retiring the kept set', () => {
  const since = new Date('2026-01-01T00:00:00Z');
  it('expires after the window, never when the switch time is unknown', () => {
    expect(keptSetExpired(settings, since, new Date('2026-01-01T00:09:59Z'))).toBe(false);
    expect(keptSetExpired(settings, since, new Date('2026-01-01T00:10:00Z'))).toBe(true);
    expect(keptSetExpired(settings, undefined, new Date('2030-01-01T00:00:00Z'))).toBe(false);
  });

  it('removes the idle slot servers and containers, leaving the live slot alone', () => {
    const observed = state(
      [
        replica('blue', 0, '1.1.0', 'd2'),
        replica('green', 0, '1.0.0', 'd1'),
        replica('green', 1, '1.0.0', 'd1'),
      ],
      'blue',
    );
    expect(kinds(planRetireIdle(observed))).toEqual([
      'remove-server g-d1-0',
      'remove-replica app-staging-green-d1-0',
      'remove-server g-d1-1',
      'remove-replica app-staging-green-d1-1',
    ]);
    expect(planRetireIdle(state([replica('blue', 0)]))).toEqual([]);
  });
});

describe('the post-switch watch', () => {
  const observed = state([replica('blue', 0), replica('blue', 1)]);
  it('rolling: watches every new replica after the last old one stopped, before anything is removed', () => {
    const plan = planRolling(observed, { ...settings, watchSeconds: 30 }, target);
    const at = plan.steps.findIndex((s) => s.step.kind === 'watch');
    expect(plan.steps[at]).toMatchObject({
      phase: 'shift',
      step: { kind: 'watch', seconds: 30, servers: ['b-d2-0', 'b-d2-1'], slot: 'blue' },
    });
    expect(plan.steps.slice(0, at).some((s) => s.phase === 'finalize')).toBe(false);
    expect(plan.steps.slice(at + 1).every((s) => s.phase === 'finalize')).toBe(true);
  });
  it('blue-green: watches right after the switch, while the old set still runs (undo is a flip)', () => {
    const plan = planBlueGreen(observed, { ...settings, watchSeconds: 30, keepPreviousSeconds: 0 }, target);
    const kindsInOrder = plan.steps.map((s) => s.step.kind);
    expect(kindsInOrder.indexOf('watch')).toBe(kindsInOrder.indexOf('switch-slot') + 1);
    expect(kindsInOrder.indexOf('drain-server')).toBeGreaterThan(kindsInOrder.indexOf('watch'));
  });
  it('a rollback never watches (a failed watch would return to the broken version)', () => {
    const plan = planRollback(
      observed,
      { ...settings, watchSeconds: 30 },
      {
        strategy: 'rolling',
        previous: { ...target, version: '0.9.0', digest: 'sha256:0.9.0' },
      },
    )!;
    expect(plan.steps.some((s) => s.step.kind === 'watch')).toBe(false);
  });
  it('watchSeconds 0 plans no watch', () => {
    expect(planRolling(observed, settings, target).steps.some((s) => s.step.kind === 'watch')).toBe(false);
  });
});

describe('planCanary', () => {
  const observed = state([replica('blue', 0), replica('blue', 1)]);
  const plan = planCanary(observed, { ...settings, watchSeconds: 20 }, target);
  const steps = plan.steps.map((s) => s.step);

  it('starts one canary, checks it with all five checks, adds it at the first weight, then analyses each step below 100 %', () => {
    expect(plan.strategy).toBe('canary');
    expect(kinds(plan.steps)).toEqual([
      'start-replica',
      'check-replicas',
      'add-server b-d2-0',
      'set-weights',
      'analyze-canary',
      'set-weights',
      'analyze-canary',
      'start-replica',
      'check-replicas',
      'add-server b-d2-1',
      'set-weights',
      'drain-server b-d1-0',
      'stop-replica app-staging-blue-d1-0',
      'drain-server b-d1-1',
      'stop-replica app-staging-blue-d1-1',
      'watch',
      'remove-server b-d1-0',
      'remove-replica app-staging-blue-d1-0',
      'remove-server b-d1-1',
      'remove-replica app-staging-blue-d1-1',
    ]);
    expect(steps[1]).toMatchObject({
      kind: 'check-replicas',
      checks: ['container', 'api', 'database', 'external', 'performance'],
    });
    // 10 %: one canary at 20 against two baselines at 90 each (20 / 200).
    expect(steps[2]).toMatchObject({ kind: 'add-server', weight: 20 });
    expect(steps[3]).toEqual({
      kind: 'set-weights',
      slot: 'blue',
      weights: [
        { server: 'b-d2-0', weight: 20 },
        { server: 'b-d1-0', weight: 90 },
        { server: 'b-d1-1', weight: 90 },
      ],
    });
    expect(steps[4]).toEqual({
      kind: 'analyze-canary',
      slot: 'blue',
      step: 1,
      of: 2,
      weight: 10,
      pauseSeconds: 30,
      canary: ['b-d2-0'],
      baseline: ['b-d1-0', 'b-d1-1'],
      baselineKind: 'serving',
      baselineReplicas: [],
      serving: ['b-d1-0', 'b-d1-1'],
      shares: { canary: 10, baseline: 0, serving: 90 },
      judgment: settings.canary.judgment,
    });
    expect(steps[6]).toMatchObject({ kind: 'analyze-canary', step: 2, weight: 50 });
  });

  it('every step up to the watch can be undone; each weight change restores the one before', () => {
    const before = plan.steps.findIndex((s) => s.step.kind === 'watch');
    for (const s of plan.steps.slice(0, before))
      expect(s.phase === 'prepare' || s.phase === 'shift').toBe(true);
    expect(plan.steps[3]!.undo).toEqual([
      {
        kind: 'set-weights',
        slot: 'blue',
        weights: [
          { server: 'b-d1-0', weight: 100 },
          { server: 'b-d1-1', weight: 100 },
        ],
      },
    ]);
    expect(plan.steps[5]!.undo[0]).toEqual(steps[3]);
    expect(plan.steps[2]!.undo.map((u) => u.kind)).toEqual(['drain-server', 'remove-server']);
    expect(plan.steps[12]!.undo).toEqual([{ kind: 'restart-replica', replica: 'app-staging-blue-d1-0' }]);
  });

  it('a first deployment has no baseline: no analysis, promoted at once, and says so', () => {
    const first = planCanary(state([]), settings, target);
    expect(first.steps.some((s) => s.step.kind === 'analyze-canary')).toBe(false);
    expect(first.note).toMatch(/no baseline/);
    expect(
      first.steps
        .filter((s) => s.step.kind === 'add-server')
        .map((s) => (s.step as { weight?: number }).weight),
    ).toEqual([100, 100]);
  });

  it('with as many canary replicas as replicas, promotion starts nothing more', () => {
    const all = planCanary(observed, { ...settings, canary: { ...settings.canary, replicas: 2 } }, target);
    expect(all.steps.filter((s) => s.step.kind === 'start-replica')).toHaveLength(2);
    expect(all.steps.filter((s) => s.step.kind === 'check-replicas')).toHaveLength(1);
  });

  it('renders weights and analysis in the dry-run plan', () => {
    const text = renderPlan(plan);
    expect(text).toMatch(
      /canary step 1\/2: 10 % of traffic to b-d2-0 for 30 s — canary 10 % \/ serving 90 % — then compare with the serving set b-d1-0, b-d1-1/,
    );
    expect(text).toMatch(/router: weights in blue: b-d2-0=20, b-d1-0=90, b-d1-1=90/);
    expect(text).toMatch(/watch b-d2-0, b-d2-1 for 20 s/);
  });
});

describe('planRolling, stop-first', () => {
  it('stops each old replica before its successor starts; a failure restarts it (undo)', () => {
    const observed = state([replica('blue', 0)]);
    const plan = planRolling(observed, { ...settings, replicas: 1, stopFirst: true }, target);
    expect(kinds(plan.steps)).toEqual([
      'drain-server b-d1-0',
      'stop-replica app-staging-blue-d1-0',
      'start-replica',
      'check-replicas',
      'add-server b-d2-0',
      'remove-server b-d1-0',
      'remove-replica app-staging-blue-d1-0',
    ]);
    expect(plan.steps[1]!.undo).toEqual([{ kind: 'restart-replica', replica: 'app-staging-blue-d1-0' }]);
    // Nothing before finalize may be left without a way back.
    expect(plan.steps.slice(0, 5).every((s) => s.phase === 'shift')).toBe(true);
  });
  it('two replicas, batch 1: old 0 stops, new 0 starts, then old 1 stops, new 1 starts', () => {
    const plan = planRolling(
      state([replica('blue', 0), replica('blue', 1)]),
      { ...settings, stopFirst: true },
      target,
    );
    expect(kinds(plan.steps).slice(0, 10)).toEqual([
      'drain-server b-d1-0',
      'stop-replica app-staging-blue-d1-0',
      'start-replica',
      'check-replicas',
      'add-server b-d2-0',
      'drain-server b-d1-1',
      'stop-replica app-staging-blue-d1-1',
      'start-replica',
      'check-replicas',
      'add-server b-d2-1',
    ]);
  });
});

describe('planCanary with a fresh baseline (the default)', () => {
  const fresh = { ...settings, watchSeconds: 20, canary: { ...settings.canary, baseline: 'fresh' as const } };
  const observed = state([replica('blue', 0), replica('blue', 1)]);
  const plan = planCanary(observed, fresh, target);
  const steps = plan.steps.map((s) => s.step);

  it('starts one replica of the serving version beside the canary, checks both with all five checks, and compares the canary with it', () => {
    expect(kinds(plan.steps)).toEqual([
      'start-replica',
      'start-replica',
      'check-replicas',
      'check-replicas',
      'add-server b-d2-0',
      'add-server b-d2-base-0',
      'set-weights',
      'analyze-canary',
      'set-weights',
      'analyze-canary',
      'start-replica',
      'check-replicas',
      'add-server b-d2-1',
      'set-weights',
      'drain-server b-d2-base-0',
      'remove-server b-d2-base-0',
      'remove-replica app-staging-blue-d2-baseline-0',
      'drain-server b-d1-0',
      'stop-replica app-staging-blue-d1-0',
      'drain-server b-d1-1',
      'stop-replica app-staging-blue-d1-1',
      'watch',
      'remove-server b-d1-0',
      'remove-replica app-staging-blue-d1-0',
      'remove-server b-d1-1',
      'remove-replica app-staging-blue-d1-1',
    ]);
    // Same image digest as the serving set, same version, marked as a baseline.
    expect(steps[1]).toEqual({
      kind: 'start-replica',
      replica: {
        name: 'app-staging-blue-d2-baseline-0',
        server: 'b-d2-base-0',
        slot: 'blue',
        index: 0,
        version: '1.0.0',
        image: 'repo@sha256:1.0.0',
        digest: 'sha256:1.0.0',
        deploymentId: 'd2',
        baseline: true,
      },
    });
    expect(plan.steps[1]!.undo).toEqual([
      { kind: 'remove-replica', replica: 'app-staging-blue-d2-baseline-0' },
    ]);
    expect(steps[3]).toMatchObject({
      kind: 'check-replicas',
      replicas: ['app-staging-blue-d2-baseline-0'],
      checks: ['container', 'api', 'database', 'external', 'performance'],
    });
    expect(steps[7]).toEqual({
      kind: 'analyze-canary',
      slot: 'blue',
      step: 1,
      of: 2,
      weight: 10,
      pauseSeconds: 30,
      canary: ['b-d2-0'],
      baseline: ['b-d2-base-0'],
      baselineKind: 'fresh',
      baselineReplicas: ['app-staging-blue-d2-baseline-0'],
      serving: ['b-d1-0', 'b-d1-1'],
      shares: { canary: 10, baseline: 10, serving: 80 },
      judgment: settings.canary.judgment,
    });
  });

  it("the baseline gets the canary's weight; at 50 % the serving set keeps weight 1 as a fallback only", () => {
    expect(steps[6]).toEqual({
      kind: 'set-weights',
      slot: 'blue',
      weights: [
        { server: 'b-d2-0', weight: 20 },
        { server: 'b-d2-base-0', weight: 20 },
        { server: 'b-d1-0', weight: 80 },
        { server: 'b-d1-1', weight: 80 },
      ],
    });
    expect(steps[8]).toEqual({
      kind: 'set-weights',
      slot: 'blue',
      weights: [
        { server: 'b-d2-0', weight: 100 },
        { server: 'b-d2-base-0', weight: 100 },
        { server: 'b-d1-0', weight: 1 },
        { server: 'b-d1-1', weight: 1 },
      ],
    });
    // Promotion: the canary to full weight, the baseline to 0 — undone back to the last step's weights.
    expect(plan.steps[13]!.step).toEqual({
      kind: 'set-weights',
      slot: 'blue',
      weights: [
        { server: 'b-d2-0', weight: 100 },
        { server: 'b-d2-base-0', weight: 0 },
      ],
    });
    expect(plan.steps[13]!.undo).toEqual([
      {
        kind: 'set-weights',
        slot: 'blue',
        weights: [
          { server: 'b-d2-0', weight: 100 },
          { server: 'b-d2-base-0', weight: 100 },
        ],
      },
    ]);
  });

  it('a rollback during analysis drains and removes the baseline like the canary: every step before the watch has an undo path', () => {
    const addBaseline = plan.steps[5]!;
    expect(addBaseline.step).toMatchObject({ kind: 'add-server', server: 'b-d2-base-0', weight: 20 });
    expect(addBaseline.undo.map((u) => u.kind)).toEqual(['drain-server', 'remove-server']);
    const before = plan.steps.findIndex((s) => s.step.kind === 'watch');
    for (const s of plan.steps.slice(0, before)) expect(s.phase).not.toBe('finalize');
  });

  it('renders the three shares of each step in the dry-run plan', () => {
    const text = renderPlan(plan);
    expect(text).toMatch(
      /canary step 1\/2: 10 % of traffic to b-d2-0 for 30 s — canary 10 % \/ fresh baseline 10 % \/ serving 80 % — then compare with the fresh baseline b-d2-base-0/,
    );
    expect(text).toMatch(/canary 50 % \/ fresh baseline 50 % \/ serving 0 %/);
    expect(text).toMatch(
      /start app-staging-blue-d2-baseline-0 \(1\.0\.0, sha256:1\.0\.0\) in slot blue as the canary's fresh baseline/,
    );
  });

  it('a first deployment starts no baseline (nothing to copy)', () => {
    const first = planCanary(state([]), fresh, target);
    expect(first.steps.some((s) => s.step.kind === 'start-replica' && s.step.replica.baseline)).toBe(false);
  });

  it('copies the serving majority version when the serving set is mixed', () => {
    const mixed = state([
      replica('blue', 0, '1.0.0'),
      replica('blue', 1, '1.0.1', 'd1'),
      replica('blue', 2, '1.0.1', 'd1'),
    ]);
    const p = planCanary(mixed, { ...fresh, replicas: 3 }, target);
    const base = p.steps.find((s) => s.step.kind === 'start-replica' && s.step.replica.baseline)!.step;
    expect(base).toMatchObject({ replica: { version: '1.0.1', digest: 'sha256:1.0.1' } });
  });
});

describe('fresh baselines never outlive their canary', () => {
  const leftover: ObservedReplica = {
    ...replica('blue', 0, '1.0.0', 'd9'),
    name: 'app-staging-blue-d9-baseline-0',
    server: 'b-d9-base-0',
    baseline: true,
  };
  const serving = [replica('blue', 0), replica('blue', 1)];

  it('are never part of the serving set, nor count for the current version', () => {
    const observed = state([...serving, { ...leftover, version: '0.9.0' }]);
    expect(servingReplicas(observed, 'blue').map((r) => r.name)).toEqual([
      'app-staging-blue-d1-0',
      'app-staging-blue-d1-1',
    ]);
    expect(currentVersion(observed)?.version).toBe('1.0.0');
  });

  it('one a killed canary left in the router is drained and removed first by any plan', () => {
    const observed = state([...serving, leftover]);
    for (const plan of [planRolling(observed, settings, target), planBlueGreen(observed, settings, target)])
      expect(kinds(plan.steps).slice(0, 3)).toEqual([
        'drain-server b-d9-base-0',
        'remove-server b-d9-base-0',
        'remove-replica app-staging-blue-d9-baseline-0',
      ]);
  });

  it('one the router does not know is removed as a stray, once', () => {
    const observed = state([...serving, leftover], 'blue', serving);
    expect(kinds(planRolling(observed, settings, target).steps).filter((k) => k.includes('d9'))).toEqual([
      'remove-replica app-staging-blue-d9-baseline-0',
    ]);
  });
});
