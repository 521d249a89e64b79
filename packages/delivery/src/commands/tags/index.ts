import { appendFile } from 'node:fs/promises';
import { Option } from 'commander';
import { ConfigError } from '@its/core';
import type { ContextSource, LatestPolicy } from '@its/versioning';
import { type CommandModule, collect, log, writeResult } from '../../cli/io.js';

interface TagsOptions {
  images?: string[];
  tags?: string[];
  flavor?: string[];
  labels?: string[];
  annotations?: string[];
  sepTags: string;
  sepLabels: string;
  sepAnnotations: string;
  target?: string;
  variantLatest?: boolean;
  latestPolicy?: LatestPolicy;
  ref?: string;
  sha?: string;
  event?: string;
  defaultBranch?: string;
  context?: ContextSource;
  githubOutput?: boolean;
  print: 'tags' | 'labels' | 'annotations' | 'version';
}

/** `\n` typed on a command line means a newline, as in the action's sep-* inputs written in YAML. */
const unescape = (sep: string): string => sep.replace(/\\n/g, '\n').replace(/\\t/g, '\t');

/** Heredoc syntax for $GITHUB_OUTPUT, so multi-line values survive. */
function githubOutputBlock(name: string, value: string): string {
  const delimiter = `ITSCTL_${name.toUpperCase().replace(/[^A-Z]/g, '_')}_EOF`;
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

export const tagsCommand: CommandModule = {
  register(program, io) {
    program
      .command('tags')
      .summary('compute image tags and OCI labels (docker/metadata-action rules)')
      .description(
        `Computes image tags and OCI labels with docker/metadata-action's rule language and semantics.
Without --tags it uses our default scheme: a v1.2.3 tag push gives v1.2.3, v1.2.3-production,
v1.2.3-gpu, v1.2.3-edge and latest. The git context comes from GitHub Actions' variables
(GITHUB_EVENT_NAME, GITHUB_REF, GITHUB_SHA, GITHUB_EVENT_PATH, GITHUB_REPOSITORY…) on a runner
(GITHUB_ACTIONS=true), otherwise from the local repository; a runner's event without GITHUB_REF
has no ref, so only rules that need none apply. SOURCE_DATE_EPOCH sets the timestamp.`,
      )
      .option(
        '--images <list>',
        'image names, comma/newline separated or name=…,enable=… (repeatable; default: $DOCKER_REGISTRY/$IMAGE_NAME when set)',
        collect,
      )
      .option(
        '--tags <rules>',
        'tag rules, one per line, e.g. "type=semver,pattern={{version}}" (repeatable)',
        collect,
      )
      .option(
        '--flavor <entries>',
        'latest=auto|true|false, prefix=…, suffix=…, onlatest=true|false (repeatable)',
        collect,
      )
      .option(
        '--labels <list>',
        'extra labels key=value, one per line; override the OCI defaults (repeatable)',
        collect,
      )
      .option('--annotations <list>', 'extra annotations key=value, one per line (repeatable)', collect)
      .option('--sep-tags <sep>', 'separator between tags in text output', '\\n')
      .option('--sep-labels <sep>', 'separator between labels in text output', '\\n')
      .option('--sep-annotations <sep>', 'separator between annotations in text output', '\\n')
      .option(
        '--target <target>',
        'tags of one Dockerfile target only (production, gpu-production, edge, development, testing)',
      )
      .option('--variant-latest', 'also tag latest-gpu, latest-edge… when this is the highest release')
      .addOption(
        new Option(
          '--latest-policy <policy>',
          'who gets latest: the last push (the action) or the highest release',
        ).choices(['push', 'highest']),
      )
      .option('--ref <ref>', 'git ref instead of the detected one, e.g. refs/tags/v1.2.3')
      .option('--sha <sha>', 'commit instead of the detected one')
      .option('--event <name>', 'event name instead of the detected one (push, pull_request, schedule…)')
      .option('--default-branch <branch>', 'the default branch, for type=edge and {{is_default_branch}}')
      .addOption(
        new Option(
          '--context <source>',
          "where the event, ref and commit come from, as the action's context input (default: workflow on a runner, else git)",
        ).choices(['workflow', 'git']),
      )
      .addOption(
        new Option('--print <what>', 'what the text output shows')
          .choices(['tags', 'labels', 'annotations', 'version'])
          .default('tags'),
      )
      .option('--github-output', 'also write tags, labels, annotations, version and json to $GITHUB_OUTPUT')
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl tags                                       tags for the current commit, one per line
  $ itsctl tags --ref refs/tags/v1.2.3 --json         what a v1.2.3 tag push would produce
  $ itsctl tags --target gpu-production --variant-latest
  $ itsctl tags --images ghcr.io/acme/app --tags "type=ref,event=branch" --tags "type=sha,format=long"
  $ itsctl tags --tags "type=schedule,pattern={{date 'YYYYMMDD' tz='Asia/Tokyo'}}" --event schedule
  $ itsctl tags --flavor "latest=false" --flavor "prefix=app-,onlatest=true"

Rule types and default priorities: schedule 1000, semver 900, pep440 900, match 800, edge 700,
ref 600, raw 200, sha 100 (the highest-priority tag is the main version).`,
      )
      .action(async (options: TagsOptions, command) => {
        // Loaded here, not at the top, so registering every command stays cheap (`itsctl --help`).
        const { createGit, planImageTags, readBuildTime, readExistingTags, readTagContext } =
          await import('@its/versioning');
        const git = createGit(io.cwd);
        const context = await readTagContext(io.env, git, {
          ...(options.ref !== undefined ? { ref: options.ref } : {}),
          ...(options.sha !== undefined ? { sha: options.sha } : {}),
          ...(options.event !== undefined ? { eventName: options.event } : {}),
          ...(options.defaultBranch !== undefined ? { defaultBranch: options.defaultBranch } : {}),
          ...(options.context !== undefined ? { source: options.context } : {}),
        });
        const shortShaLength = io.env.DOCKER_METADATA_SHORT_SHA_LENGTH;
        if (shortShaLength !== undefined && !/^\d+$/.test(shortShaLength)) {
          throw new ConfigError(`DOCKER_METADATA_SHORT_SHA_LENGTH: '${shortShaLength}' is not a number`, {
            fix: 'set it to a length such as 12, or unset it (7 by default)',
          });
        }
        const envImage = io.env.IMAGE_NAME
          ? [io.env.DOCKER_REGISTRY ? `${io.env.DOCKER_REGISTRY}/${io.env.IMAGE_NAME}` : io.env.IMAGE_NAME]
          : [];
        const plan = planImageTags(
          {
            context,
            images: options.images ?? envImage,
            ...(options.tags !== undefined ? { tags: options.tags } : {}),
            ...(options.flavor !== undefined ? { flavor: options.flavor } : {}),
            labels: options.labels ?? [],
            annotations: options.annotations ?? [],
            ...(options.target !== undefined ? { target: options.target } : {}),
            ...(options.variantLatest ? { variantLatest: true } : {}),
            ...(options.latestPolicy !== undefined ? { latestPolicy: options.latestPolicy } : {}),
            existingTags: await readExistingTags(git),
          },
          {
            now: readBuildTime(io.env, io.now),
            ...(shortShaLength !== undefined ? { shortShaLength: Number(shortShaLength) } : {}),
            ...(io.env.DOCKER_METADATA_ANNOTATIONS_LEVELS
              ? {
                  annotationLevels: io.env.DOCKER_METADATA_ANNOTATIONS_LEVELS.split(',').map((l) => l.trim()),
                }
              : {}),
          },
        );
        for (const warning of plan.warnings) log(io, `warning: ${warning}`);
        if (plan.tags.length === 0) {
          log(
            io,
            context.ref === ''
              ? `no tags: this GitHub Actions run has no git reference (GITHUB_REF is not set for event '${context.eventName}'), and no rule that needs none gave a tag`
              : `no tag rule applies to ${context.ref} (event ${context.eventName})`,
          );
        }

        const document = {
          version: plan.version,
          tags: plan.tags,
          labels: plan.labels,
          annotations: plan.annotations,
          target: plan.target,
          latest: plan.latestDecision,
          context: {
            eventName: context.eventName,
            ref: context.ref,
            sha: context.sha,
            defaultBranch: context.defaultBranch,
          },
        };
        if (options.githubOutput) {
          const path = io.env.GITHUB_OUTPUT;
          if (!path)
            throw new ConfigError('--github-output: GITHUB_OUTPUT is not set', {
              fix: 'run inside GitHub Actions or set GITHUB_OUTPUT to a file',
            });
          await appendFile(
            path,
            [
              githubOutputBlock('version', plan.version.main ?? ''),
              githubOutputBlock('tags', plan.tags.join('\n')),
              githubOutputBlock('labels', plan.labels.join('\n')),
              githubOutputBlock('annotations', plan.annotations.join('\n')),
              githubOutputBlock('json', JSON.stringify(document)),
            ].join(''),
          );
        }
        const text = {
          tags: () => plan.tags.join(unescape(options.sepTags)),
          labels: () => plan.labels.join(unescape(options.sepLabels)),
          annotations: () => plan.annotations.join(unescape(options.sepAnnotations)),
          version: () => plan.version.main ?? '',
        }[options.print]();
        writeResult(io, command, document, text);
      });
  },
};
