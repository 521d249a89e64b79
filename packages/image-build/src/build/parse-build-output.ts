/** Reads BuildKit's plain progress output (`--progress plain`). Pure. */

export interface BuildStepStats {
  /** Build steps (Dockerfile instructions) BuildKit reported. */
  steps: number;
  /** Of those, answered from the cache. */
  cached: number;
}

const STEP = /^#(\d+) \[[^\]]+\] /;
const CACHED = /^#(\d+) CACHED\s*$/;

export function countCacheHits(output: string): BuildStepStats {
  const steps = new Set<string>();
  const cached = new Set<string>();
  for (const line of output.split('\n')) {
    const step = STEP.exec(line);
    // "[internal] load …" vertices are bookkeeping and FROM resolves a local image (never "CACHED"):
    // neither is a step the cache could have saved.
    if (step?.[1] && !line.includes('[internal]') && !/\] FROM /.test(line)) steps.add(step[1]);
    const hit = CACHED.exec(line);
    if (hit?.[1]) cached.add(hit[1]);
  }
  return { steps: steps.size, cached: [...cached].filter((id) => steps.has(id)).length };
}

/** The step header lines (`#12 [deps 2/2] RUN npm ci …`), shortened, for progress output. */
export function progressLines(chunk: string): string[] {
  return chunk
    .split('\n')
    .filter((line) => STEP.test(line) && !line.includes('[internal]'))
    .map((line) => (line.length > 140 ? `${line.slice(0, 139)}…` : line));
}

/**
 * What to show for a failed build: the lines that name an error (compiler and npm errors scroll by long
 * before BuildKit's own summary), then the last lines, where BuildKit names the failing step.
 */
export function failureExcerpt(output: string, lines = 15, errorLines = 12): string {
  const all = output.trimEnd().split('\n');
  const tail = all.slice(-lines);
  const errors = all
    .slice(0, Math.max(0, all.length - lines))
    .filter((l) => /\berror\b|ERR!/i.test(l) && !/^#\d+ ERROR: executor failed/.test(l))
    .slice(0, errorLines);
  return [...errors, ...(errors.length ? ['…'] : []), ...tail].join('\n');
}
