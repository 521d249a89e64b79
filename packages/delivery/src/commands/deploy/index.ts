import { type CommandModule, log, writeResult } from '../../cli/io.js';
import { deployContext } from '../shared/deploy-context.js';

interface DeployFlags {
  env: string;
  version?: string;
  strategy?: string;
  rollback?: boolean;
  dryRun?: boolean;
}

export const deployCommand: CommandModule = {
  register(program, io) {
    program
      .command('deploy')
      .summary(
        'deploy a version (rolling, blue-green or canary) with health checks, analysis and automatic rollback',
      )
      .description(
        `Deploys one image version to an environment described by deploy/environments/<env>.yml: plans the steps
from what the Docker Engine and the router show, then runs them. A failed check before traffic moves rolls
back automatically (the serving version never stops). --rollback returns to the previous version: a traffic
flip when blue-green kept it running, otherwise a redeploy of its digest. --dry-run prints the plan only.
Canary (-s canary) gives the new version a growing share of the traffic (strategy.canary.steps) and, after
each step, compares it with the serving version on the requests both served (error rate: proportion test;
latency: Mann-Whitney U with an effect-size floor; absolute SLOs): fail rolls back, inconclusive holds the
step longer, pass moves on. After traffic moves, every strategy watches health and SLOs for watch.seconds;
a failure there rolls back too. Every verdict prints its evidence; \`itsctl history --deployment ID\` keeps it.
SLACK_WEBHOOK_URL, when set, is told of start, success, failure and rollback (a failing webhook never
fails a deployment). One deployment per environment at a time (a lock); history, evidence and audit are
kept in the state directory.`,
      )
      .requiredOption('-e, --env <environment>', 'environment (a file in deploy/environments)')
      .option(
        '-v, --version <version>',
        "image version (tag) to deploy; default: the environment's image.defaultVersion",
      )
      .option(
        '-s, --strategy <strategy>',
        "rolling | blue-green | canary; default: the environment's strategy.default",
      )
      .option('--rollback', 'return to the previous version')
      .option('--dry-run', 'print the exact plan and change nothing')
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl deploy -e development                   default version and strategy
  $ itsctl deploy -e production -v 1.4.2           blue-green (production's default)
  $ itsctl deploy -e staging -v 1.4.2 --dry-run    the plan, nothing changed
  $ itsctl deploy -e staging -v 1.4.2 -s canary    5 → 25 → 50 → 100 %, analysed at each step
  $ itsctl deploy -e production --rollback         instant flip back to the kept set`,
      )
      .action(async (flags: DeployFlags, command) => {
        // Loaded here, not at the top, so registering every command stays cheap (`itsctl --help`).
        const { deploy, renderSummary } = await import('@its/deploy');
        const controller = new AbortController();
        const onSignal = (signal: NodeJS.Signals) => {
          log(
            io,
            `\nreceived ${signal}: stopping after the current step and rolling back (the serving version keeps serving)`,
          );
          controller.abort(signal);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        try {
          const summary = await deploy(deployContext(io, controller.signal), {
            environment: flags.env,
            ...(flags.version !== undefined ? { version: flags.version } : {}),
            ...(flags.strategy !== undefined ? { strategy: flags.strategy } : {}),
            rollback: flags.rollback === true,
            dryRun: flags.dryRun === true,
          });
          if (summary.outcome === 'dry-run') {
            writeResult(io, command, summary, renderSummary(summary));
          } else {
            log(io, renderSummary(summary));
            writeResult(io, command, summary, summary.url);
          }
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      });
  },
};
