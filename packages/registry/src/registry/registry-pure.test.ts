import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '@its/core';
import { buildIndex, platformKey } from './assemble-index.js';
import { Secret } from '@its/core';
import { basicAuthorization, resolveCredentials } from './credentials.js';
import { computeDigest, isMetadataTag, referrersFallbackTag, signatureTag } from './digest.js';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  isForeignLayer,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types.js';
import { planPrune, type RepositoryImage } from './plan-prune.js';
import { parsePushDigest, planPublish, publishImage } from './publish-image.js';
import {
  formatImageReference,
  parseImageReference,
  readRegistrySettings,
  registryBaseUrl,
} from './reference.js';
import { RegistryUnreachableError, unreachableFix } from './registry-errors.js';
import { parseWwwAuthenticate } from './www-authenticate.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;

describe('parseWwwAuthenticate', () => {
  it.each([
    [
      'ghcr.io style bearer with a comma inside the scope',
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull,push"',
      {
        scheme: 'bearer',
        params: {
          realm: 'https://ghcr.io/token',
          service: 'ghcr.io',
          scope: 'repository:acme/app:pull,push',
        },
      },
    ],
    ['basic', 'Basic realm="Registry Realm"', { scheme: 'basic', params: { realm: 'Registry Realm' } }],
    [
      'unquoted values and escapes',
      'bearer realm=https://x/t, service="a\\"b"',
      { scheme: 'bearer', params: { realm: 'https://x/t', service: 'a"b' } },
    ],
    ['an unknown scheme', 'Negotiate', { scheme: 'other', params: {} }],
  ])('%s', (_name, header, expected) => {
    expect(parseWwwAuthenticate(header)).toEqual(expected);
  });
});

describe('registry settings and references', () => {
  it('defaults to the local registry and its-camera-ai', () => {
    expect(readRegistrySettings({})).toEqual({ registry: '127.0.0.1:5000', image: 'its-camera-ai' });
  });
  it('accepts a scheme-prefixed DOCKER_REGISTRY and an org/image IMAGE_NAME', () => {
    expect(
      readRegistrySettings({ DOCKER_REGISTRY: 'https://ghcr.io/', IMAGE_NAME: 'acme/its-camera-ai' }),
    ).toEqual({
      registry: 'ghcr.io',
      image: 'acme/its-camera-ai',
    });
  });
  it('names the field in errors', () => {
    expect(() => readRegistrySettings({ IMAGE_NAME: 'Bad Name' })).toThrow(ConfigError);
    expect(() => readRegistrySettings({ IMAGE_NAME: 'Bad Name' })).toThrow(
      /IMAGE_NAME: should be a lowercase repository path/,
    );
  });
  it('uses http only for loopback', () => {
    expect(registryBaseUrl('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('localhost:5000')).toBe('http://localhost:5000');
    expect(registryBaseUrl('ghcr.io')).toBe('https://ghcr.io');
  });
  it('parses and formats references', () => {
    const ref = parseImageReference(`127.0.0.1:5000/its-camera-ai/staging:v1.2.3@${D('a')}`);
    expect(ref).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'its-camera-ai/staging',
      tag: 'v1.2.3',
      digest: D('a'),
    });
    expect(formatImageReference(ref)).toBe(`127.0.0.1:5000/its-camera-ai/staging:v1.2.3@${D('a')}`);
    expect(parseImageReference('ghcr.io/acme/app')).toEqual({ registry: 'ghcr.io', repository: 'acme/app' });
  });
  it.each([
    ['no registry', 'app:v1', /names no registry host/],
    ['bad digest', 'ghcr.io/app@sha256:xyz', /the digest should be/],
    ['bad tag', 'ghcr.io/app:-x', /tag -x is not valid/],
    ['uppercase repo', 'ghcr.io/App', /repository App is not a lowercase path/],
    ['bad host', 'bad_host!/app', /is not a host/],
  ])('rejects %s', (_n, ref, message) => {
    expect(() => parseImageReference(ref)).toThrow(UsageError);
    expect(() => parseImageReference(ref)).toThrow(message);
  });
});

describe('credentials', () => {
  const auth = Buffer.from('bob:hunter2').toString('base64');
  it('never prints a secret', () => {
    const s = new Secret('hunter2');
    expect(`${s}`).toBe('[REDACTED]');
    expect(JSON.stringify({ s })).toBe('{"s":"[REDACTED]"}');
    expect(inspect({ s })).not.toContain('hunter2');
    expect(s.reveal()).toBe('hunter2');
  });
  it('uses REGISTRY_USERNAME/PASSWORD only for DOCKER_REGISTRY', () => {
    const env = { DOCKER_REGISTRY: 'ghcr.io', REGISTRY_USERNAME: 'ci', REGISTRY_PASSWORD: 'p' };
    expect(resolveCredentials({ registry: 'ghcr.io', env })?.source).toBe(
      'REGISTRY_USERNAME/REGISTRY_PASSWORD',
    );
    expect(resolveCredentials({ registry: 'other.example', env })).toBeUndefined();
    expect(
      resolveCredentials({
        registry: '127.0.0.1:5000',
        env: { REGISTRY_USERNAME: 'a', REGISTRY_PASSWORD: 'b' },
      })?.username,
    ).toBe('a');
  });
  it('reads Docker config auths by host, with or without scheme, base64 or split fields', () => {
    const fromAuth = resolveCredentials({
      registry: 'ghcr.io',
      env: {},
      dockerConfig: { auths: { 'https://ghcr.io/v1/': { auth } } },
    });
    expect(fromAuth?.username).toBe('bob');
    expect(basicAuthorization(fromAuth!)).toBe(`Basic ${auth}`);
    const split = resolveCredentials({
      registry: 'r.example',
      env: {},
      dockerConfig: { auths: { 'r.example': { username: 'u', password: 'p' } } },
    });
    expect(split?.password.reveal()).toBe('p');
    expect(
      resolveCredentials({
        registry: 'x.example',
        env: {},
        dockerConfig: { auths: { 'r.example': { auth } } },
      }),
    ).toBeUndefined();
    expect(
      resolveCredentials({
        registry: 'r.example',
        env: {},
        dockerConfig: { auths: { 'r.example': { auth: 'bm9jb2xvbg==' } } },
      }),
    ).toBeUndefined();
  });
});

describe('digests and media types', () => {
  it('derives the referrers and signature tags', () => {
    expect(referrersFallbackTag(D('b'))).toBe(`sha256-${'b'.repeat(64)}`);
    expect(signatureTag(D('b'))).toBe(`sha256-${'b'.repeat(64)}.sig`);
    expect(isMetadataTag(signatureTag(D('b')))).toBe(true);
    expect(isMetadataTag('v1.2.3')).toBe(false);
    expect(computeDigest(Buffer.from(''))).toBe(
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(isForeignLayer('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')).toBe(true);
  });
});

describe('buildIndex', () => {
  const child = (mediaType: string, arch: string) => ({
    mediaType,
    digest: D(arch[0]!),
    size: 10,
    platform: { os: 'linux', architecture: arch },
  });
  it('writes Docker list type for Docker children, OCI otherwise', () => {
    expect(buildIndex([child(DOCKER_MANIFEST, 'amd64'), child(DOCKER_MANIFEST, 'arm64')]).mediaType).toBe(
      DOCKER_MANIFEST_LIST,
    );
    const oci = buildIndex([child(OCI_MANIFEST, 'amd64')], { 'org.opencontainers.image.version': '1.2.3' });
    expect(oci.mediaType).toBe(OCI_INDEX);
    expect(JSON.parse(oci.bytes.toString()).annotations).toEqual({
      'org.opencontainers.image.version': '1.2.3',
    });
  });
  it('refuses two images for one platform', () => {
    expect(() => buildIndex([child(OCI_MANIFEST, 'amd64'), child(OCI_MANIFEST, 'amd64')])).toThrow(
      /two images claim platform linux\/amd64/,
    );
    expect(platformKey({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux/arm/v7');
    expect(platformKey(undefined)).toBe('unknown');
  });
});

describe('planPrune', () => {
  const img = (
    repository: string,
    d: string,
    tags: string[],
    created?: string,
    children: string[] = [],
  ): RepositoryImage => ({
    repository,
    digest: D(d),
    tags,
    created,
    children,
  });
  it.each([
    {
      name: 'keeps the newest N by build time',
      images: [
        img('r', 'a', ['v1'], '2026-01-01'),
        img('r', 'b', ['v2'], '2026-02-01'),
        img('r', 'c', ['v3'], '2026-03-01'),
      ],
      keep: 2,
      running: [],
      removed: ['a'],
    },
    {
      name: 'keeps what runs even when old',
      images: [
        img('r', 'a', ['v1'], '2026-01-01'),
        img('r', 'b', ['v2'], '2026-02-01'),
        img('r', 'c', ['v3'], '2026-03-01'),
      ],
      keep: 1,
      running: [D('a')],
      removed: ['b'],
    },
    {
      name: 'counts per repository',
      images: [
        img('dev', 'a', ['v1'], '2026-01-01'),
        img('stg', 'b', ['v1'], '2026-01-01'),
        img('stg', 'c', ['v2'], '2026-02-01'),
      ],
      keep: 1,
      running: [],
      removed: ['b'],
    },
    {
      name: 'keeps children of a kept index and drops those of a dropped one',
      images: [
        img('r', 'i', ['v2'], '2026-02-01', [D('x'), D('y')]),
        img('r', 'x', ['v2-amd64'], '2026-02-01'),
        img('r', 'y', ['v2-arm64'], '2026-02-01'),
        img('r', 'j', ['v1'], '2026-01-01', [D('z')]),
        img('r', 'z', ['v1-amd64'], '2026-01-01'),
      ],
      keep: 1,
      running: [],
      removed: ['j', 'z'],
    },
    {
      name: 'orders undated images after dated ones, then by tag',
      images: [
        img('r', 'a', ['v1.10.0']),
        img('r', 'b', ['v1.9.0']),
        img('r', 'c', ['v0.1.0'], '2026-01-01'),
      ],
      keep: 2,
      running: [],
      removed: ['b'],
    },
    {
      name: 'keep 0 removes everything not running',
      images: [img('r', 'a', ['v1'], '2026-01-01')],
      keep: 0,
      running: [],
      removed: ['a'],
    },
  ])('$name', ({ images, keep, running, removed }) => {
    const plan = planPrune({ images, keep, running });
    expect(plan.remove.map((r) => r.digest.slice(7, 8)).sort()).toEqual(removed.sort());
    expect(plan.keep.length + plan.remove.length).toBe(images.length);
  });
});

describe('publish planning', () => {
  it('tags then pushes each target in the development repository', () => {
    expect(
      planPublish({
        localRef: 'app:local',
        registry: '127.0.0.1:5000',
        image: 'its-camera-ai',
        tags: ['v1', 'v1-gpu'],
      }),
    ).toEqual({
      targets: [
        '127.0.0.1:5000/its-camera-ai/development:v1',
        '127.0.0.1:5000/its-camera-ai/development:v1-gpu',
      ],
      commands: [
        ['tag', 'app:local', '127.0.0.1:5000/its-camera-ai/development:v1'],
        ['tag', 'app:local', '127.0.0.1:5000/its-camera-ai/development:v1-gpu'],
        ['push', '127.0.0.1:5000/its-camera-ai/development:v1'],
        ['push', '127.0.0.1:5000/its-camera-ai/development:v1-gpu'],
      ],
    });
  });
  it('refuses missing or invalid tags', () => {
    expect(() => planPublish({ localRef: 'a', registry: 'r', image: 'i', tags: [] })).toThrow(
      /give at least one tag/,
    );
    expect(() => planPublish({ localRef: 'a', registry: 'r', image: 'i', tags: ['bad tag'] })).toThrow(
      /bad tag: not valid/,
    );
  });
  it('reads the digest docker push prints', () => {
    expect(parsePushDigest(`The push refers to repository [x]\nv1: digest: ${D('c')} size: 528\n`)).toBe(
      D('c'),
    );
    expect(parsePushDigest('nothing')).toBeUndefined();
  });
  it('turns docker failures into typed errors', async () => {
    const plan = planPublish({ localRef: 'a', registry: '127.0.0.1:5000', image: 'i', tags: ['v1'] });
    const refused = publishImage(plan, {
      registry: '127.0.0.1:5000',
      docker: async (args) =>
        args[0] === 'push'
          ? {
              code: 1,
              stdout: '',
              stderr: 'Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused',
            }
          : { code: 0, stdout: '', stderr: '' },
    });
    await expect(refused).rejects.toBeInstanceOf(RegistryUnreachableError);
    const missing = publishImage(plan, {
      registry: 'r',
      docker: async () => ({ code: 1, stdout: '', stderr: 'Error: No such image: a' }),
    });
    await expect(missing).rejects.toThrow(/docker tag a .* failed \(exit 1\): Error: No such image: a/);
    const silent = publishImage(plan, {
      registry: 'r',
      docker: async () => ({ code: 0, stdout: '', stderr: '' }),
    });
    await expect(silent).rejects.toThrow(/printed no digest/);
  });
  it('words the unreachable fix for local and remote registries', () => {
    expect(unreachableFix('127.0.0.1:5000')).toContain('scripts/registry.sh start');
    expect(unreachableFix('ghcr.io')).toContain('check DOCKER_REGISTRY (now ghcr.io)');
  });
});

describe('public entry points', () => {
  it('exports the functions itsctl deploy and the pipelines use', async () => {
    const api = await import('../index.js');
    expect(typeof api.verifyImageSignature).toBe('function');
    expect(typeof api.promoteImage).toBe('function');
    expect(api.environmentRepositories('its-camera-ai')).toEqual([
      'its-camera-ai/development',
      'its-camera-ai/staging',
      'its-camera-ai/production',
      'its-camera-ai',
    ]);
  });
});
