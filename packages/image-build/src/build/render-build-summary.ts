/** The build summary table. Pure. */

export interface BuildRow {
  target: string;
  platform: string;
  tag: string;
  status: 'built' | 'failed' | 'skipped';
  sizeBytes: number | null;
  durationMs: number | null;
  steps: number | null;
  cached: number | null;
  reason?: string;
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-';
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e3).toFixed(1)} kB`;
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  return ms >= 60_000
    ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`
    : `${(ms / 1000).toFixed(1)}s`;
}

export function renderBuildSummary(rows: readonly BuildRow[]): string {
  const header = ['TARGET', 'PLATFORM', 'STATUS', 'SIZE', 'DURATION', 'CACHE HITS', 'IMAGE'];
  const body = rows.map((r) => [
    r.target,
    r.platform,
    r.status,
    formatBytes(r.sizeBytes),
    formatDuration(r.durationMs),
    r.steps === null ? '-' : `${r.cached ?? 0}/${r.steps}`,
    r.status === 'skipped' ? `skipped: ${r.reason ?? ''}` : r.tag,
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.slice().map((row) => (i === header.length - 1 ? 0 : (row[i] ?? '').length))),
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(header), ...body.map(line)].join('\n');
}
