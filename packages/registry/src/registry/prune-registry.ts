/** Reads the environment repositories for planPrune, and (with apply) deletes what it plans to. */
import { ENVIRONMENTS, environmentRepository, type Environment } from '../promotion/environments.js';
import type { GateRecord } from '../promotion/record-store.js';
import { isMetadataTag, referrersFallbackTag, signatureTag } from './digest.js';
import { isIndexMediaType } from './media-types.js';
import { planPrune, type PrunePlan, type RepositoryImage } from './plan-prune.js';
import type { Descriptor, RegistryClient } from './registry-client.js';

/** What each environment runs now: the digest of its latest passing deploy record. */
export function runningDigests(records: GateRecord[]): Map<Environment, string> {
  const latest = new Map<Environment, GateRecord>();
  for (const r of records) {
    if (r.kind !== 'deploy' || r.result !== 'pass') continue;
    const seen = latest.get(r.environment);
    if (!seen || seen.at <= r.at) latest.set(r.environment, r);
  }
  return new Map([...latest].map(([env, r]) => [env, r.digest]));
}

export async function readRepositoryImages(
  client: RegistryClient,
  repository: string,
): Promise<RepositoryImage[]> {
  const byDigest = new Map<string, RepositoryImage>();
  for (const tag of await client.listTags(repository)) {
    if (isMetadataTag(tag)) continue; // SBOM/signature indexes go with their subject
    const head = await client.headManifest(repository, tag);
    if (!head) continue;
    const known = byDigest.get(head.digest);
    if (known) {
      known.tags.push(tag);
      continue;
    }
    const manifest = await client.getManifest(repository, head.digest);
    const body = JSON.parse(manifest.bytes.toString('utf8')) as {
      manifests?: Descriptor[];
      config?: Descriptor;
    };
    const children = isIndexMediaType(manifest.mediaType) ? (body.manifests ?? []).map((m) => m.digest) : [];
    let created: string | undefined;
    for (const d of children.length ? children : [head.digest]) {
      const c = await readCreated(client, repository, d);
      if (c && (!created || c > created)) created = c;
    }
    byDigest.set(head.digest, { repository, digest: head.digest, tags: [tag], created, children });
  }
  return [...byDigest.values()];
}

async function readCreated(
  client: RegistryClient,
  repository: string,
  digest: string,
): Promise<string | undefined> {
  const manifest = await client.getManifest(repository, digest);
  const body = JSON.parse(manifest.bytes.toString('utf8')) as { config?: Descriptor };
  if (!body.config) return undefined;
  const config = JSON.parse((await client.getBlob(repository, body.config.digest)).toString('utf8')) as {
    created?: string;
  };
  return typeof config.created === 'string' ? config.created : undefined;
}

export async function planRegistryPrune(
  client: RegistryClient,
  input: { image: string; keep: number; running: Iterable<string>; environments?: readonly Environment[] },
): Promise<PrunePlan> {
  const images: RepositoryImage[] = [];
  for (const env of input.environments ?? ENVIRONMENTS)
    images.push(...(await readRepositoryImages(client, environmentRepository(input.image, env))));
  return planPrune({ images, keep: input.keep, running: input.running });
}

/** Deletes each planned manifest with its referrers, signature tag and referrers index. */
export async function applyPrune(client: RegistryClient, plan: PrunePlan): Promise<{ deleted: number }> {
  let deleted = 0;
  for (const item of plan.remove) {
    const { repository, digest } = item;
    for (const r of await client.listReferrers(repository, digest))
      await client.deleteManifest(repository, r.digest);
    for (const tag of [signatureTag(digest), referrersFallbackTag(digest)]) {
      const head = await client.headManifest(repository, tag);
      if (head) await client.deleteManifest(repository, head.digest);
    }
    if (await client.deleteManifest(repository, digest)) deleted++;
  }
  return { deleted };
}
