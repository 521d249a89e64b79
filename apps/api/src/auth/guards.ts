import { ApiError, unauthorized } from '../errors.js';
import type { Guards } from '../context.js';
import type { Repository } from '../store/repository.js';
import { equalHashes, extractCredential, hashSecret, verifyApiKey } from './api-keys.js';

export function createGuards(opts: {
  repo: Pick<Repository, 'findApiKeyByPrefix' | 'touchApiKey'>;
  adminToken: string | undefined;
  readRequired: boolean;
  clock: () => Date;
}): Guards {
  const adminHash = opts.adminToken ? hashSecret(opts.adminToken) : undefined;
  const isAdmin = (credential: string | undefined) =>
    adminHash !== undefined && credential !== undefined && equalHashes(hashSecret(credential), adminHash);

  const apiKey: Guards['apiKey'] = async (req) => {
    const id = await verifyApiKey(opts.repo, extractCredential(req.headers));
    if (!id) throw unauthorized();
    await opts.repo.touchApiKey(id, opts.clock());
  };
  return {
    apiKey,
    read: opts.readRequired ? apiKey : async () => {},
    async admin(req) {
      if (!adminHash)
        throw new ApiError('forbidden', 'the admin API is disabled: set ADMIN_TOKEN to enable it');
      if (!isAdmin(extractCredential(req.headers))) throw unauthorized();
    },
    async writer(req) {
      if (isAdmin(extractCredential(req.headers))) return;
      await apiKey(req);
    },
    async trusted(req) {
      const credential = extractCredential(req.headers);
      if (credential === undefined) return false;
      return isAdmin(credential) || (await verifyApiKey(opts.repo, credential)) !== undefined;
    },
  };
}
