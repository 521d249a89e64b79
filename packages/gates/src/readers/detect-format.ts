/**
 * Which tool wrote a report, told from its content: the root element of XML, the first lines of text,
 * the top-level keys of JSON. XML and text are judged on a bounded prefix; JSON is outlined once, token
 * by token, and the outline stops at the first key that settles it (outlineJson), so a 50 MB report
 * costs its first few keys. The matching itself is pure: outline in, candidate formats out.
 */
import { open } from 'node:fs/promises';
import type { CoverageFormat } from './read-coverage.js';
import type { VulnerabilityFormat } from './read-vulnerabilities.js';
import { type JsonOutline, outlineJson } from './stream-json.js';

export type DetectableFormat = CoverageFormat | VulnerabilityFormat | 'junit';

/** What each format's content shows; printed when a report fits none of the formats a gate reads. */
export const CONTENT_SIGNATURES: Record<DetectableFormat, string> = {
  'json-summary':
    'istanbul coverage-summary.json, a JSON object whose "total" has lines, statements, functions or branches',
  'coverage-final': 'istanbul coverage-final.json, a JSON object of files, each with statementMap and s',
  lcov: 'an lcov tracefile, text with SF: and end_of_record lines',
  cobertura: 'Cobertura XML, a root <coverage> with line-rate or lines-valid',
  sarif: 'a SARIF log, a JSON object with runs and version "2.1.0" (or a SARIF $schema)',
  trivy:
    'Trivy JSON, a JSON object with SchemaVersion and Results (or the older array of results with Target)',
  grype: 'Grype JSON, a JSON object with matches',
  'npm-audit':
    "npm audit --json, a JSON object with auditReportVersion and vulnerabilities (npm 6's advisories, or npm's error document)",
  junit: 'JUnit XML, a root <testsuites> or <testsuite>',
};

/** `strong`: the content has the format's defining keys; weak: it only looks like it. */
export interface FormatMatch {
  format: DetectableFormat;
  strong: boolean;
}

export interface ContentClues {
  matches: FormatMatch[];
  /** What the content looked like, for messages: `a JSON object with keys a, b`, `XML with root <html>`. */
  seen: string;
  /** Set when the content could not be read as any report at all (empty, not valid JSON). */
  unreadable?: string;
}

/** XML roots and lcov records are found in the first 64 KiB (the root may follow a long DOCTYPE). */
export const PREFIX_BYTES = 64 * 1024;

async function readPrefix(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(PREFIX_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, PREFIX_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Reads what the file's content says about its format; rejects only when the file cannot be read. */
export async function detectFormat(file: string): Promise<ContentClues> {
  const head = (await readPrefix(file)).replace(/^\uFEFF/, '').trimStart();
  if (head === '') return { matches: [], seen: 'nothing', unreadable: 'the file is empty' };
  if (head.startsWith('{') || head.startsWith('[')) {
    let outline: JsonOutline | undefined;
    try {
      outline = await outlineJson(file, (o) => matchJson(o).some((m) => m.strong));
    } catch (err) {
      return {
        matches: [],
        seen: 'text that is not JSON',
        unreadable: `not valid JSON: ${(err as Error).message}`,
      };
    }
    if (!outline) return { matches: [], seen: 'nothing', unreadable: 'the file is empty' };
    const matches = matchJson(outline);
    return {
      matches,
      seen: describeJson(outline),
      ...(outline.error && matches.length === 0 ? { unreadable: `not valid JSON: ${outline.error}` } : {}),
    };
  }
  if (head.startsWith('<')) {
    const root = xmlRoot(head);
    return root
      ? { matches: matchXml(root), seen: `XML with root <${root.name}>` }
      : { matches: [], seen: 'XML without a root element in its first 64 KiB' };
  }
  return { matches: matchText(head), seen: `text starting ${JSON.stringify(firstLine(head))}` };
}

export function matchJson(o: JsonOutline): FormatMatch[] {
  const matches: FormatMatch[] = [];
  const add = (format: DetectableFormat, strong: boolean) => matches.push({ format, strong });
  if (o.root === 'array') {
    // Trivy before v0.20 wrote the array of results itself.
    const first = o.children.get('0');
    if (first?.includes('Target')) add('trivy', true);
    else if (o.items === 0) add('trivy', false);
    return matches;
  }
  if (o.root !== 'object') return matches;
  const has = (key: string) => o.keys.includes(key);
  const childKeys = (key: string) => o.children.get(key) ?? [];

  const schema = o.scalars.get('$schema');
  const sarifSchema = typeof schema === 'string' && /sarif/i.test(schema);
  // Without runs a SARIF log lists nothing, which would read as a clean scan: never strong.
  if (has('runs') && (sarifSchema || o.scalars.get('version') === '2.1.0')) add('sarif', true);
  else if (has('runs') || sarifSchema) add('sarif', false);

  // Trivy leaves Results out of a clean scan; ArtifactName is always there.
  if (has('SchemaVersion') && (has('Results') || has('ArtifactName'))) add('trivy', true);
  else if (has('SchemaVersion')) add('trivy', false);

  if (has('matches')) add('grype', true);

  if (has('auditReportVersion') || (has('advisories') && (has('actions') || has('muted'))))
    add('npm-audit', true);
  // What npm prints instead of a report when the advisory endpoint fails: the reader says why.
  else if (has('vulnerabilities') || childKeys('error').some((k) => k === 'summary' || k === 'detail'))
    add('npm-audit', false);

  if (childKeys('total').some((k) => ['lines', 'statements', 'functions', 'branches'].includes(k)))
    add('json-summary', true);
  if ([...o.children].some(([key, keys]) => key !== 'total' && keys.includes('statementMap')))
    add('coverage-final', true);
  return matches;
}

export interface XmlRoot {
  name: string;
  /** The start tag's attribute text, as written. */
  attributes: string;
}

/** The root element's start tag, after the XML declaration, comments, processing instructions and DOCTYPE. */
export function xmlRoot(text: string): XmlRoot | undefined {
  let s = text.replace(/^\uFEFF/, '').trimStart();
  for (;;) {
    const end = s.startsWith('<?')
      ? s.indexOf('?>') + 2
      : s.startsWith('<!--')
        ? s.indexOf('-->') + 3
        : s.startsWith('<!')
          ? closeOfDeclaration(s)
          : 0;
    if (end === 0) break;
    if (end < 3) return undefined;
    s = s.slice(end).trimStart();
  }
  const m = /^<([A-Za-z_][\w.:-]*)([^>]*)>/.exec(s);
  return m ? { name: m[1]!, attributes: m[2]! } : undefined;
}

/** `<!DOCTYPE …>`, with an internal subset `[…]` when there is one; 0 when unterminated. */
function closeOfDeclaration(s: string): number {
  const bracket = s.indexOf('[');
  const gt = s.indexOf('>');
  if (bracket >= 0 && bracket < gt) {
    const close = s.indexOf(']>', bracket);
    return close < 0 ? 0 : close + 2;
  }
  return gt + 1;
}

export function matchXml(root: XmlRoot): FormatMatch[] {
  const name = root.name.replace(/^.*:/, '');
  if (name === 'testsuites' || name === 'testsuite') return [{ format: 'junit', strong: true }];
  if (name === 'coverage')
    return [{ format: 'cobertura', strong: /\s(line-rate|lines-valid)\s*=/.test(root.attributes) }];
  return [];
}

export function matchText(text: string): FormatMatch[] {
  if (/^(SF:|end_of_record\s*$)/m.test(text)) return [{ format: 'lcov', strong: true }];
  if (/^TN:/m.test(text)) return [{ format: 'lcov', strong: false }];
  return [];
}

function describeJson(o: JsonOutline): string {
  if (o.root === 'array') return `a JSON array of ${o.items}${o.items ? ' or more' : ''} items`;
  if (o.root === 'scalar') return 'a single JSON value';
  if (o.keys.length === 0) return 'an empty JSON object';
  const shown = o.keys.slice(0, 6).join(', ');
  return `a JSON object with keys ${shown}${o.keys.length > 6 ? ', …' : ''}`;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]!.trim();
  return line.length > 40 ? `${line.slice(0, 40)}…` : line;
}
