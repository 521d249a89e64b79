/**
 * The API-key queries that know about scopes (migration 4), over the same `Queryable` seam as the
 * repository, so PostgreSQL and PGlite run the same SQL. Kept beside the guards that use them.
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_API_KEY_SCOPES, type ApiKeyCreated, type ApiKeyScope } from '@its/contracts';
import type { Queryable } from '../db/db.js';
import { equalHashes, generateApiKey, hashSecret, normaliseScopes, parseApiKey } from './api-keys.js';

/** A valid, unrevoked key as the guards see it. */
export interface AuthenticatedKey {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
}

/** Creates and stores a key with `scopes` (default: ingest, read); the returned `key` is the only copy. */
export async function issueApiKey(
  db: Queryable,
  input: { name: string; scopes?: readonly ApiKeyScope[] | undefined },
  now: Date = new Date(),
): Promise<ApiKeyCreated> {
  const { key, prefix, hash } = generateApiKey();
  const id = randomUUID();
  const createdAt = now.toISOString();
  const scopes = normaliseScopes(input.scopes ?? DEFAULT_API_KEY_SCOPES);
  await db.query(
    'INSERT INTO api_keys (id, name, prefix, key_hash, created_at, scopes) VALUES ($1, $2, $3, $4, $5, $6::text[])',
    [id, input.name, prefix, hash, createdAt, scopes],
  );
  return { id, name: input.name, prefix, key, scopes, createdAt };
}

/** The key behind `credential` when it is well-formed, known, unrevoked and matches; undefined otherwise. */
export async function authenticateApiKey(
  db: Queryable,
  credential: string | undefined,
): Promise<AuthenticatedKey | undefined> {
  if (!credential) return undefined;
  const prefix = parseApiKey(credential);
  if (!prefix) return undefined;
  const res = await db.query<{
    id: string;
    name: string;
    key_hash: string;
    revoked: boolean;
    scopes: string[] | null;
  }>('SELECT id, name, key_hash, revoked, scopes FROM api_keys WHERE prefix = $1', [prefix]);
  const row = res.rows[0];
  if (!row || row.revoked || !equalHashes(hashSecret(credential), row.key_hash)) return undefined;
  // Both drivers parse text[] into an array; anything else grants nothing rather than guessing.
  const scopes = Array.isArray(row.scopes) ? normaliseScopes(row.scopes) : [];
  return { id: row.id, name: row.name, prefix, scopes };
}
