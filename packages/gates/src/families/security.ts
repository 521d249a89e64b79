/**
 * Security: scanner reports (npm audit, Trivy, Grype, SARIF) streamed into counts per severity, with
 * the ignore file applied as findings arrive, and judged against `failOn`. Only counts and a bounded
 * list of findings are kept, so a report of any size fits in memory.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { evaluateFindings } from '../evaluate.js';
import { unavailable, type GateFamily, type RunGatesOptions } from '../gate-family.js';
import { applyIgnores, matchesIgnore, parseIgnoreFile, type IgnoreEntry } from '../ignore-file.js';
import { VULNERABILITY_FORMATS, type Policy, type ReportRefInput } from '../policy.js';
import { detectFormat } from '../readers/detect-format.js';
import {
  inferVulnerabilityFormat,
  readVulnerabilities,
  type VulnerabilityFormat,
} from '../readers/read-vulnerabilities.js';
import { SEVERITIES, severityRank, type Finding, type GateResult, type Severity } from '../types.js';

type SecuritySection = NonNullable<Policy['security']>;

/** How many findings are kept in detail per side of the fail level; counts are always complete. */
const KEEP_FINDINGS = 200;

interface SecurityTally {
  entries: IgnoreEntry[];
  /** Entries not yet expired: only these ignore anything. */
  live: IgnoreEntry[];
  used: Set<IgnoreEntry>;
  failLevel: number;
  counts: { active: Record<Severity, number>; ignored: Record<Severity, number> };
  blocking: Finding[];
  below: Finding[];
  ignored: Finding[];
}

const zero = () => Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
const bySeverity = (a: Finding, b: Finding) => severityRank(b.severity) - severityRank(a.severity);

async function readIgnoreFile(
  security: SecuritySection,
  { cwd }: RunGatesOptions,
): Promise<{ entries: IgnoreEntry[]; rows: GateResult[] }> {
  const file = security.ignoreFile;
  if (!file) return { entries: [], rows: [] };
  try {
    const parsed = parseIgnoreFile(await readFile(resolve(cwd, file), 'utf8'), file);
    const rows = parsed.errors.map((message): GateResult => ({
      gate: 'security',
      check: 'ignore file',
      status: 'fail',
      file,
      message,
    }));
    return { entries: parsed.entries, rows };
  } catch (err) {
    return {
      entries: [],
      rows: [unavailable('security', 'ignore file', { path: file, onUnavailable: 'fail' }, err)],
    };
  }
}

function tallyFinding(tally: SecurityTally, f: Finding): void {
  const entry = tally.live.find((e) => matchesIgnore(e, f));
  if (entry) {
    tally.used.add(entry);
    tally.counts.ignored[f.severity]++;
    if (tally.ignored.length < KEEP_FINDINGS)
      tally.ignored.push({ ...f, ignoredBy: { reason: entry.reason, expires: entry.expires } });
    return;
  }
  tally.counts.active[f.severity]++;
  const list = severityRank(f.severity) >= tally.failLevel ? tally.blocking : tally.below;
  if (list.length < KEEP_FINDINGS) list.push(f);
}

/** Expired entries fail; live entries that matched no finding warn, so stale exceptions get removed. */
function checkIgnoreEntries(security: SecuritySection, tally: SecurityTally, today: string): GateResult[] {
  const expired = applyIgnores([], tally.entries, security.ignoreFile ?? '', today).results.filter(
    (r) => r.status === 'fail',
  );
  const unused = tally.live
    .filter((e) => !tally.used.has(e))
    .map((e): GateResult => ({
      gate: 'security',
      check: `ignore ${e.id}`,
      status: 'warn',
      file: security.ignoreFile,
      message: `ignore entry for ${e.id} matched no finding: remove it when it is no longer needed`,
    }));
  return [...expired, ...unused];
}

export const securityFamily: GateFamily<SecuritySection, VulnerabilityFormat, SecurityTally> = {
  configured: (policy) => (policy.security ? [{ name: 'security', config: policy.security }] : []),
  reports: (security) => security.reports as ReportRefInput[],
  formats: { accepts: VULNERABILITY_FORMATS, infer: inferVulnerabilityFormat, detect: detectFormat },
  describe: (format) => `${format} report`,
  whenUnavailable: 'judge-the-rest',
  async open({ config }, options) {
    const { entries, rows } = await readIgnoreFile(config, options);
    const tally: SecurityTally = {
      entries,
      live: entries.filter((e) => e.expires >= options.today),
      used: new Set(),
      failLevel: severityRank(config.failOn),
      counts: { active: zero(), ignored: zero() },
      blocking: [],
      below: [],
      ignored: [],
    };
    return { tally, rows };
  },
  async read(tally, { file, path, format }) {
    // Ignores are applied as findings stream in, so only counts and a bounded list are kept.
    const outcome = await readVulnerabilities(path, format, (raw) => tallyFinding(tally, { ...raw, file }));
    // A scan the tool itself says did not complete is unavailable, whatever it found.
    if (outcome.incomplete) throw new Error(outcome.incomplete);
  },
  settle: ({ config }, tally, { today }) => checkIgnoreEntries(config, tally, today),
  evaluate: ({ config }, tally, files) =>
    evaluateFindings(
      tally.counts,
      [...tally.blocking].sort(bySeverity),
      [...tally.below].sort(bySeverity),
      config.failOn,
      files,
    ),
  findings: (tally) => [...tally.blocking, ...tally.below, ...tally.ignored].sort(bySeverity),
};
