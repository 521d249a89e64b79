import type { VersionOptions } from '@its/versioning';
import { type CommandModule, log, writeResult } from '../../cli/io.js';
import { addVersionOptions } from '../shared/version-options.js';

export const versionCommand: CommandModule = {
  register(program, io) {
    addVersionOptions(
      program
        .command('version')
        .summary('next version from conventional commits since the last v* tag')
        .description(
          `Computes the next version from the Conventional Commits since the last stable v* tag:
fix/perf → patch, feat → minor, "!" or a BREAKING CHANGE footer → major (in 0.x: minor).
On main it is final (1.3.0); on release/* and hotfix/* a release candidate (1.3.0-rc.4); on any other
branch the branch is the channel (1.3.0-develop.4), the number counting commits since the last release.
Prints the version on stdout (the current one, with a note on stderr, when nothing calls for a release).`,
        ),
    )
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl version                      1.3.0
  $ itsctl version --json               {"next": "1.3.0", "bump": "minor", "commits": [...], ...}
  $ itsctl version --branch develop     1.3.0-develop.4
  $ itsctl version --release-as 1.0.0   leave 0.x`,
      )
      .action(async (options: VersionOptions, command) => {
        // Loaded here, not at the top, so registering every command stays cheap (`itsctl --help`).
        const { createGit, resolveVersion } = await import('@its/versioning');
        const { history, plan } = await resolveVersion(createGit(io.cwd), io.env, options, false);
        if (history.dirty.length > 0)
          log(io, `note: the working tree has ${history.dirty.length} uncommitted change(s)`);
        if (plan.next === null) {
          log(
            io,
            `no release needed: no feat, fix, perf or breaking commit since ${history.lastTag ?? 'the first commit'}`,
          );
        } else {
          log(
            io,
            `${plan.current ?? '(no release yet)'} → ${plan.next} (${plan.bump ?? 'forced'}) on ${history.branch ?? 'a detached HEAD'}`,
          );
        }
        writeResult(
          io,
          command,
          {
            current: plan.current,
            next: plan.next,
            tag: plan.tag,
            bump: plan.bump,
            channel: plan.channel,
            branch: history.branch,
            lastTag: history.lastTag,
            releasable: plan.next !== null,
            reasons: plan.reasons,
            commits: plan.commits.map((c) => ({
              sha: c.sha,
              type: c.type,
              scope: c.scope,
              breaking: c.breaking,
              subject: c.subject,
            })),
          },
          plan.next ?? plan.current ?? '',
        );
      });
  },
};
