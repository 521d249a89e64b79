import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@its/core';
import type { ReleasePlan, ReleaseStep, VersionOptions } from '@its/versioning';
import { type CommandModule, log, writeResult } from '../../cli/io.js';
import { addVersionOptions } from '../shared/version-options.js';

interface ReleaseOptions extends VersionOptions {
  dryRun?: boolean;
}

function describeStep(step: ReleaseStep): string {
  return step.kind === 'write-file'
    ? `write ${step.path}`
    : `git ${step.args.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a.split('\n')[0] + (a.includes('\n') ? '…' : '')) : a)).join(' ')}`;
}

function render(plan: ReleasePlan, dryRun: boolean): string {
  return [
    `${dryRun ? 'Would release' : 'Released'} ${plan.tag}`,
    '',
    plan.changelogSection.trimEnd(),
    '',
    `${dryRun ? 'Steps (none run: --dry-run)' : 'Steps run'}:`,
    ...plan.steps.map((s, i) => `  ${i + 1}. ${describeStep(s)}`),
    '',
    `Publish with: ${plan.pushHint}`,
  ].join('\n');
}

export const releaseCommand: CommandModule = {
  register(program, io) {
    addVersionOptions(
      program
        .command('release')
        .summary('write the CHANGELOG section and the annotated v* tag for the next version')
        .description(
          `Computes the next version (see \`itsctl version --help\`), prepends its section to CHANGELOG.md
(grouped by type, breaking changes first), commits it and creates the annotated tag. It never pushes.
Refuses to run on a dirty working tree or a shallow clone. --dry-run shows everything and writes nothing.`,
        )
        .option('--dry-run', 'show the changelog section and the git steps; write nothing'),
    )
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl release --dry-run
  $ itsctl release && git push --atomic origin HEAD refs/tags/v1.3.0
  $ itsctl release --branch develop --dry-run --json`,
      )
      .action(async (options: ReleaseOptions, command) => {
        // Loaded here, not at the top, so registering every command stays cheap (`itsctl --help`).
        const { createGit, planRelease, readBuildTime, readRepoUrl, resolveVersion } =
          await import('@its/versioning');
        const dryRun = options.dryRun === true;
        const probe = createGit(io.cwd);
        const { history, plan } = await resolveVersion(probe, io.env, options, !dryRun);
        if (dryRun && history.dirty.length > 0)
          log(io, `warning: uncommitted changes; a real release would refuse to run`);
        if (plan.next === null || plan.tag === null) {
          log(
            io,
            `nothing to release: no feat, fix, perf or breaking commit since ${history.lastTag ?? 'the first commit'}`,
          );
          writeResult(
            io,
            command,
            { released: false, dryRun, current: plan.current, tag: null, steps: [] },
            '',
          );
          return;
        }
        if (history.existingTags.includes(plan.tag)) {
          throw new ConfigError(`tag ${plan.tag} already exists`, {
            fix: 'add a commit that calls for a release, or choose another version with --release-as',
          });
        }
        const root = await probe(['rev-parse', '--show-toplevel']);
        const git = createGit(root);
        const changelogPath = 'CHANGELOG.md';
        const existing = await readFile(join(root, changelogPath), 'utf8').catch(() => null);
        const repoUrl = await readRepoUrl(git, io.env);
        const releasePlan = planRelease({
          plan: { ...plan, next: plan.next, tag: plan.tag },
          lastTag: history.lastTag,
          existingChangelog: existing,
          changelogPath,
          date: readBuildTime(io.env, io.now).toISOString().slice(0, 10),
          ...(repoUrl !== undefined ? { repoUrl } : {}),
        });
        if (!dryRun) {
          for (const step of releasePlan.steps) {
            log(io, `→ ${describeStep(step)}`);
            if (step.kind === 'write-file') await writeFile(join(root, step.path), step.content);
            else await git(step.args);
          }
        }
        writeResult(
          io,
          command,
          {
            released: !dryRun,
            dryRun,
            current: plan.current,
            version: releasePlan.version,
            tag: releasePlan.tag,
            changelog: releasePlan.changelogSection,
            steps: releasePlan.steps,
            push: releasePlan.pushHint,
          },
          render(releasePlan, dryRun),
        );
      });
  },
};
