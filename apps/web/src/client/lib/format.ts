/** Display formatting. Pure; `nowMs` is passed in so relative times are testable. */

const numberFmt = new Intl.NumberFormat('en-GB');
const compactFmt = new Intl.NumberFormat('en-GB', { notation: 'compact', maximumFractionDigits: 1 });

export const formatCount = (n: number): string => numberFmt.format(Math.round(n));
export const formatCompact = (n: number): string =>
  Math.abs(n) < 10_000 ? formatCount(n) : compactFmt.format(n);
export const formatSpeed = (kmh: number | null): string => (kmh === null ? '—' : `${kmh.toFixed(0)} km/h`);
export const formatPct = (pct: number | null): string => (pct === null ? '—' : `${pct.toFixed(1)} %`);

export function formatRelative(iso: string | null, nowMs: number): string {
  if (!iso) return 'never';
  const diffS = Math.round((nowMs - Date.parse(iso)) / 1000);
  if (diffS < 0) return 'just now';
  if (diffS < 45) return 'just now';
  if (diffS < 90) return '1 min ago';
  const min = Math.round(diffS / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 36) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}

/**
 * A duration in seconds, to the unit an operator reads at a glance: "3 s", "4 min", "2 h 5 min",
 * "3 d 1 h". Negative or non-finite input (clock skew, a missing value) reads as "0 s".
 */
export function formatDuration(seconds: number): string {
  const s = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  return h ? `${d} d ${h} h` : `${d} d`;
}

/** "3 s ago": how long since something happened, from its age in seconds. */
export const formatAgo = (seconds: number): string => `${formatDuration(seconds)} ago`;

export function formatClock(ms: number, withSeconds = false): string {
  const d = new Date(ms);
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  const ss = String(d.getSeconds()).padStart(2, '0');
  return withSeconds ? `${hh}:${mm}:${ss}` : `${hh}:${mm}`;
}

export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })} ${formatClock(ms)}`;
}

/** Axis label for a bucket start, in the granularity that suits the range. */
export function formatAxisTime(ms: number, bucketMs: number): string {
  if (bucketMs >= 3_600_000) {
    const d = new Date(ms);
    return d.getHours() === 0
      ? d.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric' })
      : formatClock(ms);
  }
  return formatClock(ms);
}

export function titleCase(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "Nice" axis maximum and tick step for values up to `max` (1, 2, 2.5, 5 × 10^n). */
export function planAxis(max: number, targetTicks = 4): { max: number; step: number; ticks: number[] } {
  if (!(max > 0)) return { max: 1, step: 1, ticks: [0, 1] };
  const raw = max / targetTicks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(Number(v.toFixed(6)));
  return { max: top, step, ticks };
}

const TICK_STEPS_MS = [5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440, 2880].map((m) => m * 60_000);

/** Bucket starts that get an x-axis label: aligned to local clock steps, at most `maxLabels` of them. */
export function planTimeTicks(starts: number[], bucketMs: number, maxLabels: number): number[] {
  if (starts.length === 0) return [];
  const span = starts.length * bucketMs;
  const step =
    TICK_STEPS_MS.find((s) => s >= bucketMs && span / s <= maxLabels) ??
    TICK_STEPS_MS[TICK_STEPS_MS.length - 1]!;
  return starts.filter((t) => {
    const local = t - new Date(t).getTimezoneOffset() * 60_000;
    return local % step === 0;
  });
}
