/**
 * itsctl's registry commands end to end, in-process, against a real docker-registry and the real
 * Docker Engine: publish a locally built image, gate and promote it through every environment, pull
 * it back from the release repository and run it.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import type { CliIo } from '../../cli/io.js';
import { ENVIRONMENTS, environmentRepository } from '@its/registry';
import { buildTar, buildTinyElf, pushTestImage } from '@its/registry/testing';
import { startLocalRegistry, type LocalRegistry } from '@its/registry/testing';
import { RegistryClient } from '@its/registry';

const run = promisify(execFile);
const DOCKER = process.env.DOCKER_BIN ?? '/usr/bin/docker';
const IMAGE = 'its-cli-test';
const MARKER = `hello from ITS ${process.pid}\n`;
let registry: LocalRegistry;
let state: string;
let localRef: string;
const toRemove: string[] = [];

async function itsctl(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: {
      DOCKER_REGISTRY: registry.host,
      IMAGE_NAME: IMAGE,
      ITS_STATE_DIR: state,
      DOCKER_CONFIG: join(state, 'docker'),
      DOCKER_BIN: DOCKER,
      ...env,
    },
    cwd: state,
    now: () => new Date('2026-11-26T02:00:00Z'),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

/** `docker import` reads the rootfs tar from stdin. */
async function dockerImport(tar: Buffer, ref: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(DOCKER, ['import', '-c', 'ENTRYPOINT ["/hello"]', '-', ref], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker import: ${err}`))));
    child.stdin.end(tar);
  });
}

beforeAll(async () => {
  registry = await startLocalRegistry();
  state = await mkdtemp(join(tmpdir(), 'its-cli-'));
  localRef = `its-cli-local:${process.pid}`;
  await dockerImport(buildTar([{ path: 'hello', data: buildTinyElf(MARKER), mode: 0o755 }]), localRef);
  toRemove.push(localRef);
});

afterAll(async () => {
  if (toRemove.length) await run(DOCKER, ['rmi', '-f', ...toRemove]).catch(() => undefined);
  await registry?.destroy();
  if (state) await rm(state, { recursive: true, force: true });
});

describe('itsctl publish → record → promote ×3 → pull and run', () => {
  it('moves the same digest through every environment and the released image runs', async () => {
    const published = await itsctl(['publish', '--image', localRef, '--tag', 'v1.0.0', '--sbom', '--json']);
    expect(published.stderr).not.toMatch(/itsctl:/);
    expect(published.code).toBe(0);
    const { digest, references } = JSON.parse(published.stdout) as { digest: string; references: string[] };
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    toRemove.push(...references.filter((r) => !r.includes('@')));

    // Ungated: refused with exit code 1, the reason and the command that records a pass.
    const refused = await itsctl(['promote', '--from', 'development', '--to', 'staging', '--tag', 'v1.0.0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('has no passing gate or deploy record in development');
    expect(refused.stderr).toContain(`itsctl record --env development --digest ${digest}`);

    await expect(itsctl(['sign', 'keygen', '--out', join(state, 'keys')])).resolves.toMatchObject({
      code: 0,
    });
    const signed = await itsctl([
      'sign',
      'image',
      '--tag',
      'v1.0.0',
      '--key',
      join(state, 'keys', 'cosign.key'),
    ]);
    expect(signed.code).toBe(0);

    for (let i = 1; i < ENVIRONMENTS.length; i++) {
      const from = ENVIRONMENTS[i - 1]!;
      const to = ENVIRONMENTS[i]!;
      const recorded = await itsctl([
        'record',
        '--env',
        from,
        '--digest',
        digest,
        '--kind',
        'deploy',
        '--name',
        'rolling',
        '--result',
        'pass',
      ]);
      expect(recorded.code).toBe(0);
      const extra = to === 'release' ? ['--extra-tag', 'latest'] : [];
      // Production and release demand a signature by our key.
      if (to === 'production' || to === 'release')
        extra.push('--verify-key', join(state, 'keys', 'cosign.pub'));
      const promoted = await itsctl([
        'promote',
        '--from',
        from,
        '--to',
        to,
        '--tag',
        'v1.0.0',
        ...extra,
        '--json',
      ]);
      expect(promoted.code).toBe(0);
      expect(JSON.parse(promoted.stdout)).toMatchObject({
        digest,
        to: { repository: environmentRepository(IMAGE, to) },
      });
      const verified = await itsctl([
        'sign',
        'verify',
        '--env',
        to,
        '--tag',
        'v1.0.0',
        '--key',
        join(state, 'keys', 'cosign.pub'),
        '--json',
      ]);
      expect(verified.code).toBe(0);
      expect(JSON.parse(verified.stdout).digest).toBe(digest);
      const sbom = await itsctl(['sbom', '--env', to, '--tag', 'v1.0.0', '--show']);
      expect(JSON.parse(sbom.stdout)).toMatchObject({ bomFormat: 'CycloneDX', specVersion: '1.5' });
    }

    const released = `${registry.host}/${IMAGE}:latest`;
    toRemove.push(released);
    await run(DOCKER, ['rmi', '-f', localRef, ...references.filter((r) => !r.includes('@'))]);
    await run(DOCKER, ['pull', released]);
    const repoDigests = (
      await run(DOCKER, ['image', 'inspect', '--format', '{{json .RepoDigests}}', released])
    ).stdout;
    expect(repoDigests).toContain(digest);
    const ran = await run(DOCKER, ['run', '--rm', released]);
    expect(ran.stdout).toBe(MARKER);
  });

  it('refuses a tampered public key path and an unsigned image', async () => {
    const client = new RegistryClient({ registry: registry.host });
    await pushTestImage(client, environmentRepository(IMAGE, 'development'), 'unsigned', {
      files: [{ path: 'x', data: 'x' }],
    });
    await itsctl(['sign', 'keygen', '--out', join(state, 'keys2')]);
    const unsigned = await itsctl([
      'sign',
      'verify',
      '--tag',
      'unsigned',
      '--key',
      join(state, 'keys2', 'cosign.pub'),
    ]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/is not signed/);
    const noKey = await itsctl(['sign', 'verify', '--tag', 'unsigned', '--key', join(state, 'missing.pub')]);
    expect(noKey.code).toBe(2);
    const again = await itsctl(['sign', 'keygen', '--out', join(state, 'keys2')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('refusing to overwrite');
    expect(
      (await readFile(join(state, 'keys2', 'cosign.key'), 'utf8')).startsWith('-----BEGIN PRIVATE KEY-----'),
    ).toBe(true);
  });
});

describe('a multi-arch index Docker pulls', () => {
  it('assembles the docker-pushed amd64 image and an arm64 image into a list Docker pulls and runs', async () => {
    const amdRef = `its-cli-local:${process.pid}-multi`;
    await dockerImport(buildTar([{ path: 'hello', data: buildTinyElf(MARKER), mode: 0o755 }]), amdRef);
    toRemove.push(amdRef);
    const published = await itsctl(['publish', '--image', amdRef, '--tag', 'v2.0.0-amd64', '--json']);
    expect(published.code).toBe(0);
    toRemove.push(`${registry.host}/${IMAGE}/development:v2.0.0-amd64`);
    const client = new RegistryClient({ registry: registry.host });
    const dev = environmentRepository(IMAGE, 'development');
    const arm = await pushTestImage(client, dev, 'v2.0.0-arm64', {
      architecture: 'arm64',
      format: 'docker',
      files: [{ path: 'hello', data: 'not runnable here' }],
    });
    const index = await itsctl([
      'registry',
      'index',
      '--tag',
      'v2.0.0',
      '--from',
      'v2.0.0-amd64',
      '--from',
      arm.digest,
      '--json',
    ]);
    expect(index.code).toBe(0);
    const { digest, mediaType } = JSON.parse(index.stdout) as { digest: string; mediaType: string };
    expect(mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');

    const ref = `${registry.host}/${dev}:v2.0.0`;
    toRemove.push(ref);
    await run(DOCKER, ['pull', ref]);
    expect(
      (await run(DOCKER, ['image', 'inspect', '--format', '{{json .RepoDigests}}', ref])).stdout,
    ).toContain(digest);
    expect(
      (await run(DOCKER, ['image', 'inspect', '--format', '{{.Architecture}}', ref])).stdout.trim(),
    ).toBe('amd64');
    expect((await run(DOCKER, ['run', '--rm', ref])).stdout).toBe(MARKER);
  });
});

describe('itsctl registry', () => {
  it('assembles an index, prunes as a dry run, then applies, keeping what runs', async () => {
    const client = new RegistryClient({ registry: registry.host });
    // Its own image name, so the images of the tests above do not count towards --keep.
    const PRUNE = { IMAGE_NAME: 'its-prune-test' };
    const repo = environmentRepository(PRUNE.IMAGE_NAME, 'staging');
    const old1 = await pushTestImage(client, repo, 'v0.1.0', {
      files: [{ path: 'a', data: '1' }],
      created: '2026-01-01T00:00:00Z',
    });
    const old2 = await pushTestImage(client, repo, 'v0.2.0', {
      files: [{ path: 'a', data: '2' }],
      created: '2026-02-01T00:00:00Z',
    });
    const amd = await pushTestImage(client, repo, 'v0.3.0-amd64', {
      files: [{ path: 'a', data: '3' }],
      created: '2026-03-01T00:00:00Z',
    });
    await pushTestImage(client, repo, 'v0.3.0-arm64', {
      architecture: 'arm64',
      files: [{ path: 'a', data: '4' }],
      created: '2026-03-01T00:00:00Z',
    });
    const index = await itsctl(
      'registry index --env staging --tag v0.3.0 --from v0.3.0-amd64 --from v0.3.0-arm64 --json'.split(' '),
      PRUNE,
    );
    expect(index.code).toBe(0);
    const indexDigest = (JSON.parse(index.stdout) as { digest: string }).digest;
    // staging "runs" old1, by a deploy record.
    await itsctl(
      `record --env staging --digest ${old1.digest} --kind deploy --name rolling --result pass`.split(' '),
      PRUNE,
    );

    const dry = await itsctl(['registry', 'prune', '--keep', '1', '--json'], PRUNE);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as {
      dryRun: boolean;
      remove: Array<{ repository: string; digest: string }>;
      keep: Array<{ digest: string; reason: string }>;
    };
    expect(plan.dryRun).toBe(true);
    expect(plan.remove.map((r) => `${r.repository}@${r.digest}`)).toEqual([`${repo}@${old2.digest}`]);
    expect(plan.keep.find((k) => k.digest === old1.digest)?.reason).toBe('running');
    expect(plan.keep.find((k) => k.digest === amd.digest)?.reason).toBe('index-child');
    expect(plan.keep.find((k) => k.digest === indexDigest)?.reason).toBe('newest');
    expect(await client.headManifest(repo, 'v0.2.0')).toBeDefined();

    const applied = await itsctl(['registry', 'prune', '--keep', '1', '--apply'], PRUNE);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`deleted ${repo}@${old2.digest} (v0.2.0)`);
    expect(await client.headManifest(repo, 'v0.2.0')).toBeUndefined();
    expect(await client.headManifest(repo, 'v0.1.0')).toBeDefined();
    expect((await client.headManifest(repo, 'v0.3.0'))?.digest).toBe(indexDigest);

    const status = await itsctl(['registry', 'status', '--json'], PRUNE);
    expect(JSON.parse(status.stdout).repositories[repo]).toEqual(
      expect.arrayContaining(['v0.1.0', 'v0.3.0']),
    );
  });

  it('lists records and checks record and promote flags', async () => {
    const digest = `sha256:${'9'.repeat(64)}`;
    const recorded = await itsctl(
      `record --env staging --digest ${digest} --name e2e --result fail --detail flaky`.split(' '),
    );
    expect(recorded.code).toBe(0);
    const listed = await itsctl(`record --list --digest ${digest} --env staging --json`.split(' '));
    expect(JSON.parse(listed.stdout).records).toEqual([
      expect.objectContaining({
        digest,
        environment: 'staging',
        kind: 'gate',
        name: 'e2e',
        result: 'fail',
        detail: 'flaky',
      }),
    ]);
    expect((await itsctl(['record', '--list'])).stdout).toContain(`staging gate e2e fail ${digest}`);
    const missing = await itsctl(['record', '--env', 'staging']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--digest, --name, --result: required');
    const badEnv = await itsctl(`record --env qa --digest ${digest} --name x --result pass`.split(' '));
    expect(badEnv.stderr).toContain('--env qa: should be one of');
    const badDigest = await itsctl(
      'record --env staging --digest sha256:1 --name x --result pass'.split(' '),
    );
    expect(badDigest.stderr).toContain('--digest: should be sha256');
    const noKey = await itsctl(
      `promote --from staging --to production --tag v1.0.0 --verify-key ${join(state, 'nope.pub')}`.split(
        ' ',
      ),
    );
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('cannot read public key');
    const dry = await itsctl('publish --image x:y --tag v1 --dry-run --json'.split(' '));
    expect(JSON.parse(dry.stdout).commands[1]).toEqual(['push', `${registry.host}/${IMAGE}/development:v1`]);
  });

  it('names the registry and what to check when it is unreachable', async () => {
    const down = await itsctl(['registry', 'status'], { DOCKER_REGISTRY: '127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('registry 127.0.0.1:1 is unreachable');
    expect(down.stderr).toContain('scripts/registry.sh start');
    const badEnv = await itsctl(['registry', 'status'], { DOCKER_REGISTRY: 'http://bad host/' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('DOCKER_REGISTRY: should be host[:port]');
  });
});
