import { describe, expect, it } from 'vitest';
import { parseEnvironment } from './environment-config.js';

const base = 'app: its\nimage: { repository: r }\nrouter: { port: 8080 }\n';

describe('stack fields of an environment file', () => {
  it('defaults: no accessories, no network override, nothing generated, no stack', () => {
    const { config } = parseEnvironment(base, 'dev', 'dev.yml');
    expect(config).toMatchObject({ accessories: {}, secrets: { generate: [] } });
    expect(config?.network).toBeUndefined();
    expect(config?.stack).toBeUndefined();
  });

  it('reads accessories with their defaults, a shared network, secrets and tiers', () => {
    const { config, errors } = parseEnvironment(
      `${base}network: its-dev
accessories:
  postgres: { image: pg, port: 5432, env: { POSTGRES_PASSWORD: '\${POSTGRES_PASSWORD}' }, volume: /var/lib/postgresql/data, publish: 15432 }
secrets: { generate: [POSTGRES_PASSWORD, ADMIN_TOKEN] }
stack: { tiers: [dev-web, dev-vision], apiKeys: [{ secret: VISION_API_KEY, name: vision-worker }] }
`,
      'dev',
      'dev.yml',
    );
    expect(errors).toEqual([]);
    expect(config?.network).toBe('its-dev');
    expect(config?.accessories.postgres).toEqual({
      image: 'pg',
      port: 5432,
      env: { POSTGRES_PASSWORD: '${POSTGRES_PASSWORD}' },
      volume: '/var/lib/postgresql/data',
      publish: 15432,
      healthTimeoutMs: 60000,
    });
    expect(config?.stack).toEqual({
      tiers: ['dev-web', 'dev-vision'],
      apiKeys: [
        {
          secret: 'VISION_API_KEY',
          name: 'vision-worker',
          adminTokenSecret: 'ADMIN_TOKEN',
          createPath: '/api/v1/admin/api-keys',
          checkPath: '/api/v1/auth/check',
          scopes: [],
        },
      ],
    });
  });

  it('reports every malformed field with its path, all at once', () => {
    const { config, errors } = parseEnvironment(
      `${base}network: 'has space'
accessories:
  Postgres: { image: pg, port: 5432 }
  redis: { port: 70000, volume: data, colour: red }
secrets: { generate: [lower-case], from: Development }
stack: { tiers: [] }
`,
      'dev',
      'dev.yml',
    );
    expect(config).toBeUndefined();
    const text = errors.join('\n');
    expect(text).toContain('dev.yml: network:');
    expect(text).toContain('dev.yml: accessories.Postgres: lower-case letters, digits and dashes');
    expect(text).toContain('dev.yml: accessories.redis.image:');
    expect(text).toContain('dev.yml: accessories.redis.port:');
    expect(text).toContain('dev.yml: accessories.redis.volume:');
    expect(text).toContain('dev.yml: accessories.redis: Unrecognized key: "colour"');
    expect(text).toContain('dev.yml: secrets.generate.0: an environment variable name');
    expect(text).toContain('dev.yml: secrets.from: an environment name');
    expect(text).toContain('dev.yml: stack.tiers:');
  });

  it('rejects a stack listing itself or a tier twice, a generated API key and a publish on the router port', () => {
    const { errors } = parseEnvironment(
      `${base}accessories: { redis: { image: r, port: 6379, publish: 8080 } }
secrets: { generate: [VISION_API_KEY] }
stack: { tiers: [dev, dev-web, dev-web], apiKeys: [{ secret: VISION_API_KEY, name: v }] }
`,
      'dev',
      'dev.yml',
    );
    expect(errors).toEqual([
      'dev.yml: stack.tiers.0: "dev" is this environment itself',
      'dev.yml: stack.tiers.2: "dev-web" is listed twice',
      'dev.yml: stack.apiKeys.0.secret: VISION_API_KEY is also in secrets.generate (an API key is created by the API, not generated)',
      "dev.yml: accessories.redis.publish: 8080 is the router's port",
    ]);
  });
});
