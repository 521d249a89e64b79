import { parse } from 'csv-parse/sync';
import { UsageError } from '@its/core';
import { captureGroupCount, compileMatchPattern } from './match-pattern.js';

/**
 * Parsing of docker/metadata-action's inputs: `images`, `tags` rules and `flavor`, with the action's
 * syntax (comma-separated attributes, CSV quoting so a value may contain a comma), defaults and default
 * priorities. Stricter than the action in one way: an attribute the rule type does not know is an error
 * naming it, because the action silently ignores a typo such as `patern=`.
 */

export const RULE_TYPES = ['schedule', 'semver', 'pep440', 'match', 'edge', 'ref', 'raw', 'sha'] as const;
export type RuleType = (typeof RULE_TYPES)[number];
export const REF_EVENTS = ['branch', 'tag', 'pr'] as const;
export type RefEvent = (typeof REF_EVENTS)[number];

/** The action's default priorities: a higher priority rule gives the main version (the first tag). */
export const DEFAULT_PRIORITIES: Readonly<Record<RuleType, number>> = {
  schedule: 1000,
  semver: 900,
  pep440: 900,
  match: 800,
  edge: 700,
  ref: 600,
  raw: 200,
  sha: 100,
};

/** The action's rules when `tags` is empty. */
export const ACTION_DEFAULT_RULES: readonly string[] = [
  'type=schedule',
  'type=ref,event=branch',
  'type=ref,event=tag',
  'type=ref,event=pr',
];

interface RuleBase {
  /** The rule as written, for messages. */
  source: string;
  /** `true`, `false`, or an expression such as `{{is_default_branch}}`; evaluated at compute time. */
  enable: string;
  priority: number;
  /** Present (even empty) overrides the flavor's prefix/suffix, as in the action. */
  prefix?: string;
  suffix?: string;
}

export type TagRule =
  | (RuleBase & { type: 'schedule'; pattern: string })
  | (RuleBase & {
      type: 'semver' | 'pep440';
      pattern: string;
      value: string;
      /** A regular expression whose first group is the version; '' when none. */
      match: string;
    })
  | (RuleBase & { type: 'match'; pattern: string; group: string; value: string })
  | (RuleBase & { type: 'edge'; branch: string })
  | (RuleBase & { type: 'ref'; event: RefEvent })
  | (RuleBase & { type: 'raw'; value: string })
  | (RuleBase & { type: 'sha'; format: 'short' | 'long' });

const COMMON_ATTRS = ['type', 'enable', 'priority', 'prefix', 'suffix'];
const TYPE_ATTRS: Record<RuleType, string[]> = {
  schedule: ['pattern'],
  semver: ['pattern', 'value', 'match'],
  pep440: ['pattern', 'value', 'match'],
  match: ['pattern', 'group', 'value'],
  edge: ['branch'],
  ref: ['event'],
  raw: ['value'],
  sha: ['format'],
};

export interface Flavor {
  latest: 'auto' | 'true' | 'false';
  prefix: string;
  prefixLatest: boolean;
  suffix: string;
  suffixLatest: boolean;
}

export interface ImageEntry {
  name: string;
  enable: boolean;
}

function splitFields(entry: string, where: string): string[] {
  try {
    const records = parse(entry, {
      relaxColumnCount: true,
      skipEmptyLines: true,
      relaxQuotes: true,
    }) as string[][];
    return records[0] ?? [];
  } catch (error) {
    throw new UsageError(`${where}: cannot parse '${entry}': ${(error as Error).message}`, {
      fix: 'separate attributes with commas; quote a whole attribute that contains a comma: "value=a,b"',
    });
  }
}

/** `key=value` → [key, value]; the key is case-insensitive, only the first '=' splits. */
function splitAttribute(field: string): [string, string] | [string] {
  const at = field.indexOf('=');
  if (at <= 0) return [field.trim()];
  return [field.slice(0, at).trim().toLowerCase(), field.slice(at + 1).trim()];
}

/**
 * Splits a multi-line input as the action's getInputList does for tags, flavor and labels: one entry
 * per line (commas stay inside the entry: they separate a rule's attributes), `#` starts a comment line.
 */
export function splitLines(values: readonly string[]): string[] {
  return values
    .flatMap((value) => value.split(/\r?\n/))
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

export function parseTagRule(source: string): TagRule {
  const where = `tags: rule '${source}'`;
  // No prototype: an attribute named __proto__ or constructor is an unknown attribute like any other.
  const attrs = Object.create(null) as Record<string, string>;
  let type: RuleType = 'raw';
  for (const field of splitFields(source, where)) {
    const parts = splitAttribute(field);
    if (parts.length === 1) {
      attrs.value = parts[0];
      continue;
    }
    const [key, value] = parts;
    if (key === 'type') {
      if (!(RULE_TYPES as readonly string[]).includes(value)) {
        throw new UsageError(`${where}: unknown type '${value}'`, {
          fix: `type is one of ${RULE_TYPES.join(', ')}`,
        });
      }
      type = value as RuleType;
    } else {
      attrs[key] = value;
    }
  }
  const known = [...COMMON_ATTRS, ...TYPE_ATTRS[type]];
  for (const key of Object.keys(attrs)) {
    if (!known.includes(key)) {
      throw new UsageError(`${where}: unknown attribute '${key}' for type=${type}`, {
        fix: `type=${type} accepts ${known.filter((k) => k !== 'type').join(', ')}`,
      });
    }
  }
  const priorityText = attrs.priority ?? String(DEFAULT_PRIORITIES[type]);
  if (!/^-?\d+$/.test(priorityText)) {
    throw new UsageError(`${where}: priority '${priorityText}' is not an integer`, {
      fix: `write priority=<integer>; the default for type=${type} is ${DEFAULT_PRIORITIES[type]}`,
    });
  }
  const base: RuleBase = { source, enable: attrs.enable ?? 'true', priority: Number(priorityText) };
  if (attrs.prefix !== undefined) base.prefix = attrs.prefix;
  if (attrs.suffix !== undefined) base.suffix = attrs.suffix;
  const missing = (attr: string, example: string): UsageError =>
    new UsageError(`${where}: missing ${attr} attribute`, { fix: `add ${attr}=…, for example ${example}` });

  switch (type) {
    case 'schedule':
      return { ...base, type, pattern: attrs.pattern ?? 'nightly' };
    case 'semver':
    case 'pep440':
      if (attrs.pattern === undefined) throw missing('pattern', `type=${type},pattern={{version}}`);
      if (attrs.match !== undefined && attrs.match !== '') {
        // Refused here, as type=match's pattern is: guarded against backtracking, and with a group.
        const regexp = compileMatchPattern(attrs.match, where, { attribute: 'match' });
        if (captureGroupCount(regexp) === 0) {
          throw new UsageError(`${where}: match '${attrs.match}' has no capture group`, {
            fix: 'put the version in the first group: "match=v(\\d+\\.\\d+\\.\\d+)$"',
          });
        }
      }
      return { ...base, type, pattern: attrs.pattern, value: attrs.value ?? '', match: attrs.match ?? '' };
    case 'match': {
      if (attrs.pattern === undefined) throw missing('pattern', 'type=match,pattern=\\d.\\d.\\d');
      // Refused here, not when a tag push first reaches it: a branch build must fail on it too.
      compileMatchPattern(attrs.pattern, where);
      const group = attrs.group ?? '0';
      if (group.trim() === '' || Number.isNaN(Number(group))) {
        throw new UsageError(`${where}: group '${group}' is not a number`, {
          fix: 'write group=<capture group index>',
        });
      }
      return { ...base, type, pattern: attrs.pattern, group, value: attrs.value ?? '' };
    }
    case 'edge':
      return { ...base, type, branch: attrs.branch ?? '' };
    case 'ref': {
      const event = attrs.event;
      if (event === undefined) throw missing('event', 'type=ref,event=branch');
      if (!(REF_EVENTS as readonly string[]).includes(event)) {
        throw new UsageError(`${where}: unknown event '${event}'`, {
          fix: `event is one of ${REF_EVENTS.join(', ')}`,
        });
      }
      if (event === 'pr' && base.prefix === undefined) base.prefix = 'pr-';
      return { ...base, type, event: event as RefEvent };
    }
    case 'raw':
      if (attrs.value === undefined) throw missing('value', 'type=raw,value=stable');
      return { ...base, type, value: attrs.value };
    case 'sha': {
      if (base.prefix === undefined) base.prefix = 'sha-';
      const format = attrs.format ?? 'short';
      if (format !== 'short' && format !== 'long') {
        throw new UsageError(`${where}: unknown format '${format}'`, { fix: 'format is short or long' });
      }
      return { ...base, type, format };
    }
  }
}

/** Parses the rules (the action's defaults when none) and sorts them by priority, highest first, stably. */
export function parseTagRules(entries: readonly string[]): TagRule[] {
  const rules = (entries.length === 0 ? ACTION_DEFAULT_RULES : entries).map(parseTagRule);
  return rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => b.rule.priority - a.rule.priority || a.index - b.index)
    .map(({ rule }) => rule);
}

export function parseFlavor(entries: readonly string[]): Flavor {
  const flavor: Flavor = { latest: 'auto', prefix: '', prefixLatest: false, suffix: '', suffixLatest: false };
  for (const entry of entries) {
    const where = `flavor: entry '${entry}'`;
    let onlatestFor: 'prefix' | 'suffix' | undefined;
    for (const field of splitFields(entry, where)) {
      const parts = splitAttribute(field);
      if (parts.length === 1) {
        throw new UsageError(`${where}: '${parts[0]}' is not key=value`, {
          fix: 'write latest=auto|true|false, prefix=…, suffix=…, onlatest=true|false',
        });
      }
      const [key, value] = parts;
      switch (key) {
        case 'latest':
          if (value !== 'auto' && value !== 'true' && value !== 'false') {
            throw new UsageError(`${where}: latest='${value}'`, { fix: 'latest is auto, true or false' });
          }
          flavor.latest = value;
          break;
        case 'prefix':
          flavor.prefix = value;
          onlatestFor = 'prefix';
          break;
        case 'suffix':
          flavor.suffix = value;
          onlatestFor = 'suffix';
          break;
        case 'onlatest':
          if (value !== 'true' && value !== 'false') {
            throw new UsageError(`${where}: onlatest='${value}'`, { fix: 'onlatest is true or false' });
          }
          // As in the action, onlatest applies to the prefix or suffix written just before it.
          if (onlatestFor === 'prefix') flavor.prefixLatest = value === 'true';
          if (onlatestFor === 'suffix') flavor.suffixLatest = value === 'true';
          break;
        default:
          throw new UsageError(`${where}: unknown key '${key}'`, {
            fix: 'flavor keys are latest, prefix, suffix, onlatest',
          });
      }
    }
  }
  return flavor;
}

/** Image entries: plain names (comma or newline separated) or `name=…,enable=…` lines. */
export function parseImages(lines: readonly string[]): ImageEntry[] {
  const entries: ImageEntry[] = [];
  for (const raw of lines) {
    for (const line of raw.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const where = `images: entry '${trimmed}'`;
      const fields = splitFields(trimmed, where)
        .map((f) => f.trim())
        .filter((f) => f !== '');
      if (!fields.some((f) => f.includes('='))) {
        entries.push(...fields.map((name) => ({ name, enable: true })));
        continue;
      }
      const image: ImageEntry = { name: '', enable: true };
      for (const field of fields) {
        const parts = splitAttribute(field);
        if (parts.length === 1) image.name = parts[0];
        else if (parts[0] === 'name') image.name = parts[1];
        else if (parts[0] === 'enable') {
          if (parts[1] !== 'true' && parts[1] !== 'false') {
            throw new UsageError(`${where}: enable='${parts[1]}'`, { fix: 'enable is true or false' });
          }
          image.enable = parts[1] === 'true';
        } else {
          throw new UsageError(`${where}: unknown attribute '${parts[0]}'`, {
            fix: 'image attributes are name and enable',
          });
        }
      }
      if (image.name === '')
        throw new UsageError(`${where}: empty image name`, { fix: 'write name=registry/owner/app' });
      entries.push(image);
    }
  }
  return entries;
}
