/**
 * The suites that feed the gate: scripts/security-scan.mjs (secret rules, Dockerfile rules, image
 * layers, the "image not built" failure) and scripts/load-test.mjs (bounded profiles, a real run
 * against a real API), each ending in what `itsctl gate` makes of its output.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM scripts without type declarations
import { checkDockerfile, scanImageTar, scanText, shannonEntropy } from './security-scan.mjs';
// @ts-expect-error -- plain ESM scripts without type declarations
import { parseArgs, planRequests } from './load-test.mjs';
import { startApi } from '@its/api';
import { runCli } from '@its/delivery/cli';

/** itsctl in-process, with its output captured. */
async function runItsctl(args: string[], options: { cwd: string }) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {},
    cwd: options.cwd,
    now: () => new Date('2026-11-26T00:00:00Z'),
  });
  return { code, stdout, stderr };
}

const REPO = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'its-suites-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Found = { rule: { id: string }; line: number; message: string };
type DockerFinding = { rule: { id: string }; line: number; message: string; file: string };

describe('security scan: secret rules', () => {
  const body = 'MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun';
  it.each([
    [
      'a PEM private key',
      `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`,
      'secret/private-key',
    ],
    [
      'a private key inside a JSON string',
      `{"key": "-----BEGIN PRIVATE KEY-----\\n${body}\\n"}`,
      'secret/private-key',
    ],
    ['an AWS access key id', 'aws_access_key_id = AKIAZ3MSJV4WWNKWW5FG', 'secret/aws-access-key-id'],
    [
      'an AWS secret key',
      'aws_secret_access_key = "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"',
      'secret/aws-secret-access-key',
    ],
    ['a GitHub token', `token: ghp_${'aB3dE5fG7h'.repeat(4)}`, 'secret/github-token'],
    [
      'an npm token',
      `//registry.npmjs.org/:_authToken=npm_${'Ab1Cd2Ef3G'.repeat(3)}abcdef`,
      'secret/npm-token',
    ],
    [
      'a Slack webhook',
      'SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/q8Wc3nVb7Lp2Xz9Rt5Ym1Kd4',
      'secret/slack-webhook',
    ],
    [
      'a high-entropy assignment',
      'const apiKey = "Zx9kQ2mN8vB4cR7tY1uI0oP3aS6d"',
      'secret/high-entropy-assignment',
    ],
  ])('finds %s, redacted', (_name, text, rule) => {
    const found = scanText(text, 'f.ts') as Found[];
    expect(found.map((f) => f.rule.id)).toContain(rule);
    for (const f of found) expect(f.message).not.toContain(text.slice(text.length - 12));
  });

  it.each([
    [
      'a PEM header in documentation',
      'key = "-----BEGIN PRIVATE KEY-----\\nXXXX\\n-----END PRIVATE KEY-----"',
    ],
    ["AWS's documented example key", 'AKIAIOSFODNN7EXAMPLE'],
    ['a low-entropy value', 'password = "aaaaaaaaaaaaaaaaaaaaaaaa"'],
    ['a placeholder', 'SECRET_KEY="change-me-in-production-please-now"'],
    ['a test value', "ADMIN_TOKEN = 'admin-token-for-tests-0123456789'"],
    ['a reference', 'token: "${{ secrets.GITHUB_TOKEN_VALUE_X }}"'],
  ])('ignores %s', (_name, text) => {
    expect(scanText(text, 'f.ts')).toEqual([]);
  });

  it('entropy is Shannon bits per character', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
  });

  it('reports the line of each finding', () => {
    const found = scanText(
      `one\ntwo\nconst secretToken = "Zx9kQ2mN8vB4cR7tY1uI0oP3aS6d";\n`,
      'f.ts',
    ) as Found[];
    expect(found[0]!.line).toBe(3);
  });
});

describe('security scan: Dockerfile rules', () => {
  const dockerfile = `# syntax is not used: offline builds
ARG NODE_IMAGE=node:24-bookworm-slim
ARG TOOLS=debian:latest
FROM \${NODE_IMAGE} AS base
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \\
    API_SECRET_KEY=abc
FROM \${TOOLS} AS tools
FROM redis AS cache
FROM base AS build
ARG NPM_TOKEN
RUN echo build
FROM base AS production
COPY --from=build /app /app
USER node
FROM production AS gpu
USER root
RUN apt-get install -y something
FROM base AS edge
USER 0:0
FROM base AS development
FROM scratch AS empty
COPY --from=tools /bin/sh /sh
USER 1000
`;
  it('finds latest and untagged bases, root final stages (dev stages as low), secret-like ENV/ARG names', () => {
    const found = (checkDockerfile(dockerfile, 'docker/Dockerfile') as DockerFinding[]).map((f) => [
      f.rule.id,
      f.line,
      f.message,
    ]);
    expect(found).toEqual([
      ['dockerfile/no-secret-env', 5, expect.stringContaining('ENV API_SECRET_KEY')],
      ['dockerfile/no-secret-env', 10, expect.stringContaining('ARG NPM_TOKEN')],
      [
        'dockerfile/no-latest-tag',
        7,
        'stage tools: FROM debian:latest uses latest; pin a version tag or a digest',
      ],
      [
        'dockerfile/no-latest-tag',
        8,
        'stage cache: FROM redis has no tag (means latest); pin a version tag or a digest',
      ],
      [
        'dockerfile/non-root-user',
        8,
        'final stage cache runs as root (no USER); add USER with a non-root user',
      ],
      ['dockerfile/non-root-user', 15, 'final stage gpu runs as root; add USER with a non-root user'],
      ['dockerfile/non-root-user', 18, 'final stage edge runs as 0:0; add USER with a non-root user'],
      [
        'dockerfile/non-root-user-dev',
        20,
        'final stage development runs as root (no USER) (a development/test stage: listed, not shipped)',
      ],
    ]);
  });

  it("the repository's Dockerfiles pass the blocking rules", () => {
    const files = execFileSync('git', ['ls-files', 'docker'], { cwd: REPO, encoding: 'utf8' })
      .split('\n')
      .filter((f) => /(^|\/)Dockerfile$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    const blocking = files.flatMap((f) =>
      (checkDockerfile(readFileSync(join(REPO, f), 'utf8'), f) as DockerFinding[]).filter(
        (x) => x.rule.id !== 'dockerfile/non-root-user-dev',
      ),
    );
    expect(blocking.map((b) => `${b.file}:${b.line} ${b.message}`)).toEqual([]);
  });
});

describe('security scan: image layers and the whole script', () => {
  it('walks every layer of a docker-save archive and finds a secret in a file', () => {
    const layer = join(dir, 'layer');
    mkdirSync(join(layer, 'app/config'), { recursive: true });
    mkdirSync(join(layer, 'app/node_modules/pkg/docs'), { recursive: true });
    writeFileSync(
      join(layer, 'app/config/.npmrc'),
      `//registry.npmjs.org/:_authToken=npm_${'Ab1Cd2Ef3G'.repeat(3)}abcdef\n`,
    );
    writeFileSync(join(layer, 'app/node_modules/pkg/docs/auth.md'), `token ghp_${'aB3dE5fG7h'.repeat(4)}\n`);
    writeFileSync(join(layer, 'app/clean.js'), 'export const x = 1;\n');
    const save = join(dir, 'save');
    mkdirSync(join(save, 'abc123'), { recursive: true });
    execFileSync('tar', ['-cf', join(save, 'abc123/layer.tar'), '-C', layer, '.']);
    writeFileSync(
      join(save, 'manifest.json'),
      JSON.stringify([{ Config: 'cfg.json', Layers: ['abc123/layer.tar'] }]),
    );
    execFileSync('tar', ['-cf', join(dir, 'image.tar'), '-C', save, 'manifest.json', 'abc123']);
    const { results, layers, files } = scanImageTar(join(dir, 'image.tar'), 'app:1') as {
      results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
      layers: number;
      files: number;
    };
    expect(layers).toBe(1);
    expect(files).toBe(2);
    expect(results.map((r) => [r.ruleId, r.locations[0]!.physicalLocation.artifactLocation.uri])).toEqual([
      ['secret/npm-token', 'app:1:/app/config/.npmrc'],
    ]);
  });

  it('asked to scan an image that does not exist, the run fails and the gate fails naming the image', async () => {
    const out = join(dir, 'sec');
    const r = spawnSync(
      process.execPath,
      [
        'scripts/security-scan.mjs',
        '--out',
        out,
        '--skip',
        'npm-audit,eslint,dockerfile',
        '--image',
        'its-camera-ai:never-built-e2e',
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /image-secrets its-camera-ai:never-built-e2e: (image its-camera-ai:never-built-e2e is not built|Docker Engine not reachable)/,
    );
    const sarif = JSON.parse(readFileSync(join(out, 'security-scan.sarif'), 'utf8')) as {
      runs: { tool: { driver: { name: string } }; invocations: { executionSuccessful: boolean }[] }[];
    };
    expect(sarif.runs.map((x) => [x.tool.driver.name, x.invocations[0]!.executionSuccessful])).toEqual([
      ['secret-scan', true],
      ['image-secrets its-camera-ai:never-built-e2e', false],
    ]);
    writeFileSync(
      join(dir, 'policy.yml'),
      `version: 1\nsecurity:\n  reports: [{ path: sec/security-scan.sarif }]\n`,
    );
    const gate = await runItsctl(['gate', '--policy', 'policy.yml'], { cwd: dir });
    expect(gate.code).toBe(1);
    expect(gate.stdout).toMatch(
      /FAIL security · sarif report: sec\/security-scan\.sarif: image-secrets its-camera-ai:never-built-e2e did not complete: /,
    );
  }, 60_000);

  it('bad options are exit 2', () => {
    const r = spawnSync(process.execPath, ['scripts/security-scan.mjs', '--skip', 'everything', '--bogus'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--skip: 'everything' is not one of npm-audit, eslint, secrets, dockerfile");
    expect(r.stderr).toContain('--bogus: unknown option');
  });
});

describe('load test', () => {
  it('profiles are bounded; every mistake is reported', () => {
    expect(parseArgs([], {}).opts).toMatchObject({
      profile: 'sustained',
      duration: 20,
      connections: 50,
      out: 'reports/load/autocannon.json',
      url: 'http://localhost:8000',
    });
    expect(parseArgs(['--profile', 'performance'], { API_URL: 'http://127.0.0.1:8000/' }).opts).toMatchObject(
      { duration: 10, connections: 10, out: 'reports/perf/api-autocannon.json' },
    );
    expect(
      parseArgs(
        ['--profile', 'soak', '--duration', '3600', '--connections', '0', '--url', 'ftp://x', '--x'],
        {},
      ).problems,
    ).toEqual([
      '--x: unknown option (see --help)',
      "--profile: 'soak' is not one of performance, sustained",
      '--duration: 3600 is not a whole number of seconds between 1 and 120',
      '--connections: 0 is not a whole number between 1 and 200',
      '--url: ftp://x is not http(s)',
    ]);
  });

  it('the request mix reads what the dashboard reads, and ingests only with a key', () => {
    const now = Date.parse('2026-11-26T01:02:03Z');
    const reads = planRequests(now) as { path: string }[];
    expect(reads.map((r) => r.path)).toEqual([
      '/health',
      '/api/v1/cameras',
      '/api/v1/counts/latest',
      '/api/v1/aggregates?from=2026-11-25T01%3A02%3A00.000Z&to=2026-11-26T01%3A02%3A00.000Z&bucket=1h',
    ]);
    const withKey = planRequests(now, 'k', 'cam') as {
      method: string;
      setupRequest: (r: object) => { body: string };
    }[];
    expect(withKey).toHaveLength(5);
    // With a key every request but the probe carries it: one load generator is one address, and the
    // anonymous per-address rate limit would turn its run into 429s.
    expect(
      (withKey as { path?: string; headers?: Record<string, string> }[]).map((r) => r.headers?.authorization),
    ).toEqual([undefined, 'Bearer k', 'Bearer k', 'Bearer k', 'Bearer k']);
    expect((reads as { headers?: unknown }[]).every((r) => r.headers === undefined)).toBe(true);
    const a = JSON.parse(withKey[4]!.setupRequest({}).body) as { events: { id: string }[] };
    const b = JSON.parse(withKey[4]!.setupRequest({}).body) as { events: { id: string }[] };
    expect(a.events[0]!.id).not.toBe(b.events[0]!.id);
  });

  it('a short real run against a real API writes autocannon JSON the gate judges', async () => {
    const api = await startApi({ dataDir: join(dir, 'api-data') });
    try {
      const key = (await api.createApiKey('load')).key;
      // Asynchronously: the API answers from this very process.
      const r = await promisify(execFile)(
        process.execPath,
        [
          'scripts/load-test.mjs',
          '--url',
          api.url,
          '--profile',
          'performance',
          '--duration',
          '2',
          '--connections',
          '2',
          '--api-key',
          key,
          '--out',
          join(dir, 'perf/api-autocannon.json'),
        ],
        { cwd: REPO },
      );
      expect(r.stderr).toMatch(/load-test: \d+ requests, 0 non-2xx, 0 errors/);
      const result = JSON.parse(readFileSync(join(dir, 'perf/api-autocannon.json'), 'utf8')) as {
        requests: { total: number };
        non2xx: number;
        errors: number;
      };
      expect(result.requests.total).toBeGreaterThan(20);
      expect(result.non2xx).toBe(0);
      expect(result.errors).toBe(0);
    } finally {
      await api.close();
    }
    writeFileSync(
      join(dir, 'load-policy.yml'),
      `version: 1\nperformance:\n  api:\n    report: perf/api-autocannon.json\n    thresholds:\n      http_req_duration: ['p(95)<5000']\n      http_req_failed: ['rate<0.01']\n      http_reqs: ['count>20']\n`,
    );
    const gate = await runItsctl(['gate', '--policy', 'load-policy.yml'], { cwd: dir });
    expect(gate.code, gate.stdout).toBe(0);
    expect(gate.stdout).toContain('interpolated linearly between p(90)=');
  }, 60_000);
});
