import { mkdtemp, readFile, rm, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@its/core';
import { runningDigests } from '../registry/prune-registry.js';
import {
  environmentRepository,
  isEnvironment,
  nextEnvironment,
  previousEnvironment,
} from './environments.js';
import { assessPromotion } from './plan-promotion.js';
import { defaultRecordStorePath, openRecordStore, type GateRecord } from './record-store.js';

const D = `sha256:${'d'.repeat(64)}`;
const rec = (over: Partial<GateRecord>): GateRecord => ({
  digest: D,
  environment: 'development',
  kind: 'gate',
  name: 'unit',
  result: 'pass',
  at: '2026-11-26T00:00:00Z',
  ...over,
});

describe('environments', () => {
  it('maps environments to repositories and orders them', () => {
    expect(environmentRepository('its-camera-ai', 'staging')).toBe('its-camera-ai/staging');
    expect(environmentRepository('its-camera-ai', 'release')).toBe('its-camera-ai');
    expect(previousEnvironment('development')).toBeUndefined();
    expect(previousEnvironment('release')).toBe('production');
    expect(nextEnvironment('release')).toBeUndefined();
    expect(isEnvironment('qa')).toBe(false);
  });
});

describe('assessPromotion', () => {
  it.each([
    {
      name: 'a pass in the source allows',
      records: [rec({})],
      from: 'development',
      to: 'staging',
      allowed: true,
      reasons: [],
    },
    {
      name: 'a deploy pass counts',
      records: [rec({ kind: 'deploy' })],
      from: 'development',
      to: 'staging',
      allowed: true,
      reasons: [],
    },
    {
      name: 'no record refuses',
      records: [],
      from: 'development',
      to: 'staging',
      allowed: false,
      reasons: [/no passing gate or deploy record in development/],
    },
    {
      name: 'a pass elsewhere does not count',
      records: [rec({ environment: 'staging' })],
      from: 'development',
      to: 'staging',
      allowed: false,
      reasons: [/no passing/],
    },
    {
      name: 'a promotion record is not evidence',
      records: [rec({ kind: 'promotion' })],
      from: 'development',
      to: 'staging',
      allowed: false,
      reasons: [/no passing/],
    },
    {
      name: 'another digest does not count',
      records: [rec({ digest: `sha256:${'e'.repeat(64)}` })],
      from: 'development',
      to: 'staging',
      allowed: false,
      reasons: [/no passing/],
    },
    {
      name: 'a latest failure blocks',
      records: [rec({}), rec({ name: 'e2e', result: 'fail', detail: 'firefox' })],
      from: 'development',
      to: 'staging',
      allowed: false,
      reasons: [/gate e2e failed in development at .* \(firefox\)/],
    },
    {
      name: 'a later pass clears a failure',
      records: [rec({ result: 'fail' }), rec({ at: '2026-11-26T01:00:00Z' })],
      from: 'development',
      to: 'staging',
      allowed: true,
      reasons: [],
    },
    {
      name: 'skipping and missing evidence are reported together',
      records: [],
      from: 'development',
      to: 'production',
      allowed: false,
      reasons: [/production takes images from staging/, /no passing/],
    },
    {
      name: 'nothing is promoted into development',
      records: [rec({})],
      from: 'release',
      to: 'development',
      allowed: false,
      reasons: [/images enter it through `itsctl publish`/, /no passing gate or deploy record in release/],
    },
  ] as const)('$name', ({ records, from, to, allowed, reasons }) => {
    const verdict = assessPromotion({ digest: D, from, to, records: [...records] });
    expect(verdict.allowed).toBe(allowed);
    if (!verdict.allowed) {
      expect(verdict.reasons).toHaveLength(reasons.length);
      reasons.forEach((r, i) => expect(verdict.reasons[i]).toMatch(r));
      expect(verdict.fix).toContain(`itsctl record --env ${from} --digest ${D}`);
    }
  });
});

describe('record store', () => {
  it('appends atomically, filters, validates, and survives a stale lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'its-records-'));
    try {
      const path = join(dir, 'nested', 'records.json');
      const store = openRecordStore(path);
      expect(await store.list()).toEqual([]);
      await store.append(rec({}));
      await store.append(rec({ environment: 'staging', kind: 'deploy' }));
      expect(await store.list({ environment: 'staging' })).toHaveLength(1);
      expect(await store.list({ digest: D })).toHaveLength(2);
      expect(JSON.parse(await readFile(path, 'utf8')).version).toBe(1);
      await expect(store.append(rec({ digest: 'sha256:short' }))).rejects.toThrow();
      // A crashed writer's lock older than 30 s is broken, not waited on forever.
      await writeFile(`${path}.lock`, '');
      const old = new Date(Date.now() - 60_000);
      await utimes(`${path}.lock`, old, old);
      await store.append(rec({ name: 'after-stale-lock' }));
      expect((await store.list()).map((r) => r.name)).toContain('after-stale-lock');
      // Concurrent writers are serialized: nothing is lost.
      await Promise.all(Array.from({ length: 5 }, (_, i) => store.append(rec({ name: `w${i}` }))));
      expect(await store.list()).toHaveLength(8);

      await writeFile(path, '{not json');
      await expect(store.list()).rejects.toBeInstanceOf(ConfigError);
      await writeFile(path, '{"version":1,"records":[{"digest":"x"}]}');
      await expect(store.list()).rejects.toThrow(/records\.0\.digest: should be sha256/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lives under ITS_STATE_DIR', () => {
    expect(defaultRecordStorePath({ ITS_STATE_DIR: '/s' }, '/w')).toBe('/s/delivery/records.json');
    expect(defaultRecordStorePath({}, '/w')).toBe('/w/.state/delivery/records.json');
  });

  it('reads what each environment runs from deploy records', () => {
    const other = `sha256:${'f'.repeat(64)}`;
    const running = runningDigests([
      rec({ kind: 'deploy', environment: 'staging', at: '2026-01-01' }),
      rec({ kind: 'deploy', environment: 'staging', digest: other, at: '2026-02-01' }),
      rec({ kind: 'deploy', environment: 'production', result: 'fail', digest: other }),
      rec({ kind: 'gate', environment: 'production' }),
    ]);
    expect([...running]).toEqual([['staging', other]]);
  });
});
