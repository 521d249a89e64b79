import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { formatImageReference, parseImageReference, splitRegistry } from './image-reference.js';
import { ENVIRONMENT_NAME, ENV_VARIABLE, HOST_PORT } from './patterns.js';

describe('image references', () => {
  it.each([
    ['its-camera-ai', { registry: undefined, path: 'its-camera-ai' }],
    ['acme/app', { registry: undefined, path: 'acme/app' }],
    ['localhost/app', { registry: 'localhost', path: 'app' }],
    [
      '127.0.0.1:5000/its-camera-ai/development',
      { registry: '127.0.0.1:5000', path: 'its-camera-ai/development' },
    ],
    ['ghcr.io/acme/app', { registry: 'ghcr.io', path: 'acme/app' }],
  ])("splitRegistry follows Docker's rule: %s", (name, expected) => {
    expect(splitRegistry(name)).toEqual(expected);
  });

  it('parses with and without a registry, and formats back', () => {
    const full = '127.0.0.1:5000/its/app:v1.2.3@sha256:' + 'a'.repeat(64);
    expect(parseImageReference(full)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'its/app',
      tag: 'v1.2.3',
      digest: `sha256:${'a'.repeat(64)}`,
    });
    expect(formatImageReference(parseImageReference(full))).toBe(full);
    expect(parseImageReference('acme/app:1')).toEqual({ repository: 'acme/app', tag: '1' });
    expect(formatImageReference({ repository: 'acme/app', tag: '1' })).toBe('acme/app:1');
  });

  it.each([
    ['no host where one is required', 'app:1', { requireRegistry: true }, /names no registry host/],
    [
      'a bad host where one is required',
      'bad_host!/app',
      { requireRegistry: true },
      /bad_host! is not a host/,
    ],
    ['a tag starting with a dash', 'ghcr.io/app:-x', {}, /tag -x is not valid/],
    ['a shell string as tag', 'ghcr.io/app:1;id', {}, /tag 1;id is not valid/],
    ['an upper-case repository', 'ghcr.io/App', {}, /repository App is not a lowercase path/],
    ['a short digest', 'ghcr.io/app@sha256:abc', {}, /the digest should be/],
  ])('rejects %s with a UsageError naming the part', (_n, ref, options, message) => {
    expect(() => parseImageReference(ref, options)).toThrow(UsageError);
    expect(() => parseImageReference(ref, options)).toThrow(message);
  });
});

describe('shared patterns', () => {
  it('environment names, variables and host:port', () => {
    expect(['development', 'dev-2', 'a'].every((n) => ENVIRONMENT_NAME.test(n))).toBe(true);
    expect(['Dev', '2dev', 'dev_x', '', 'a'.repeat(32), 'dev;rm'].some((n) => ENVIRONMENT_NAME.test(n))).toBe(
      false,
    );
    expect(ENV_VARIABLE.test('ADMIN_TOKEN')).toBe(true);
    expect(ENV_VARIABLE.test('admin-token')).toBe(false);
    expect(HOST_PORT.test('postgres:5432')).toBe(true);
    expect(HOST_PORT.test('postgres')).toBe(false);
  });
});
