import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { remoteToHtmlUrl } from '@its/versioning';
import { runItsctl } from './helpers/cli.js';
import { withTempRepo } from './helpers/git-repo.js';

const PACKAGE = resolve(fileURLToPath(new URL('../', import.meta.url)));
const REPO_ROOT = resolve(PACKAGE, '../..');
const LAUNCHER = join(PACKAGE, 'bin', 'itsctl.js');
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

function eventFile(payload: unknown): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'itsctl-event-'));
  const path = join(dir, 'event.json');
  writeFileSync(path, JSON.stringify(payload));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The variables a GitHub runner sets for a push of tag `tag` in acme/its-camera-ai. */
function githubEnv(
  eventPath: string,
  ref: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: ref,
    GITHUB_SHA: SHA,
    GITHUB_REPOSITORY: 'acme/its-camera-ai',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_EVENT_PATH: eventPath,
    SOURCE_DATE_EPOCH: '1767225600',
    ...extra,
  };
}

const pushPayload = {
  ref: 'refs/tags/v1.2.3',
  base_ref: 'refs/heads/main',
  repository: {
    name: 'its-camera-ai',
    description: 'Traffic-camera analytics',
    html_url: 'https://github.com/acme/its-camera-ai',
    default_branch: 'main',
    license: { spdx_id: 'Apache-2.0' },
  },
  head_commit: { timestamp: '2025-12-31T23:00:00Z' },
};

describe('itsctl tags inside this repository’s workflows', () => {
  it('release.yml’s tag step, for a v1.2.3 push, gives the founding document’s tag set', () =>
    withTempRepo((repo) => {
      // The command exactly as release.yml runs it.
      const release = parseYaml(readFileSync(join(REPO_ROOT, '.github/workflows/release.yml'), 'utf8'));
      const step = release.jobs.verify.steps.find((s: { run?: string }) =>
        s.run?.startsWith('npx itsctl tags'),
      );
      const args: string[] = step.run.trim().split(/\s+/).slice(2);
      expect(args).toContain('--json');

      repo.commit('feat: first');
      repo.tag('v1.1.0');
      repo.commit('feat: second');
      repo.tag('v1.2.3', 'v1.2.3');
      const event = eventFile(pushPayload);
      try {
        // Spawned through the real launcher (bin/itsctl.js, what `npx itsctl` runs), in a clean environment.
        const result = spawnSync(process.execPath, [LAUNCHER, ...args], {
          cwd: repo.dir,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '/tmp',
            ...githubEnv(event.path, 'refs/tags/v1.2.3'),
          },
          encoding: 'utf8',
        });
        expect(result.status, result.stderr).toBe(0);
        const doc = JSON.parse(result.stdout);
        expect(new Set(doc.tags)).toEqual(
          new Set(['latest', 'v1.2.3', 'v1.2.3-production', 'v1.2.3-gpu', 'v1.2.3-edge']),
        );
        expect(doc.tags).toEqual(['v1.2.3', 'v1.2.3-production', 'v1.2.3-gpu', 'v1.2.3-edge', 'latest']);
        expect(doc.version).toEqual({
          main: 'v1.2.3',
          partial: ['v1.2.3-production', 'v1.2.3-gpu', 'v1.2.3-edge'],
          latest: true,
        });
        expect(doc.labels).toEqual([
          'org.opencontainers.image.created=2026-01-01T00:00:00.000Z',
          'org.opencontainers.image.description=Traffic-camera analytics',
          'org.opencontainers.image.licenses=Apache-2.0',
          `org.opencontainers.image.revision=${SHA}`,
          'org.opencontainers.image.source=https://github.com/acme/its-camera-ai',
          'org.opencontainers.image.title=its-camera-ai',
          'org.opencontainers.image.url=https://github.com/acme/its-camera-ai',
          'org.opencontainers.image.version=v1.2.3',
        ]);
      } finally {
        event.remove();
      }
    }));

  it('docker-cicd.yml’s meta step writes the outputs to $GITHUB_OUTPUT with the registry image', () =>
    withTempRepo(async (repo) => {
      repo.commit('feat: first');
      const event = eventFile(pushPayload);
      const outputFile = join(event.path, '..', 'output');
      try {
        const result = await runItsctl(['tags', '--github-output'], {
          cwd: repo.dir,
          env: {
            ...githubEnv(event.path, 'refs/tags/v1.2.3'),
            GITHUB_OUTPUT: outputFile,
            DOCKER_REGISTRY: 'ghcr.io',
            IMAGE_NAME: 'acme/its-camera-ai',
          },
        });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout.split('\n')[0]).toBe('ghcr.io/acme/its-camera-ai:v1.2.3');
        const output = readFileSync(outputFile, 'utf8');
        expect(output).toMatch(/^version<<ITSCTL_VERSION_EOF\nv1.2.3\nITSCTL_VERSION_EOF\n/);
        expect(output).toContain(
          'tags<<ITSCTL_TAGS_EOF\nghcr.io/acme/its-camera-ai:v1.2.3\nghcr.io/acme/its-camera-ai:v1.2.3-production\n',
        );
        expect(output).toMatch(/json<<ITSCTL_JSON_EOF\n\{"version":/);
      } finally {
        event.remove();
      }
    }));
});

describe('itsctl tags: context from GitHub variables', () => {
  it('pull request: pr-N tags, the head commit with DOCKER_METADATA_PR_HEAD_SHA, {{base_ref}}', () =>
    withTempRepo(async (repo) => {
      repo.commit('feat: first');
      const head = 'ffffffffffffffffffffffffffffffffffffffff';
      const event = eventFile({
        pull_request: { head: { sha: head }, base: { ref: 'develop' } },
        repository: { default_branch: 'main' },
      });
      try {
        const env = {
          ...githubEnv(event.path, 'refs/pull/42/merge'),
          GITHUB_EVENT_NAME: 'pull_request',
          DOCKER_METADATA_PR_HEAD_SHA: 'true',
        };
        const result = await runItsctl(
          ['--json', 'tags', '--tags', 'type=ref,event=pr\ntype=sha\ntype=raw,value=to-{{base_ref}}'],
          { cwd: repo.dir, env },
        );
        expect(result.code, result.stderr).toBe(0);
        expect(JSON.parse(result.stdout).tags).toEqual(['pr-42', 'to-develop', 'sha-fffffff']);
      } finally {
        event.remove();
      }
    }));

  it('schedule with a date pattern in a time zone, timestamp from SOURCE_DATE_EPOCH', () =>
    withTempRepo(async (repo) => {
      repo.commit('feat: first');
      const event = eventFile({ repository: { default_branch: 'main' } });
      try {
        const env = { ...githubEnv(event.path, 'refs/heads/main'), GITHUB_EVENT_NAME: 'schedule' };
        const result = await runItsctl(
          [
            'tags',
            '--tags',
            "type=schedule,pattern={{date 'YYYYMMDD-HH' tz='Asia/Tokyo'}}",
            '--tags',
            'type=edge',
          ],
          { cwd: repo.dir, env },
        );
        expect(result.stdout).toBe('20260101-09\nedge\n');
      } finally {
        event.remove();
      }
    }));

  it.each([
    [{ GITHUB_EVENT_PATH: '/nonexistent/event.json' }, /GITHUB_EVENT_PATH: cannot read/],
    [{ SOURCE_DATE_EPOCH: 'yesterday' }, /SOURCE_DATE_EPOCH: 'yesterday'/],
    [{ GITHUB_REF: 'main' }, /ref 'main' is not refs\/heads/],
    [{ GITHUB_SHA: 'not-hex' }, /sha 'not-hex' is not a hexadecimal commit id/],
    [{ DOCKER_METADATA_SHORT_SHA_LENGTH: 'long' }, /DOCKER_METADATA_SHORT_SHA_LENGTH: 'long'/],
  ])('bad environment %j → exit 2 naming it', (extra, message) =>
    withTempRepo(async (repo) => {
      repo.commit('feat: first');
      const event = eventFile(pushPayload);
      try {
        const result = await runItsctl(['tags'], {
          cwd: repo.dir,
          env: { ...githubEnv(event.path, 'refs/heads/main'), ...extra },
        });
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(message);
        expect(result.stderr).toMatch(/fix: /);
      } finally {
        event.remove();
      }
    }),
  );

  it('an event file that is not JSON, or not an event → exit 2', async () => {
    for (const content of ['{nope', '{"repository": {"name": 5}}']) {
      const dir = mkdtempSync(join(tmpdir(), 'itsctl-bad-event-'));
      try {
        writeFileSync(join(dir, 'e.json'), content);
        const result = await runItsctl(['tags'], {
          cwd: dir,
          env: githubEnv(join(dir, 'e.json'), 'refs/heads/main'),
        });
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/GITHUB_EVENT_PATH: .*(not JSON|repository\.name)/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});

describe('itsctl tags: context from the local repository', () => {
  it('on a branch: branch tags; the default branch from origin/HEAD; repo from the remote', () =>
    withTempRepo(async (repo) => {
      const sha = repo.commit('feat: first');
      repo.git('checkout', '--quiet', '-b', 'feature/zones');
      repo.git('remote', 'add', 'origin', 'https://github.com/acme/its-camera-ai.git');
      repo.git('update-ref', 'refs/remotes/origin/main', 'HEAD');
      repo.git('symbolic-ref', 'refs/remotes/origin/HEAD', 'refs/remotes/origin/main');
      const result = await runItsctl(
        ['--json', 'tags', '--target', 'edge', '--labels', 'com.acme.branch={{branch}}'],
        { cwd: repo.dir },
      );
      const doc = JSON.parse(result.stdout);
      expect(doc.tags).toEqual(['feature-zones-edge']);
      expect(doc.context).toEqual({
        eventName: 'push',
        ref: 'refs/heads/feature/zones',
        sha,
        defaultBranch: 'main',
      });
      expect(doc.labels).toContain('org.opencontainers.image.source=https://github.com/acme/its-camera-ai');
      expect(doc.labels).toContain('com.acme.branch=feature/zones');
      expect(doc.labels).toContain(`org.opencontainers.image.created=2026-11-26T00:00:00.000Z`);
    }));

  it('detached on a tag: the tag, and latest only for the highest release', () =>
    withTempRepo(async (repo) => {
      repo.commit('feat: first');
      repo.tag('v1.0.0');
      repo.commit('feat: second');
      repo.tag('v2.0.0');
      repo.git('checkout', '--quiet', 'v1.0.0');
      repo.tag('v1.0.1');
      const result = await runItsctl(['tags', '--ref', 'refs/tags/v1.0.1', '--sep-tags', ','], {
        cwd: repo.dir,
      });
      expect(result.stdout).toBe('v1.0.1,v1.0.1-production,v1.0.1-gpu,v1.0.1-edge\n');
      expect(result.stderr).toMatch(/v1.0.1 is older than the released v2.0.0/);
      const detached = await runItsctl(['tags', '--print', 'version'], { cwd: repo.dir });
      expect(detached.stdout).toBe('v1.0.1\n');
      const labels = await runItsctl(['tags', '--print', 'labels', '--sep-labels', ';'], { cwd: repo.dir });
      expect(labels.stdout).toMatch(
        /^org.opencontainers.image.created=.*;org.opencontainers.image.description=;/,
      );
      const annotations = await runItsctl(['tags', '--print', 'annotations'], {
        cwd: repo.dir,
        env: { DOCKER_METADATA_ANNOTATIONS_LEVELS: 'index' },
      });
      expect(annotations.stdout.split('\n')[0]).toMatch(/^index:org.opencontainers.image.created=/);
    }));

  it('detached with no tag: exit 2 with the fix', () =>
    withTempRepo(async (repo) => {
      repo.commit('feat: first');
      repo.commit('feat: second');
      repo.git('checkout', '--quiet', 'HEAD~1');
      const result = await runItsctl(['tags'], { cwd: repo.dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/HEAD is detached.*\n.*fix: .*--ref/);
    }));

  it('no rule applies: no tags and a note', () =>
    withTempRepo(async (repo) => {
      repo.commit('feat: first');
      const result = await runItsctl(
        [
          'tags',
          '--tags',
          'type=semver,pattern={{version}}',
          '--event',
          'push',
          '--default-branch',
          'main',
          '--sha',
          'abcdef1',
        ],
        { cwd: repo.dir },
      );
      expect(result).toMatchObject({ code: 0, stdout: '' });
      expect(result.stderr).toMatch(/no tag rule applies to refs\/heads\/main/);
    }));

  it.each([
    ['type=match,pattern=(a+)+$', /type=match,pattern=\(a\+\)\+\$.*can backtrack exponentially/],
    ['type=raw,value={{__proto__}}', /unknown expression \{\{__proto__\}\}/],
    ['type=raw,value={{valueOf}}', /unknown expression \{\{valueOf\}\}/],
    ['type=raw,value=v{{toString}}', /unknown expression \{\{toString\}\}/],
  ])(
    'the security probe’s rule %s → exit 2 naming it, never a hang, a crash or a garbage tag',
    (rule, message) =>
      withTempRepo(async (repo) => {
        repo.commit('feat: first');
        const result = await runItsctl(
          [
            'tags',
            '--tags',
            rule,
            '--ref',
            `refs/tags/${'a'.repeat(24)}!`,
            '--event',
            'push',
            '--default-branch',
            'main',
            '--sha',
            'abcdef1',
          ],
          { cwd: repo.dir },
        );
        expect(result.code, result.stderr).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr).toMatch(message);
      }),
  );

  it('--github-output without GITHUB_OUTPUT → exit 2', () =>
    withTempRepo(async (repo) => {
      repo.commit('feat: first');
      const result = await runItsctl(['tags', '--github-output'], { cwd: repo.dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/GITHUB_OUTPUT is not set/);
    }));

  it('remoteToHtmlUrl', () => {
    expect(remoteToHtmlUrl('git@github.com:acme/app.git')).toBe('https://github.com/acme/app');
    expect(remoteToHtmlUrl('https://user@gitlab.example.com/g/app')).toBe('https://gitlab.example.com/g/app');
    expect(remoteToHtmlUrl('/local/path')).toBeUndefined();
  });
});
