import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { computeImageMeta } from '../src/tags/compute-tags.js';
import type { Git } from '../src/git/run-git.js';
import { readTagContext } from '../src/tags/read-context.js';
import { CASES, FIXTURES, type ParityCase, UPSTREAM_COMMIT } from './metadata-action-parity.cases.js';

/**
 * Conformance with docker/metadata-action: every case of its own test tables (transcribed in
 * metadata-action-parity.cases.ts) runs through our reading of the runner's context and our
 * computation, with its rules passed explicitly (our default scheme, with its -production/-gpu/-edge
 * suffixes, is not involved). A case agrees when the version, the tags, and the labels and
 * annotations agree, except the five OCI keys the action fills from GitHub's repository API
 * (title, description, url, source, licenses), which we read from the event payload instead.
 *
 * The upstream test harness is reproduced, not bypassed: it reads the workflow context
 * (ContextSource.workflow), so we pass source 'workflow' (the CLI's --context workflow); it pins
 * every moment() call, so {{commit_date}} formats the pinned instant, and so does our commit date
 * here; and the action never reads git in a workflow context, so our git here knows nothing.
 */

/**
 * Cases where we differ on purpose, by name, with the reason (also in the README). The test fails
 * when a listed case starts agreeing (update the list and the README) or an unlisted one disagrees.
 */
const DELIBERATE_DIFFERENCES: Readonly<Record<string, string>> = {};

/** At least this many of the 102 must agree (the goal; today all do). */
const MINIMUM_AGREEING = 97;

const PINNED = new Date('2020-01-10T00:30:00.000Z');
const FROM_REPOSITORY_API = /^org\.opencontainers\.image\.(title|description|url|source|licenses)=/;
const noRepository: Git = async (args) => {
  throw new Error(`git ${args.join(' ')}: a workflow context does not read the local repository`);
};

interface Outcome {
  main: string | null;
  partial: readonly string[];
  latest: boolean;
  tags: readonly string[];
  labels: readonly string[];
  annotations: readonly string[];
}

const dir = mkdtempSync(join(tmpdir(), 'metadata-action-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runOurs(c: ParityCase): Promise<Outcome | { error: string }> {
  const fixture = FIXTURES[c.fixture];
  if (fixture === undefined) throw new Error(`${c.name}: no fixture ${c.fixture}`);
  const env: Record<string, string> = { ...fixture.env };
  if (fixture.payload !== undefined) {
    env.GITHUB_EVENT_PATH = join(dir, `${c.fixture}.json`);
    writeFileSync(env.GITHUB_EVENT_PATH, JSON.stringify(fixture.payload));
  }
  try {
    const context = await readTagContext(env, noRepository, { source: 'workflow' });
    context.commitDate = PINNED;
    const meta = computeImageMeta(
      context,
      {
        images: c.inputs.images ?? [],
        tags: c.inputs.tags ?? [],
        flavor: c.inputs.flavor ?? [],
        labels: c.inputs.labels ?? [],
        annotations: c.inputs.annotations ?? [],
      },
      { now: PINNED },
    );
    const { main, partial, latest } = meta.version;
    return {
      main,
      partial,
      latest,
      tags: meta.tags,
      labels: meta.labels.filter((label) => !FROM_REPOSITORY_API.test(label)),
      // The action's outputs carry the default level; its getAnnotations() does not.
      annotations: meta.annotations
        .map((annotation) => annotation.replace(/^manifest:/, ''))
        .filter((annotation) => !FROM_REPOSITORY_API.test(annotation)),
    };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function expectedOutcome(c: ParityCase): Outcome {
  const { main, partial, latest, tags, labels, annotations } = c.expected;
  return {
    main,
    partial,
    latest,
    tags,
    labels: labels.filter((label) => !FROM_REPOSITORY_API.test(label)),
    annotations: (annotations ?? labels).filter((annotation) => !FROM_REPOSITORY_API.test(annotation)),
  };
}

describe(`docker/metadata-action parity (its __tests__/meta.test.ts at ${UPSTREAM_COMMIT.slice(0, 12)})`, () => {
  it('has the 102 cases of the upstream tables, each name once, each fixture present', () => {
    expect(CASES).toHaveLength(102);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(102);
    for (const c of CASES) expect(FIXTURES[c.fixture], c.name).toBeDefined();
    for (const name of Object.keys(DELIBERATE_DIFFERENCES)) {
      expect(CASES.map((c) => c.name)).toContain(name);
    }
  });

  it.each(CASES.map((c) => [c.section, c.name, c] as const))('%s %s', async (_section, name, c) => {
    const ours = await runOurs(c);
    if (name in DELIBERATE_DIFFERENCES) {
      expect(ours, `${name} is listed as a deliberate difference but agrees`).not.toEqual(expectedOutcome(c));
    } else {
      expect(ours).toEqual(expectedOutcome(c));
    }
  });

  it(`agrees on at least ${MINIMUM_AGREEING} of 102, and disagrees exactly where the README says`, async () => {
    const disagreeing: string[] = [];
    for (const c of CASES) {
      const ours = await runOurs(c);
      if (!isDeepStrictEqual(ours, expectedOutcome(c))) disagreeing.push(c.name);
    }
    expect(CASES.length - disagreeing.length).toBeGreaterThanOrEqual(MINIMUM_AGREEING);
    expect(disagreeing.sort()).toEqual(Object.keys(DELIBERATE_DIFFERENCES).sort());
  });
});
