import { createPublicKey, verify } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { StepFailedError } from '@its/core';
import { describe, expect, it } from 'vitest';
import { buildTar, type TarFile } from '../registry/image-fixtures.fixture.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { inventoryImage } from './attach-sbom.js';
import { buildCycloneDxSbom, debianPurl, distroQualifier, npmPurl, ociPurl } from './cyclonedx.js';
import {
  isInventoryPath,
  LayerInventory,
  normalizeLayerPath,
  parseDpkgStatus,
  parseNpmManifest,
  parseOsRelease,
} from './inventory.js';
import { buildSimpleSigningPayload, generateSigningKeyPair, keyFingerprint, signPayload } from './signing.js';

describe('inventory', () => {
  const status = [
    'Package: bash',
    'Status: install ok installed',
    'Architecture: amd64',
    'Version: 5.2.15-2+b7',
    'Description: shell',
    ' long description: with a colon',
    '',
    'Package: gone',
    'Status: deinstall ok config-files',
    'Version: 1',
    '',
    'Package: nover',
    '',
  ].join('\n');

  it('parses installed Debian packages only', () => {
    expect(parseDpkgStatus(status)).toEqual([
      { name: 'bash', version: '5.2.15-2+b7', architecture: 'amd64' },
    ]);
  });

  it('parses package.json files of real packages', () => {
    expect(
      parseNpmManifest('n/node_modules/x/package.json', '{"name":"x","version":"1.0.0","license":"MIT"}'),
    ).toEqual({
      name: 'x',
      version: '1.0.0',
      license: 'MIT',
      path: 'n/node_modules/x/package.json',
    });
    expect(parseNpmManifest('p', '{"name":"x"}')).toBeUndefined();
    expect(parseNpmManifest('p', 'not json')).toBeUndefined();
  });

  it.each([
    ['usr/lib/node_modules/npm/package.json', true],
    ['app/node_modules/@scope/pkg/package.json', true],
    ['app/node_modules/pkg/lib/package.json', false],
    ['app/package.json', false],
    ['var/lib/dpkg/status', true],
    ['var/lib/dpkg/status-old', false],
    ['etc/os-release', true],
    ['usr/lib/os-release', true],
    ['etc/lsb-release', false],
  ])('%s is inventoried: %s', (path, expected) => {
    expect(isInventoryPath(path)).toBe(expected);
  });

  it.each([
    ['./var/lib/dpkg/status', 'var/lib/dpkg/status'],
    ['/app/node_modules/x/package.json', 'app/node_modules/x/package.json'],
    ['app/.wh.old', 'app/.wh.old'],
  ])('layer entry %s is image path %s', (name, path) => {
    expect(normalizeLayerPath(name)).toBe(path);
  });

  it('applies whiteouts and opaque directories from upper layers', () => {
    const inv = new LayerInventory();
    const pkg = (n: string) => Buffer.from(JSON.stringify({ name: n, version: '1.0.0' }));
    inv.addFile('app/node_modules/a/package.json', pkg('a'));
    inv.addFile('app/node_modules/b/package.json', pkg('b'));
    inv.addFile('other/node_modules/c/package.json', pkg('c'));
    inv.addFile('var/lib/dpkg/status', Buffer.from(status));
    inv.addWhiteout('app/node_modules/.wh.a');
    expect(inv.result().npm.map((p) => p.name)).toEqual(['b', 'c']);
    inv.addWhiteout('other/node_modules/.wh..wh..opq');
    expect(inv.result().npm.map((p) => p.name)).toEqual(['b']);
    inv.addFile('app/node_modules/b/package.json', Buffer.from('broken'));
    expect(inv.result().npm).toEqual([]);
    expect(inv.result().debian).toHaveLength(1);
    inv.addWhiteout('var/lib/.wh.dpkg');
    expect(inv.result().debian).toEqual([]);
  });
});

describe('os-release', () => {
  it('reads the id and release, quoted or not, with escapes', () => {
    expect(
      parseOsRelease(
        [
          'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
          'NAME="Debian GNU/Linux"',
          'VERSION_ID="12"',
          'VERSION_CODENAME=bookworm',
          'ID=debian',
          '# a comment',
          'HOME_URL="https://www.debian.org/"',
        ].join('\n'),
      ),
    ).toEqual({
      id: 'debian',
      versionId: '12',
      versionCodename: 'bookworm',
      prettyName: 'Debian GNU/Linux 12 (bookworm)',
    });
    expect(parseOsRelease('ID=\'ubuntu\'\nVERSION_ID="24.04"\nPRETTY_NAME="A \\"quoted\\" name"')).toEqual({
      id: 'ubuntu',
      versionId: '24.04',
      prettyName: 'A "quoted" name',
    });
    expect(parseOsRelease('')).toEqual({});
  });

  it.each([
    ['Debian 12', { id: 'debian', versionId: '12', versionCodename: 'bookworm' }, 'debian-12'],
    ['Debian testing (no VERSION_ID)', { id: 'debian', versionCodename: 'trixie' }, 'debian-trixie'],
    ['Ubuntu', { id: 'ubuntu', versionId: '24.04' }, 'ubuntu-24.04'],
    ['no release', { id: 'debian' }, undefined],
    ['no os-release', undefined, undefined],
  ])('distro qualifier for %s', (_name, os, expected) => {
    expect(distroQualifier(os)).toBe(expected);
  });
});

describe('inventoryImage', () => {
  /** The two calls inventoryImage makes, over layers held in memory. */
  function registryOf(layers: Array<{ mediaType: string; bytes: Buffer }>): RegistryClient {
    const manifest = {
      layers: layers.map((l, i) => ({ mediaType: l.mediaType, digest: `sha256:${i}`, size: 1 })),
    };
    const client: Pick<RegistryClient, 'getManifest' | 'streamBlob'> = {
      getManifest: async () => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: 'sha256:image',
        bytes: Buffer.from(JSON.stringify(manifest)),
      }),
      async *streamBlob(_repository, digest) {
        yield layers[Number(digest.slice('sha256:'.length))]!.bytes;
      },
    };
    return client as RegistryClient;
  }

  it('reads gzip layers whose names start with ./, honouring whiteouts of upper layers', async () => {
    const pkg = (name: string) => JSON.stringify({ name, version: '1.0.0' });
    const client = registryOf([
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        bytes: gzipSync(
          buildTar([
            { path: './app/node_modules/a/package.json', data: pkg('a') },
            { path: './app/node_modules/b/package.json', data: pkg('b') },
          ]),
        ),
      },
      {
        mediaType: 'application/vnd.docker.image.rootfs.diff.tar',
        bytes: buildTar([{ path: 'app/node_modules/.wh.a', data: '' }]),
      },
    ]);
    const inventory = await inventoryImage(client, 'app', 'sha256:image');
    expect(inventory.npm.map((p) => [p.name, p.path])).toEqual([['b', 'app/node_modules/b/package.json']]);
  });

  it('reads os-release through the etc symlink, and honours an upper layer that replaces it', async () => {
    const osRelease = (id: string, version: string) => `ID=${id}\nVERSION_ID="${version}"\n`;
    const gz = (files: TarFile[]) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      bytes: gzipSync(buildTar(files)),
    });
    const debianBase = gz([
      { path: 'usr/lib/os-release', data: osRelease('debian', '12') },
      { path: 'etc/os-release', type: '2', linkname: '../usr/lib/os-release' },
    ]);
    expect((await inventoryImage(registryOf([debianBase]), 'app', 'sha256:image')).os).toEqual({
      id: 'debian',
      versionId: '12',
    });
    // An upper layer writes a regular etc/os-release (it wins), then another turns it back into a link.
    const upper = gz([{ path: 'etc/os-release', data: osRelease('debian', '13') }]);
    expect((await inventoryImage(registryOf([debianBase, upper]), 'app', 'sha256:image')).os?.versionId).toBe(
      '13',
    );
    const relinked = gz([{ path: 'etc/os-release', type: '2', linkname: '../usr/lib/os-release' }]);
    expect(
      (await inventoryImage(registryOf([debianBase, upper, relinked]), 'app', 'sha256:image')).os?.versionId,
    ).toBe('12');
    const wiped = gz([{ path: 'usr/lib/.wh.os-release' }, { path: 'etc/.wh.os-release' }]);
    expect((await inventoryImage(registryOf([debianBase, wiped]), 'app', 'sha256:image')).os).toBeUndefined();
  });

  it("writes an SBOM of a Debian image that CycloneDX's own validator accepts, deb purls with their distro", async () => {
    const status = [
      'Package: curl',
      'Status: install ok installed',
      'Architecture: amd64',
      'Version: 7.88.1-10+deb12u8',
      '',
      'Package: libstdc++6',
      'Status: install ok installed',
      'Architecture: amd64',
      'Source: gcc-12 (12.2.0-14)',
      'Version: 12.2.0-14',
      '',
    ].join('\n');
    const pkg = (name: string, version: string, license?: string) =>
      JSON.stringify({ name, version, ...(license ? { license } : {}) });
    const client = registryOf([
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        bytes: gzipSync(
          buildTar([
            {
              path: 'usr/lib/os-release',
              data: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
            },
            { path: 'etc/os-release', type: '2', linkname: '../usr/lib/os-release' },
            { path: 'var/lib/dpkg/status', data: status },
          ]),
        ),
      },
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        bytes: gzipSync(
          buildTar([
            { path: 'app/node_modules/fastify/package.json', data: pkg('fastify', '5.1.0', 'MIT') },
            { path: 'app/node_modules/@its/contracts/package.json', data: pkg('@its/contracts', '0.1.0') },
            {
              path: 'app/node_modules/dual/package.json',
              data: pkg('dual', '1.0.0-rc.1+build.5', '(MIT OR Apache-2.0)'),
            },
          ]),
        ),
      },
    ]);
    const inventory = await inventoryImage(client, 'app', 'sha256:image');
    const sbom = buildCycloneDxSbom({
      subject: {
        registry: '127.0.0.1:5000',
        repository: 'its-camera-ai/development',
        digest: `sha256:${'c'.repeat(64)}`,
        platform: 'linux/amd64',
      },
      npm: inventory.npm,
      debian: inventory.debian,
      os: inventory.os,
      timestamp: '2026-11-26T00:00:00.000Z',
      serialNumber: 'urn:uuid:00000000-0000-4000-8000-000000000000',
    });
    const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot5);
    expect(await validator.validate(JSON.stringify(sbom))).toBeNull();
    // The validator really checks: a component type outside the 1.5 enumeration is refused.
    const broken = { ...sbom, components: [{ type: 'gadget', name: 'x' }] };
    expect(await validator.validate(JSON.stringify(broken))).not.toBeNull();
    const purls = (sbom.components as Array<{ purl: string }>).map((c) => c.purl);
    expect(purls.filter((p) => p.startsWith('pkg:deb/'))).toEqual([
      'pkg:deb/debian/curl@7.88.1-10%2Bdeb12u8?arch=amd64&distro=debian-12',
      'pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12',
    ]);
  });

  it('fails on a zstd layer, naming it, instead of reporting no packages', async () => {
    const client = registryOf([
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd',
        bytes: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
      },
    ]);
    const err = await inventoryImage(client, 'app', 'sha256:image').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepFailedError);
    expect((err as Error).message).toBe(
      'layer sha256:0 of app@sha256:image is zstd-compressed (media type application/vnd.oci.image.layer.v1.tar+zstd); zstd layers are not supported yet',
    );
  });
});

describe('CycloneDX', () => {
  it('encodes purls per the purl spec', () => {
    expect(npmPurl('@its/contracts', '0.1.0')).toBe('pkg:npm/%40its/contracts@0.1.0');
    expect(debianPurl({ name: 'libc6', version: '2.36-9+deb12u9', architecture: 'arm64' })).toBe(
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=arm64',
    );
    expect(debianPurl({ name: 'x', version: '1' })).toBe('pkg:deb/debian/x@1');
    expect(
      debianPurl(
        { name: 'curl', version: '7.88.1-10', architecture: 'amd64' },
        { id: 'debian', versionId: '12', versionCodename: 'bookworm' },
      ),
    ).toBe('pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12');
    expect(
      debianPurl(
        { name: 'bash', version: '5.2.21-2ubuntu4', architecture: 'arm64' },
        { id: 'ubuntu', versionId: '24.04' },
      ),
    ).toBe('pkg:deb/ubuntu/bash@5.2.21-2ubuntu4?arch=arm64&distro=ubuntu-24.04');
    expect(
      ociPurl({ registry: '127.0.0.1:5000', repository: 'its/app', digest: `sha256:${'a'.repeat(64)}` }),
    ).toBe(`pkg:oci/app@sha256%3A${'a'.repeat(64)}?repository_url=127.0.0.1%3A5000%2Fits%2Fapp`);
  });

  it('builds a 1.5 document with sorted, de-duplicated components', () => {
    const sbom = buildCycloneDxSbom({
      subject: { registry: 'r', repository: 'app', digest: 'sha256:1', platform: 'linux/arm64' },
      npm: [
        { name: 'z', version: '1.0.0', path: 'a/node_modules/z/package.json', license: 'MIT' },
        { name: 'z', version: '1.0.0', path: 'b/node_modules/z/package.json' },
      ],
      debian: [
        { name: 'bash', version: '5' },
        { name: 'bash', version: '5' },
      ],
      timestamp: '2026-11-26T00:00:00.000Z',
      serialNumber: 'urn:uuid:1',
    });
    expect(sbom).toMatchObject({
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      serialNumber: 'urn:uuid:1',
      version: 1,
    });
    const components = sbom.components as Array<Record<string, unknown>>;
    expect(components.map((c) => c.purl)).toEqual(['pkg:deb/debian/bash@5', 'pkg:npm/z@1.0.0']);
    expect(components[1]!.licenses).toEqual([{ expression: 'MIT' }]);
    expect((sbom.metadata as { component: { properties: unknown } }).component.properties).toEqual([
      { name: 'its:platform', value: 'linux/arm64' },
    ]);
  });
});

describe('signing', () => {
  it("writes cosign's simple-signing payload byte for byte", () => {
    const payload = buildSimpleSigningPayload(
      '127.0.0.1:5000/its-camera-ai/development',
      `sha256:${'a'.repeat(64)}`,
    );
    expect(payload.toString()).toBe(
      `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/its-camera-ai/development"},"image":{"docker-manifest-digest":"sha256:${'a'.repeat(64)}"},"type":"cosign container image signature"},"optional":null}`,
    );
  });

  it('signs with ECDSA P-256/SHA-256 in ASN.1 DER, base64, verifiable by the public PEM', () => {
    const pair = generateSigningKeyPair();
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const payload = Buffer.from('payload');
    const sig = Buffer.from(signPayload(pair.privateKeyPem, payload), 'base64');
    expect(sig[0]).toBe(0x30); // DER SEQUENCE
    expect(verify('sha256', payload, createPublicKey(pair.publicKeyPem), sig)).toBe(true);
    expect(keyFingerprint(pair.publicKeyPem)).toMatch(/^sha256:[a-f0-9]{16}$/);
  });

  it('refuses keys that are not PEM ECDSA private keys', async () => {
    expect(() => signPayload('nonsense', Buffer.from('x'))).toThrow(/not a PEM private key/);
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => signPayload(rsa, Buffer.from('x'))).toThrow(/not an ECDSA key/);
  });
});
