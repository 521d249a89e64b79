// The deploy engine (better-sqlite3, zod, yaml) is loaded inside each action, not at the top, so
// registering every command stays cheap (`itsctl --help`).
const loadDeploy = () => import('@its/deploy');
import { UsageError } from '@its/core';
import { type CommandModule, log, writeResult } from '../../cli/io.js';
import { deployContext } from '../deploy/deploy-command.js';

export const statusCommand: CommandModule = {
  register(program, io) {
    program
      .command('status')
      .summary("an environment's serving version, replicas, router state and lock")
      .requiredOption('-e, --env <environment>', 'environment')
      .addHelpText('after', '\nExample:\n  $ itsctl status -e development --json')
      .action(async (flags: { env: string }, command) => {
        const { renderStatus, status } = await loadDeploy();
        const report = await status(deployContext(io), flags.env);
        writeResult(io, command, report, renderStatus(report));
      });
  },
};

export const historyCommand: CommandModule = {
  register(program, io) {
    program
      .command('history')
      .summary("an environment's deployments: who, version, digest, strategy, outcome, checks")
      .requiredOption('-e, --env <environment>', 'environment')
      .option('-n, --limit <count>', 'how many, newest first', '20')
      .option('--audit', 'the audit log instead')
      .option(
        '-d, --deployment <id>',
        'one deployment in full: its checks and the evidence of every canary step and watch',
      )
      .action(
        async (flags: { env: string; limit: string; audit?: boolean; deployment?: string }, command) => {
          const limit = Math.max(1, Number.parseInt(flags.limit, 10) || 20);
          const { renderDeployment, withStore } = await loadDeploy();
          await withStore(deployContext(io), flags.env, (store) => {
            if (flags.deployment !== undefined) {
              const one = store.deployment(flags.deployment);
              if (!one || one.environment !== flags.env)
                throw new UsageError(`no deployment ${flags.deployment} in ${flags.env}`, {
                  fix: `list them: itsctl history -e ${flags.env}`,
                });
              const evidence = store.evidence(one.id) as Parameters<typeof renderDeployment>[1];
              writeResult(io, command, { ...one, evidence }, renderDeployment(one, evidence));
              return;
            }
            if (flags.audit) {
              const entries = store.auditLog(flags.env, limit);
              writeResult(
                io,
                command,
                entries,
                entries.map((e) => `${e.at} ${e.who} ${e.action}: ${e.detail}`).join('\n') ||
                  '(no audit entries)',
              );
              return;
            }
            const rows = store.history(flags.env, limit);
            const text = rows
              .map((d) => {
                const failed = (d.checks as Array<{ ok: boolean; check: string; reason: string }>).filter(
                  (c) => !c.ok,
                );
                const seconds = d.endedAt
                  ? ((Date.parse(d.endedAt) - Date.parse(d.startedAt)) / 1000).toFixed(1)
                  : '…';
                return `${d.startedAt} ${d.id} ${d.action} ${d.fromVersion ?? '-'} → ${d.version} ${d.strategy} ${d.outcome} ${seconds} s by ${d.who}${d.reason ? `\n    reason: ${d.reason}` : ''}${failed.map((c) => `\n    ✗ ${c.check}: ${c.reason}`).join('')}`;
              })
              .join('\n');
            writeResult(io, command, rows, text || '(no deployments yet)');
          });
        },
      );
  },
};

export const lockCommand: CommandModule = {
  register(program, io) {
    const lock = program.command('lock').summary("show or release an environment's deployment lock");
    lock
      .command('status')
      .requiredOption('-e, --env <environment>', 'environment')
      .action(async (flags: { env: string }, command) => {
        const { withStore } = await loadDeploy();
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
        const { withStore } = await loadDeploy();
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

export const retireCommand: CommandModule = {
  register(program, io) {
    program
      .command('retire')
      .summary('remove the set blue-green kept for rollback once its window has passed')
      .requiredOption('-e, --env <environment>', 'environment')
      .option('--now', 'retire it even if its rollback window has not passed')
      .addHelpText(
        'after',
        '\nExamples:\n  $ itsctl retire -e production          (from cron: a no-op until the window ends)\n  $ itsctl retire -e production --now',
      )
      .action(async (flags: { env: string; now?: boolean }, command) => {
        const { retireKept } = await loadDeploy();
        const result = await retireKept(deployContext(io), flags.env, flags.now === true);
        writeResult(
          io,
          command,
          result,
          result.retired.length > 0
            ? `${flags.env}: retired ${result.retired.join(', ')} (${result.reason})`
            : `${flags.env}: nothing retired: ${result.reason}`,
        );
      });
  },
};
