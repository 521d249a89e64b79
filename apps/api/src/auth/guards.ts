/**
 * Who may call what. The ADMIN_TOKEN may do everything; an API key may do what its scopes say
 * (`ingest`, `read`, `cameras:write`; see API_KEY_SCOPES). A missing or wrong credential is one
 * generic 401; a valid key without the scope is a 403 that names the scope and how to get it.
 */
import { API_KEY_SCOPES, API_ROUTES, type ApiKeyScope } from '@its/contracts';
import { ApiError, unauthorized } from '../errors.js';
import type { Guards, StreamUrlView } from '../context.js';
import type { Queryable } from '../db/db.js';
import type { Repository } from '../store/repository.js';
import { authenticateApiKey, type AuthenticatedKey } from './api-key-store.js';
import { equalHashes, extractCredential, findMissingScopes, hashSecret } from './api-keys.js';

type Headers = { headers: Record<string, string | string[] | undefined> };

/** The 403 for a valid key that lacks scopes: which ones, what it has, and the two ways to get them. */
export function missingScopeError(
  key: Pick<AuthenticatedKey, 'prefix' | 'scopes'>,
  missing: readonly ApiKeyScope[],
) {
  const names = missing.map((s) => `"${s}"`).join(', ');
  const list = missing.join(',');
  return new ApiError(
    'forbidden',
    `API key ${key.prefix} lacks the ${names} scope${missing.length > 1 ? 's' : ''} (it has: ${key.scopes.join(', ') || 'none'}); ` +
      `use a key created with it (POST ${API_ROUTES.apiKeys} with {"name": "...", "scopes": [${missing.map((s) => `"${s}"`).join(', ')}]} ` +
      `and the ADMIN_TOKEN, or \`npm run apikey:create -w @its/api -- --name <name> --scopes ${list}\`), or the ADMIN_TOKEN itself; ` +
      `valid scopes: ${API_KEY_SCOPES.join(', ')}`,
  );
}

export function createGuards(opts: {
  db: Queryable;
  repo: Pick<Repository, 'touchApiKey'>;
  adminToken: string | undefined;
  readRequired: boolean;
  clock: () => Date;
}): Guards {
  const adminHash = opts.adminToken ? hashSecret(opts.adminToken) : undefined;
  const isAdmin = (credential: string | undefined) =>
    adminHash !== undefined && credential !== undefined && equalHashes(hashSecret(credential), adminHash);

  // Not named `require`: a call of a local `require` reads as a dynamic module load to scanners.
  const requireScopes: Guards['require'] = async (req, scopes) => {
    const credential = extractCredential(req.headers);
    if (isAdmin(credential)) return;
    const key = await authenticateApiKey(opts.db, credential);
    if (!key) throw unauthorized();
    await opts.repo.touchApiKey(key.id, opts.clock());
    const missing = findMissingScopes(key.scopes, scopes);
    if (missing.length > 0) throw missingScopeError(key, missing);
  };
  const scope: Guards['scope'] = (s) => (req: Headers) => requireScopes(req, [s]);

  return {
    require: requireScopes,
    scope,
    read: opts.readRequired ? scope('read') : async () => {},
    async admin(req) {
      if (!adminHash)
        throw new ApiError('forbidden', 'the admin API is disabled: set ADMIN_TOKEN to enable it');
      if (!isAdmin(extractCredential(req.headers))) throw unauthorized();
    },
    async streamUrlView(req) {
      const credential = extractCredential(req.headers);
      if (credential === undefined) return streamUrlViewFor('anonymous');
      if (isAdmin(credential)) return streamUrlViewFor('admin');
      const key = await authenticateApiKey(opts.db, credential);
      return streamUrlViewFor(key ? { scopes: key.scopes } : 'anonymous');
    },
  };
}

/**
 * Pure: how much of a stream URL a caller sees. Only the worker (a key with `ingest`) needs the
 * credentials, to open the stream. A camera writer (`cameras:write`) and the ADMIN_TOKEN set URLs and
 * see that a password is there, not what it is. Everyone else (anonymous, a wrong key, a read-only key)
 * sees where the camera is and nothing that could be a secret: no user-info, query or fragment.
 */
export function streamUrlViewFor(
  caller: 'anonymous' | 'admin' | { scopes: readonly ApiKeyScope[] },
): StreamUrlView {
  if (caller === 'anonymous') return 'public';
  if (caller === 'admin') return 'redacted';
  if (caller.scopes.includes('ingest')) return 'full';
  return caller.scopes.includes('cameras:write') ? 'redacted' : 'public';
}
