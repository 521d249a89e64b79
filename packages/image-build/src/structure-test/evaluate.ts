/**
 * Pure verdicts for container structure tests: each function takes a test and what was observed in the
 * image and returns the failures, each naming the expectation and what was found. No Docker here.
 */
import type { CommandTest, FileContentTest, FileExistenceTest, MetadataTest } from './config.js';

export type TestKind = 'command' | 'fileExistence' | 'fileContent' | 'metadata';

export interface Failure {
  /** What the test expected, e.g. `output matches /v20\./`. */
  expectation: string;
  /** What the image showed instead. */
  found: string;
}

export interface TestResult {
  kind: TestKind;
  name: string;
  pass: boolean;
  failures: Failure[];
  durationMs: number;
  stdout?: string;
  stderr?: string;
}

export interface CommandObservation {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Set when the command could not be run at all (setup failed, timed out, no such image). */
  error?: string;
}

export type FileType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'other';

export interface FileStat {
  type: FileType;
  /** Permission and special bits (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  linkTarget?: string;
}

/** The parts of `docker image inspect` … `.Config` the metadata test reads. */
export interface ImageConfig {
  env: Record<string, string>;
  labels: Record<string, string>;
  exposedPorts: string[];
  volumes: string[];
  entrypoint: string[];
  cmd: string[];
  workdir: string;
  user: string;
}

const MAX_SHOWN = 400;

/** Long outputs are cut in messages so one failing test cannot bury the report. */
export function truncate(text: string, max = MAX_SHOWN): string {
  const oneLine = JSON.stringify(text);
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max)}…" (${text.length} chars)`;
}

/**
 * Go RE2 patterns as the original tool writes them, compiled for JavaScript: a leading `(?flags)` group
 * (i, m, s) becomes RegExp flags; without it, matching is case-sensitive and `.` stops at newlines, as in Go.
 */
export function compilePattern(pattern: string): RegExp {
  const m = /^\(\?([ims]+)\)/.exec(pattern);
  const flags = m?.[1] ? [...new Set(m[1])].join('') : '';
  const body = m ? pattern.slice(m[0].length) : pattern;
  try {
    return new RegExp(body, flags);
  } catch (err) {
    throw new PatternError(pattern, (err as Error).message);
  }
}

export class PatternError extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`invalid regular expression /${pattern}/: ${reason}`);
  }
}

function checkPatterns(
  failures: Failure[],
  patterns: string[],
  text: string,
  shouldMatch: boolean,
  what: string,
): void {
  for (const pattern of patterns) {
    let matched: boolean;
    try {
      matched = compilePattern(pattern).test(text);
    } catch (err) {
      failures.push({
        expectation: `${what} ${shouldMatch ? 'matches' : 'does not match'} /${pattern}/`,
        found: (err as Error).message,
      });
      continue;
    }
    if (matched !== shouldMatch) {
      failures.push({
        expectation: `${what} ${shouldMatch ? 'matches' : 'does not match'} /${pattern}/`,
        found: `${what} ${truncate(text)}`,
      });
    }
  }
}

/** `$VAR` and `${VAR}` from the image's environment, unknown names becoming empty (Go's os.Expand). */
export function substituteEnv(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, braced: string | undefined, bare: string | undefined) => env[braced ?? bare ?? ''] ?? '',
  );
}

export function evaluateCommand(test: CommandTest, observed: CommandObservation): Failure[] {
  if (observed.error !== undefined) return [{ expectation: 'the command runs', found: observed.error }];
  const failures: Failure[] = [];
  checkPatterns(failures, test.expectedOutput, observed.stdout, true, 'stdout');
  checkPatterns(failures, test.excludedOutput, observed.stdout, false, 'stdout');
  checkPatterns(failures, test.expectedError, observed.stderr, true, 'stderr');
  checkPatterns(failures, test.excludedError, observed.stderr, false, 'stderr');
  if (observed.exitCode !== test.exitCode) {
    failures.push({
      expectation: `exit code ${test.exitCode}`,
      found: `exit code ${observed.exitCode}${observed.stderr ? `, stderr ${truncate(observed.stderr, 200)}` : ''}`,
    });
  }
  return failures;
}

const TYPE_CHAR: Record<FileType, string> = {
  file: '',
  dir: 'd',
  symlink: 'L',
  hardlink: '',
  char: 'Dc',
  block: 'D',
  fifo: 'p',
  other: '?',
};

/** Go's FileMode.String(): type letters (d, L, D, c, p, then u g t for setuid/setgid/sticky), then rwx×3. */
export function formatMode(stat: Pick<FileStat, 'type' | 'mode'>): string {
  let prefix = TYPE_CHAR[stat.type];
  if (stat.mode & 0o4000) prefix += 'u';
  if (stat.mode & 0o2000) prefix += 'g';
  if (stat.mode & 0o1000) prefix += 't';
  const rwx = 'rwxrwxrwx'
    .split('')
    .map((c, i) => (stat.mode & (1 << (8 - i)) ? c : '-'))
    .join('');
  return `${prefix || '-'}${rwx}`;
}

const EXEC_BITS = { any: 0o111, owner: 0o100, group: 0o010, other: 0o001 } as const;

export function evaluateFileExistence(
  test: FileExistenceTest,
  stat: FileStat | null,
  path = test.path,
): Failure[] {
  if (!test.shouldExist)
    return stat
      ? [{ expectation: `${path} does not exist`, found: `${path} exists (${formatMode(stat)})` }]
      : [];
  if (!stat) return [{ expectation: `${path} exists`, found: `no such file or directory` }];
  const failures: Failure[] = [];
  if (test.permissions !== undefined && formatMode(stat) !== test.permissions) {
    failures.push({ expectation: `${path} has permissions ${test.permissions}`, found: formatMode(stat) });
  }
  if (test.isExecutableBy !== undefined && (stat.mode & EXEC_BITS[test.isExecutableBy]) === 0) {
    failures.push({
      expectation: `${path} is executable by ${test.isExecutableBy}`,
      found: formatMode(stat),
    });
  }
  if (test.uid !== undefined && test.uid !== -1 && stat.uid !== test.uid) {
    failures.push({ expectation: `${path} is owned by uid ${test.uid}`, found: `uid ${stat.uid}` });
  }
  if (test.gid !== undefined && test.gid !== -1 && stat.gid !== test.gid) {
    failures.push({ expectation: `${path} has gid ${test.gid}`, found: `gid ${stat.gid}` });
  }
  return failures;
}

export function evaluateFileContent(test: FileContentTest, contents: string | null): Failure[] {
  if (contents === null) return [{ expectation: `${test.path} can be read`, found: 'no such file' }];
  const failures: Failure[] = [];
  checkPatterns(failures, test.expectedContents, contents, true, `${test.path} content`);
  checkPatterns(failures, test.excludedContents, contents, false, `${test.path} content`);
  return failures;
}

/** Ports compare as the original tool reports them: "8000" means 8000/tcp; "53/udp" must match exactly. */
function normalisePort(port: string): string {
  return port.includes('/') ? port : `${port}/tcp`;
}

function matchesValue(expected: { value: string; isRegex: boolean }, actual: string): boolean {
  return expected.isRegex ? compilePattern(expected.value).test(actual) : expected.value === actual;
}

function sameArgv(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function evaluateMetadata(test: MetadataTest, image: ImageConfig): Failure[] {
  const failures: Failure[] = [];
  const keyed = (what: 'env var' | 'label', entries: MetadataTest['env'], actual: Record<string, string>) => {
    for (const entry of entries) {
      const value = actual[entry.key];
      const expectation = `${what} ${entry.key} ${entry.isRegex ? `matches /${entry.value}/` : `= ${JSON.stringify(entry.value)}`}`;
      if (value === undefined) failures.push({ expectation, found: `${what} ${entry.key} is not set` });
      else {
        try {
          if (!matchesValue(entry, value))
            failures.push({ expectation, found: `${entry.key}=${JSON.stringify(value)}` });
        } catch (err) {
          failures.push({ expectation, found: (err as Error).message });
        }
      }
    }
  };
  keyed('env var', test.env, image.env);
  keyed('label', test.labels, image.labels);
  const exposed = image.exposedPorts.map(normalisePort);
  for (const port of test.exposedPorts) {
    if (!exposed.includes(normalisePort(port)))
      failures.push({
        expectation: `port ${port} is exposed`,
        found: `exposed: [${image.exposedPorts.join(', ')}]`,
      });
  }
  for (const port of test.unexposedPorts) {
    if (exposed.includes(normalisePort(port)))
      failures.push({
        expectation: `port ${port} is not exposed`,
        found: `exposed: [${image.exposedPorts.join(', ')}]`,
      });
  }
  for (const volume of test.volumes) {
    if (!image.volumes.includes(volume))
      failures.push({
        expectation: `volume ${volume} is declared`,
        found: `volumes: [${image.volumes.join(', ')}]`,
      });
  }
  for (const volume of test.unmountedVolumes) {
    if (image.volumes.includes(volume))
      failures.push({
        expectation: `volume ${volume} is not declared`,
        found: `volumes: [${image.volumes.join(', ')}]`,
      });
  }
  if (test.entrypoint !== undefined && !sameArgv(test.entrypoint, image.entrypoint)) {
    failures.push({
      expectation: `entrypoint ${JSON.stringify(test.entrypoint)}`,
      found: JSON.stringify(image.entrypoint),
    });
  }
  if (test.cmd !== undefined && !sameArgv(test.cmd, image.cmd)) {
    failures.push({ expectation: `cmd ${JSON.stringify(test.cmd)}`, found: JSON.stringify(image.cmd) });
  }
  if (test.workdir !== undefined && test.workdir !== image.workdir) {
    failures.push({
      expectation: `workdir ${JSON.stringify(test.workdir)}`,
      found: JSON.stringify(image.workdir),
    });
  }
  if (test.user !== undefined && test.user !== image.user) {
    failures.push({ expectation: `user ${JSON.stringify(test.user)}`, found: JSON.stringify(image.user) });
  }
  return failures;
}

/** `docker image inspect` JSON (one element) → ImageConfig. */
export function readImageConfig(inspect: unknown): ImageConfig {
  const config = ((inspect as { Config?: Record<string, unknown> } | undefined)?.Config ?? {}) as {
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    Volumes?: Record<string, unknown> | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    User?: string;
  };
  const env: Record<string, string> = {};
  for (const entry of config.Env ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return {
    env,
    labels: { ...(config.Labels ?? {}) },
    exposedPorts: Object.keys(config.ExposedPorts ?? {}),
    volumes: Object.keys(config.Volumes ?? {}),
    entrypoint: config.Entrypoint ?? [],
    cmd: config.Cmd ?? [],
    workdir: config.WorkingDir ?? '',
    user: config.User ?? '',
  };
}
