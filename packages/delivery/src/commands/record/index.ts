/** `itsctl record`: registered in commands/index.ts. */
import { Option } from 'commander';
import { UsageError } from '@its/core';
import { writeResult, type CommandModule } from '../../cli/io.js';
import { ENVIRONMENTS, isEnvironment } from '@its/registry/names';
import { openGateRecords } from '../shared/gate-records.js';

interface RecordOptions {
  env?: string;
  digest?: string;
  kind?: 'gate' | 'deploy';
  name?: string;
  result?: 'pass' | 'fail';
  detail?: string;
  list?: boolean;
  records?: string;
}

export const recordCommand: CommandModule = {
  register(program, io) {
    program
      .command('record')
      .summary('record a gate or deploy result for an image digest (the evidence promotion asks for)')
      .option('--env <env>', `environment the result is about (${ENVIRONMENTS.join(', ')})`)
      .option('--digest <digest>', 'image digest, sha256:…')
      .addOption(
        new Option('--kind <kind>', 'what produced the result').choices(['gate', 'deploy']).default('gate'),
      )
      .option('--name <name>', 'gate or deployment name, e.g. e2e, smoke, rolling')
      .addOption(new Option('--result <result>', 'the result').choices(['pass', 'fail']))
      .option('--detail <text>', 'free text, e.g. a report URL')
      .option('--list', 'print the records (filtered by --digest/--env) instead of writing one')
      .option('--records <path>', 'gate record file (default: $ITS_STATE_DIR/delivery/records.json)')
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl record --env development --digest sha256:… --name unit --result pass
  $ itsctl record --list --digest sha256:… --json`,
      )
      .action(async (options: RecordOptions, command) => {
        // Loaded here, not at the top, so registering every command stays cheap (`itsctl --help`).
        const registry = await import('@its/registry');
        const store = openGateRecords(registry, io, options.records);
        if (options.list) {
          const records = await store.list({
            ...(options.digest ? { digest: options.digest } : {}),
            ...(options.env ? { environment: options.env } : {}),
          });
          writeResult(
            io,
            command,
            { records },
            records
              .map((r) => `${r.at} ${r.environment} ${r.kind} ${r.name} ${r.result} ${r.digest}`)
              .join('\n'),
          );
          return;
        }
        const missing = (['env', 'digest', 'name', 'result'] as const)
          .filter((k) => !options[k])
          .map((k) => `--${k}`);
        if (missing.length)
          throw new UsageError(`${missing.join(', ')}: required to record a result`, {
            fix: 'see `itsctl record --help`',
          });
        if (!isEnvironment(options.env!))
          throw new UsageError(`--env ${options.env}: should be one of ${ENVIRONMENTS.join(', ')}`);
        const record = {
          digest: options.digest!,
          environment: options.env,
          kind: options.kind ?? 'gate',
          name: options.name!,
          result: options.result!,
          at: io.now().toISOString(),
          ...(options.detail ? { detail: options.detail } : {}),
        };
        const parsed = registry.gateRecordSchema.safeParse(record);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new UsageError(`--${String(issue.path[0])}: ${issue.message}`);
        }
        await store.append(parsed.data);
        writeResult(
          io,
          command,
          { record: parsed.data, store: store.path },
          `recorded ${record.kind} ${record.name} ${record.result} for ${record.digest} in ${record.environment}`,
        );
      });
  },
};
