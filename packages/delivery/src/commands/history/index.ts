/**
 * `itsctl history`: registered in commands/index.ts. The deploy engine (better-sqlite3, zod, yaml) is
 * loaded inside the action, not at the top, so registering every command stays cheap (`itsctl --help`).
 */
import { UsageError } from '@its/core';
import { type CommandModule, writeResult } from '../../cli/io.js';
import { deployContext } from '../shared/deploy-context.js';

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
          const { renderDeployment, withStore } = await import('@its/deploy');
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
