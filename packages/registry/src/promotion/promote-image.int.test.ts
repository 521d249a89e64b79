import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StepFailedError } from '@its/core';
import { assembleIndex } from '../registry/assemble-index.js';
import { copyManifestTree, copyReferrers } from '../registry/copy-image.js';
import { referrersFallbackTag, signatureTag } from '../registry/digest.js';
import { pushTestImage } from '../registry/image-fixtures.fixture.js';
import { startLocalRegistry, type LocalRegistry } from '../registry/local-registry.js';
import { OCI_INDEX } from '../registry/media-types.js';
import { RegistryClient, type FetchLike } from '../registry/registry-client.js';
import { attachSbom, readSbom } from '../supply-chain/attach-sbom.js';
import { generateSigningKeyPair, signImage, verifyImageSignature } from '../supply-chain/signing.js';
import { environmentRepository, ENVIRONMENTS, type Environment } from './environments.js';
import { promoteImage } from './promote-image.js';
import { openRecordStore, type RecordStore } from './record-store.js';

const IMAGE = 'its-camera-ai';
const NOW = () => new Date('2026-11-26T01:00:00Z');
let registry: LocalRegistry;
let client: RegistryClient;
let stateDir: string;
let store: RecordStore;

beforeAll(async () => {
  registry = await startLocalRegistry();
  client = new RegistryClient({ registry: registry.host });
  stateDir = await mkdtemp(join(tmpdir(), 'its-promote-'));
  store = openRecordStore(join(stateDir, 'records.json'));
});
afterAll(async () => {
  await registry?.destroy();
  await rm(stateDir, { recursive: true, force: true });
});

async function pass(digest: string, environment: Environment, name = 'smoke'): Promise<void> {
  await store.append({ digest, environment, kind: 'gate', name, result: 'pass', at: NOW().toISOString() });
}

const dpkgStatus = [
  'Package: libc6',
  'Status: install ok installed',
  'Architecture: amd64',
  'Source: glibc',
  'Version: 2.36-9+deb12u9',
  'Description: GNU C Library',
  ' shared libraries',
  '',
  'Package: removed-pkg',
  'Status: deinstall ok config-files',
  'Version: 1.0',
  '',
].join('\n');

describe('promotion through every environment', () => {
  it('keeps the digest at every hop and carries the SBOM and the signature along', async () => {
    const dev = environmentRepository(IMAGE, 'development');
    const image = await pushTestImage(client, dev, 'v1.2.3', {
      files: [
        { path: 'usr/lib/os-release', data: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
        { path: 'etc/os-release', type: '2', linkname: '../usr/lib/os-release' },
        { path: 'var/lib/dpkg/status', data: dpkgStatus },
        {
          path: 'app/node_modules/fastify/package.json',
          data: '{"name":"fastify","version":"5.1.0","license":"MIT"}',
        },
        {
          path: 'app/node_modules/@its/contracts/package.json',
          data: '{"name":"@its/contracts","version":"0.1.0"}',
        },
      ],
    });
    const [sbom] = await attachSbom(client, dev, image.digest, {
      now: NOW,
      serialNumber: () => '00000000-0000-4000-8000-000000000000',
    });
    expect(sbom!.components).toBe(3);
    const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot5);
    expect(await validator.validate(JSON.stringify(await readSbom(client, dev, image.digest)))).toBeNull();
    const keys = generateSigningKeyPair();
    await signImage(client, dev, image.digest, keys.privateKeyPem);

    for (let i = 1; i < ENVIRONMENTS.length; i++) {
      const from = ENVIRONMENTS[i - 1]!;
      const to = ENVIRONMENTS[i]!;
      await pass(image.digest, from);
      const result = await promoteImage(
        { image: IMAGE, from, to, tags: ['v1.2.3'], extraTags: to === 'release' ? ['latest'] : [] },
        { source: client, target: client, store, now: NOW },
      );
      expect(result.digest).toBe(image.digest);
      const repo = environmentRepository(IMAGE, to);
      const landed = await client.getManifest(repo, 'v1.2.3');
      expect(landed.digest).toBe(image.digest);
      expect(landed.bytes.equals(image.bytes)).toBe(true);
      // Same registry: layers are mounted, never re-uploaded.
      expect(result.stats.blobsCopied).toBe(0);
      expect(result.stats.blobsMounted).toBeGreaterThan(0);

      const copiedSbom = await readSbom(client, repo, image.digest);
      expect(copiedSbom?.serialNumber).toBe('urn:uuid:00000000-0000-4000-8000-000000000000');
      const names = (copiedSbom?.components as Array<{ purl: string }>).map((c) => c.purl);
      expect(names).toEqual([
        'pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64&distro=debian-12&upstream=glibc',
        'pkg:npm/%40its/contracts@0.1.0',
        'pkg:npm/fastify@5.1.0',
      ]);
      const verified = await verifyImageSignature(client, repo, 'v1.2.3', [keys.publicKeyPem], {
        allowedRepositories: ENVIRONMENTS.map((e) => environmentRepository(IMAGE, e)),
      });
      expect(verified.digest).toBe(image.digest);
      expect(verified.identity).toBe(`${registry.host}/${dev}`);
    }
    expect((await client.headManifest(IMAGE, 'latest'))?.digest).toBe(image.digest);
    const history = await store.list({ digest: image.digest });
    expect(history.filter((r) => r.kind === 'promotion').map((r) => r.environment)).toEqual([
      'staging',
      'production',
      'release',
    ]);
  });

  it('refuses an ungated digest, says why and how to record a pass, and writes no tag', async () => {
    const dev = environmentRepository(IMAGE, 'development');
    const image = await pushTestImage(client, dev, 'v2.0.0', { files: [{ path: 'etc/ungated', data: 'x' }] });
    const attempt = promoteImage(
      { image: IMAGE, from: 'development', to: 'staging', tags: ['v2.0.0'] },
      { source: client, target: client, store, now: NOW },
    );
    await expect(attempt).rejects.toThrow(StepFailedError);
    await expect(attempt).rejects.toThrow(/refused: .*has no passing gate or deploy record in development/);
    const error = (await attempt.catch((e: unknown) => e)) as StepFailedError;
    expect(error.fix).toContain(`itsctl record --env development --digest ${image.digest}`);
    expect(await client.headManifest(environmentRepository(IMAGE, 'staging'), 'v2.0.0')).toBeUndefined();

    // A failed gate blocks even beside a passing one; a later pass of the same gate clears it.
    await pass(image.digest, 'development', 'unit');
    await store.append({
      digest: image.digest,
      environment: 'development',
      kind: 'gate',
      name: 'e2e',
      result: 'fail',
      at: '2026-11-26T01:00:00Z',
      detail: '3 tests failed',
    });
    await expect(
      promoteImage(
        { image: IMAGE, from: 'development', to: 'staging', tags: ['v2.0.0'] },
        { source: client, target: client, store, now: NOW },
      ),
    ).rejects.toThrow(/gate e2e failed in development .*3 tests failed/);
    await store.append({
      digest: image.digest,
      environment: 'development',
      kind: 'gate',
      name: 'e2e',
      result: 'pass',
      at: '2026-11-26T01:05:00Z',
    });
    const ok = await promoteImage(
      { image: IMAGE, from: 'development', to: 'staging', tags: ['v2.0.0'] },
      { source: client, target: client, store, now: NOW },
    );
    expect(ok.digest).toBe(image.digest);
  });

  it('refuses an unsigned image when signatures are required, and promotes a signed one', async () => {
    const dev = environmentRepository(IMAGE, 'development');
    const keys = generateSigningKeyPair();
    const image = await pushTestImage(client, dev, 'v2.2.0', { files: [{ path: 'etc/signed', data: 's' }] });
    await pass(image.digest, 'development');
    const request = {
      image: IMAGE,
      from: 'development',
      to: 'staging',
      tags: ['v2.2.0'],
      requireSignatureKeys: [keys.publicKeyPem],
    } as const;
    const deps = { source: client, target: client, store, now: NOW };
    await expect(
      promoteImage(
        { ...request, tags: [...request.tags], requireSignatureKeys: [...request.requireSignatureKeys] },
        deps,
      ),
    ).rejects.toThrow(/is not signed/);
    expect(await client.headManifest(environmentRepository(IMAGE, 'staging'), 'v2.2.0')).toBeUndefined();
    await signImage(client, dev, image.digest, keys.privateKeyPem);
    const ok = await promoteImage(
      { ...request, tags: [...request.tags], requireSignatureKeys: [...request.requireSignatureKeys] },
      deps,
    );
    expect(ok.digest).toBe(image.digest);
  });

  it('refuses to skip an environment', async () => {
    const dev = environmentRepository(IMAGE, 'development');
    const image = await pushTestImage(client, dev, 'v2.1.0', { files: [{ path: 'etc/skip', data: 'y' }] });
    await pass(image.digest, 'development');
    await expect(
      promoteImage(
        { image: IMAGE, from: 'development', to: 'production', tags: ['v2.1.0'] },
        { source: client, target: client, store, now: NOW },
      ),
    ).rejects.toThrow(/production takes images from staging, not from development/);
  });
});

describe('multi-architecture index', () => {
  it('assembles linux/amd64 + linux/arm64 and promotes it byte for byte, children and SBOMs included', async () => {
    const dev = environmentRepository(IMAGE, 'development');
    const amd = await pushTestImage(client, dev, 'v3.0.0-amd64', {
      architecture: 'amd64',
      files: [{ path: 'etc/arch', data: 'amd64' }],
    });
    const arm = await pushTestImage(client, dev, 'v3.0.0-arm64', {
      architecture: 'arm64',
      files: [{ path: 'etc/arch', data: 'arm64' }],
    });
    const index = await assembleIndex(client, dev, ['v3.0.0-amd64', arm.digest], 'v3.0.0');
    expect(index.mediaType).toBe(OCI_INDEX);
    expect(index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`)).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);
    expect(index.manifests.map((m) => m.digest)).toEqual([amd.digest, arm.digest]);
    const sboms = await attachSbom(client, dev, index.digest, { now: NOW });
    expect(sboms.map((s) => s.platform)).toEqual(['linux/amd64', 'linux/arm64']);

    await pass(index.digest, 'development');
    const result = await promoteImage(
      { image: IMAGE, from: 'development', to: 'staging', tags: ['v3.0.0'] },
      { source: client, target: client, store, now: NOW },
    );
    const staging = environmentRepository(IMAGE, 'staging');
    const copied = await client.getManifest(staging, 'v3.0.0');
    expect(copied.digest).toBe(index.digest);
    expect(copied.bytes.equals(index.bytes)).toBe(true);
    expect(copied.mediaType).toBe(OCI_INDEX);
    expect((await client.getManifest(staging, arm.digest)).bytes.equals(arm.bytes)).toBe(true);
    expect(await readSbom(client, staging, arm.digest)).toBeDefined();
    expect(result.stats.manifests).toBeGreaterThanOrEqual(3);
  });
});

describe('an interrupted promotion', () => {
  it('leaves no tag in the target, and a rerun completes it', async () => {
    const dev = environmentRepository(IMAGE, 'development');
    await pushTestImage(client, dev, 'v4.0.0-amd64', {
      architecture: 'amd64',
      files: [{ path: 'etc/i', data: '1' }],
    });
    await pushTestImage(client, dev, 'v4.0.0-arm64', {
      architecture: 'arm64',
      files: [{ path: 'etc/i', data: '2' }],
    });
    const index = await assembleIndex(client, dev, ['v4.0.0-amd64', 'v4.0.0-arm64'], 'v4.0.0');
    await pass(index.digest, 'development');

    // The connection "drops" after the first platform manifest reaches the target.
    let manifestPuts = 0;
    const flaky: FetchLike = async (url, init) => {
      if (init?.method === 'PUT' && String(url).includes('/staging/manifests/')) {
        manifestPuts++;
        if (manifestPuts === 2)
          throw new TypeError('fetch failed', {
            cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
          });
      }
      return fetch(url, init);
    };
    const interrupted = new RegistryClient({ registry: registry.host, fetch: flaky });
    const staging = environmentRepository(IMAGE, 'staging');
    await expect(
      promoteImage(
        { image: IMAGE, from: 'development', to: 'staging', tags: ['v4.0.0'] },
        { source: client, target: interrupted, store, now: NOW },
      ),
    ).rejects.toThrow(/unreachable.*ECONNRESET/);
    expect(manifestPuts).toBe(2);
    expect(await client.headManifest(staging, 'v4.0.0')).toBeUndefined();
    expect(await client.listTags(staging)).not.toContain('v4.0.0');
    expect(await client.headManifest(staging, index.digest)).toBeUndefined();

    const rerun = await promoteImage(
      { image: IMAGE, from: 'development', to: 'staging', tags: ['v4.0.0'] },
      { source: client, target: client, store, now: NOW },
    );
    expect(rerun.stats.manifestsPresent).toBe(1);
    expect((await client.headManifest(staging, 'v4.0.0'))?.digest).toBe(index.digest);
  });
});

describe('signature verification', () => {
  it('fails on a retagged foreign image, on a copied signature, on a foreign key, and on a tampered manifest', async () => {
    const dev = environmentRepository(IMAGE, 'development');
    const ours = generateSigningKeyPair();
    const theirs = generateSigningKeyPair();
    const image = await pushTestImage(client, dev, 'v5.0.0', { files: [{ path: 'etc/ours', data: 'ours' }] });
    await signImage(client, dev, image.digest, ours.privateKeyPem);
    expect((await verifyImageSignature(client, dev, 'v5.0.0', [ours.publicKeyPem])).digest).toBe(
      image.digest,
    );

    // A foreign image, signed by its own publisher, retagged into our repository with its signature.
    const foreign = await pushTestImage(client, 'foreign/app', 'latest', {
      files: [{ path: 'etc/evil', data: 'evil' }],
    });
    await signImage(client, 'foreign/app', foreign.digest, theirs.privateKeyPem);
    const src = { client, repository: 'foreign/app' };
    await copyManifestTree(src, { client, repository: dev }, foreign.digest);
    await copyReferrers(src, { client, repository: dev }, foreign.digest);
    await client.putManifest(dev, 'v5.0.0', foreign.bytes, foreign.mediaType);
    await expect(verifyImageSignature(client, dev, 'v5.0.0', [ours.publicKeyPem])).rejects.toThrow(
      /not made by a trusted key/,
    );

    // Our valid signature manifest copied onto the foreign digest's .sig tag: covers another digest.
    const ourSig = await client.getManifest(dev, signatureTag(image.digest));
    await client.putManifest(dev, signatureTag(foreign.digest), ourSig.bytes, ourSig.mediaType);
    await expect(verifyImageSignature(client, dev, foreign.digest, [ours.publicKeyPem])).rejects.toThrow(
      /covers sha256:.*not this image's/,
    );

    // An unsigned image.
    const unsigned = await pushTestImage(client, dev, 'v5.0.1', {
      files: [{ path: 'etc/unsigned', data: 'u' }],
    });
    await expect(verifyImageSignature(client, dev, unsigned.digest, [ours.publicKeyPem])).rejects.toThrow(
      /is not signed/,
    );

    // Tampering with the stored manifest bytes: the registry serves them under the old digest.
    const hex = image.digest.slice('sha256:'.length);
    const blobPath = join(registry.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const tampered = Buffer.from(
      image.bytes.toString('utf8').replace('"schemaVersion": 2', '"schemaVersion":  2'),
    );
    await writeFile(blobPath, tampered);
    await expect(verifyImageSignature(client, dev, image.digest, [ours.publicKeyPem])).rejects.toThrow(
      /bytes hash to/,
    );
    expect(referrersFallbackTag(image.digest)).toBe(`sha256-${hex}`);
  });
});

describe('bad promotion requests', () => {
  const deps = () => ({ source: client, target: client, store, now: NOW });

  it('reports every problem with the flags at once, before any request', async () => {
    const offline = new RegistryClient({ registry: '127.0.0.1:1' });
    const attempt = promoteImage(
      {
        image: IMAGE,
        from: 'development',
        to: 'staging',
        tags: [],
        digest: 'sha256:nope',
        extraTags: ['bad tag'],
      },
      { source: offline, target: offline, store, now: NOW },
    );
    await expect(attempt).rejects.toThrow(
      /--tag bad tag: not a valid tag; --digest sha256:nope: should be sha256:<64 hex>/,
    );
    await expect(
      promoteImage(
        { image: IMAGE, from: 'development', to: 'staging', tags: [] },
        { source: offline, target: offline, store, now: NOW },
      ),
    ).rejects.toThrow(/--tag: give at least one tag.*--tag or --digest: say what to promote/);
  });

  it('names a missing tag, a missing digest, and tags that disagree', async () => {
    const dev = environmentRepository(IMAGE, 'development');
    await expect(
      promoteImage({ image: IMAGE, from: 'development', to: 'staging', tags: ['nope'] }, deps()),
    ).rejects.toThrow(/its-camera-ai\/development has no tag nope/);
    await expect(
      promoteImage(
        { image: IMAGE, from: 'development', to: 'staging', tags: ['x'], digest: `sha256:${'0'.repeat(64)}` },
        deps(),
      ),
    ).rejects.toThrow(/does not exist/);
    await pushTestImage(client, dev, 'one', { files: [{ path: 'one', data: '1' }] });
    await pushTestImage(client, dev, 'two', { files: [{ path: 'two', data: '2' }] });
    await expect(
      promoteImage({ image: IMAGE, from: 'development', to: 'staging', tags: ['one', 'two'] }, deps()),
    ).rejects.toThrow(/tags one, two point at different digests/);
  });
});
