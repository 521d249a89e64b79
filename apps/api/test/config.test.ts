import { describe, expect, it } from 'vitest';
import { describeConfig, loadConfig, redactUrl } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

describe('loadConfig', () => {
  it('applies documented defaults and freezes the result', () => {
    const cfg = loadConfig({});
    expect(cfg).toMatchObject({
      PORT: 8000,
      HOST: '127.0.0.1',
      DATA_DIR: './data',
      API_KEYS_READ_REQUIRED: false,
      BODY_LIMIT_BYTES: 5 * 1024 * 1024,
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: 10_000,
      CORS_ORIGINS: ['http://localhost:3000', 'http://127.0.0.1:3000'],
      APP_VERSION: '0.1.0',
    });
    expect(cfg.DATABASE_URL).toBeUndefined();
    expect(Object.isFrozen(cfg)).toBe(true);
    expect(Object.isFrozen(cfg.CORS_ORIGINS)).toBe(true);
  });

  it('parses values and treats empty strings as unset', () => {
    const cfg = loadConfig({
      PORT: '9001',
      DATABASE_URL: 'postgres://u:p@db:5432/its',
      REDIS_URL: '',
      API_KEYS_READ_REQUIRED: 'yes',
      CORS_ORIGINS: ' https://a.example , https://b.example ',
      APP_VERSION: '1.2.3',
    });
    expect(cfg).toMatchObject({ PORT: 9001, API_KEYS_READ_REQUIRED: true, APP_VERSION: '1.2.3' });
    expect(cfg.REDIS_URL).toBeUndefined();
    expect(cfg.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT: must be/],
    [{ PORT: '70000' }, /PORT: must be an integer between 0 and 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: use a postgres:\/\/ or postgresql:\/\/ URL/],
    [{ REDIS_URL: 'not a url' }, /REDIS_URL: use a redis:\/\//],
    [{ API_KEYS_READ_REQUIRED: 'maybe' }, /API_KEYS_READ_REQUIRED: use true or false/],
    [{ ADMIN_TOKEN: 'short' }, /ADMIN_TOKEN: must be at least 16 characters/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: /],
    [{ BODY_LIMIT_BYTES: '10' }, /BODY_LIMIT_BYTES: must be an integer between 1024/],
  ])('stops on %o with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reports every bad variable at once', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'y' });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).issues).toHaveLength(2);
    }
  });

  it('never prints secrets', () => {
    // The whole user-info is masked: the user name is half of the credential.
    expect(redactUrl('postgres://its:s3cret@db/its')).toBe('postgres://***@db/its');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('::not a url::')).toBe('***');
    expect(redactUrl(undefined)).toBeUndefined();
    const shown = JSON.stringify(
      describeConfig(
        loadConfig({
          DATABASE_URL: 'postgres://its:s3cret@db/its',
          REDIS_URL: 'redis://:pw@r:6379',
          ADMIN_TOKEN: 'a-very-long-admin-token',
        }),
      ),
    );
    expect(shown).not.toContain('s3cret');
    expect(shown).not.toContain(':pw@');
    expect(shown).not.toContain('a-very-long-admin-token');
  });
});
