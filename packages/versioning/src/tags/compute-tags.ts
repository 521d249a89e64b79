import * as pep440 from '@renovatebot/pep440';
import semver from 'semver';
import { UsageError } from '@its/core';
import { type ArgValue, type Helpers, isRawStatement, renderExpressions } from './expressions.js';
import { formatDate } from './format-date.js';
import { compileMatchPattern, matchBounded } from './match-pattern.js';
import {
  type Flavor,
  type TagRule,
  parseFlavor,
  parseImages,
  parseTagRules,
  splitLines,
} from './parse-rules.js';

/**
 * docker/metadata-action's computation, as a pure function of a context and the inputs: which rule
 * applies to which git reference, the main version, the partial versions, whether `latest` is added,
 * sanitisation, and the OCI labels. Nothing here reads the environment, git or the clock.
 */

export interface RepoInfo {
  name?: string;
  description?: string;
  /** https://github.com/owner/repo: the url and source labels. */
  htmlUrl?: string;
  /** SPDX identifier: the licenses label. */
  license?: string;
}

export interface TagContext {
  /** GitHub event name: push, pull_request, schedule, workflow_dispatch… */
  eventName: string;
  /**
   * refs/heads/<branch>, refs/tags/<tag> or refs/pull/<n>/merge; '' when the run has none (a GitHub
   * event without GITHUB_REF): rules that read the reference then give nothing, as in the action.
   */
  ref: string;
  sha: string;
  commitDate?: Date;
  defaultBranch: string;
  /** A push event's base_ref (refs/heads/…), for {{base_ref}} on tag pushes. */
  baseRef?: string;
  /** A pull request's base branch, for {{base_ref}} on pull requests. */
  pullRequestBaseRef?: string;
  repo: RepoInfo;
}

export interface TagInputs {
  images: readonly string[];
  tags: readonly string[];
  flavor: readonly string[];
  labels: readonly string[];
  annotations: readonly string[];
}

export interface ComputeOptions {
  /** The build's timestamp: {{date}} and the created label. */
  now: Date;
  /** DOCKER_METADATA_SHORT_SHA_LENGTH; 7 by default as in the action. */
  shortShaLength?: number;
  /** DOCKER_METADATA_ANNOTATIONS_LEVELS; `manifest` by default as in the action. */
  annotationLevels?: readonly string[];
  /** Time limit of one type=match rule's match; MATCH_TIMEOUT_MS (1 s) by default. */
  matchTimeoutMs?: number;
}

export interface VersionInfo {
  main: string | null;
  partial: string[];
  latest: boolean;
}

export interface ImageMeta {
  version: VersionInfo;
  /** In the action's order: per image, the main version, the partials, then latest. */
  tags: string[];
  labels: string[];
  annotations: string[];
  images: string[];
  /** What the action prints as warnings: a version that is not semver, a pattern that does not match… */
  warnings: string[];
}

/** Docker's limit on a tag's length. */
export const MAX_TAG_LENGTH = 128;

interface Accumulator {
  main: string | undefined;
  partial: string[];
  latest: boolean | undefined;
}

const TAG_REF = /^refs\/tags\//;
const BRANCH_REF = /^refs\/heads\//;
const PR_REF = /^refs\/pull\//;

/**
 * The action's sanitisation (runs of invalid characters become '-'), plus two repairs the action
 * leaves to `docker push` to reject: no leading '.' or '-', at most 128 characters.
 */
export function sanitizeTag(tag: string, warnings: string[]): string {
  let out = tag.replace(/[^a-zA-Z0-9._-]+/g, '-');
  const trimmed = out.replace(/^[.-]+/, '');
  if (trimmed !== out) {
    warnings.push(`tag '${out}' may not start with '.' or '-': using '${trimmed}'`);
    out = trimmed;
  }
  if (out.length > MAX_TAG_LENGTH) {
    warnings.push(`tag '${out}' is longer than ${MAX_TAG_LENGTH} characters: truncated`);
    out = out.slice(0, MAX_TAG_LENGTH);
  }
  return out;
}

const describeArg = (value: ArgValue): string =>
  typeof value === 'number' ? `${value} is a number` : `${String(value)} is a boolean`;

/**
 * {{date 'FORMAT' tz='Zone'}} and {{commit_date …}}, with moment's reading of the format: text is a
 * format; no value (an unquoted name, null, undefined, false, '') is moment's default format.
 */
function dateHelper(date: Date | undefined, label: string): Helpers[string] {
  return (args, options) => {
    if (args.length === 0) {
      throw new UsageError(`{{${label}}} needs a format`, { fix: `write {{${label} 'YYYYMMDD'}}` });
    }
    if (args.length > 1) {
      throw new UsageError(`{{${label}}} takes one format`, {
        fix: `write the whole format in one quoted string: {{${label} 'YYYYMMDD-HHmm'}}`,
      });
    }
    const [format] = args;
    if (typeof format === 'number' || format === true) {
      throw new UsageError(`{{${label}}}: ${describeArg(format)}, not a format`, {
        fix: `quote the format: {{${label} '${String(format)}'}}`,
      });
    }
    for (const key of Object.keys(options)) {
      if (key !== 'tz')
        throw new UsageError(`{{${label}}}: unknown ${key} attribute`, {
          fix: "only tz='Zone/Name' is accepted",
        });
    }
    const tz = options.tz ?? 'UTC';
    if (typeof tz !== 'string') {
      throw new UsageError(`{{${label}}}: tz=${String(tz)} is not a zone name`, {
        fix: "quote the zone: tz='Asia/Tokyo'",
      });
    }
    if (date === undefined)
      throw new UsageError(`{{${label}}}: no commit date is known`, { fix: 'use {{date}}' });
    return formatDate(date, typeof format === 'string' ? format : undefined, tz);
  };
}

class TagComputation {
  readonly warnings: string[] = [];
  private readonly shortShaLength: number;

  constructor(
    private readonly context: TagContext,
    private readonly flavor: Flavor,
    private readonly options: ComputeOptions,
  ) {
    this.shortShaLength = options.shortShaLength ?? 7;
  }

  shortSha(): string {
    return this.context.sha.slice(0, this.shortShaLength);
  }

  globalHelpers(): Helpers {
    const { context } = this;
    return {
      branch: () => (BRANCH_REF.test(context.ref) ? context.ref.replace(BRANCH_REF, '') : ''),
      tag: () => (TAG_REF.test(context.ref) ? context.ref.replace(TAG_REF, '') : ''),
      sha: () => this.shortSha(),
      base_ref: () => {
        if (TAG_REF.test(context.ref) && context.baseRef !== undefined)
          return context.baseRef.replace(BRANCH_REF, '');
        if (PR_REF.test(context.ref) && context.pullRequestBaseRef !== undefined)
          return context.pullRequestBaseRef;
        return '';
      },
      is_default_branch: () => this.isDefaultBranch(),
      is_not_default_branch: () => (this.isDefaultBranch() === 'true' ? 'false' : 'true'),
      date: dateHelper(this.options.now, 'date'),
      commit_date: dateHelper(context.commitDate, 'commit_date'),
    };
  }

  private isDefaultBranch(): 'true' | 'false' {
    const { context } = this;
    const branch = context.ref.replace(BRANCH_REF, '');
    if (branch === '') return 'false';
    if (branch === context.defaultBranch) return 'true';
    // These events always run on the default branch's last commit (GitHub's documentation).
    return /create|discussion|issues|schedule/.test(context.eventName) ? 'true' : 'false';
  }

  readonly warn = (message: string): void => {
    this.warnings.push(message);
  };

  render(template: string, helpers: Helpers, where: string): string {
    return renderExpressions(template, helpers, where, this.warn);
  }

  expand(template: string, where: string): string {
    return this.render(template, this.globalHelpers(), where);
  }

  /** Prefix and suffix: the rule's own (even empty) win over the flavor's. */
  private decorate(value: string, rule: TagRule): string {
    let out = value;
    if (rule.prefix !== undefined) out = `${this.expand(rule.prefix, `${rule.source}: prefix`)}${out}`;
    else if (this.flavor.prefix !== '') out = `${this.expand(this.flavor.prefix, 'flavor: prefix')}${out}`;
    if (rule.suffix !== undefined) out = `${out}${this.expand(rule.suffix, `${rule.source}: suffix`)}`;
    else if (this.flavor.suffix !== '') out = `${out}${this.expand(this.flavor.suffix, 'flavor: suffix')}`;
    return out;
  }

  /** `auto` means: what this rule type does by default. */
  private latestFor(autoValue: boolean): boolean {
    return this.flavor.latest === 'auto' ? autoValue : this.flavor.latest === 'true';
  }

  private add(acc: Accumulator, value: string, latest: boolean): void {
    if (value.length === 0) return;
    const tag = sanitizeTag(value, this.warnings);
    if (acc.main === undefined) acc.main = tag;
    else if (tag !== acc.main) acc.partial.push(tag);
    if (acc.latest === undefined) acc.latest = latest;
  }

  /** The version a semver/pep440/match rule reads: its value, or the pushed tag's name. */
  private versionSource(rule: TagRule & { value: string }): string | undefined {
    if (rule.value.length > 0) return this.expand(rule.value, `${rule.source}: value`);
    if (!TAG_REF.test(this.context.ref)) return undefined;
    return this.context.ref.replace(TAG_REF, '');
  }

  /**
   * A semver/pep440 rule's version: the source, narrowed to match='s first group when there is one
   * (the action warns and keeps the whole source when it does not match), '/' made '-'.
   */
  private versionOf(rule: TagRule & { type: 'semver' | 'pep440' }): string | undefined {
    let raw = this.versionSource(rule);
    if (raw === undefined) return undefined;
    if (rule.match !== '') {
      const regexp = compileMatchPattern(rule.match, rule.source, { attribute: 'match' });
      const found = matchBounded(regexp, raw, rule.source, this.options.matchTimeoutMs);
      if (found === null) {
        this.warnings.push(`${rule.match} does not match ${raw}.`);
      } else if (found[1] === undefined) {
        this.warnings.push(`the first group of ${rule.match} took no part in matching ${raw}: no version.`);
        return undefined;
      } else {
        raw = found[1];
      }
    }
    return raw.replace(/\//g, '-');
  }

  apply(acc: Accumulator, rule: TagRule): void {
    const enabled = this.expand(rule.enable, `${rule.source}: enable`);
    if (enabled !== 'true' && enabled !== 'false') {
      throw new UsageError(`${rule.source}: enable='${enabled}'`, {
        fix: 'enable must be (or expand to) true or false',
      });
    }
    if (enabled === 'false') return;
    const { context } = this;
    switch (rule.type) {
      case 'schedule': {
        if (!/schedule/.test(context.eventName)) return;
        const helpers: Helpers = {
          date: dateHelper(this.options.now, 'date'),
          commit_date: dateHelper(context.commitDate, 'commit_date'),
        };
        const value = this.render(rule.pattern, helpers, `${rule.source}: pattern`);
        this.add(acc, this.decorate(value, rule), this.latestFor(false));
        return;
      }
      case 'semver': {
        const raw = this.versionOf(rule);
        if (raw === undefined) return;
        if (semver.valid(raw) === null) {
          this.warnings.push(`${raw} is not a valid semver. More info: https://semver.org/`);
          return;
        }
        const parsed = semver.parse(raw, { loose: true });
        /* v8 ignore next -- valid() passed, so parse() cannot fail */
        if (parsed === null) return;
        const helpers: Helpers = {
          raw: () => parsed.raw,
          version: () => parsed.version,
          major: () => parsed.major,
          minor: () => parsed.minor,
          patch: () => parsed.patch,
          prerelease: () => parsed.prerelease.join(','),
          build: () => parsed.build.join(','),
        };
        const where = `${rule.source}: pattern`;
        // A pre-release only ever gives its full version: a `{{major}}` tag must not move to an rc.
        if (parsed.prerelease.length > 0) {
          const pattern = isRawStatement(rule.pattern) ? rule.pattern : '{{version}}';
          this.add(acc, this.decorate(this.render(pattern, helpers, where), rule), this.latestFor(false));
        } else {
          this.add(acc, this.decorate(this.render(rule.pattern, helpers, where), rule), this.latestFor(true));
        }
        return;
      }
      case 'pep440': {
        const raw = this.versionOf(rule);
        if (raw === undefined) return;
        if (pep440.valid(raw) === null) {
          this.warnings.push(
            `${raw} does not conform to PEP 440. More info: https://www.python.org/dev/peps/pep-0440`,
          );
          return;
        }
        const explained = pep440.explain(raw);
        if (
          explained !== null &&
          (explained.is_prerelease || explained.is_postrelease || explained.is_devrelease)
        ) {
          const value = isRawStatement(rule.pattern) ? raw : (pep440.clean(raw) ?? raw);
          this.add(acc, this.decorate(value, rule), this.latestFor(false));
          return;
        }
        const helpers: Helpers = {
          raw: () => raw,
          version: () => pep440.clean(raw) ?? raw,
          major: () => pep440.major(raw),
          minor: () => pep440.minor(raw),
          patch: () => pep440.patch(raw),
        };
        const value = this.render(rule.pattern, helpers, `${rule.source}: pattern`);
        this.add(acc, this.decorate(value, rule), this.latestFor(true));
        return;
      }
      case 'match': {
        const raw = this.versionSource(rule);
        if (raw === undefined) return;
        const regexp = compileMatchPattern(rule.pattern, rule.source);
        const found = matchBounded(regexp, raw, rule.source, this.options.matchTimeoutMs);
        if (found === null) {
          this.warnings.push(`${rule.pattern} does not match ${raw}.`);
          return;
        }
        const group = found[Number(rule.group)];
        if (group === undefined) {
          this.warnings.push(`Group ${rule.group} does not exist for ${rule.pattern} pattern.`);
          return;
        }
        this.add(acc, this.decorate(group, rule), this.latestFor(true));
        return;
      }
      case 'ref': {
        if (rule.event === 'branch') {
          if (!BRANCH_REF.test(context.ref)) return;
          this.add(acc, this.decorate(context.ref.replace(BRANCH_REF, ''), rule), this.latestFor(false));
        } else if (rule.event === 'tag') {
          if (!TAG_REF.test(context.ref)) return;
          this.add(acc, this.decorate(context.ref.replace(TAG_REF, ''), rule), this.latestFor(true));
        } else {
          if (!PR_REF.test(context.ref)) return;
          const pr = context.ref.replace(PR_REF, '').replace(/\/merge$/, '');
          this.add(acc, this.decorate(pr, rule), this.latestFor(false));
        }
        return;
      }
      case 'edge': {
        if (!BRANCH_REF.test(context.ref)) return;
        const branch = rule.branch.length > 0 ? rule.branch : context.defaultBranch;
        if (context.ref.replace(BRANCH_REF, '') !== branch) return;
        this.add(acc, this.decorate('edge', rule), this.latestFor(false));
        return;
      }
      case 'raw':
        this.add(
          acc,
          this.decorate(this.expand(rule.value, `${rule.source}: value`), rule),
          this.latestFor(false),
        );
        return;
      case 'sha': {
        if (context.sha === '') return;
        const value = rule.format === 'short' ? this.shortSha() : context.sha;
        this.add(acc, this.decorate(value, rule), this.latestFor(false));
        return;
      }
    }
  }
}

function toKeyValues(entries: readonly string[]): Array<[string, string]> {
  return entries
    .map((entry) => {
      const at = entry.indexOf('=');
      return at < 0 ? undefined : ([entry.slice(0, at), entry.slice(at + 1)] as [string, string]);
    })
    .filter((pair): pair is [string, string] => pair !== undefined);
}

/** The OCI labels, then the user's (a user label overrides a default one), sorted by key as the action does. */
function ociMetadata(
  computation: TagComputation,
  context: TagContext,
  version: string | undefined,
  now: Date,
  extra: readonly string[],
): string[] {
  const defaults = [
    `org.opencontainers.image.title=${context.repo.name ?? ''}`,
    `org.opencontainers.image.description=${context.repo.description ?? ''}`,
    `org.opencontainers.image.url=${context.repo.htmlUrl ?? ''}`,
    `org.opencontainers.image.source=${context.repo.htmlUrl ?? ''}`,
    `org.opencontainers.image.version=${version ?? ''}`,
    `org.opencontainers.image.created=${now.toISOString()}`,
    `org.opencontainers.image.revision=${context.sha}`,
    `org.opencontainers.image.licenses=${context.repo.license ?? ''}`,
  ];
  const custom = extra.map((entry) => computation.expand(entry, `labels: '${entry}'`));
  const merged = new Map<string, string>(toKeyValues([...defaults, ...custom]));
  return [...merged.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([key, value]) => `${key}=${value}`);
}

export function computeImageMeta(context: TagContext, inputs: TagInputs, options: ComputeOptions): ImageMeta {
  const rules = parseTagRules(splitLines(inputs.tags));
  const flavor = parseFlavor(splitLines(inputs.flavor));
  const images = parseImages(inputs.images)
    .filter((image) => image.enable)
    .map((image) => image.name.toLowerCase());
  const computation = new TagComputation(context, flavor, options);
  if (context.ref === '') {
    computation.warnings.push(
      'no git reference in this context: type=ref, edge, and semver/pep440/match without value= give ' +
        'nothing, {{branch}}, {{tag}} and {{base_ref}} are empty (as in docker/metadata-action)',
    );
  }

  const acc: Accumulator = { main: undefined, partial: [], latest: undefined };
  for (const rule of rules) computation.apply(acc, rule);
  const partial = acc.partial.filter((item, index) => acc.partial.indexOf(item) === index);
  const latest = acc.latest ?? false;

  const tags: string[] = [];
  if (acc.main !== undefined) {
    const latestTag = sanitizeTag(
      `${flavor.prefixLatest ? flavor.prefix : ''}latest${flavor.suffixLatest ? flavor.suffix : ''}`,
      computation.warnings,
    );
    for (const image of images.length > 0 ? images : ['']) {
      const prefix = image === '' ? '' : `${image}:`;
      tags.push(`${prefix}${acc.main}`, ...partial.map((p) => `${prefix}${p}`));
      if (latest) tags.push(`${prefix}${latestTag}`);
    }
  }

  const labels = ociMetadata(computation, context, acc.main, options.now, splitLines(inputs.labels));
  const annotationBase = ociMetadata(
    computation,
    context,
    acc.main,
    options.now,
    splitLines(inputs.annotations),
  );
  const annotations = (options.annotationLevels ?? ['manifest']).flatMap((level) =>
    annotationBase.map((annotation) => `${level}:${annotation}`),
  );

  return {
    version: { main: acc.main ?? null, partial, latest },
    tags,
    labels,
    annotations,
    images,
    warnings: computation.warnings,
  };
}
