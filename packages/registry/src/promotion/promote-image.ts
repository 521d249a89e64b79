/**
 * Promotion: the same bytes, under the next environment's repository. Resolve the digest, check the
 * record store, copy the manifest tree and its referrers (SBOM, signatures), and only then write tags.
 */
import { StepFailedError, UsageError } from '@its/core';
import { copyManifestTree, copyReferrers, emptyCopyStats, type CopyStats } from '../registry/copy-image.js';
import { isDigest } from '../registry/digest.js';
import { isValidTag } from '../registry/reference.js';
import type { RegistryClient } from '../registry/registry-client.js';
import { verifyImageSignature } from '../supply-chain/signing.js';
import { environmentRepositories, environmentRepository, type Environment } from './environments.js';
import { assessPromotion } from './plan-promotion.js';
import type { GateRecord, RecordStore } from './record-store.js';

export interface PromoteRequest {
  image: string;
  from: Environment;
  to: Environment;
  /** Source tags: resolved to one digest in `from`, written in `to`. */
  tags: string[];
  /** Promote this digest instead of resolving tags (then `tags` only name the targets). */
  digest?: string | undefined;
  /** Tags written only in `to` (e.g. `latest` on release). */
  extraTags?: string[];
  /** When given, the image must carry a valid signature by one of these PEM public keys. */
  requireSignatureKeys?: string[];
}

export interface PromoteResult {
  digest: string;
  mediaType: string;
  from: { repository: string };
  to: { repository: string; tags: string[] };
  evidence: GateRecord[];
  stats: CopyStats;
}

export interface PromoteDeps {
  source: RegistryClient;
  /** The same client when both environments live in one registry. */
  target: RegistryClient;
  store: Pick<RecordStore, 'list' | 'append'>;
  now: () => Date;
  log?: (line: string) => void;
}

export async function promoteImage(request: PromoteRequest, deps: PromoteDeps): Promise<PromoteResult> {
  const { image, from, to } = request;
  const targetTags = [...request.tags, ...(request.extraTags ?? [])];
  const problems: string[] = [];
  if (targetTags.length === 0)
    problems.push('--tag: give at least one tag to write in the target environment');
  for (const t of targetTags) if (!isValidTag(t)) problems.push(`--tag ${t}: not a valid tag`);
  if (request.digest !== undefined && !isDigest(request.digest))
    problems.push(`--digest ${request.digest}: should be sha256:<64 hex>`);
  if (request.digest === undefined && request.tags.length === 0)
    problems.push('--tag or --digest: say what to promote');
  if (problems.length) throw new UsageError(problems.join('; '), { fix: 'see `itsctl promote --help`' });

  const src = { client: deps.source, repository: environmentRepository(image, from) };
  const dst = { client: deps.target, repository: environmentRepository(image, to) };
  const log = deps.log ?? (() => undefined);

  const digest = request.digest ?? (await resolveTags(src.client, src.repository, request.tags));
  if (request.digest !== undefined && !(await src.client.headManifest(src.repository, digest))) {
    throw new StepFailedError(`${src.client.registry}/${src.repository}@${digest} does not exist`, {
      fix: `check the digest; \`itsctl publish\` prints it, and promotion copies from ${src.repository}`,
    });
  }

  const verdict = assessPromotion({ digest, from, to, records: await deps.store.list({ digest }) });
  if (!verdict.allowed) {
    throw new StepFailedError(
      `promotion of ${digest} from ${from} to ${to} refused: ${verdict.reasons.join('; ')}`,
      {
        fix: verdict.fix,
      },
    );
  }

  if (request.requireSignatureKeys?.length) {
    const verified = await verifyImageSignature(
      src.client,
      src.repository,
      digest,
      request.requireSignatureKeys,
      {
        allowedRepositories: environmentRepositories(image),
      },
    );
    log(`signature verified: ${verified.keyFingerprint} as ${verified.identity}`);
  }

  const stats = emptyCopyStats();
  log(`copying ${src.repository}@${digest} → ${dst.repository}`);
  const manifest = await copyManifestTree(src, dst, digest, stats);
  await copyReferrers(src, dst, digest, stats);
  // Tags last: until here the target holds only untagged, complete content.
  for (const tag of targetTags) {
    await dst.client.putManifest(dst.repository, tag, manifest.bytes, manifest.mediaType);
    log(`tagged ${dst.client.registry}/${dst.repository}:${tag}`);
  }
  for (const tag of targetTags) {
    const landed = await dst.client.headManifest(dst.repository, tag);
    if (landed?.digest !== digest) {
      throw new StepFailedError(
        `${dst.repository}:${tag} points at ${landed?.digest ?? 'nothing'} after promotion, not ${digest}`,
        {
          fix: 'another promotion raced this one; check the tag and promote again',
        },
      );
    }
  }
  await deps.store.append({
    digest,
    environment: to,
    kind: 'promotion',
    name: `from-${from}`,
    result: 'pass',
    at: deps.now().toISOString(),
    detail: `${dst.client.registry}/${dst.repository}:${targetTags.join(',')}`,
  });
  return {
    digest,
    mediaType: manifest.mediaType,
    from: { repository: src.repository },
    to: { repository: dst.repository, tags: targetTags },
    evidence: verdict.evidence,
    stats,
  };
}

async function resolveTags(client: RegistryClient, repository: string, tags: string[]): Promise<string> {
  const digests = new Map<string, string>();
  const missing: string[] = [];
  for (const tag of tags) {
    const d = await client.headManifest(repository, tag);
    if (d) digests.set(tag, d.digest);
    else missing.push(tag);
  }
  if (missing.length) {
    throw new StepFailedError(`${client.registry}/${repository} has no tag ${missing.join(', ')}`, {
      fix: `list its tags with \`curl ${client.baseUrl}/v2/${repository}/tags/list\`, or promote by --digest`,
    });
  }
  const distinct = new Set(digests.values());
  if (distinct.size > 1) {
    throw new UsageError(
      `tags ${tags.join(', ')} point at different digests in ${repository} (${[...digests].map(([t, d]) => `${t}=${d}`).join(', ')})`,
      { fix: 'promote one image at a time' },
    );
  }
  return [...distinct][0]!;
}
