/**
 * The security ignore file (deploy/security-ignore.yml): each entry silences one finding id (optionally
 * for one package or file) and must say why and until when. Expired entries fail the gate, so an
 * exception cannot quietly become permanent. Pure.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Finding, GateResult } from './types.js';
import { MAX_YAML_ALIASES, describeYamlError } from './yaml-limits.js';

const isoDate = z.string({ error: 'an expiry date, YYYY-MM-DD' }).superRefine((s, ctx) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) ctx.addIssue({ code: 'custom', message: 'an expiry date, YYYY-MM-DD' });
  // Date.parse rolls 2027-02-30 over to March: a real date survives the round trip unchanged.
  else if (
    Number.isNaN(Date.parse(`${s}T00:00:00Z`)) ||
    new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) !== s
  )
    ctx.addIssue({ code: 'custom', message: 'not a real date' });
});

const IgnoreSchema = z.strictObject({
  version: z.literal(1, 'only version 1 exists').optional(),
  ignores: z
    .array(
      z.strictObject({
        id: z.string().min(1, 'the finding id (CVE-…, GHSA-…, or a rule id)'),
        target: z.string().min(1).optional(),
        reason: z
          .string({ error: 'a reason is required: why is this finding acceptable?' })
          .trim()
          .min(10, 'a reason of at least 10 characters: why is this finding acceptable?'),
        expires: z.preprocess((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v), isoDate),
      }),
    )
    .default([]),
});

export type IgnoreEntry = z.output<typeof IgnoreSchema>['ignores'][number];

export function parseIgnoreFile(text: string, file: string): { entries: IgnoreEntry[]; errors: string[] } {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES }) ?? {};
  } catch (err) {
    return { entries: [], errors: [`${file}: ${describeYamlError(err)}`] };
  }
  const parsed = IgnoreSchema.safeParse(raw);
  if (!parsed.success)
    return {
      entries: [],
      errors: parsed.error.issues.map((i) => `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`),
    };
  return { entries: parsed.data.ignores, errors: [] };
}

export function matchesIgnore(entry: IgnoreEntry, finding: Finding): boolean {
  return entry.id === finding.id && (entry.target === undefined || finding.target.startsWith(entry.target));
}

/**
 * Marks the findings covered by a live entry and checks the entries themselves: an expired entry
 * fails (and ignores nothing); an entry that matched nothing is a warning (clean it up).
 */
export function applyIgnores(
  findings: readonly Finding[],
  entries: readonly IgnoreEntry[],
  file: string,
  today: string,
): { findings: Finding[]; results: GateResult[] } {
  const results: GateResult[] = [];
  const live = entries.filter((e) => e.expires >= today);
  for (const e of entries)
    if (e.expires < today)
      results.push({
        gate: 'security',
        check: `ignore ${e.id}`,
        status: 'fail',
        file,
        threshold: `expires ≥ ${today}`,
        actual: `expired ${e.expires}`,
        message: `ignore entry for ${e.id}${e.target ? ` (${e.target})` : ''} expired on ${e.expires}: fix the finding or renew the entry with a new reason`,
      });
  const used = new Set<IgnoreEntry>();
  const out = findings.map((f) => {
    const entry = live.find((e) => matchesIgnore(e, f));
    if (!entry) return f;
    used.add(entry);
    return { ...f, ignoredBy: { reason: entry.reason, expires: entry.expires } };
  });
  for (const e of live)
    if (!used.has(e))
      results.push({
        gate: 'security',
        check: `ignore ${e.id}`,
        status: 'warn',
        file,
        message: `ignore entry for ${e.id} matched no finding: remove it`,
      });
  return { findings: out, results };
}
