/**
 * API keys: `its_<prefix>_<secret>`. The prefix (public, unique) finds the row; only the SHA-256 of the
 * whole key is stored, compared in constant time. The key itself is shown once, at creation.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { API_KEY_SCOPES, DEFAULT_API_KEY_SCOPES, type ApiKeyCreated, type ApiKeyScope } from '@its/contracts';
import type { Repository } from '../store/repository.js';

const KEY_PATTERN = /^its_([0-9a-f]{12})_[A-Za-z0-9_-]{32}$/;

export function hashSecret(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(6).toString('hex');
  const key = `its_${prefix}_${randomBytes(24).toString('base64url')}`;
  return { key, prefix, hash: hashSecret(key) };
}

/** The lookup prefix of a well-formed key, or undefined. */
export function parseApiKey(key: string): string | undefined {
  return KEY_PATTERN.exec(key)?.[1];
}

/** The credential a request carries: `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function extractCredential(
  headers: Record<string, string | string[] | undefined>,
): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1];
  }
  const key = headers['x-api-key'];
  return typeof key === 'string' && key.length > 0 ? key.trim() : undefined;
}

export function equalHashes(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * Known scopes only (a name stored by a newer release is ignored, never honoured blindly), without
 * duplicates, in API_KEY_SCOPES order so responses and messages are stable.
 */
export function normaliseScopes(scopes: readonly string[]): ApiKeyScope[] {
  return API_KEY_SCOPES.filter((s) => scopes.includes(s));
}

/** Pure: which of `required` a key holding `held` lacks, in API_KEY_SCOPES order. */
export function findMissingScopes(
  held: readonly ApiKeyScope[],
  required: readonly ApiKeyScope[],
): ApiKeyScope[] {
  return normaliseScopes(required).filter((s) => !held.includes(s));
}

/**
 * Creates and stores a key through the repository, so it gets the column's default scopes (ingest,
 * read); `issueApiKey` (api-key-store.ts) names the scopes. The returned `key` is the only copy.
 */
export async function createApiKey(
  repo: Pick<Repository, 'insertApiKey'>,
  name: string,
  now: Date = new Date(),
): Promise<ApiKeyCreated> {
  const { key, prefix, hash } = generateApiKey();
  const id = randomUUID();
  const createdAt = now.toISOString();
  await repo.insertApiKey({ id, name, prefix, keyHash: hash, createdAt });
  return { id, name, prefix, key, scopes: [...DEFAULT_API_KEY_SCOPES], createdAt };
}

/** The key's id when `credential` is a valid, unrevoked key; undefined otherwise. */
export async function verifyApiKey(
  repo: Pick<Repository, 'findApiKeyByPrefix'>,
  credential: string | undefined,
): Promise<string | undefined> {
  if (!credential) return undefined;
  const prefix = parseApiKey(credential);
  if (!prefix) return undefined;
  const row = await repo.findApiKeyByPrefix(prefix);
  if (!row || row.revoked) return undefined;
  return equalHashes(hashSecret(credential), row.keyHash) ? row.id : undefined;
}
