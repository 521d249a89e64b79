import { describe, expect, it } from 'vitest';
import { type TagContext, type TagInputs, computeImageMeta, sanitizeTag } from '../src/tags/compute-tags.js';

const SHA = '860c1904a1ce19322e91ac35af1ab07466440c37';
const NOW = new Date('2020-01-10T20:30:45.123Z');

function ctx(ref: string, extra: Partial<TagContext> = {}): TagContext {
  return { eventName: 'push', ref, sha: SHA, defaultBranch: 'master', repo: {}, ...extra };
}

function inputs(tags: string[], extra: Partial<TagInputs> = {}): TagInputs {
  return { images: ['user/app'], tags, flavor: [], labels: [], annotations: [], ...extra };
}

interface Case {
  name: string;
  context: TagContext;
  input: TagInputs;
  main: string | null;
  partial?: string[];
  latest?: boolean;
  tags?: string[];
  warning?: RegExp;
  shortShaLength?: number;
}

const cases: Case[] = [
  // the action's default rules (no tags input)
  {
    name: 'defaults: branch push',
    context: ctx('refs/heads/master'),
    input: inputs([]),
    main: 'master',
    latest: false,
    tags: ['user/app:master'],
  },
  {
    name: 'defaults: tag push gives latest',
    context: ctx('refs/tags/v1.1.1'),
    input: inputs([]),
    main: 'v1.1.1',
    latest: true,
    tags: ['user/app:v1.1.1', 'user/app:latest'],
  },
  {
    name: 'defaults: pull request',
    context: ctx('refs/pull/15/merge', { eventName: 'pull_request' }),
    input: inputs([]),
    main: 'pr-15',
    latest: false,
  },
  {
    name: 'defaults: schedule is nightly (wins by priority)',
    context: ctx('refs/heads/master', { eventName: 'schedule' }),
    input: inputs([]),
    main: 'nightly',
    partial: ['master'],
    latest: false,
  },

  // type=schedule
  {
    name: 'schedule: date pattern',
    context: ctx('refs/heads/master', { eventName: 'schedule' }),
    input: inputs(["type=schedule,pattern={{date 'YYYYMMDD'}}"]),
    main: '20200110',
  },
  {
    name: 'schedule: date with tz',
    context: ctx('refs/heads/master', { eventName: 'schedule' }),
    input: inputs(["type=schedule,pattern={{date 'YYYYMMDD-HHmm' tz='Asia/Tokyo'}}"]),
    main: '20200111-0530',
  },
  {
    name: 'schedule: not a schedule event',
    context: ctx('refs/heads/master'),
    input: inputs(['type=schedule']),
    main: null,
    tags: [],
  },
  {
    name: 'schedule: latest=auto never adds latest',
    context: ctx('refs/heads/master', { eventName: 'schedule' }),
    input: inputs(['type=schedule']),
    main: 'nightly',
    latest: false,
  },

  // type=semver
  {
    name: 'semver: version',
    context: ctx('refs/tags/v1.2.3'),
    input: inputs(['type=semver,pattern={{version}}']),
    main: '1.2.3',
    latest: true,
  },
  {
    name: 'semver: version, major.minor, major',
    context: ctx('refs/tags/v1.2.3'),
    input: inputs([
      'type=semver,pattern={{version}}',
      'type=semver,pattern={{major}}.{{minor}}',
      'type=semver,pattern={{major}}',
    ]),
    main: '1.2.3',
    partial: ['1.2', '1'],
    latest: true,
    tags: ['user/app:1.2.3', 'user/app:1.2', 'user/app:1', 'user/app:latest'],
  },
  {
    name: 'semver: raw keeps the v',
    context: ctx('refs/tags/v1.2.3'),
    input: inputs(['type=semver,pattern={{raw}}']),
    main: 'v1.2.3',
  },
  {
    name: 'semver: a pre-release only gives its full version, no latest',
    context: ctx('refs/tags/v2.0.8-beta.67'),
    input: inputs(['type=semver,pattern={{version}}', 'type=semver,pattern={{major}}.{{minor}}']),
    main: '2.0.8-beta.67',
    partial: [],
    latest: false,
  },
  {
    name: 'semver: pre-release with {{raw}}',
    context: ctx('refs/tags/v2.0.8-beta.67'),
    input: inputs(['type=semver,pattern={{raw}}']),
    main: 'v2.0.8-beta.67',
  },
  {
    name: 'semver: pre-release with prefix keeps it',
    context: ctx('refs/tags/v1.3.0-rc.1'),
    input: inputs(['type=semver,pattern={{version}},prefix=v']),
    main: 'v1.3.0-rc.1',
    latest: false,
  },
  {
    name: 'semver: not semver → warning, no tag',
    context: ctx('refs/tags/release1'),
    input: inputs(['type=semver,pattern={{version}}']),
    main: null,
    warning: /release1 is not a valid semver/,
  },
  {
    name: 'semver: value on a branch push',
    context: ctx('refs/heads/master'),
    input: inputs(['type=semver,pattern={{major}}.{{minor}},value=v3.4.5']),
    main: '3.4',
    latest: true,
  },
  {
    name: 'semver: branch push without value',
    context: ctx('refs/heads/master'),
    input: inputs(['type=semver,pattern={{version}}']),
    main: null,
  },
  {
    name: 'semver: 0.x major',
    context: ctx('refs/tags/v0.4.1'),
    input: inputs(['type=semver,pattern={{major}}']),
    main: '0',
  },

  // type=pep440
  {
    name: 'pep440: final',
    context: ctx('refs/tags/1.2.3'),
    input: inputs(['type=pep440,pattern={{version}}', 'type=pep440,pattern={{major}}.{{minor}}']),
    main: '1.2.3',
    partial: ['1.2'],
    latest: true,
  },
  {
    name: 'pep440: pre-release normalised',
    context: ctx('refs/tags/v1.2.3rc1'),
    input: inputs(['type=pep440,pattern={{major}}.{{minor}}']),
    main: '1.2.3rc1',
    latest: false,
  },
  {
    name: 'pep440: pre-release raw',
    context: ctx('refs/tags/v1.2.3.rc1'),
    input: inputs(['type=pep440,pattern={{raw}}']),
    main: 'v1.2.3.rc1',
  },
  {
    name: 'pep440: invalid',
    context: ctx('refs/tags/foo-bar'),
    input: inputs(['type=pep440,pattern={{version}}']),
    main: null,
    warning: /does not conform to PEP 440/,
  },
  {
    name: 'pep440: post and dev releases',
    context: ctx('refs/tags/1.2.3.post1'),
    input: inputs(['type=pep440,pattern={{major}}']),
    main: '1.2.3.post1',
    latest: false,
  },

  // match= on semver and pep440: the first group of the expression is the version.
  {
    name: 'semver: match= reads the version out of p1/v1.0.0',
    context: ctx('refs/tags/p1/v1.0.0'),
    input: inputs(['type=semver,pattern={{version}},"match=v(\\d.\\d.\\d)$"']),
    main: '1.0.0',
    latest: true,
    tags: ['user/app:1.0.0', 'user/app:latest'],
  },
  {
    name: 'semver: match= on a value, pre-release kept whole',
    context: ctx('refs/heads/main'),
    input: inputs(['type=semver,pattern={{major}},value=app/v2.0.0-rc.1,"match=v(.*)"']),
    main: '2.0.0-rc.1',
    latest: false,
  },
  {
    name: 'pep440: match= reads the version out of a value',
    context: ctx('refs/heads/main'),
    input: inputs(['type=pep440,pattern={{major}}.{{minor}},value=p1/v1.2.3,"match=v(\\d.\\d.\\d)$"']),
    main: '1.2',
    latest: true,
  },
  {
    name: 'semver: match= that does not match warns and reads the whole tag, as the action does',
    context: ctx('refs/tags/v1.2.3'),
    input: inputs(['type=semver,pattern={{version}},match=^release-(.*)']),
    main: '1.2.3',
    warning: /\^release-\(\.\*\) does not match v1\.2\.3/,
  },
  {
    name: 'semver: match= whose first group takes no part gives no version, with a warning',
    context: ctx('refs/tags/v1.2.3'),
    input: inputs(['type=semver,pattern={{version}},"match=^v(x)?(\\d.*)"']),
    main: null,
    warning: /first group of .* took no part in matching v1\.2\.3/,
  },

  // type=match
  {
    name: 'match: whole match',
    context: ctx('refs/tags/v1.2.3-beta'),
    input: inputs(['type=match,pattern=\\d.\\d.\\d']),
    main: '1.2.3',
    latest: true,
  },
  {
    name: 'match: group',
    context: ctx('refs/tags/app-v1.2.3'),
    input: inputs(['type=match,pattern=app-v(\\d.\\d),group=1']),
    main: '1.2',
  },
  {
    name: 'match: /regex/flags',
    context: ctx('refs/tags/APP-1.0'),
    input: inputs(['type=match,pattern=/app-(.*)/i,group=1']),
    main: '1.0',
  },
  {
    name: 'match: no match → warning',
    context: ctx('refs/tags/v1.2.3'),
    input: inputs(['type=match,pattern=^x']),
    main: null,
    warning: /does not match v1.2.3/,
  },
  {
    name: 'match: missing group → warning',
    context: ctx('refs/tags/v1.2.3'),
    input: inputs(['type=match,pattern=v\\d,group=3']),
    main: null,
    warning: /Group 3 does not exist/,
  },
  {
    name: 'match: value on a branch',
    context: ctx('refs/heads/dev'),
    input: inputs(['type=match,pattern=\\d+,value=build-42']),
    main: '42',
  },
  {
    name: 'match: branch without value',
    context: ctx('refs/heads/dev'),
    input: inputs(['type=match,pattern=\\d+']),
    main: null,
  },

  // type=edge
  {
    name: 'edge: default branch',
    context: ctx('refs/heads/master'),
    input: inputs(['type=edge']),
    main: 'edge',
    latest: false,
  },
  { name: 'edge: other branch', context: ctx('refs/heads/dev'), input: inputs(['type=edge']), main: null },
  {
    name: 'edge: branch attribute',
    context: ctx('refs/heads/dev'),
    input: inputs(['type=edge,branch=dev']),
    main: 'edge',
  },
  { name: 'edge: tag push', context: ctx('refs/tags/v1.0.0'), input: inputs(['type=edge']), main: null },

  // type=ref
  {
    name: 'ref branch: invalid characters sanitised',
    context: ctx('refs/heads/feature/my#feat'),
    input: inputs(['type=ref,event=branch']),
    main: 'feature-my-feat',
  },
  {
    name: 'ref branch: not on a tag',
    context: ctx('refs/tags/v1.0.0'),
    input: inputs(['type=ref,event=branch']),
    main: null,
  },
  {
    name: 'ref tag',
    context: ctx('refs/tags/release/2024'),
    input: inputs(['type=ref,event=tag']),
    main: 'release-2024',
    latest: true,
  },
  {
    name: 'ref tag: not on a branch',
    context: ctx('refs/heads/x'),
    input: inputs(['type=ref,event=tag']),
    main: null,
  },
  {
    name: 'ref pr: default prefix',
    context: ctx('refs/pull/42/merge', { eventName: 'pull_request' }),
    input: inputs(['type=ref,event=pr']),
    main: 'pr-42',
  },
  {
    name: 'ref pr: own prefix',
    context: ctx('refs/pull/42/merge', { eventName: 'pull_request' }),
    input: inputs(['type=ref,event=pr,prefix=review-']),
    main: 'review-42',
  },
  {
    name: 'ref pr: not a PR',
    context: ctx('refs/heads/x'),
    input: inputs(['type=ref,event=pr']),
    main: null,
  },

  // type=raw
  {
    name: 'raw: value',
    context: ctx('refs/heads/master'),
    input: inputs(['type=raw,value=foo', 'bar']),
    main: 'foo',
    partial: ['bar'],
  },
  {
    name: 'raw: expressions',
    context: ctx('refs/heads/master'),
    input: inputs(["type=raw,value={{branch}}-{{sha}}-{{date 'YYYY'}}"]),
    main: 'master-860c190-2020',
  },
  {
    name: 'raw: {{tag}} empty on a branch gives no tag',
    context: ctx('refs/heads/master'),
    input: inputs(['type=raw,value={{tag}}']),
    main: null,
  },
  {
    name: 'raw: base_ref on a tag push',
    context: ctx('refs/tags/v1', { baseRef: 'refs/heads/main' }),
    input: inputs(['type=raw,value={{base_ref}}']),
    main: 'main',
  },
  {
    name: 'raw: base_ref on a pull request',
    context: ctx('refs/pull/3/merge', { pullRequestBaseRef: 'develop' }),
    input: inputs(['type=raw,value=into-{{base_ref}}']),
    main: 'into-develop',
  },
  {
    name: 'raw: base_ref elsewhere',
    context: ctx('refs/heads/x'),
    input: inputs(['type=raw,value=b{{base_ref}}']),
    main: 'b',
  },
  {
    name: 'raw: commit_date',
    context: ctx('refs/heads/x', { commitDate: new Date('2019-05-06T07:08:09Z') }),
    input: inputs(["type=raw,value={{commit_date 'YYYY-MM-DD'}}"]),
    main: '2019-05-06',
  },
  {
    name: 'raw: an unquoted format is a Handlebars variable (none): the default format, and a warning',
    context: ctx('refs/heads/x', { commitDate: new Date('2020-01-10T00:30:00Z') }),
    input: inputs(['type=raw,value={{commit_date YYYY-MM-DD-HHmmSS}}']),
    main: '2020-01-10T00-30-00Z',
    warning: /YYYY-MM-DD-HHmmSS is unquoted.*quote it: \{\{commit_date 'YYYY-MM-DD-HHmmSS'\}\}/,
  },
  {
    name: 'raw: an unquoted date format in a zone: the default format with the offset',
    context: ctx('refs/heads/x'),
    input: inputs(["type=raw,value={{date YYYYMMDD tz='Asia/Tokyo'}}"]),
    main: '2020-01-11T05-30-45-09-00',
  },
  {
    name: 'raw: an empty quoted format is moment’s default too',
    context: ctx('refs/heads/x'),
    input: inputs(["type=raw,value={{date ''}}"]),
    main: '2020-01-10T20-30-45Z',
  },
  {
    name: 'raw: null, undefined and false are Handlebars literals: no format',
    context: ctx('refs/heads/x'),
    input: inputs(['type=raw,value={{date null}}/{{date undefined}}/{{date false}}']),
    main: '2020-01-10T20-30-45Z-2020-01-10T20-30-45Z-2020-01-10T20-30-45Z',
  },
  {
    name: 'raw: latest=auto gives no latest',
    context: ctx('refs/tags/v1.0.0'),
    input: inputs(['type=raw,value=x']),
    main: 'x',
    latest: false,
  },

  // type=sha
  { name: 'sha: short', context: ctx('refs/heads/master'), input: inputs(['type=sha']), main: 'sha-860c190' },
  {
    name: 'sha: long, no prefix',
    context: ctx('refs/heads/master'),
    input: inputs(['type=sha,format=long,prefix=']),
    main: SHA,
  },
  {
    name: 'sha: DOCKER_METADATA_SHORT_SHA_LENGTH',
    context: ctx('refs/heads/master'),
    input: inputs(['type=sha']),
    main: 'sha-860c1904a1ce',
    shortShaLength: 12,
  },
  {
    name: 'sha: none known',
    context: ctx('refs/heads/master', { sha: '' }),
    input: inputs(['type=sha']),
    main: null,
  },

  // priorities and order
  {
    name: 'priority: sha is last by default',
    context: ctx('refs/tags/v1.2.3'),
    input: inputs(['type=sha', 'type=semver,pattern={{version}}']),
    main: '1.2.3',
    partial: ['sha-860c190'],
  },
  {
    name: 'priority: a raw rule raised above semver becomes main',
    context: ctx('refs/tags/v1.2.3'),
    input: inputs(['type=semver,pattern={{version}}', 'type=raw,value=stable,priority=1000']),
    main: 'stable',
    partial: ['1.2.3'],
    latest: false,
  },
  {
    name: 'priority: equal priorities keep input order',
    context: ctx('refs/heads/m'),
    input: inputs(['type=raw,value=b', 'type=raw,value=a']),
    main: 'b',
    partial: ['a'],
  },
  {
    name: 'priority: duplicates removed',
    context: ctx('refs/heads/m'),
    input: inputs(['type=raw,value=a', 'type=raw,value=b', 'type=raw,value=b', 'type=raw,value=a']),
    main: 'a',
    partial: ['b'],
  },

  // enable
  {
    name: 'enable=false skips',
    context: ctx('refs/heads/master'),
    input: inputs(['type=raw,value=a,enable=false', 'type=raw,value=b']),
    main: 'b',
  },
  {
    name: 'enable={{is_default_branch}} on the default branch',
    context: ctx('refs/heads/master'),
    input: inputs(['type=raw,value=latest-main,enable={{is_default_branch}}']),
    main: 'latest-main',
  },
  {
    name: 'enable={{is_default_branch}} elsewhere',
    context: ctx('refs/heads/dev'),
    input: inputs(['type=raw,value=x,enable={{is_default_branch}}']),
    main: null,
  },
  {
    name: 'is_default_branch: schedule events count as default',
    context: ctx('refs/heads/dev', { eventName: 'schedule' }),
    input: inputs(['type=raw,value=x,enable={{is_default_branch}}']),
    main: 'x',
  },
  {
    name: 'is_not_default_branch on the default branch',
    context: ctx('refs/heads/master'),
    input: inputs(['type=raw,value=x,enable={{is_not_default_branch}}', 'type=raw,value=y']),
    main: 'y',
  },
  {
    name: 'is_not_default_branch elsewhere',
    context: ctx('refs/heads/dev'),
    input: inputs(['type=raw,value=notdefbranch,enable={{is_not_default_branch}}']),
    main: 'notdefbranch',
  },
  {
    name: 'is_not_default_branch: schedule events count as the default branch',
    context: ctx('refs/heads/dev', { eventName: 'schedule' }),
    input: inputs(['type=raw,value=x,enable={{is_not_default_branch}}']),
    main: null,
  },

  // a context without a git reference (a GitHub event that has none): only rules that need none apply
  {
    name: 'no ref: ref, edge and semver rules give nothing; the warning says why',
    context: ctx('', { sha: '' }),
    input: inputs(['type=ref,event=branch', 'type=edge', 'type=semver,pattern={{version}}', 'type=sha']),
    main: null,
    tags: [],
    warning: /no git reference/,
  },
  {
    name: 'no ref: {{branch}} is empty, a raw value still applies as in the action',
    context: ctx(''),
    input: inputs(['type=raw,value=b{{branch}}', 'type=raw,value={{tag}}']),
    main: 'b',
  },

  {
    name: 'is_default_branch: empty branch',
    context: ctx('refs/heads/'),
    input: inputs(['type=raw,value=x,enable={{is_default_branch}}']),
    main: null,
  },

  // flavor
  {
    name: 'flavor: latest=false',
    context: ctx('refs/tags/v1.0.0'),
    input: inputs(['type=semver,pattern={{version}}'], { flavor: ['latest=false'] }),
    main: '1.0.0',
    latest: false,
  },
  {
    name: 'flavor: latest=true on a branch',
    context: ctx('refs/heads/master'),
    input: inputs(['type=ref,event=branch'], { flavor: ['latest=true'] }),
    main: 'master',
    latest: true,
  },
  {
    name: 'flavor: prefix and suffix, latest untouched',
    context: ctx('refs/tags/v1.0.0'),
    input: inputs(['type=semver,pattern={{version}}'], { flavor: ['prefix=app-', 'suffix=-slim'] }),
    main: 'app-1.0.0-slim',
    tags: ['user/app:app-1.0.0-slim', 'user/app:latest'],
  },
  {
    name: 'flavor: onlatest applies prefix and suffix to latest',
    context: ctx('refs/tags/v1.0.0'),
    input: inputs(['type=semver,pattern={{version}}'], {
      flavor: ['prefix=app-,onlatest=true', 'suffix=-slim,onlatest=true'],
    }),
    main: 'app-1.0.0-slim',
    tags: ['user/app:app-1.0.0-slim', 'user/app:app-latest-slim'],
  },
  {
    name: "flavor: a rule's own (empty) prefix wins",
    context: ctx('refs/tags/v1.0.0'),
    input: inputs(['type=semver,pattern={{version}},prefix=,suffix=-x'], {
      flavor: ['prefix=app-,suffix=-slim'],
    }),
    main: '1.0.0-x',
  },
  {
    name: 'flavor: prefix with an expression',
    context: ctx('refs/heads/dev'),
    input: inputs(['type=ref,event=branch'], { flavor: ['prefix={{sha}}-'] }),
    main: '860c190-dev',
  },

  // images
  {
    name: 'images: several, lowercased, disabled ones skipped',
    context: ctx('refs/tags/v1.0.0'),
    input: inputs(['type=semver,pattern={{version}}'], {
      images: ['Name/App,ghcr.io/x/y', 'name=quay.io/z,enable=false'],
    }),
    main: '1.0.0',
    tags: ['name/app:1.0.0', 'name/app:latest', 'ghcr.io/x/y:1.0.0', 'ghcr.io/x/y:latest'],
  },
  {
    name: 'images: none → bare tags',
    context: ctx('refs/tags/v1.0.0'),
    input: inputs(['type=semver,pattern={{version}}'], { images: [] }),
    main: '1.0.0',
    tags: ['1.0.0', 'latest'],
  },
  {
    name: 'images: name= form',
    context: ctx('refs/heads/m'),
    input: inputs(['type=raw,value=a'], { images: ['name=reg/app,enable=true'] }),
    main: 'a',
    tags: ['reg/app:a'],
  },

  // sanitisation
  {
    name: 'sanitise: leading separator dropped',
    context: ctx('refs/heads/m'),
    input: inputs(['type=raw,value=-x']),
    main: 'x',
    warning: /may not start/,
  },
  {
    name: 'sanitise: 128 characters at most',
    context: ctx('refs/heads/m'),
    input: inputs([`type=raw,value=${'a'.repeat(140)}`]),
    main: 'a'.repeat(128),
    warning: /longer than 128/,
  },
];

describe('computeImageMeta (docker/metadata-action semantics)', () => {
  it.each(cases)('$name', (c) => {
    const meta = computeImageMeta(c.context, c.input, {
      now: NOW,
      ...(c.shortShaLength ? { shortShaLength: c.shortShaLength } : {}),
    });
    expect(meta.version.main).toBe(c.main);
    if (c.partial !== undefined) expect(meta.version.partial).toEqual(c.partial);
    if (c.latest !== undefined) expect(meta.version.latest).toBe(c.latest);
    if (c.tags !== undefined) expect(meta.tags).toEqual(c.tags);
    if (c.warning !== undefined) expect(meta.warnings.join('\n')).toMatch(c.warning);
    if (c.main === null) expect(meta.tags).toEqual([]);
  });
});

describe('labels and annotations', () => {
  const context = ctx('refs/tags/v1.2.3', {
    repo: {
      name: 'its-camera-ai',
      description: 'Traffic analytics',
      htmlUrl: 'https://github.com/acme/its-camera-ai',
      license: 'MIT',
    },
  });

  it('gives the OCI labels sorted by key', () => {
    const meta = computeImageMeta(context, inputs(['type=semver,pattern={{version}}']), { now: NOW });
    expect(meta.labels).toEqual([
      'org.opencontainers.image.created=2020-01-10T20:30:45.123Z',
      'org.opencontainers.image.description=Traffic analytics',
      'org.opencontainers.image.licenses=MIT',
      `org.opencontainers.image.revision=${SHA}`,
      'org.opencontainers.image.source=https://github.com/acme/its-camera-ai',
      'org.opencontainers.image.title=its-camera-ai',
      'org.opencontainers.image.url=https://github.com/acme/its-camera-ai',
      'org.opencontainers.image.version=1.2.3',
    ]);
  });

  it('lets a custom label override a default one and expands expressions', () => {
    const meta = computeImageMeta(
      context,
      inputs(['type=semver,pattern={{version}}'], {
        labels: ['org.opencontainers.image.title=Camera AI', 'com.acme.tag={{tag}}', 'junk'],
      }),
      { now: NOW },
    );
    expect(meta.labels).toContain('org.opencontainers.image.title=Camera AI');
    expect(meta.labels).toContain('com.acme.tag=v1.2.3');
    expect(meta.labels.filter((l) => l.startsWith('org.opencontainers.image.title='))).toHaveLength(1);
    expect(meta.labels.some((l) => l.startsWith('junk'))).toBe(false);
  });

  it('prefixes annotations with their levels', () => {
    const meta = computeImageMeta(
      context,
      inputs(['type=semver,pattern={{version}}'], { annotations: ['a.b=c'] }),
      {
        now: NOW,
        annotationLevels: ['manifest', 'index'],
      },
    );
    expect(meta.annotations).toContain('manifest:a.b=c');
    expect(meta.annotations).toContain('index:org.opencontainers.image.version=1.2.3');
    expect(meta.annotations).toHaveLength(18);
  });

  it('escapes {{…}} as Handlebars does, not {{{…}}}', () => {
    const meta = computeImageMeta(
      ctx('refs/heads/a&b'),
      inputs(['type=raw,value={{branch}}'], { labels: ['x.escaped={{branch}}', 'x.raw={{{branch}}}'] }),
      { now: NOW },
    );
    expect(meta.labels).toContain('x.escaped=a&amp;b');
    expect(meta.labels).toContain('x.raw=a&b');
    expect(meta.version.main).toBe('a-amp-b');
  });

  it('has an empty version label when no rule applies', () => {
    const meta = computeImageMeta(ctx('refs/heads/m'), inputs(['type=semver,pattern={{version}}']), {
      now: NOW,
    });
    expect(meta.labels).toContain('org.opencontainers.image.version=');
  });
});

describe('errors name the rule and the fix', () => {
  const run =
    (tags: string[], flavor: string[] = [], context = ctx('refs/tags/v1.0.0')) =>
    () =>
      computeImageMeta(context, inputs(tags, { flavor }), { now: NOW });

  it.each([
    [['type=raw,value=x,enable=maybe'], /enable='maybe'/],
    [['type=raw,value={{nope}}'], /unknown expression \{\{nope\}\}/],
    [['type=raw,value={{ 1bad }}'], /malformed expression/],
    [["type=raw,value={{date 'YYYY' zone='UTC'}}"], /unknown zone attribute/],
    [['type=raw,value={{date}}'], /needs a format/],
    [["type=raw,value={{date 'YYYY' tz='Mars/Olympus'}}"], /unknown time zone/],
    [['type=match,pattern=(unclosed'], /not a valid regular expression/],
    [['type=semver,pattern={{date}}'], /unknown expression \{\{date\}\}/],
    [["type=raw,value={{commit_date 'YYYY'}}"], /no commit date/],
    [['type=raw,value={{date 20200110}}'], /\{\{date\}\}: 20200110 is a number, not a format.*\n?.*/],
    [['type=raw,value={{date true}}'], /\{\{date\}\}: true is a boolean, not a format/],
    [["type=raw,value={{date 'YYYY' 'MM'}}"], /\{\{date\}\} takes one format/],
    [['type=raw,value={{date branch}}'], /unquoted branch names the \{\{branch\}\} helper/],
    [["type=raw,value={{date 'YYYY' tz=Asia/Tokyo}}"], /tz=Asia\/Tokyo is unquoted/],
    [["type=raw,value={{date 'Do z'}}"], /token 'z'/],
    [['type=semver,pattern={{version}},match=v\\d'], /match=.*has no capture group/],
    [['type=pep440,pattern={{version}},"match=^(a+)+$"'], /can backtrack exponentially/],
    [['type=semver,pattern={{version}},match=(unclosed'], /not a valid regular expression/],
  ])('%j', (tags, message) => {
    expect(run(tags)).toThrow(message);
  });
});

describe('sanitizeTag', () => {
  it('replaces runs of invalid characters with one dash', () => {
    const warnings: string[] = [];
    expect(sanitizeTag('feat/ä b+c', warnings)).toBe('feat-b-c');
    expect(warnings).toEqual([]);
  });
});
