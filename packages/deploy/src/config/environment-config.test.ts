import { mkdtempSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, IMAGE_TAG as VERSION_PATTERN, UsageError } from '@its/core';
import {
  listEnvironments,
  loadEnvironment,
  parseEnvFile,
  parseEnvironment,
  redactEnv,
} from './environment-config.js';

const repoEnvironments = join(import.meta.dirname, '..', '..', '..', '..', 'deploy', 'environments');

describe('environment files', () => {
  it('the repository ships development, staging and production, all valid', async () => {
    expect(await listEnvironments(repoEnvironments)).toEqual([
      'development',
      'development-vision',
      'development-web',
      'production',
      'staging',
    ]);
    for (const name of readdirSync(repoEnvironments).filter((f) => /\.ya?ml$/.test(f))) {
      const parsed = parseEnvironment(readFileSync(join(repoEnvironments, name), 'utf8'), name, name);
      expect(parsed.errors).toEqual([]);
    }
  });

  it('uses rolling for development and staging, blue-green for production, all bound to 127.0.0.1', async () => {
    const dev = await loadEnvironment(repoEnvironments, 'development');
    const staging = await loadEnvironment(repoEnvironments, 'staging');
    const prod = await loadEnvironment(repoEnvironments, 'production');
    expect([dev.strategy.default, staging.strategy.default, prod.strategy.default]).toEqual([
      'rolling',
      'rolling',
      'blue-green',
    ]);
    expect([dev.router.bind, staging.router.bind, prod.router.bind]).toEqual([
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.1',
    ]);
    expect(dev.image.source).toBe('local');
    expect(prod.image.requireSignature).toBe(true);
    expect(dev.name).toBe('development');
  });

  it("checks the product API's database on every environment that runs it, and nowhere else", async () => {
    const enabled = async (name: string) =>
      (await loadEnvironment(repoEnvironments, name)).healthChecks.database.enabled;
    for (const name of ['development', 'staging', 'production']) expect(await enabled(name), name).toBe(true);
    for (const name of ['development-web', 'development-vision'])
      expect(await enabled(name), name).toBe(false);
  });

  it('runs two vision workers, start-first: camera leases keep two workers off one camera', async () => {
    const vision = await loadEnvironment(repoEnvironments, 'development-vision');
    expect(vision.replicas).toBe(2);
    expect(vision.strategy).toMatchObject({ default: 'rolling', order: 'start-first', batchSize: 1 });
    // Each replica buffers in its own container, never in a shared volume.
    expect(vision.env.BUFFER_DIR).toBe('/tmp/vision-buffer');
  });

  it('the database check is on only when the file turns it on', () => {
    const parse = (healthChecks: string) =>
      parseEnvironment(`app: x\nimage: { repository: r }\nrouter: { port: 1 }\n${healthChecks}`, 'e', 'e.yml')
        .config!.healthChecks.database.enabled;
    expect(parse('')).toBe(false);
    expect(parse('healthChecks: { api: { path: /ping } }\n')).toBe(false);
    expect(parse('healthChecks: { database: { enabled: true } }\n')).toBe(true);
  });

  it('fills every default', () => {
    const { config } = parseEnvironment(
      'app: x\nimage: { repository: r }\nrouter: { port: 9000 }\n',
      'e',
      'e.yml',
    );
    expect(config).toMatchObject({
      replicas: 2,
      containerPort: 8000,
      router: { bind: '127.0.0.1', port: 9000, image: 'its-haproxy:latest', drainTimeoutMs: 30000 },
      strategy: { default: 'rolling', batchSize: 1, keepPreviousSeconds: 3600 },
      healthChecks: {
        container: { enabled: true },
        api: { path: '/health', expectStatus: 200, timeoutMs: 2000, retries: 60, intervalMs: 500 },
        // Off unless asked for: a service without a database passes its first deploy on the API check.
        database: { enabled: false, readinessPath: '/health/ready', key: 'database' },
        external: [],
        performance: { probes: 20, p95Ms: 200 },
      },
      lockTtlSeconds: 1800,
    });
  });

  it('reports every schema error at once, each with its field path', () => {
    const text =
      'app: Bad_Name\nimage: {}\nreplicas: 0\nrouter: { port: 70000 }\nstrategy: { default: canary-ish }\nhealthChecks: { external: [{ name: db, tcp: nope }] }\nextra: 1\n';
    const { config, errors } = parseEnvironment(text, 'e', 'e.yml');
    expect(config).toBeUndefined();
    const paths = errors.map((e) => e.split(': ')[1]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'app',
        'image.repository',
        'replicas',
        'router.port',
        'strategy.default',
        '(root)',
      ]),
    );
    expect(errors.every((e) => e.startsWith('e.yml: '))).toBe(true);
    expect(errors.length).toBeGreaterThanOrEqual(7);
  });

  it('reports cross-field errors together', () => {
    const { errors } = parseEnvironment(
      'app: x\nimage: { repository: r, requireSignature: true }\nreplicas: 1\nrouter: { port: 1 }\nstrategy: { batchSize: 2 }\n',
      'e',
      'e.yml',
    );
    expect(errors).toEqual([
      'e.yml: image.publicKeys: required when image.requireSignature is true',
      'e.yml: strategy.batchSize: 2 is more than replicas (1)',
    ]);
  });

  it('canary analysis: a fresh baseline, 5 s of warm-up and 1-s windows by default; other values checked', () => {
    const base = 'app: x\nimage: { repository: r }\nrouter: { port: 1 }\n';
    const { config, errors } = parseEnvironment(base, 'e', 'e.yml');
    expect(errors).toEqual([]);
    expect(config!.strategy.canary.analysis).toMatchObject({
      baseline: 'fresh',
      warmupSeconds: 5,
      stratumSeconds: 1,
    });
    const serving = parseEnvironment(
      `${base}strategy: { canary: { analysis: { baseline: serving, warmupSeconds: 0, stratumSeconds: 0 } } }\n`,
      'e',
      'e.yml',
    );
    expect(serving.config!.strategy.canary.analysis).toMatchObject({
      baseline: 'serving',
      warmupSeconds: 0,
      stratumSeconds: 0,
    });
    const bad = parseEnvironment(
      `${base}strategy: { canary: { analysis: { baseline: old, warmupSeconds: -1, stratumSeconds: 61 } } }\n`,
      'e',
      'e.yml',
    );
    expect(bad.errors.map((e) => e.split(': ')[1])).toEqual([
      'strategy.canary.analysis.baseline',
      'strategy.canary.analysis.warmupSeconds',
      'strategy.canary.analysis.stratumSeconds',
    ]);
  });

  it('canary and watch: steps must end at 100 and rise, weights in range, no negative pauses or windows — all at once', () => {
    const text = [
      'app: x',
      'image: { repository: r }',
      'router: { port: 1 }',
      'strategy:',
      '  canary:',
      '    steps: [{ weight: 50, pauseSeconds: -1 }, { weight: 120 }, { weight: 0 }]',
      '    analysis: { alpha: 2, slo: { maxErrorRate: 1.5 } }',
      'watch: { seconds: -5, windowSeconds: 0 }',
    ].join('\n');
    const { errors } = parseEnvironment(text, 'e', 'e.yml');
    const paths = errors.map((e) => e.split(': ')[1]);
    expect(paths).toEqual(
      expect.arrayContaining([
        'strategy.canary.steps.0.pauseSeconds',
        'strategy.canary.steps.1.weight',
        'strategy.canary.steps.2.weight',
        'strategy.canary.analysis.alpha',
        'strategy.canary.analysis.slo.maxErrorRate',
        'watch.seconds',
        'watch.windowSeconds',
      ]),
    );
  });

  it('canary steps: the last must be 100, weights must rise, a step below 100 needs a pause', () => {
    const parse = (steps: string) =>
      parseEnvironment(
        `app: x\nimage: { repository: r }\nrouter: { port: 1 }\nstrategy: { canary: { steps: ${steps} } }\n`,
        'e',
        'e.yml',
      ).errors;
    expect(parse('[{ weight: 10 }, { weight: 50 }]')).toEqual([
      'e.yml: strategy.canary.steps.1.weight: the last step must be 100 (it is 50): a canary ends fully promoted',
    ]);
    expect(parse('[{ weight: 50 }, { weight: 20 }, { weight: 100 }]')).toEqual([
      'e.yml: strategy.canary.steps.1.weight: weights must rise: 20 follows 50',
    ]);
    expect(parse('[{ weight: 50, pauseSeconds: 0 }, { weight: 100 }]')).toEqual([
      'e.yml: strategy.canary.steps.0.pauseSeconds: a step below 100 % needs at least 1 s of traffic to analyse',
    ]);
    expect(parse('[{ weight: 100, pauseSeconds: 0 }]')).toEqual([]);
  });

  it('canary replicas may not exceed replicas; prometheus queries need a limit', () => {
    const { errors } = parseEnvironment(
      'app: x\nimage: { repository: r }\nreplicas: 2\nrouter: { port: 1 }\nstrategy: { canary: { replicas: 3 } }\n',
      'e',
      'e.yml',
    );
    expect(errors).toEqual(['e.yml: strategy.canary.replicas: 3 is more than replicas (2)']);
    const prom = parseEnvironment(
      "app: x\nimage: { repository: r }\nrouter: { port: 1 }\nstrategy: { canary: { prometheus: { url: 'http://127.0.0.1:9090', queries: [{ name: q, query: up }] } } }\n",
      'e',
      'e.yml',
    );
    expect(prom.errors).toEqual([
      'e.yml: strategy.canary.prometheus.queries.0: set max, min or both: a query without a limit decides nothing',
    ]);
  });

  it('stop-first is for rolling only', () => {
    const { errors } = parseEnvironment(
      'app: x\nimage: { repository: r }\nrouter: { port: 1 }\nstrategy: { default: blue-green, order: stop-first }\n',
      'e',
      'e.yml',
    );
    expect(errors).toEqual([
      'e.yml: strategy.order: stop-first works with rolling only (blue-green runs both versions at once)',
    ]);
  });

  it('a PromQL placeholder that is not a variable is caught when the file loads', () => {
    const { errors } = parseEnvironment(
      "app: x\nimage: { repository: r }\nrouter: { port: 1 }\nstrategy: { canary: { prometheus: { url: 'http://127.0.0.1:9090', queries: [{ name: q, query: 'rate(x{v=\"{{verison}}\"}[1m])', max: 1 }] } } }\n",
      'e',
      'e.yml',
    );
    expect(errors).toEqual([
      'e.yml: strategy.canary.prometheus.queries.0.query: {{verison}} is not a variable (known: environment, previous_version, version)',
    ]);
  });

  it('refuses shell metacharacters where names and addresses go: the field path and what is expected', () => {
    const parsed = parseEnvironment(
      'app: x\nimage: { repository: "its;rm -rf /", defaultVersion: "$(id)" }\nrouter: { port: 9000, bind: "127.0.0.1 && id" }\n',
      'x',
      'x.yml',
    );
    expect(parsed.config).toBeUndefined();
    expect(parsed.errors).toEqual([
      'x.yml: image.repository: a repository without tag: [host[:port]/]path, lower-case (e.g. its-camera-ai)',
      'x.yml: image.defaultVersion: an image tag (letters, digits, _ . -)',
      'x.yml: router.bind: an IPv4 or IPv6 address or a host name (e.g. 127.0.0.1 or ::1)',
    ]);
    for (const ok of ['its-camera-ai', '127.0.0.1:5000/its-camera-ai/staging', 'ghcr.io/acme/app'])
      expect(
        parseEnvironment(
          `app: x\nimage: { repository: "${ok}" }\nrouter: { port: 9000, bind: "::1" }\n`,
          'x',
          'x.yml',
        ).errors,
      ).toEqual([]);
  });

  it('reports YAML syntax errors', () => {
    expect(parseEnvironment('app: [unclosed\n', 'e', 'e.yml').errors[0]).toMatch(/^e\.yml: /);
  });

  // The security probe's "billion laughs": 9 levels of 9 aliases, 9^8 strings from 400 bytes. It crashed
  // itsctl with exit 70 and a stack trace (the yaml package throws while resolving the aliases).
  const aliasBomb = [
    'app: a',
    'image: { repository: r }',
    'router: { port: 1 }',
    'x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
    ...Array.from({ length: 8 }, (_, i) => `x${i + 1}: &x${i + 1} [${Array(9).fill(`*x${i}`).join(', ')}]`),
    '',
  ].join('\n');

  it('refuses a YAML alias bomb naming the file, as a ConfigError (exit 2), never a crash', async () => {
    expect(parseEnvironment(aliasBomb, 'bomb', 'bomb.yml')).toEqual({
      config: undefined,
      errors: [
        'bomb.yml: its YAML aliases expand more than 100 times (an alias bomb?): write the values out instead of nesting aliases',
      ],
    });
    const dir = mkdtempSync(join(tmpdir(), 'its-envs-'));
    writeFileSync(join(dir, 'bomb.yml'), aliasBomb);
    writeFileSync(
      join(dir, 'dangling.yml'),
      'app: *nowhere\nimage: { repository: r }\nrouter: { port: 1 }\n',
    );
    const bomb = loadEnvironment(dir, 'bomb');
    await expect(bomb).rejects.toThrow(ConfigError);
    await expect(bomb).rejects.toThrow(
      `${join(dir, 'bomb.yml')}: its YAML aliases expand more than 100 times`,
    );
    // An alias to an anchor that does not exist crashed the same way.
    await expect(loadEnvironment(dir, 'dangling')).rejects.toThrow(
      /dangling\.yml: not valid YAML: Unresolved alias .*: nowhere/,
    );
  });

  it('still reads the few aliases a real file uses', () => {
    const { config, errors } = parseEnvironment(
      'app: &name its\nnetwork: *name\nimage: { repository: *name }\nrouter: { port: 1 }\n',
      'e',
      'e.yml',
    );
    expect(errors).toEqual([]);
    expect(config).toMatchObject({ app: 'its', network: 'its', image: { repository: 'its' } });
  });

  it('rejects unknown environments listing those that exist, and malformed files as ConfigError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'its-envs-'));
    writeFileSync(join(dir, 'alpha.yml'), 'app: a\nimage: { repository: r }\nrouter: { port: 1 }\n');
    writeFileSync(join(dir, 'broken.yml'), 'app: 1\n');
    await expect(loadEnvironment(dir, 'nope')).rejects.toThrow(UsageError);
    await expect(loadEnvironment(dir, 'nope')).rejects.toMatchObject({ fix: 'use one of: alpha, broken' });
    await expect(loadEnvironment(dir, '../etc')).rejects.toThrow(/unknown environment/);
    await expect(loadEnvironment(dir, 'broken')).rejects.toThrow(ConfigError);
    await expect(loadEnvironment(join(dir, 'missing'), 'x')).rejects.toMatchObject({
      fix: expect.stringContaining('create'),
    });
    expect((await loadEnvironment(dir, 'alpha')).app).toBe('a');
  });
});

describe('env files and redaction', () => {
  it('parses KEY=VALUE lines, skipping comments and stripping quotes', () => {
    expect(parseEnvFile('# c\n\nA=1\nexport B="two words"\nC=\'x=y\'\nnot a line\n')).toEqual({
      A: '1',
      B: 'two words',
      C: 'x=y',
    });
  });

  it('redacts secret-looking keys', () => {
    expect(
      redactEnv({ API_SECRET_KEY: 's', DATABASE_URL: 'postgres://u:p@h/db', NODE_ENV: 'production' }),
    ).toEqual({ API_SECRET_KEY: '[REDACTED]', DATABASE_URL: '[REDACTED]', NODE_ENV: 'production' });
  });

  it('accepts tag-like versions only', () => {
    for (const ok of ['1.0.0', 'v1.2.3-rc.1', 'production', 'sha-abc_1'])
      expect(VERSION_PATTERN.test(ok)).toBe(true);
    for (const bad of ['1.0;rm -rf /', '$(id)', '`id`', '-v', 'a b', '', 'x'.repeat(129), '1.0|cat'])
      expect(VERSION_PATTERN.test(bad)).toBe(false);
  });
});
