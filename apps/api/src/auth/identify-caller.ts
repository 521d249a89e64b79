/**
 * Who is calling — the ADMIN_TOKEN, an API key (by id) or nobody — for the rate limiter and the read
 * cache, which must not trust a credential they have not verified (a made-up key would otherwise buy a
 * fresh rate-limit bucket or a cache bypass). Not an access check: the guards still authenticate every
 * guarded request themselves.
 *
 * Answers are remembered for `ttlMs` by the credential's SHA-256, and concurrent look-ups of one
 * credential share one query, so the worker's steady stream of requests costs one key look-up a
 * minute, not one per request. The price: a key revoked within the last `ttlMs` keeps its own rate-limit
 * bucket (never its access) until the answer expires.
 */
import { LRUCache } from 'lru-cache';
import type { Queryable } from '../db/db.js';
import { authenticateApiKey } from './api-key-store.js';
import { equalHashes, extractCredential, hashSecret } from './api-keys.js';

export type Caller = { kind: 'admin' } | { kind: 'key'; id: string } | { kind: 'anonymous' };

export interface CallerIdentifier {
  /** Never throws: a credential that cannot be checked (database down) is anonymous, and not remembered. */
  identify(req: { headers: Record<string, string | string[] | undefined> }): Promise<Caller>;
}

const ANONYMOUS: Caller = { kind: 'anonymous' };

export function createCallerIdentifier(opts: {
  db: Queryable;
  adminToken: string | undefined;
  /** 60 s: how long a verdict on a credential is reused. */
  ttlMs?: number;
  /** 10 000 credentials: bounds memory under a flood of made-up keys. */
  maxEntries?: number;
}): CallerIdentifier {
  const adminHash = opts.adminToken ? hashSecret(opts.adminToken) : undefined;
  const verdicts = new LRUCache<string, Caller, string>({
    max: opts.maxEntries ?? 10_000,
    ttl: opts.ttlMs ?? 60_000,
    // A look-up that fails (the database is down) rejects; the rejection is not cached.
    fetchMethod: async (_hash, _stale, { context: credential }) => {
      const key = await authenticateApiKey(opts.db, credential);
      return key ? { kind: 'key', id: key.id } : ANONYMOUS;
    },
  });
  return {
    async identify(req) {
      const credential = extractCredential(req.headers);
      if (!credential) return ANONYMOUS;
      const hash = hashSecret(credential);
      if (adminHash !== undefined && equalHashes(hash, adminHash)) return { kind: 'admin' };
      try {
        return (await verdicts.fetch(hash, { context: credential })) ?? ANONYMOUS;
      } catch {
        return ANONYMOUS;
      }
    },
  };
}
