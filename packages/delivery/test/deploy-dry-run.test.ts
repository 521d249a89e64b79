import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runItsctl } from './helpers/cli.js';

// `itsctl deploy -e production -v 1.0.0 --dry-run` on a fresh checkout: the repository's own
// environment files, no .env.production, no signing key, no registry and no Docker Engine (DOCKER_HOST
// names a closed port, so this runs anywhere). A dry run is how people look before they leap: it must
// still print the plan and list everything missing, and exit 0; the real deploy still refuses.

const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

/** A working directory with nothing of the checkout's local files (.env.production, deploy/keys). */
function freshCheckout(): { cwd: string; env: Record<string, string> } {
  const cwd = mkdtempSync(join(tmpdir(), 'its-fresh-checkout-'));
  return {
    cwd,
    env: {
      ITS_DEPLOY_ENVIRONMENTS: join(REPO_ROOT, 'deploy', 'environments'),
      ITS_DEPLOY_STATE_DIR: join(cwd, 'state'),
      DOCKER_HOST: 'tcp://127.0.0.1:1',
      HOME: cwd,
    },
  };
}

describe('itsctl deploy -e production -v 1.0.0 --dry-run on a fresh checkout', () => {
  let run: { code: number; stdout: string; stderr: string };
  beforeAll(async () => {
    run = await runItsctl(['deploy', '-e', 'production', '-v', '1.0.0', '--dry-run'], freshCheckout());
  }, 60_000);

  it('exits 0 and prints the blue-green plan, saying what it could not know', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^plan: blue-green of production: \(nothing running\) → 1\.0\.0 \(/m);
    expect(run.stdout).toMatch(/\[shift\] router: switch all traffic blue → green \(one step\)/);
    expect(run.stdout).toMatch(
      /note: .*the Docker Engine did not answer: planned as if nothing ran there yet/,
    );
    expect(run.stdout).toMatch(/\(dry run: nothing was changed\)/);
  });

  it('lists every missing thing as it goes, and again at the end', () => {
    const missing = [
      'would fail: envFiles: .env.production does not exist (fix: create it (see .env.production.example) or remove it from envFiles)',
      'would fail: image.publicKeys: deploy/keys/cosign.pub does not exist',
      'would fail: Docker Engine unreachable at tcp://127.0.0.1:1 (DOCKER_HOST)',
    ];
    const end = run.stdout.slice(run.stdout.indexOf('(dry run: nothing was changed)'));
    expect(end).toMatch(
      /^\(dry run: nothing was changed\)\nthe real deploy would stop before changing anything: \d+ thing\(s\)/,
    );
    for (const line of missing) {
      expect(run.stderr).toContain(line);
      expect(end).toContain(`  ${line}`);
    }
    // Nothing listens on 127.0.0.1:5000 here; where the tests' local registry runs, it has no
    // production 1.0.0: either way the version cannot be resolved, and the plan says so.
    expect(end).toMatch(
      /would fail: (registry 127\.0\.0\.1:5000 is unreachable|version "1\.0\.0" is not in 127\.0\.0\.1:5000\/its-camera-ai\/production)/,
    );
    expect(run.stdout).toMatch(
      /note: version 1\.0\.0 could not be resolved: planned with 127\.0\.0\.1:5000\/its-camera-ai\/production:1\.0\.0, digest unknown/,
    );
  });

  it('gives the list as data with --json', async () => {
    const json = await runItsctl(
      ['--json', 'deploy', '-e', 'production', '-v', '1.0.0', '--dry-run'],
      freshCheckout(),
    );
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout) as { outcome: string; wouldFail: string[] };
    expect(summary.outcome).toBe('dry-run');
    expect(summary.wouldFail).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^envFiles: \.env\.production does not exist/),
        expect.stringMatching(/^image\.publicKeys: deploy\/keys\/cosign\.pub does not exist/),
      ]),
    );
  }, 60_000);

  it('the real deploy still refuses to start, with the same message (exit 2)', async () => {
    const real = await runItsctl(['deploy', '-e', 'production', '-v', '1.0.0'], freshCheckout());
    expect(real.code).toBe(2);
    expect(real.stderr).toBe(
      'itsctl: envFiles: .env.production does not exist\n  fix: create it (see .env.production.example) or remove it from envFiles\n',
    );
  }, 60_000);
});

// Every argument is checked before anything is written: an invalid strategy or version used to leave
// secrets.env and deploy.sqlite behind in the state directory (the 2026-12-02 probe).
describe('itsctl deploy with an invalid argument', () => {
  it.each([
    [['-s', 'yolo'], /unknown strategy "yolo"\n {2}fix: use one of: rolling, blue-green, canary/],
    [['-v', '1.0.0;x'], /version "1\.0\.0;x" is not a valid image tag/],
  ])(
    '%j is refused (exit 2) and writes nothing',
    async (args, message) => {
      const checkout = freshCheckout();
      const run = await runItsctl(['deploy', '-e', 'development', ...args], checkout);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
      const state = checkout.env.ITS_DEPLOY_STATE_DIR!;
      expect(existsSync(state) ? readdirSync(state, { recursive: true }) : []).toEqual([]);
    },
    60_000,
  );
});
