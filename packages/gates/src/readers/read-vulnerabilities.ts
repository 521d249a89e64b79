/**
 * Vulnerability reports from npm audit (--json, report version 2), Trivy (JSON, schema 2 and the older
 * top-level array), Grype (-o json) and SARIF 2.1.0, streamed: each finding is handed to `onFinding`
 * as it is read, so a report of any size is read in bounded memory.
 */
import { basename } from 'node:path';
import type { Finding, Severity } from '../types.js';
import { InvalidReportError, checkCount, checkEqual } from './check-numbers.js';
import { type JsonPath, pathMatches, streamJsonValues } from './stream-json.js';

export type VulnerabilityFormat = 'npm-audit' | 'trivy' | 'grype' | 'sarif';

export interface VulnerabilityRead {
  tool: string;
  /** Set when the tool itself reported that it did not complete (findings would be incomplete). */
  incomplete?: string;
}

type OnFinding = (finding: Finding) => void;

export function inferVulnerabilityFormat(path: string): VulnerabilityFormat | undefined {
  const name = basename(path).toLowerCase();
  if (name.endsWith('.sarif') || name.endsWith('.sarif.json')) return 'sarif';
  for (const format of ['npm-audit', 'trivy', 'grype'] as const) if (name.includes(format)) return format;
  return undefined;
}

export function normaliseSeverity(raw: unknown): Severity {
  const s = String(raw ?? '').toLowerCase();
  if (s === 'critical' || s === 'high' || s === 'low' || s === 'info') return s;
  if (s === 'medium' || s === 'moderate') return 'medium';
  if (s === 'negligible' || s === 'none' || s === 'informational') return 'info';
  return 'unknown';
}

/** CVSS-style score → severity, as GitHub code scanning maps `security-severity`. */
export function severityFromScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'info';
}

export async function readVulnerabilities(
  file: string,
  format: VulnerabilityFormat,
  onFinding: OnFinding,
): Promise<VulnerabilityRead> {
  switch (format) {
    case 'npm-audit':
      return readNpmAudit(file, onFinding);
    case 'trivy':
      return readTrivy(file, onFinding);
    case 'grype':
      return readGrype(file, onFinding);
    case 'sarif':
      return readSarif(file, onFinding);
  }
}

type Obj = Record<string, unknown>;

/** Line numbers in SARIF and Trivy are 1-based. */
function checkLine(line: number, field: string): number {
  if (!Number.isSafeInteger(line) || line < 1)
    throw new InvalidReportError(field, `is ${line}, not a line number (1 or more)`);
  return line;
}
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

async function readNpmAudit(file: string, onFinding: OnFinding): Promise<VulnerabilityRead> {
  const top: Obj = {};
  let entries = 0;
  let npm6 = false;
  await streamJsonValues(
    file,
    (p) => {
      // npm 6's report (version 1) lists `advisories`: noted, never assembled (it can be large).
      if (p.length === 1 && p[0] === 'advisories') npm6 = true;
      return (
        pathMatches(p, ['vulnerabilities', '*']) ||
        (p.length === 1 && p[0] !== 'vulnerabilities' && p[0] !== 'advisories')
      );
    },
    (path, value) => {
      if (path.length === 1) {
        top[path[0] as string] = value;
        return;
      }
      entries++;
      if (!isObj(value)) return;
      const name = str(value.name) ?? String(path[1]);
      const via = Array.isArray(value.via) ? value.via : [];
      const advisories = via.filter(isObj);
      const fix = value.fixAvailable;
      const fixedIn = isObj(fix)
        ? `${str(fix.name) ?? name}@${str(fix.version) ?? '?'}`
        : fix === true
          ? 'npm audit fix'
          : undefined;
      if (advisories.length === 0) {
        // Only vulnerable through other packages: one finding, so the count matches npm's summary.
        onFinding({
          id: `npm:${name}`,
          severity: normaliseSeverity(value.severity),
          target: `${name}@${str(value.range) ?? '*'}`,
          title: `vulnerable through ${via.filter((v) => typeof v === 'string').join(', ') || 'a dependency'}`,
          tool: 'npm audit',
          file,
          ...(fixedIn ? { fixedIn } : {}),
        });
        return;
      }
      for (const advisory of advisories) {
        const url = str(advisory.url);
        const ghsa = url?.match(/GHSA-[\w-]+/)?.[0];
        onFinding({
          id: ghsa ?? (advisory.source !== undefined ? `npm:${String(advisory.source)}` : `npm:${name}`),
          severity: normaliseSeverity(advisory.severity ?? value.severity),
          target: `${str(advisory.name) ?? name}@${str(advisory.range) ?? str(value.range) ?? '*'}`,
          title: str(advisory.title) ?? 'advisory',
          tool: 'npm audit',
          file,
          ...(fixedIn ? { fixedIn } : {}),
        });
      }
    },
  );
  // npm prints an error document (not a report) when the advisory endpoint fails: never a pass.
  if (top.auditReportVersion === undefined && npm6)
    throw new Error(
      'npm audit report version 1 (npm 6, with advisories) is not supported (use npm 7 or later: version 2)',
    );
  if (top.auditReportVersion === undefined) {
    const status = typeof top.statusCode === 'number' ? ` (HTTP ${top.statusCode})` : '';
    const error = isObj(top.error)
      ? [str(top.error.code), str(top.error.summary), str(top.error.detail)].filter(Boolean).join(': ')
      : '';
    const reason = error || str(top.message);
    throw new Error(
      reason
        ? `npm audit did not complete${status}: ${reason}`
        : `not an npm audit --json report (no auditReportVersion; ${entries} vulnerability entries)`,
    );
  }
  if (top.auditReportVersion !== 2)
    throw new Error(
      `npm audit report version ${String(top.auditReportVersion)} is not supported (use npm 7 or later: version 2)`,
    );
  checkNpmAuditMetadata(top.metadata, entries);
  return { tool: 'npm audit' };
}

const NPM_SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;

/**
 * npm's summary counts one per vulnerable package, by severity: every count is a whole number, they
 * add up to the total, and the total is the number of entries listed (a report whose entries were cut
 * out while the summary still counts them is not what npm wrote).
 */
function checkNpmAuditMetadata(metadata: unknown, entries: number): void {
  if (!isObj(metadata)) return;
  for (const section of ['vulnerabilities', 'dependencies'] as const) {
    const counts = metadata[section];
    if (!isObj(counts)) continue;
    for (const [key, value] of Object.entries(counts))
      if (typeof value === 'number') checkCount(value, `metadata.${section}.${key}`);
  }
  const counts = metadata.vulnerabilities;
  if (!isObj(counts) || typeof counts.total !== 'number') return;
  const bySeverity = NPM_SEVERITIES.map((s) => counts[s]);
  const sum = bySeverity.reduce<number>((n, c) => n + (typeof c === 'number' ? c : 0), 0);
  if (bySeverity.every((c) => typeof c === 'number') && sum !== counts.total)
    throw new InvalidReportError(
      'metadata.vulnerabilities.total',
      `is ${counts.total} but its severities add up to ${sum}`,
    );
  checkEqual(counts.total, 'metadata.vulnerabilities.total', entries, 'vulnerable packages');
}

async function readTrivy(file: string, onFinding: OnFinding): Promise<VulnerabilityRead> {
  const targets = new Map<number, string>();
  let schema: unknown;
  let sawResults = false;
  // Schema 2: {SchemaVersion, Results: [...]}; before v0.20 the report was the array of results itself.
  const inResult = (p: JsonPath, rest: (string | number)[]) =>
    pathMatches(p, ['Results', '*', ...rest]) || (typeof p[0] === 'number' && pathMatches(p, ['*', ...rest]));
  await streamJsonValues(
    file,
    (p) =>
      pathMatches(p, ['SchemaVersion']) ||
      inResult(p, ['Target']) ||
      inResult(p, ['Vulnerabilities', '*']) ||
      inResult(p, ['Misconfigurations', '*']) ||
      inResult(p, ['Secrets', '*']),
    (path, value) => {
      if (path[0] === 'SchemaVersion') {
        schema = value;
        return;
      }
      sawResults = true;
      const offset = path[0] === 'Results' ? 1 : 0;
      const index = path[offset] as number;
      const kind = path[offset + 1];
      if (kind === 'Target') {
        targets.set(index, String(value));
        return;
      }
      if (!isObj(value)) return;
      const target = targets.get(index) ?? `result ${index}`;
      if (kind === 'Vulnerabilities')
        onFinding({
          id: str(value.VulnerabilityID) ?? 'unknown',
          severity: normaliseSeverity(value.Severity),
          target: `${str(value.PkgName) ?? '?'}@${str(value.InstalledVersion) ?? '?'} (${target})`,
          title: str(value.Title) ?? str(value.Description)?.slice(0, 120) ?? '',
          tool: 'Trivy',
          file,
          ...(str(value.FixedVersion) ? { fixedIn: str(value.FixedVersion) } : {}),
        });
      else
        onFinding({
          id: str(value.ID) ?? str(value.AVDID) ?? str(value.RuleID) ?? 'unknown',
          severity: normaliseSeverity(value.Severity),
          target:
            kind === 'Secrets' && typeof value.StartLine === 'number'
              ? `${target}:${checkLine(value.StartLine, `${path.join('.')}.StartLine`)}`
              : target,
          title: str(value.Title) ?? str(value.Message) ?? '',
          tool: 'Trivy',
          file,
        });
    },
  );
  if (schema === undefined && !sawResults)
    throw new Error('not a Trivy JSON report (no SchemaVersion and no results)');
  if (schema !== undefined && schema !== 2)
    throw new Error(`Trivy SchemaVersion ${String(schema)} is not supported (expected 2)`);
  return { tool: 'Trivy' };
}

async function readGrype(file: string, onFinding: OnFinding): Promise<VulnerabilityRead> {
  let sawMatches = false;
  let descriptor: unknown;
  await streamJsonValues(
    file,
    (p) => pathMatches(p, ['matches', '*']) || pathMatches(p, ['descriptor', 'name']),
    (path, value) => {
      if (path[0] === 'descriptor') {
        descriptor = value;
        return;
      }
      sawMatches = true;
      if (!isObj(value)) return;
      const vuln = isObj(value.vulnerability) ? value.vulnerability : {};
      const artifact = isObj(value.artifact) ? value.artifact : {};
      const fix =
        isObj(vuln.fix) && Array.isArray(vuln.fix.versions)
          ? (vuln.fix.versions as unknown[]).map(String)
          : [];
      onFinding({
        id: str(vuln.id) ?? 'unknown',
        severity: normaliseSeverity(vuln.severity),
        target: `${str(artifact.name) ?? '?'}@${str(artifact.version) ?? '?'}`,
        title: str(vuln.description)?.slice(0, 120) ?? str(vuln.dataSource) ?? '',
        tool: 'Grype',
        file,
        ...(fix.length ? { fixedIn: fix.join(', ') } : {}),
      });
    },
  );
  if (!sawMatches && descriptor === undefined)
    throw new Error('not a Grype JSON report (no matches and no descriptor)');
  return { tool: 'Grype' };
}

interface SarifRule {
  level?: string;
  score?: number;
  name?: string;
}

async function readSarif(file: string, onFinding: OnFinding): Promise<VulnerabilityRead> {
  let version: unknown;
  const tools = new Map<number, string>();
  const rules = new Map<string, SarifRule>();
  const failures: string[] = [];
  // A CVSS-style score, 0.0–10.0: a forged -5 would turn a critical finding into `info`.
  const scoreOf = (props: unknown, field: string): number | undefined => {
    if (!isObj(props)) return undefined;
    const n = Number(props['security-severity']);
    if (props['security-severity'] === undefined || !Number.isFinite(n)) return undefined;
    if (n < 0 || n > 10)
      throw new InvalidReportError(`${field}.properties.security-severity`, `is ${n}, not a score (0–10)`);
    return n;
  };
  // Rules are read as they come: SARIF producers write tool.driver (with its rules) before results.
  await streamJsonValues(
    file,
    (p) =>
      pathMatches(p, ['version']) ||
      pathMatches(p, ['runs', '*', 'tool', 'driver', 'name']) ||
      pathMatches(p, ['runs', '*', 'tool', 'driver', 'rules', '*']) ||
      pathMatches(p, ['runs', '*', 'results', '*']) ||
      pathMatches(p, ['runs', '*', 'invocations', '*']),
    (path, value) => {
      if (path[0] === 'version') {
        version = value;
        return;
      }
      const run = path[1] as number;
      const kind = path[2];
      if (kind === 'tool' && path[4] === 'name') {
        tools.set(run, String(value));
        return;
      }
      if (!isObj(value)) return;
      if (kind === 'tool') {
        const config = isObj(value.defaultConfiguration) ? value.defaultConfiguration : {};
        const rule: SarifRule = {
          level: str(config.level),
          score: scoreOf(value.properties, path.join('.')),
          name:
            str(value.name) ?? (isObj(value.shortDescription) ? str(value.shortDescription.text) : undefined),
        };
        if (str(value.id)) rules.set(`${run}:${str(value.id)}`, rule);
        rules.set(`${run}#${path[5] as number}`, rule);
        return;
      }
      const tool = tools.get(run) ?? `SARIF run ${run}`;
      if (kind === 'invocations') {
        if (value.executionSuccessful === false) {
          const notes = Array.isArray(value.toolExecutionNotifications)
            ? value.toolExecutionNotifications.filter(isObj)
            : [];
          const texts = notes
            .map((n) => (isObj(n.message) ? str(n.message.text) : undefined))
            .filter(Boolean);
          failures.push(`${tool} did not complete${texts.length ? `: ${texts.join('; ')}` : ''}`);
        }
        return;
      }
      const ruleId = str(value.ruleId) ?? (isObj(value.rule) ? str(value.rule.id) : undefined) ?? 'unknown';
      const where = path.join('.');
      const ruleIndex =
        typeof value.ruleIndex === 'number'
          ? checkCount(value.ruleIndex, `${where}.ruleIndex`)
          : isObj(value.rule) && typeof value.rule.index === 'number'
            ? checkCount(value.rule.index, `${where}.rule.index`)
            : undefined;
      const rule =
        rules.get(`${run}:${ruleId}`) ??
        (ruleIndex !== undefined ? rules.get(`${run}#${ruleIndex}`) : undefined) ??
        {};
      const score = scoreOf(value.properties, where) ?? rule.score;
      const level = str(value.level) ?? rule.level ?? 'warning';
      const severity: Severity =
        score !== undefined
          ? severityFromScore(score)
          : (({ error: 'high', warning: 'medium', note: 'low', none: 'info' } as Record<string, Severity>)[
              level
            ] ?? 'unknown');
      const loc = Array.isArray(value.locations) && isObj(value.locations[0]) ? value.locations[0] : {};
      const physical = isObj(loc.physicalLocation) ? loc.physicalLocation : {};
      const uri = isObj(physical.artifactLocation) ? str(physical.artifactLocation.uri) : undefined;
      const line =
        isObj(physical.region) && typeof physical.region.startLine === 'number'
          ? checkLine(physical.region.startLine, `${where}.locations.0.physicalLocation.region.startLine`)
          : undefined;
      onFinding({
        id: ruleId,
        severity,
        target: uri ? `${uri}${line ? `:${line}` : ''}` : '(no location)',
        title: (isObj(value.message) ? str(value.message.text) : undefined) ?? rule.name ?? '',
        tool,
        file,
      });
    },
  );
  if (version !== '2.1.0')
    throw new Error(
      version === undefined
        ? 'not a SARIF log (no version)'
        : `SARIF version ${String(version)} is not supported (expected 2.1.0)`,
    );
  return {
    tool: [...new Set(tools.values())].join(', ') || 'SARIF',
    ...(failures.length ? { incomplete: failures.join('; ') } : {}),
  };
}
