/**
 * A small OCI distribution client: the requests of the distribution spec 1.1 that publishing,
 * promotion, supply chain and retention need, with the anonymous / basic / bearer-token auth flow.
 * Every manifest and blob read is checked against its digest, so a registry (or anything between us
 * and it) cannot hand us other bytes than the ones we asked for.
 */
import { createHash } from 'node:crypto';
import { basicAuthorization, type Credentials } from './credentials.js';
import { computeDigest, isDigest, referrersFallbackTag } from './digest.js';
import { MANIFEST_ACCEPT, OCI_INDEX } from './media-types.js';
import { registryBaseUrl } from './reference.js';
import {
  DigestMismatchError,
  RegistryAuthError,
  RegistryRequestError,
  RegistryRetriesExhaustedError,
  RegistryUnreachableError,
} from './registry-errors.js';
import {
  decideRetry,
  isRepeatable,
  isRetryableStatus,
  parseRetryAfter,
  resolveRetryPolicy,
  seconds,
  type RetryPolicy,
} from './retry-policy.js';
import { parseWwwAuthenticate, type AuthChallenge } from './www-authenticate.js';

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface RegistryClientOptions {
  /** `host[:port]`, as in DOCKER_REGISTRY. */
  registry: string;
  credentials?: Credentials | undefined;
  /** Injected for tests that interrupt a promotion; defaults to the global fetch (undici). */
  fetch?: FetchLike;
  /** Overrides the scheme choice of registryBaseUrl (loopback → http, else https). */
  baseUrl?: string;
  /**
   * Bounds for retrying 429 and 5xx answers to requests that are safe to repeat (retry-policy.ts);
   * each field defaults as DEFAULT_RETRY_POLICY documents: 4 attempts, 30 s in all. `{ maxAttempts: 1 }`
   * turns retries off.
   */
  retry?: Partial<RetryPolicy>;
  /** Receives one line per retry (what answered what, and the wait). Default: silent. */
  log?: (line: string) => void;
  /** Waits between attempts; injected by tests. Default: setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** The clock for the retry budget and Retry-After dates, in ms. Default: Date.now. */
  now?: () => number;
  /** Draws the back-off jitter in [0, 1). Default: Math.random. */
  random?: () => number;
}

type Action = 'pull' | 'push' | 'delete';

interface SendOptions {
  scopes: Array<{ repository: string; actions: Action[] }>;
  headers?: Record<string, string>;
  /** A stream can be sent only once: callers make sure auth is settled before streaming. */
  body?: Buffer | AsyncIterable<Uint8Array>;
  /** Statuses that are answers, not errors (e.g. 404 for a HEAD that asks "is it there?"). */
  accept: number[];
  what: string;
}

type SendOnce = (method: string, url: string, options: SendOptions) => Promise<Response>;

export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  readonly #credentials: Credentials | undefined;
  readonly #fetch: FetchLike;
  readonly #tokens = new Map<string, string>();
  #useBasic = false;
  #referrersApi: boolean | undefined;
  readonly #retry: RetryPolicy;
  readonly #log: ((line: string) => void) | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    this.baseUrl = options.baseUrl ?? registryBaseUrl(options.registry);
    this.#credentials = options.credentials;
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.#retry = resolveRetryPolicy(options.retry);
    this.#log = options.log;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** GET /v2/: reachable and our credentials (if any) accepted. */
  async ping(): Promise<void> {
    await this.#send('GET', '/v2/', { scopes: [], accept: [200], what: 'API version check' });
  }

  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const res = await this.#send('GET', `/v2/${repository}/manifests/${reference}`, {
      scopes: [{ repository, actions: ['pull'] }],
      headers: { accept: MANIFEST_ACCEPT },
      accept: [200],
      what: `manifest ${repository}:${reference}`,
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = computeDigest(bytes);
    const expected = isDigest(reference) ? reference : res.headers.get('docker-content-digest');
    if (expected && expected !== digest) {
      throw new DigestMismatchError(this.registry, expected, digest, `manifest ${repository}@${reference}`);
    }
    const mediaType =
      (res.headers.get('content-type') ?? '').split(';')[0]!.trim() || mediaTypeFromBody(bytes);
    return { bytes, mediaType, digest };
  }

  /** The manifest's descriptor, or undefined when the registry has no such tag or digest. */
  async headManifest(repository: string, reference: string): Promise<Descriptor | undefined> {
    const res = await this.#send('HEAD', `/v2/${repository}/manifests/${reference}`, {
      scopes: [{ repository, actions: ['pull'] }],
      headers: { accept: MANIFEST_ACCEPT },
      accept: [200, 404],
      what: `manifest ${repository}:${reference}`,
    });
    if (res.status === 404) return undefined;
    const digest = res.headers.get('docker-content-digest');
    // Some registries omit the digest on HEAD; then the bytes are the only truth.
    if (!digest) return this.#describe(await this.getManifest(repository, reference));
    return {
      mediaType: (res.headers.get('content-type') ?? '').split(';')[0]!.trim(),
      digest,
      size: Number(res.headers.get('content-length') ?? 0),
    };
  }

  #describe(m: FetchedManifest): Descriptor {
    return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  }

  /**
   * PUTs manifest bytes exactly as given under a tag or their digest. The registry must answer with
   * the digest of those bytes; anything else means it rewrote them, and a promotion would not be a copy.
   */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<{ digest: string; subjectHandled: boolean }> {
    const digest = computeDigest(bytes);
    const res = await this.#send('PUT', `/v2/${repository}/manifests/${reference}`, {
      scopes: [{ repository, actions: ['pull', 'push'] }],
      headers: { 'content-type': mediaType },
      body: bytes,
      accept: [201],
      what: `manifest ${repository}:${reference}`,
    });
    const answered = res.headers.get('docker-content-digest');
    if (answered && answered !== digest) {
      throw new DigestMismatchError(
        this.registry,
        digest,
        answered,
        `manifest stored as ${repository}:${reference}`,
      );
    }
    return { digest, subjectHandled: res.headers.has('oci-subject') };
  }

  /** Deletes a manifest by digest; the registry drops every tag that pointed at it. */
  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const res = await this.#send('DELETE', `/v2/${repository}/manifests/${digest}`, {
      scopes: [{ repository, actions: ['delete'] }],
      accept: [202, 404],
      what: `manifest ${repository}@${digest}`,
    });
    return res.status === 202;
  }

  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    while (path) {
      const res = await this.#send('GET', path, {
        scopes: [{ repository, actions: ['pull'] }],
        accept: [200, 404],
        what: `tag list of ${repository}`,
      });
      if (res.status === 404) return [];
      const body = (await res.json()) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      path = nextLink(res.headers.get('link'));
    }
    return tags;
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.#send('HEAD', `/v2/${repository}/blobs/${digest}`, {
      scopes: [{ repository, actions: ['pull'] }],
      accept: [200, 404],
      what: `blob ${repository}@${digest}`,
    });
    return res.status === 200;
  }

  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const res = await this.#send('GET', `/v2/${repository}/blobs/${digest}`, {
      scopes: [{ repository, actions: ['pull'] }],
      accept: [200],
      what: `blob ${repository}@${digest}`,
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const actual = computeDigest(bytes);
    if (actual !== digest)
      throw new DigestMismatchError(this.registry, digest, actual, `blob ${repository}@${digest}`);
    return bytes;
  }

  /** Streams a blob (layers can be large); the digest is checked when the stream ends. */
  async *streamBlob(repository: string, digest: string): AsyncGenerator<Uint8Array> {
    const res = await this.#send('GET', `/v2/${repository}/blobs/${digest}`, {
      scopes: [{ repository, actions: ['pull'] }],
      accept: [200],
      what: `blob ${repository}@${digest}`,
    });
    const hash = createHash('sha256');
    if (res.body) {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        yield chunk;
      }
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest)
      throw new DigestMismatchError(this.registry, digest, actual, `blob ${repository}@${digest}`);
  }

  /** Monolithic upload (POST then PUT with the digest); returns the blob's descriptor. */
  async uploadBlob(
    repository: string,
    bytes: Buffer,
    mediaType = 'application/octet-stream',
  ): Promise<Descriptor> {
    const digest = computeDigest(bytes);
    if (await this.hasBlob(repository, digest)) return { mediaType, digest, size: bytes.length };
    await this.#upload(repository, digest, bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /**
   * Cross-repository mount: the registry links a blob it already holds in `from` into `repository`
   * without any bytes moving. Returns false when it declined (other registry, no access); the
   * caller then copies the bytes.
   */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const res = await this.#send(
      'POST',
      `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      {
        scopes: [
          { repository, actions: ['pull', 'push'] },
          { repository: from, actions: ['pull'] },
        ],
        accept: [201, 202],
        what: `blob mount of ${digest} from ${from} into ${repository}`,
      },
    );
    if (res.status === 201) return true;
    // 202: the registry opened an ordinary upload instead; abandon it, the caller uploads afresh.
    const location = res.headers.get('location');
    if (location) {
      await this.#send('DELETE', location, {
        scopes: [{ repository, actions: ['pull', 'push'] }],
        accept: [204, 404, 405],
        what: 'abandoned upload',
      }).catch(() => undefined);
    }
    return false;
  }

  /**
   * Streams a blob of known digest into `repository` without holding it in memory (cross-registry
   * copies of large layers). The POST settles auth first, so the streamed PUT is never retried.
   */
  async uploadBlobStream(
    repository: string,
    digest: string,
    chunks: AsyncIterable<Uint8Array>,
  ): Promise<void> {
    await this.#upload(repository, digest, chunks);
  }

  /**
   * POST opens the upload (and settles auth), then one PUT with the digest carries the bytes. The
   * closing PUT is tied to its session, so bytes in memory are retried as a whole upload (a new
   * session); a streamed body cannot be sent twice, so only its POST is retried.
   */
  async #upload(repository: string, digest: string, body: Buffer | AsyncIterable<Uint8Array>): Promise<void> {
    const once: SendOnce = (method, url, options) => this.#sendOnce(method, url, options);
    if (Buffer.isBuffer(body)) {
      await this.#retrying(`blob upload POST /v2/${repository}/blobs/uploads/ + PUT`, () =>
        this.#uploadOnce(repository, digest, body, once, once),
      );
      return;
    }
    const retried: SendOnce = (method, url, options) => this.#send(method, url, options);
    await this.#uploadOnce(repository, digest, body, retried, once);
  }

  async #uploadOnce(
    repository: string,
    digest: string,
    body: Buffer | AsyncIterable<Uint8Array>,
    post: SendOnce,
    put: SendOnce,
  ): Promise<void> {
    const start = await post('POST', `${this.baseUrl}/v2/${repository}/blobs/uploads/`, {
      scopes: [{ repository, actions: ['pull', 'push'] }],
      accept: [202],
      what: `blob upload to ${repository}`,
    });
    const location = start.headers.get('location');
    if (!location)
      throw new RegistryRequestError(
        this.registry,
        start.status,
        `blob upload to ${repository}: no Location header`,
      );
    const url = new URL(location, this.baseUrl);
    url.searchParams.set('digest', digest);
    await put('PUT', url.toString(), {
      scopes: [{ repository, actions: ['pull', 'push'] }],
      headers: { 'content-type': 'application/octet-stream' },
      body,
      accept: [201],
      what: `blob ${repository}@${digest}`,
    });
  }

  /** Whether the registry serves the OCI 1.1 referrers API (2.8 does not; then the tag schema is used). */
  async supportsReferrersApi(repository: string, digest: string): Promise<boolean> {
    if (this.#referrersApi !== undefined) return this.#referrersApi;
    const res = await this.#send('GET', `/v2/${repository}/referrers/${digest}`, {
      scopes: [{ repository, actions: ['pull'] }],
      accept: [200, 400, 404, 405],
      what: `referrers of ${repository}@${digest}`,
    });
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    await res.body?.cancel();
    this.#referrersApi = res.status === 200 && type === OCI_INDEX;
    return this.#referrersApi;
  }

  /** Manifests whose `subject` is `digest`: through the referrers API, else the `sha256-<hex>` index. */
  async listReferrers(repository: string, digest: string, artifactType?: string): Promise<Descriptor[]> {
    let manifests: Descriptor[];
    if (await this.supportsReferrersApi(repository, digest)) {
      const res = await this.#send('GET', `/v2/${repository}/referrers/${digest}`, {
        scopes: [{ repository, actions: ['pull'] }],
        accept: [200],
        what: `referrers of ${repository}@${digest}`,
      });
      manifests = ((await res.json()) as { manifests?: Descriptor[] }).manifests ?? [];
    } else {
      manifests = (await this.#readFallbackIndex(repository, digest)).manifests;
    }
    return artifactType ? manifests.filter((m) => m.artifactType === artifactType) : manifests;
  }

  async #readFallbackIndex(repository: string, digest: string): Promise<{ manifests: Descriptor[] }> {
    const tag = referrersFallbackTag(digest);
    if (!(await this.headManifest(repository, tag))) return { manifests: [] };
    const index = await this.getManifest(repository, tag);
    const parsed = JSON.parse(index.bytes.toString('utf8')) as { manifests?: Descriptor[] };
    return { manifests: parsed.manifests ?? [] };
  }

  /**
   * Pushes a manifest that has a `subject` (an SBOM, a signature) and makes it findable as a referrer
   * of that subject: a registry with the referrers API indexes it itself (it says so with OCI-Subject);
   * otherwise we maintain the `sha256-<hex>` fallback index, as the distribution spec describes.
   */
  async putReferrer(repository: string, bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const manifest = JSON.parse(bytes.toString('utf8')) as {
      subject?: Descriptor;
      artifactType?: string;
      config?: Descriptor;
      annotations?: Record<string, string>;
    };
    if (!manifest.subject) {
      throw new RegistryRequestError(this.registry, 0, 'a referrer manifest needs a subject');
    }
    const digest = computeDigest(bytes);
    const { subjectHandled } = await this.putManifest(repository, digest, bytes, mediaType);
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    const artifactType = manifest.artifactType ?? manifest.config?.mediaType;
    if (artifactType) descriptor.artifactType = artifactType;
    if (manifest.annotations) descriptor.annotations = manifest.annotations;
    if (!subjectHandled) await this.addToFallbackIndex(repository, manifest.subject.digest, descriptor);
    return descriptor;
  }

  /** Adds a descriptor to the `sha256-<hex>` referrers index of a subject (no-op when listed). */
  async addToFallbackIndex(repository: string, subjectDigest: string, descriptor: Descriptor): Promise<void> {
    const current = await this.#readFallbackIndex(repository, subjectDigest);
    if (current.manifests.some((m) => m.digest === descriptor.digest)) return;
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...current.manifests, descriptor] };
    await this.putManifest(
      repository,
      referrersFallbackTag(subjectDigest),
      Buffer.from(JSON.stringify(index)),
      OCI_INDEX,
    );
  }

  /** One request; retried within the policy when it is safe to repeat (retry-policy.ts isRepeatable). */
  async #send(method: string, pathOrUrl: string, options: SendOptions): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const path = new URL(url).pathname;
    const streamed = options.body !== undefined && !Buffer.isBuffer(options.body);
    if (streamed || !isRepeatable(method, path)) return this.#sendOnce(method, url, options);
    return this.#retrying(`${method} ${path}`, () => this.#sendOnce(method, url, options));
  }

  /**
   * Runs `attempt` until it succeeds, fails with anything but a 429/5xx answer, or the policy says
   * stop; each retry is one line to the log. `request` names it in that line and in the final error
   * (a path, never a query: upload locations carry session state).
   */
  async #retrying<T>(request: string, attempt: () => Promise<T>): Promise<T> {
    const started = this.#now();
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof RegistryRequestError) || !isRetryableStatus(error.status)) throw error;
        const decision = decideRetry({
          attempt: n,
          elapsedMs: this.#now() - started,
          retryAfterMs: error.retryAfterMs,
          policy: this.#retry,
          random: this.#random(),
        });
        if (!decision.retry)
          throw new RegistryRetriesExhaustedError(this.registry, error, request, n, decision.reason);
        this.#log?.(
          `registry ${this.registry}: ${request} answered ${error.status}; retry ${n} of ${this.#retry.maxAttempts - 1} in ${seconds(decision.delayMs)} (${decision.basis})`,
        );
        await this.#sleep(decision.delayMs);
      }
    }
  }

  async #sendOnce(method: string, url: string, options: SendOptions): Promise<Response> {
    const scopeKey = scopeStrings(options.scopes).join(' ');
    let retried = false;
    for (;;) {
      const headers: Record<string, string> = { ...options.headers };
      const token = this.#tokens.get(scopeKey);
      if (token) headers.authorization = `Bearer ${token}`;
      else if (this.#useBasic && this.#credentials)
        headers.authorization = basicAuthorization(this.#credentials);
      let res: Response;
      try {
        const init: RequestInit = { method, headers, redirect: 'follow' };
        if (Buffer.isBuffer(options.body)) init.body = options.body;
        else if (options.body) {
          if (retried && !this.#tokens.has(scopeKey) && !this.#useBasic)
            throw new RegistryAuthError(this.registry, 'auth changed mid-stream');
          Object.assign(init, { body: options.body, duplex: 'half' });
        }
        res = await this.#fetch(url, init);
      } catch (error) {
        throw new RegistryUnreachableError(this.registry, error);
      }
      if (res.status === 401 && !retried) {
        await res.body?.cancel();
        retried = true;
        await this.#answerChallenge(res.headers.get('www-authenticate'), options, scopeKey);
        continue;
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        const who = this.#credentials
          ? `the credentials from ${this.#credentials.source}`
          : 'anonymous access';
        throw new RegistryAuthError(
          this.registry,
          `${options.what}: ${method} answered ${res.status}; ${who} was refused`,
        );
      }
      if (!options.accept.includes(res.status)) {
        const detail = method === 'HEAD' ? '' : await errorDetail(res);
        const fix =
          res.status === 404
            ? 'check the repository, tag or digest (itsctl publish pushes to <image>/development)'
            : undefined;
        throw new RegistryRequestError(
          this.registry,
          res.status,
          `${options.what}: ${method} answered ${res.status}${detail ? ` (${detail})` : ''}`,
          fix,
          { retryAfterMs: parseRetryAfter(res.headers.get('retry-after'), this.#now()) },
        );
      }
      return res;
    }
  }

  async #answerChallenge(header: string | null, options: SendOptions, scopeKey: string): Promise<void> {
    const challenge: AuthChallenge = parseWwwAuthenticate(header ?? '');
    if (challenge.scheme === 'basic') {
      if (!this.#credentials) {
        throw new RegistryAuthError(
          this.registry,
          `${options.what}: the registry wants a username and password and none is configured`,
        );
      }
      this.#useBasic = true;
      return;
    }
    if (challenge.scheme === 'bearer' && challenge.params.realm) {
      this.#tokens.set(scopeKey, await this.#fetchToken(challenge, options));
      return;
    }
    throw new RegistryAuthError(
      this.registry,
      `${options.what}: unsupported challenge ${JSON.stringify(header ?? '')}`,
    );
  }

  /** Docker token protocol: GET realm?service=…&scope=… (basic creds when we have them). */
  async #fetchToken(challenge: AuthChallenge, options: SendOptions): Promise<string> {
    const realm = new URL(challenge.params.realm!);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    const scopes = new Set(scopeStrings(options.scopes));
    // The challenge's scope matters only for resources we did not name (ours already cover our repositories).
    const named = [...scopes].map((s) => s.slice(0, s.lastIndexOf(':')));
    for (const s of (challenge.params.scope ?? '').split(' ').filter(Boolean)) {
      if (!named.includes(s.slice(0, s.lastIndexOf(':')))) scopes.add(s);
    }
    for (const s of scopes) realm.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (this.#credentials) headers.authorization = basicAuthorization(this.#credentials);
    let res: Response;
    try {
      res = await this.#fetch(realm, { headers });
    } catch (error) {
      throw new RegistryUnreachableError(`${this.registry} (token service ${realm.host})`, error);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      const who = this.#credentials
        ? `the credentials from ${this.#credentials.source}`
        : 'an anonymous token request';
      throw new RegistryAuthError(
        this.registry,
        `token service ${realm.origin}${realm.pathname} answered ${res.status} to ${who}`,
      );
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryAuthError(this.registry, `token service ${realm.origin} returned no token`);
    return token;
  }
}

function scopeStrings(scopes: SendOptions['scopes']): string[] {
  return scopes.map((s) => `repository:${s.repository}:${s.actions.join(',')}`);
}

function nextLink(link: string | null): string | undefined {
  const match = link?.match(/<([^>]+)>;\s*rel="?next"?/);
  return match?.[1];
}

function mediaTypeFromBody(bytes: Buffer): string {
  try {
    return (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? '';
  } catch {
    return '';
  }
}

async function errorDetail(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> };
    return (body.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
  } catch {
    return text.slice(0, 200).trim();
  }
}
