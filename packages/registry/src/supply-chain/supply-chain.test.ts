import { createPublicKey, verify } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildTar } from '../registry/image-fixtures.fixture.js';
import { buildCycloneDxSbom, debianPurl, npmPurl, ociPurl } from './cyclonedx.js';
import { isInventoryPath, LayerInventory, parseDpkgStatus, parseNpmManifest } from './inventory.js';
import { buildSimpleSigningPayload, generateSigningKeyPair, keyFingerprint, signPayload } from './signing.js';
import { maybeGunzip, readTarEntries } from './tar-reader.js';

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function entries(buf: Buffer, want = (_p: string) => true, chunk = 97) {
  const out = [];
  for await (const e of readTarEntries(maybeGunzip(chunked(buf, chunk)), want)) out.push(e);
  return out;
}

describe('tar reader', () => {
  const long = `app/node_modules/${'deep/'.repeat(25)}pkg/package.json`;
  const tar = buildTar([
    { path: 'app', type: '5' },
    { path: 'app/a.txt', data: 'hello' },
    { path: long, data: '{"name":"pkg","version":"1.0.0"}' },
    { path: 'big.bin', data: Buffer.alloc(3000, 7) },
  ]);

  it('reads names, long names, sizes and wanted contents across odd chunk boundaries', async () => {
    const got = await entries(tar, (p) => p.endsWith('.txt') || p.endsWith('package.json'));
    expect(got.map((e) => [e.path, e.type, e.size])).toEqual([
      ['app', '5', 0],
      ['app/a.txt', '0', 5],
      [long, '0', 32],
      ['big.bin', '0', 3000],
    ]);
    expect(got[1]!.data?.toString()).toBe('hello');
    expect(got[3]!.data).toBeUndefined();
  });

  it('inflates gzip layers and honours pax path and size', async () => {
    const pax = (k: string, v: string) => {
      const body = ` ${k}=${v}\n`;
      let len = body.length + 1;
      len = `${len}${body}`.length;
      return `${len}${body}`;
    };
    const records = pax('path', 'pax/renamed.txt');
    const paxTar = buildTar([
      { path: 'PaxHeader', data: records },
      { path: 'short', data: 'pax!' },
    ]);
    paxTar[156] = 'x'.charCodeAt(0); // turn the first entry into a pax extended header
    const header = paxTar.subarray(0, 512);
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    const got = await entries(gzipSync(paxTar));
    expect(got.map((e) => [e.path, e.data?.toString()])).toEqual([['pax/renamed.txt', 'pax!']]);
  });

  it('stops at the end-of-archive blocks and on an empty stream; fails on a truncated entry', async () => {
    expect(await entries(Buffer.alloc(0))).toEqual([]);
    await expect(entries(tar.subarray(0, 512 * 2 + 100))).rejects.toThrow(/ended inside an entry/);
  });
});

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
  ])('%s is inventoried: %s', (path, expected) => {
    expect(isInventoryPath(path)).toBe(expected);
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

describe('CycloneDX', () => {
  it('encodes purls per the purl spec', () => {
    expect(npmPurl('@its/contracts', '0.1.0')).toBe('pkg:npm/%40its/contracts@0.1.0');
    expect(debianPurl({ name: 'libc6', version: '2.36-9+deb12u9', architecture: 'arm64' })).toBe(
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=arm64',
    );
    expect(debianPurl({ name: 'x', version: '1' })).toBe('pkg:deb/debian/x@1');
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
