import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Workflow,
  checkWorkflowFiles,
  checkWorkflowRules,
  checkWorkflowSchema,
} from '@its/versioning/workflows';
import { runItsctl } from './helpers/cli.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const DIR = join(REPO_ROOT, '.github', 'workflows');
const NAMES = ['ci.yml', 'docker-cicd.yml', 'deployment.yml', 'release.yml'];

// Parsed YAML, read by path in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const text = (name: string) => readFileSync(join(DIR, name), 'utf8');
const load = (name: string) =>
  parseYaml(text(name)) as Workflow & { on: Record<string, Loose>; jobs: Record<string, Loose> };

describe('the four workflows', () => {
  it('exist, and nothing else', () => {
    expect(readdirSync(DIR).sort()).toEqual([...NAMES].sort());
  });

  it.each(NAMES)('%s passes GitHub’s workflow schema and our rules', async (name) => {
    expect(await checkWorkflowSchema(name, text(name))).toEqual([]);
    expect(checkWorkflowRules(name, text(name)).problems).toEqual([]);
  });

  it('itsctl workflows check agrees', async () => {
    const result = await runItsctl(['workflows', 'check'], { cwd: REPO_ROOT });
    expect(result).toMatchObject({ code: 0, stdout: '4 workflow file(s) OK\n' });
  });

  it('pin every third-party action to a 40-hex commit SHA with a # vX.Y.Z comment', () => {
    let count = 0;
    for (const name of NAMES) {
      for (const line of text(name)
        .split('\n')
        .filter((l) => /^\s*-?\s*uses:/.test(l))) {
        const uses = line.replace(/^\s*-?\s*uses:\s*/, '');
        if (uses.startsWith('./')) continue;
        expect(uses, `${name}: ${line}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
        count += 1;
      }
    }
    expect(count).toBeGreaterThan(20);
  });

  it('the same action is pinned to the same SHA everywhere', () => {
    const pins = new Map<string, Set<string>>();
    for (const name of NAMES) {
      for (const m of text(name).matchAll(/uses:\s*([^\s@]+)@([0-9a-f]{40})/g)) {
        pins.set(m[1] as string, (pins.get(m[1] as string) ?? new Set()).add(m[2] as string));
      }
    }
    for (const [action, shas] of pins) expect(shas.size, action).toBe(1);
  });

  it('start read-only and grant writes per job only', () => {
    for (const name of NAMES) {
      const wf = load(name);
      expect(wf.permissions, name).toEqual({ contents: 'read' });
      for (const [id, job] of Object.entries(wf.jobs)) {
        const permissions = (job as { permissions?: Record<string, string> }).permissions ?? {};
        for (const [scope, level] of Object.entries(permissions)) {
          if (level === 'write')
            expect(['packages', 'deployments', 'contents'], `${name} ${id} ${scope}`).toContain(scope);
        }
      }
    }
    // Only the GitHub release may write repository contents.
    expect(load('release.yml').jobs['github-release'].permissions).toEqual({ contents: 'write' });
    expect(load('ci.yml').jobs.unit.permissions).toBeUndefined();
  });

  it('have the founding document’s triggers', () => {
    const ci = load('ci.yml').on;
    const docker = load('docker-cicd.yml').on;
    const branches = ['main', 'develop', 'feature/*', 'hotfix/*'];
    expect(ci.push.branches).toEqual(branches);
    expect(docker.push.branches).toEqual(branches);
    expect(ci.pull_request.branches).toEqual(['main', 'develop']);
    expect(docker.pull_request.branches).toEqual(['main', 'develop']);
    expect(load('release.yml').on).toEqual({ push: { tags: ['v*'] } });
    // develop → staging, main → production, after the images are published.
    const deployment = load('deployment.yml');
    expect(deployment.on.workflow_run).toEqual({
      workflows: ['docker-cicd'],
      types: ['completed'],
      branches: ['main', 'develop'],
    });
    expect(deployment.jobs.staging.if).toContain("head_branch == 'develop'");
    expect(deployment.jobs.staging.environment).toBe('staging');
    expect(deployment.jobs.production.if).toContain("head_branch == 'main'");
    expect(deployment.jobs.production.environment).toBe('production');
  });

  it('pull requests only test: nothing is pushed, published or deployed', () => {
    const docker = load('docker-cicd.yml');
    expect(docker.jobs.publish.if).toBe("github.event_name != 'pull_request'");
    const login = docker.jobs.build.steps.find((s: { uses?: string }) =>
      s.uses?.startsWith('docker/login-action'),
    );
    expect(login.if).toBe("github.event_name != 'pull_request'");
    const push = docker.jobs.build.steps.find((s: { run?: string }) =>
      s.run?.startsWith('npx itsctl publish'),
    );
    expect(push.if).toBe("github.event_name != 'pull_request'");
    expect(load('deployment.yml').on.pull_request).toBeUndefined();
  });

  it('v* runs the full release: tests, images, promotion, GitHub release', () => {
    const release = load('release.yml');
    expect(release.jobs.tests.uses).toBe('./.github/workflows/ci.yml');
    expect(release.jobs.images.uses).toBe('./.github/workflows/docker-cicd.yml');
    expect(release.jobs.images.needs).toBe('tests');
    expect(release.jobs.promote.needs).toBe('images');
    expect(release.jobs['github-release'].needs).toBe('promote');
    expect(load('ci.yml').on.workflow_call).toBeDefined();
    expect(load('docker-cicd.yml').on.workflow_call).toBeDefined();
  });

  it('build a matrix of 5 targets × 2 platforms with a cache scope per entry', () => {
    const build = load('docker-cicd.yml').jobs.build;
    expect(build.strategy.matrix).toEqual({
      target: ['development', 'testing', 'production', 'gpu-production', 'edge'],
      platform: ['linux/amd64', 'linux/arm64'],
    });
    const run = build.steps.map((s: { run?: string }) => s.run ?? '').join('\n');
    expect(run).toContain('--cache-from "type=gha,scope=${{ matrix.target }}-${{ matrix.platform }}"');
    expect(run).toContain('--cache-to "type=gha,mode=max,scope=${{ matrix.target }}-${{ matrix.platform }}"');
  });

  it('serialise deployments per environment without cancelling a running one', () => {
    const jobs = Object.entries(load('deployment.yml').jobs).concat(Object.entries(load('release.yml').jobs));
    const deploying = jobs.filter(([, job]) => (job as { environment?: string }).environment !== undefined);
    expect(deploying.length).toBe(4);
    for (const [id, job] of deploying) {
      const { environment, concurrency } = job as {
        environment: string;
        concurrency: { group: string; 'cancel-in-progress': boolean };
      };
      expect(concurrency.group, id).toContain(environment);
      expect(concurrency['cancel-in-progress'], id).toBe(false);
    }
  });

  it('call itsctl for tags, gates, build, publish, promote and deploy (the same pipeline runs locally)', () => {
    const all = NAMES.map(text).join('\n');
    for (const command of [
      'tags',
      'gate',
      'build',
      'publish',
      'promote',
      'deploy',
      'version',
      'workflows check',
    ]) {
      expect(all).toContain(`npx itsctl ${command}`);
    }
    expect(all).not.toMatch(/docker\/build-push-action|docker\/metadata-action/);
  });

  it('use the founding document’s pipeline settings', () => {
    expect(load('ci.yml').env).toMatchObject({ COVERAGE_THRESHOLD: 90, SECURITY_SCAN_FAIL_ON: 'high' });
    expect(load('release.yml').env).toMatchObject({ COVERAGE_THRESHOLD: 90, SECURITY_SCAN_FAIL_ON: 'high' });
    for (const name of ['docker-cicd.yml', 'deployment.yml', 'release.yml']) {
      expect(Object.keys(load(name).env ?? {}), name).toEqual(
        expect.arrayContaining(['DOCKER_REGISTRY', 'IMAGE_NAME']),
      );
    }
  });

  it('check out full history where versions and tags are computed', () => {
    const meta = load('docker-cicd.yml').jobs.meta;
    expect(meta.steps[0].with['fetch-depth']).toBe(0);
  });
});

describe('the checker catches broken workflows', () => {
  const broken = `name: broken
on:
  push:
    branches: [main]
permissions: write-all
jobs:
  deploy:
    runs-on: ubuntu-24.04
    environment: production
    permissions: write-all
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020
      - uses: ./.github/actions/local
      - run: echo hi
  other:
    runz-on: ubuntu-24.04
`;

  it('reports schema errors and rule violations with their place', async () => {
    const schema = await checkWorkflowSchema('broken.yml', broken);
    expect(schema.map((p) => p.message).join('\n')).toMatch(/Unexpected value 'runz-on'/);
    const { problems } = checkWorkflowRules('broken.yml', broken);
    expect(problems.map((p) => `${p.where}: ${p.message}`)).toEqual([
      'line 12: actions/checkout@v4: pin to a full 40-hex commit SHA (a tag or branch can be moved)',
      'line 13: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020: add the release it is, as a comment: # vX.Y.Z',
      'permissions: top-level permissions must be narrow and read-only (contents: read); grant writes per job',
      'jobs.deploy.concurrency: job deploys to production: add a concurrency group per environment',
      'jobs.deploy.permissions: write-all: grant only the scopes the job needs',
    ]);
  });

  it.each([
    [
      'no top-level permissions',
      'on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n',
      /set top-level permissions/,
    ],
    [
      'a group without the environment',
      'on: push\npermissions: {contents: read}\njobs:\n  a:\n    runs-on: x\n    environment: {name: staging}\n    concurrency: {group: deploy}\n    steps: [{run: echo}]\n',
      /'deploy' does not name the environment staging/,
    ],
    ['not YAML', 'on: [push\n', /yaml|flow/i],
    ['no jobs', 'on: push\n', /jobs/],
  ])('%s', (_name, workflow, message) => {
    const { problems } = checkWorkflowRules('x.yml', workflow);
    expect(problems.map((p) => `${p.where}: ${p.message}`).join('\n')).toMatch(message);
  });

  describe('itsctl workflows check on a directory', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'itsctl-wf-'));
      writeFileSync(join(dir, 'broken.yml'), broken);
      return () => rmSync(dir, { recursive: true, force: true });
    });

    it('exits 1 and lists every problem', async () => {
      const result = await runItsctl(['workflows', 'check', '--dir', dir], { cwd: REPO_ROOT });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/broken.yml: line 12: actions\/checkout@v4/);
      expect(result.stdout).toMatch(/broken.yml: schema: .*runz-on/);
      const report = await checkWorkflowFiles(dir);
      expect(report.files).toEqual(['broken.yml']);
    });

    it('a missing directory is a config error', async () => {
      const result = await runItsctl(['workflows', 'check', '--dir', join(dir, 'nope')], { cwd: REPO_ROOT });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/does not exist/);
    });
  });
});
