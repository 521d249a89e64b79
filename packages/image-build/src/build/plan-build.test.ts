import { describe, expect, it } from 'vitest';
import { UsageError } from '@its/core';
import { type BuildRequest, type HostFacts, planBuild, tagFor, validateBuildRequest } from './plan-build.js';

const request = (fields: Partial<BuildRequest> = {}): BuildRequest => ({
  targets: ['production'],
  platforms: ['linux/amd64'],
  imageName: 'its-camera-ai',
  dockerfile: '/repo/docker/Dockerfile',
  context: '/repo',
  baseImage: 'node:24-bookworm-slim',
  labels: {
    version: '1.2.3',
    revision: 'abc123',
    created: '2026-11-26T01:00:00.000Z',
    source: 'https://example.test/its',
  },
  ...fields,
});
const amd64Host: HostFacts = { nativeArch: 'amd64', binfmtHandlers: [], baseImageArchs: ['amd64'] };

describe('planBuild', () => {
  it('builds exact argument arrays (BuildKit, no --pull, labels as build args)', () => {
    const plan = planBuild(request(), amd64Host);
    expect(plan.skipped).toEqual([]);
    expect(plan.jobs).toEqual([
      {
        target: 'production',
        platform: 'linux/amd64',
        tag: 'its-camera-ai:production',
        env: { DOCKER_BUILDKIT: '1' },
        args: [
          'build',
          '--file',
          '/repo/docker/Dockerfile',
          '--target',
          'production',
          '--platform',
          'linux/amd64',
          '--tag',
          'its-camera-ai:production',
          '--progress',
          'plain',
          '--build-arg',
          'VERSION=1.2.3',
          '--build-arg',
          'REVISION=abc123',
          '--build-arg',
          'CREATED=2026-11-26T01:00:00.000Z',
          '--build-arg',
          'SOURCE=https://example.test/its',
          '/repo',
        ],
      },
    ]);
    expect(plan.jobs[0]?.args).not.toContain('--pull');
  });

  it('builds the whole matrix in target order, extra build args before the context', () => {
    const plan = planBuild(
      request({ targets: ['edge', 'testing', 'edge'], extraBuildArgs: ['BUILD_WORKSPACES=@its/api'] }),
      amd64Host,
    );
    expect(plan.jobs.map((j) => j.tag)).toEqual(['its-camera-ai:edge', 'its-camera-ai:testing']);
    expect(plan.jobs[0]?.args.slice(-3)).toEqual(['--build-arg', 'BUILD_WORKSPACES=@its/api', '/repo']);
  });

  const arm64Cases: { name: string; host: HostFacts; skipped: RegExp | null }[] = [
    { name: 'no QEMU handler', host: amd64Host, skipped: /binfmt handler qemu-aarch64 is not registered/ },
    {
      name: 'QEMU but no arm64 base image',
      host: { ...amd64Host, binfmtHandlers: ['qemu-aarch64'] },
      skipped:
        /no linux\/arm64 variant of node:24-bookworm-slim .*node:24-bookworm-slim-arm64 and debian:bookworm-slim-arm64.*bootstrap-base-images.sh --arch arm64/,
    },
    {
      name: 'QEMU and an arm64 base image',
      host: { ...amd64Host, binfmtHandlers: ['qemu-aarch64'], baseImageArchs: ['amd64', 'arm64'] },
      skipped: null,
    },
    {
      name: 'QEMU, base images, but a nearly full disk',
      host: {
        ...amd64Host,
        binfmtHandlers: ['qemu-aarch64'],
        baseImageArchs: ['amd64', 'arm64'],
        dockerRootFreeBytes: 2 * 1024 ** 3,
        dockerRootDir: '/var/lib/docker',
      },
      skipped: /only 2\.0 GB free in \/var\/lib\/docker; an emulated linux\/arm64 build needs about 6\.0 GB/,
    },
    {
      name: 'native arm64 host',
      host: { nativeArch: 'arm64', binfmtHandlers: [], baseImageArchs: ['arm64'] },
      skipped: null,
    },
  ];
  for (const c of arm64Cases) {
    it(`linux/arm64 with ${c.name}`, () => {
      const plan = planBuild(
        request({ platforms: ['linux/amd64', 'linux/arm64'], targets: ['edge'] }),
        c.host,
      );
      if (c.skipped) {
        expect(plan.skipped).toHaveLength(1);
        expect(plan.skipped[0]).toMatchObject({ target: 'edge', platform: 'linux/arm64' });
        expect(plan.skipped[0]?.reason).toMatch(c.skipped);
      } else {
        expect(plan.skipped.filter((s) => s.platform === 'linux/arm64')).toEqual([]);
        expect(plan.jobs.map((j) => j.platform)).toContain('linux/arm64');
      }
    });
  }

  it('passes a foreign platform its base images by their platform names, the native Node for the build stages', () => {
    const plan = planBuild(request({ platforms: ['linux/amd64', 'linux/arm64'], targets: ['edge'] }), {
      ...amd64Host,
      binfmtHandlers: ['qemu-aarch64'],
      baseImageArchs: ['amd64', 'arm64'],
      dockerRootFreeBytes: 50 * 1024 ** 3,
    });
    const [native, arm] = plan.jobs;
    expect(native?.args.filter((a) => /_IMAGE=/.test(a))).toEqual([]);
    expect(arm?.tag).toBe('its-camera-ai:edge-arm64');
    expect(arm?.args.slice(arm.args.indexOf('SOURCE=https://example.test/its') + 1)).toEqual([
      '--build-arg',
      'NODE_IMAGE=node:24-bookworm-slim-arm64',
      '--build-arg',
      'DEBIAN_IMAGE=debian:bookworm-slim-arm64',
      '--build-arg',
      'BUILD_NODE_IMAGE=node:24-bookworm-slim',
      '/repo',
    ]);
  });

  it('tags foreign platforms with an architecture suffix', () => {
    expect(tagFor('app', 'edge', 'linux/arm64', 'amd64')).toBe('app:edge-arm64');
    expect(tagFor('app', 'edge', 'linux/arm64', 'arm64')).toBe('app:edge');
    expect(tagFor('app', 'edge', 'linux/amd64', 'arm64')).toBe('app:edge-amd64');
  });
});

describe('validateBuildRequest', () => {
  it('lists the valid targets and platforms, every problem at once', () => {
    let error: unknown;
    try {
      validateBuildRequest(['production', 'prod', 'gpu'], ['linux/amd64', 'linux/s390x']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      [
        "--target: unknown target 'prod'; valid targets: development, testing, production, gpu-production, edge",
        "--target: unknown target 'gpu'; valid targets: development, testing, production, gpu-production, edge",
        "--platform: unknown platform 'linux/s390x'; valid platforms: linux/amd64, linux/arm64",
      ].join('\n'),
    );
  });
  it('deduplicates valid input', () => {
    expect(validateBuildRequest(['edge', 'edge'], ['linux/amd64'])).toEqual({
      targets: ['edge'],
      platforms: ['linux/amd64'],
    });
  });
});
