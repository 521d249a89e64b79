/**
 * The gate record store of `itsctl promote`, `itsctl record` and `itsctl registry prune`. The caller
 * passes the @its/registry module its action already loaded, so each action imports it once and
 * registering every command stays cheap (`itsctl --help` never loads zod).
 */
import type * as Registry from '@its/registry';
import type { CliIo } from '../../cli/io.js';

/** `--records <path>`, or `$ITS_STATE_DIR/delivery/records.json`. */
export function openGateRecords(
  registry: Pick<typeof Registry, 'defaultRecordStorePath' | 'openRecordStore'>,
  io: CliIo,
  path?: string,
): Registry.RecordStore {
  return registry.openRecordStore(path ?? registry.defaultRecordStorePath(io.env, io.cwd));
}
