/**
 * `itsctl lock`: registered in commands/index.ts. The deploy engine (better-sqlite3, zod, yaml) is
 * loaded inside each action, not at the top, so registering every command stays cheap (`itsctl --help`).
 */
import { type CommandModule, log, writeResult } from '../../cli/io.js';
import { deployContext } from '../shared/deploy-context.js';

export const lockCommand: CommandModule = {
  register(program, io) {
    const lock = program.command('lock').summary("show or release an environment's deployment lock");
    lock
      .command('status')
      .requiredOption('-e, --env <environment>', 'environment')
      .action(async (flags: { env: string }, command) => {
        const { withStore } = await import('@its/deploy');
        await withStore(deployContext(io), flags.env, (store) => {
          const held = store.readLock(flags.env);
          writeResult(
            io,
            command,
            { environment: flags.env, lock: held ?? null },
            held
              ? `${flags.env}: locked by ${held.holder} (pid ${held.pid} on ${held.host}) since ${held.acquiredAt}, expires ${held.expiresAt}: ${held.reason}`
              : `${flags.env}: free`,
          );
        });
      });
    lock
      .command('release')
      .requiredOption('-e, --env <environment>', 'environment')
      .action(async (flags: { env: string }, command) => {
        const { withStore } = await import('@its/deploy');
        await withStore(deployContext(io), flags.env, (store) => {
          const held = store.readLock(flags.env);
          const released = store.releaseLock(flags.env);
          if (released && held) {
            store.audit(
              io.now(),
              flags.env,
              io.env.USER ?? 'unknown',
              'lock-release',
              `released the lock of ${held.holder} (pid ${held.pid}): ${held.reason}`,
            );
            log(
              io,
              `released the lock held by ${held.holder} (pid ${held.pid} on ${held.host}); an interrupted deployment is cleaned up by the next deploy`,
            );
          }
          writeResult(
            io,
            command,
            { environment: flags.env, released },
            released ? `${flags.env}: released` : `${flags.env}: was not locked`,
          );
        });
      });
    for (const sub of lock.commands)
      sub.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  },
};
