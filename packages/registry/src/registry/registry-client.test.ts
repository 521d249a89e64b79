/**
 * The client's request building and the parts of the protocol our registry (distribution 2.8) never
 * exercises: the OCI 1.1 referrers API, HEAD without a digest, paginated tag lists, error bodies.
 * Each case is a table of HTTP exchanges the fake fetch answers.
 */
import { describe, expect, it } from 'vitest';
import { computeDigest } from './digest.js';
import { OCI_INDEX, OCI_MANIFEST } from './media-types.js';
import { RegistryClient, type FetchLike } from './registry-client.js';
import { DigestMismatchError, RegistryAuthError, RegistryRequestError } from './registry-errors.js';

interface Exchange {
  match: (method: string, url: string) => boolean;
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

function fakeRegistry(exchanges: Exchange[]): {
  fetch: FetchLike;
  calls: Array<{ method: string; url: string; headers: Record<string, string> }>;
} {
  const calls: Array<{ method: string; url: string; headers: Record<string, string> }> = [];
  return {
    calls,
    fetch: async (url, init) => {
      const method = init?.method ?? 'GET';
      calls.push({ method, url: String(url), headers: (init?.headers ?? {}) as Record<string, string> });
      const ex = exchanges.find((e) => e.match(method, String(url)));
      if (!ex) return new Response('no route', { status: 599 });
      return new Response(method === 'HEAD' ? null : (ex.body ?? ''), {
        status: ex.status,
        headers: ex.headers ?? {},
      });
    },
  };
}

const subject = `sha256:${'a'.repeat(64)}`;

describe('referrers through the OCI 1.1 API', () => {
  it('lists referrers with the API and filters by artifactType', async () => {
    const index = {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: OCI_MANIFEST, digest: 'sha256:1', size: 1, artifactType: 'x' },
        { mediaType: OCI_MANIFEST, digest: 'sha256:2', size: 1, artifactType: 'y' },
      ],
    };
    const { fetch } = fakeRegistry([
      {
        match: (m, u) => u.includes('/referrers/'),
        status: 200,
        headers: { 'content-type': OCI_INDEX },
        body: JSON.stringify(index),
      },
    ]);
    const client = new RegistryClient({ registry: 'r.example', fetch });
    expect((await client.listReferrers('app', subject, 'y')).map((d) => d.digest)).toEqual(['sha256:2']);
    expect(await client.supportsReferrersApi('app', subject)).toBe(true);
  });

  it('does not write a fallback index when the registry answers OCI-Subject', async () => {
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'a/b',
        subject: { mediaType: OCI_MANIFEST, digest: subject, size: 1 },
      }),
    );
    const { fetch, calls } = fakeRegistry([
      {
        match: (m) => m === 'PUT',
        status: 201,
        headers: { 'docker-content-digest': computeDigest(manifest), 'oci-subject': subject },
      },
    ]);
    const client = new RegistryClient({ registry: 'r.example', fetch });
    const d = await client.putReferrer('app', manifest, OCI_MANIFEST);
    expect(d.artifactType).toBe('a/b');
    expect(calls.map((c) => c.method)).toEqual(['PUT']);
    expect(calls[0]!.url).toBe(`https://r.example/v2/app/manifests/${computeDigest(manifest)}`);
  });

  it('refuses a referrer without subject', async () => {
    const client = new RegistryClient({ registry: 'r.example', fetch: fakeRegistry([]).fetch });
    await expect(client.putReferrer('app', Buffer.from('{}'), OCI_MANIFEST)).rejects.toThrow(
      /needs a subject/,
    );
  });
});

describe('protocol details', () => {
  it('falls back to GET when HEAD carries no digest', async () => {
    const body = '{"schemaVersion":2}';
    const { fetch } = fakeRegistry([
      { match: (m) => m === 'HEAD', status: 200, headers: { 'content-type': OCI_MANIFEST } },
      { match: (m) => m === 'GET', status: 200, headers: { 'content-type': OCI_MANIFEST }, body },
    ]);
    const client = new RegistryClient({ registry: 'r.example', fetch });
    expect(await client.headManifest('app', 'v1')).toEqual({
      mediaType: OCI_MANIFEST,
      digest: computeDigest(Buffer.from(body)),
      size: body.length,
    });
  });

  it('follows Link pagination in tag lists', async () => {
    const { fetch } = fakeRegistry([
      { match: (_m, u) => u.includes('last=b'), status: 200, body: '{"tags":["c"]}' },
      {
        match: (_m, u) => u.includes('/tags/list'),
        status: 200,
        headers: { link: '</v2/app/tags/list?n=2&last=b>; rel="next"' },
        body: '{"tags":["a","b"]}',
      },
    ]);
    expect(await new RegistryClient({ registry: 'r.example', fetch }).listTags('app')).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('reports distribution error bodies and wrong digests', async () => {
    const { fetch } = fakeRegistry([
      {
        match: (m, u) => m === 'GET' && u.endsWith('/manifests/v1'),
        status: 200,
        headers: { 'docker-content-digest': subject },
        body: '{}',
      },
      {
        match: (m, u) => m === 'GET' && u.endsWith('/manifests/v2'),
        status: 400,
        body: '{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}',
      },
      { match: (m, u) => m === 'GET' && u.endsWith('/manifests/v3'), status: 500, body: 'oops' },
      { match: (m) => m === 'PUT', status: 201, headers: { 'docker-content-digest': subject } },
      { match: (m) => m === 'GET' && true, status: 200, body: 'blob' },
    ]);
    const client = new RegistryClient({ registry: 'r.example', fetch });
    await expect(client.getManifest('app', 'v1')).rejects.toBeInstanceOf(DigestMismatchError);
    await expect(client.getManifest('app', 'v2')).rejects.toThrow(
      /GET answered 400 \(MANIFEST_INVALID: manifest invalid\)/,
    );
    await expect(client.getManifest('app', 'v3')).rejects.toThrow(RegistryRequestError);
    await expect(client.putManifest('app', 'v1', Buffer.from('{}'), OCI_MANIFEST)).rejects.toThrow(
      /bytes hash to/,
    );
    await expect(client.getBlob('app', subject)).rejects.toThrow(/should have digest/);
    const stream = async () => {
      for await (const _ of client.streamBlob('app', subject)) void _;
    };
    await expect(stream()).rejects.toBeInstanceOf(DigestMismatchError);
  });

  it('rejects challenges it cannot answer and token services that return nothing', async () => {
    const odd = fakeRegistry([
      { match: () => true, status: 401, headers: { 'www-authenticate': 'Negotiate' } },
    ]);
    await expect(new RegistryClient({ registry: 'r.example', fetch: odd.fetch }).ping()).rejects.toThrow(
      /unsupported challenge/,
    );
    const empty = fakeRegistry([
      { match: (_m, u) => u.startsWith('https://auth.example/'), status: 200, body: '{}' },
      {
        match: () => true,
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="https://auth.example/token"' },
      },
    ]);
    await expect(new RegistryClient({ registry: 'r.example', fetch: empty.fetch }).ping()).rejects.toThrow(
      RegistryAuthError,
    );
    const forbidden = fakeRegistry([{ match: () => true, status: 403 }]);
    await expect(
      new RegistryClient({ registry: 'r.example', fetch: forbidden.fetch }).ping(),
    ).rejects.toThrow(/answered 403; anonymous access was refused/);
    const unreachableToken = fakeRegistry([
      {
        match: () => true,
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="https://auth.example/token"' },
      },
    ]);
    const client = new RegistryClient({
      registry: 'r.example',
      fetch: async (url, init) => {
        if (String(url).startsWith('https://auth.example/')) throw new TypeError('fetch failed');
        return unreachableToken.fetch(url, init);
      },
    });
    await expect(client.ping()).rejects.toThrow(/token service auth.example\) is unreachable/);
  });

  it('abandons the upload a registry opens when it declines a mount', async () => {
    const { fetch, calls } = fakeRegistry([
      {
        match: (m, u) => m === 'POST' && u.includes('mount='),
        status: 202,
        headers: { location: '/v2/app/blobs/uploads/123' },
      },
      { match: (m) => m === 'DELETE', status: 204 },
    ]);
    expect(
      await new RegistryClient({ registry: 'r.example', fetch }).mountBlob('app', subject, 'other'),
    ).toBe(false);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `POST https://r.example/v2/app/blobs/uploads/?mount=${encodeURIComponent(subject)}&from=other`,
      'DELETE https://r.example/v2/app/blobs/uploads/123',
    ]);
  });

  it('sends every manifest type in Accept so indexes are never downgraded', async () => {
    const { fetch, calls } = fakeRegistry([{ match: () => true, status: 404 }]);
    await new RegistryClient({ registry: 'r.example', fetch }).headManifest('app', 'v1');
    expect(calls[0]!.headers.accept).toBe(
      'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json',
    );
  });
});
