/**
 * mulberry32: a tiny, fast 32-bit PRNG. Not for cryptography; chosen because its whole state is one
 * integer, so a scene is reproducible from its seed on any machine and Node version.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(min: number, max: number): number;
  /** Standard normal scaled by `sd` (Box–Muller). */
  normal(sd?: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** Exponential with the given mean. */
  exponential(mean: number): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** Pick by non-negative weights. */
  weighted<T extends string>(weights: Partial<Record<T, number>>): T;
}

export function createRandom(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r: Random = {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    normal: (sd = 1) => {
      const u = 1 - next();
      const v = next();
      return sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    chance: (p) => next() < p,
    exponential: (mean) => -mean * Math.log(1 - next()),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    weighted: <T extends string>(weights: Partial<Record<T, number>>): T => {
      const entries = Object.entries(weights) as Array<[T, number]>;
      const total = entries.reduce((s, [, w]) => s + w, 0);
      let x = next() * total;
      for (const [k, w] of entries) {
        x -= w;
        if (x < 0) return k;
      }
      return entries[entries.length - 1]![0];
    },
  };
  return r;
}
