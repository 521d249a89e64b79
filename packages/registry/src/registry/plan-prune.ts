/**
 * Retention, as a pure plan: per environment repository keep the newest `keep` images, everything an
 * environment currently runs, and every platform image a kept index needs; the rest may go. Platform
 * images that belong to an index do not count towards `keep`: the index is the release.
 */

export interface RepositoryImage {
  repository: string;
  digest: string;
  tags: string[];
  /** Build time from the image config (for an index, its newest platform image); orders "last N". */
  created?: string | undefined;
  /** Platform manifests of an index: deleting them would break it. */
  children: string[];
}

export interface PruneDecision {
  repository: string;
  digest: string;
  tags: string[];
  created?: string | undefined;
  /** Why it stays: newest N, running, or part of a kept index. */
  reason?: 'newest' | 'running' | 'index-child';
}

export interface PrunePlan {
  keep: PruneDecision[];
  remove: PruneDecision[];
}

export function planPrune(input: {
  images: RepositoryImage[];
  keep: number;
  running: Iterable<string>;
}): PrunePlan {
  const running = new Set(input.running);
  const byRepo = new Map<string, RepositoryImage[]>();
  for (const image of input.images) {
    const list = byRepo.get(image.repository) ?? [];
    list.push(image);
    byRepo.set(image.repository, list);
  }
  const keep: PruneDecision[] = [];
  const remove: PruneDecision[] = [];
  for (const [repository, images] of [...byRepo].sort(([a], [b]) => a.localeCompare(b))) {
    // Platform images of an index are not ranked on their own: they live and go with their index.
    const childDigests = new Set(images.flatMap((i) => i.children));
    const ordered = [...images].sort(newestFirst);
    const ranked = ordered.filter((i) => !childDigests.has(i.digest));
    const kept = new Map<string, PruneDecision['reason']>();
    ranked.slice(0, Math.max(0, input.keep)).forEach((i) => kept.set(i.digest, 'newest'));
    for (const i of ordered) if (!kept.has(i.digest) && running.has(i.digest)) kept.set(i.digest, 'running');
    // Children of kept indexes stay even when they also carry tags of their own.
    for (const i of ordered)
      if (kept.has(i.digest)) for (const c of i.children) if (!kept.has(c)) kept.set(c, 'index-child');
    for (const i of ordered) {
      const decision: PruneDecision = {
        repository,
        digest: i.digest,
        tags: [...i.tags].sort(),
        created: i.created,
      };
      const reason = kept.get(i.digest);
      if (reason) keep.push({ ...decision, reason });
      else remove.push(decision);
    }
  }
  return { keep, remove };
}

function newestFirst(a: RepositoryImage, b: RepositoryImage): number {
  if (a.created && b.created && a.created !== b.created) return a.created < b.created ? 1 : -1;
  if (a.created && !b.created) return -1;
  if (!a.created && b.created) return 1;
  const ta = [...a.tags].sort().at(-1) ?? '';
  const tb = [...b.tags].sort().at(-1) ?? '';
  return tb.localeCompare(ta, undefined, { numeric: true });
}
