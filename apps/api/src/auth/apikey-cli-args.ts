/** The `apikey:create` CLI's flags, parsed apart from the store so they are tested without one. */
import { parseArgs } from 'node:util';
import { API_KEY_SCOPES, DEFAULT_API_KEY_SCOPES, splitScopeList, type ApiKeyScope } from '@its/contracts';
import { normaliseScopes } from './api-keys.js';

export const APIKEY_CLI_USAGE = `usage: apikey:create -- --name <name> [--scopes <list>] [--json]
  --scopes  comma-separated, any of ${API_KEY_SCOPES.join(', ')} (repeatable; default ${DEFAULT_API_KEY_SCOPES.join(',')}:
            what the vision worker needs). Camera writes need cameras:write.`;

export type ApiKeyCliArgs = { name: string; scopes: ApiKeyScope[]; json: boolean };

/** Pure: the arguments, or the usage error to print (exit 2). */
export function parseApiKeyCliArgs(argv: readonly string[]): { args: ApiKeyCliArgs } | { error: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        name: { type: 'string' },
        scopes: { type: 'string', multiple: true },
        scope: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    return { error: `${(err as Error).message}\n${APIKEY_CLI_USAGE}` };
  }
  const name = values.name?.trim();
  if (!name || name.length > 120)
    return { error: `--name: required, 1 to 120 characters (e.g. --name worker)\n${APIKEY_CLI_USAGE}` };
  const lists = [...(values.scopes ?? []), ...(values.scope ?? [])];
  const { scopes, unknown } = splitScopeList(lists.join(','));
  if (unknown.length > 0)
    return {
      error: `--scopes: unknown scope ${unknown.map((u) => JSON.stringify(u)).join(', ')}; valid scopes: ${API_KEY_SCOPES.join(', ')}\n${APIKEY_CLI_USAGE}`,
    };
  if (lists.length > 0 && scopes.length === 0)
    return {
      error: `--scopes: empty; name at least one of ${API_KEY_SCOPES.join(', ')}\n${APIKEY_CLI_USAGE}`,
    };
  return {
    args: {
      name,
      scopes: normaliseScopes(scopes.length > 0 ? scopes : DEFAULT_API_KEY_SCOPES),
      json: values.json,
    },
  };
}
