import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeployStore, LockHeldError } from './deploy-store.js';

const fresh = () => new DeployStore(join(mkdtempSync(join(tmpdir(), 'its-store-')), 'sub', 'deploy.sqlite'));
const at = (iso: string) => () => new Date(iso);
const lock = {
  environment: 'staging',
  holder: 'ana',
  pid: 111,
  host: 'h1',
  reason: 'deploy 1.1.0',
  deploymentId: 'd1',
};

describe('deployment locks', () => {
  const alive = (pids: number[]) => (pid: number) => pids.includes(pid);

  it('refuses a second holder while the first lives, naming holder, pid, host, reason and time', () => {
    const store = fresh();
    expect(
      store.acquireLock(lock, 60, { isAlive: alive([111]), hostname: 'h1', now: at('2026-01-01T00:00:00Z') }),
    ).toEqual({ takenOver: undefined, why: undefined });
    let error: unknown;
    try {
      store.acquireLock({ ...lock, holder: 'bo', pid: 222, deploymentId: 'd2' }, 60, {
        isAlive: alive([111, 222]),
        hostname: 'h1',
        now: at('2026-01-01T00:00:30Z'),
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as Error).message).toBe(
      'environment staging is locked by ana (pid 111 on h1) since 2026-01-01T00:00:00.000Z: deploy 1.1.0',
    );
    expect((error as LockHeldError).fix).toMatch(/itsctl lock release -e staging/);
  });

  it('takes over from a dead holder on the same host, saying why', () => {
    const store = fresh();
    store.acquireLock(lock, 600, { isAlive: alive([111]), hostname: 'h1', now: at('2026-01-01T00:00:00Z') });
    const r = store.acquireLock({ ...lock, pid: 222, deploymentId: 'd2' }, 600, {
      isAlive: alive([222]),
      hostname: 'h1',
      now: at('2026-01-01T00:01:00Z'),
    });
    expect(r.why).toBe('its holder (pid 111 on h1) is no longer running');
    expect(r.takenOver?.pid).toBe(111);
    expect(store.readLock('staging')).toMatchObject({
      pid: 222,
      deploymentId: 'd2',
      expiresAt: '2026-01-01T00:11:00.000Z',
    });
  });

  it('takes over an expired lock of another host; a live one of another host is respected', () => {
    const store = fresh();
    store.acquireLock(lock, 60, { isAlive: alive([111]), hostname: 'h1', now: at('2026-01-01T00:00:00Z') });
    // From h2 the pid cannot be checked: only expiry frees it.
    expect(() =>
      store.acquireLock({ ...lock, host: 'h2', deploymentId: 'd2' }, 60, {
        isAlive: alive([]),
        hostname: 'h2',
        now: at('2026-01-01T00:00:59Z'),
      }),
    ).toThrow(LockHeldError);
    const r = store.acquireLock({ ...lock, host: 'h2', deploymentId: 'd2' }, 60, {
      isAlive: alive([]),
      hostname: 'h2',
      now: at('2026-01-01T00:01:01Z'),
    });
    expect(r.why).toBe('it expired at 2026-01-01T00:01:00.000Z');
  });

  it('refreshes and releases only its own lock', () => {
    const store = fresh();
    store.acquireLock(lock, 60, { isAlive: alive([111]), hostname: 'h1', now: at('2026-01-01T00:00:00Z') });
    store.refreshLock('staging', 'd1', 60, new Date('2026-01-01T00:00:50Z'));
    expect(store.readLock('staging')?.expiresAt).toBe('2026-01-01T00:01:50.000Z');
    expect(store.releaseLock('staging', 'other')).toBe(false);
    expect(store.releaseLock('staging', 'd1')).toBe(true);
    expect(store.readLock('staging')).toBeUndefined();
    expect(store.releaseLock('staging')).toBe(false);
    store.close();
  });
});

describe('history, journal and audit', () => {
  it('keeps every deployment with its outcome and checks, newest first', () => {
    const store = fresh();
    const base = {
      environment: 'staging',
      who: 'ana',
      action: 'deploy' as const,
      image: 'img',
      strategy: 'rolling',
      fromVersion: null,
      fromDigest: null,
      pid: 1,
      host: 'h',
    };
    store.startDeployment({
      ...base,
      id: 'd1',
      version: '1.0.0',
      digest: 'sha256:a',
      startedAt: '2026-01-01T00:00:00.000Z',
    });
    store.finishDeployment('d1', 'succeeded', new Date('2026-01-01T00:00:10Z'), null, [
      { check: 'api', ok: true },
    ]);
    store.startDeployment({
      ...base,
      id: 'd2',
      version: '1.1.0',
      digest: 'sha256:b',
      startedAt: '2026-01-01T00:01:00.000Z',
      fromVersion: '1.0.0',
      fromDigest: 'sha256:a',
    });
    expect(store.unfinished('staging').map((d) => d.id)).toEqual(['d2']);
    store.finishDeployment(
      'd2',
      'rolled-back',
      new Date('2026-01-01T00:01:20Z'),
      'health check "database" failed',
      [{ check: 'database', ok: false }],
    );
    const history = store.history('staging');
    expect(history.map((d) => `${d.id} ${d.version} ${d.outcome}`)).toEqual([
      'd2 1.1.0 rolled-back',
      'd1 1.0.0 succeeded',
    ]);
    expect(history[0]).toMatchObject({
      fromVersion: '1.0.0',
      reason: 'health check "database" failed',
      checks: [{ check: 'database', ok: false }],
      endedAt: '2026-01-01T00:01:20.000Z',
    });
    expect(store.unfinished('staging')).toEqual([]);
  });

  it('journals started steps with their undo', () => {
    const store = fresh();
    store.journalStart('d1', 0, { kind: 'start-replica' }, [{ kind: 'remove-replica', replica: 'r' }]);
    store.journalStart('d1', 1, { kind: 'check-replicas' }, []);
    store.journalMark('d1', 0, 'done');
    expect(store.journal('d1')).toEqual([
      {
        seq: 0,
        step: { kind: 'start-replica' },
        undo: [{ kind: 'remove-replica', replica: 'r' }],
        state: 'done',
      },
      { seq: 1, step: { kind: 'check-replicas' }, undo: [], state: 'started' },
    ]);
  });

  it('keeps an audit log', () => {
    const store = fresh();
    store.audit(new Date('2026-01-01T00:00:00Z'), 'staging', 'ana', 'deploy', 'd1: rolling 1.0.0 → 1.1.0');
    store.audit(new Date('2026-01-01T00:01:00Z'), 'staging', 'bo', 'lock-release', 'released');
    expect(store.auditLog('staging').map((e) => `${e.who} ${e.action}`)).toEqual([
      'bo lock-release',
      'ana deploy',
    ]);
  });
});
