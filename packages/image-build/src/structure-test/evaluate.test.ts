import { describe, expect, it } from 'vitest';
import { CommandTest, FileContentTest, FileExistenceTest, MetadataTest } from './config.js';
import {
  compilePattern,
  evaluateCommand,
  evaluateFileContent,
  evaluateFileExistence,
  evaluateMetadata,
  formatMode,
  readImageConfig,
  substituteEnv,
  type FileStat,
  type ImageConfig,
} from './evaluate.js';

const cmd = (fields: Record<string, unknown>) => CommandTest.parse({ name: 't', command: 'x', ...fields });

describe('evaluateCommand', () => {
  const cases: {
    name: string;
    test: Record<string, unknown>;
    observed: { stdout: string; stderr: string; exitCode: number; error?: string };
    failures: string[];
  }[] = [
    {
      name: 'expected output found',
      test: { expectedOutput: ['^v20\\.'] },
      observed: { stdout: 'v20.20.2\n', stderr: '', exitCode: 0 },
      failures: [],
    },
    {
      name: 'expected output missing',
      test: { expectedOutput: ['^v22'] },
      observed: { stdout: 'v20.20.2\n', stderr: '', exitCode: 0 },
      failures: ['stdout matches /^v22/'],
    },
    {
      name: 'excluded output present',
      test: { excludedOutput: ['gcc'] },
      observed: { stdout: '/usr/bin/gcc\n', stderr: '', exitCode: 0 },
      failures: ['stdout does not match /gcc/'],
    },
    {
      name: 'expected error checks stderr, not stdout',
      test: { expectedError: ['boom'] },
      observed: { stdout: 'boom', stderr: '', exitCode: 0 },
      failures: ['stderr matches /boom/'],
    },
    {
      name: 'excluded error present',
      test: { excludedError: ['warn'] },
      observed: { stdout: '', stderr: 'npm warn x', exitCode: 0 },
      failures: ['stderr does not match /warn/'],
    },
    {
      name: 'exit code defaults to 0',
      test: {},
      observed: { stdout: '', stderr: 'nope', exitCode: 3 },
      failures: ['exit code 0'],
    },
    {
      name: 'non-zero exit code expected',
      test: { exitCode: 2 },
      observed: { stdout: '', stderr: '', exitCode: 2 },
      failures: [],
    },
    {
      name: 'command could not run',
      test: {},
      observed: { stdout: '', stderr: '', exitCode: -1, error: 'timed out after 10 ms' },
      failures: ['the command runs'],
    },
    {
      name: 'empty-output pattern',
      test: { expectedOutput: ['^$'] },
      observed: { stdout: '', stderr: '', exitCode: 0 },
      failures: [],
    },
    {
      name: 'several failures reported together',
      test: { expectedOutput: ['a'], exitCode: 1 },
      observed: { stdout: 'b', stderr: '', exitCode: 0 },
      failures: ['stdout matches /a/', 'exit code 1'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(evaluateCommand(cmd(c.test), c.observed).map((f) => f.expectation)).toEqual(c.failures);
    });
  }

  it('says what was found', () => {
    const [failure] = evaluateCommand(cmd({ expectedOutput: ['^1000$'] }), {
      stdout: '0\n',
      stderr: '',
      exitCode: 0,
    });
    expect(failure).toEqual({ expectation: 'stdout matches /^1000$/', found: 'stdout "0\\n"' });
    const [exit] = evaluateCommand(cmd({}), {
      stdout: '',
      stderr: 'sh: 1: nope: not found\n',
      exitCode: 127,
    });
    expect(exit?.found).toBe('exit code 127, stderr "sh: 1: nope: not found\\n"');
  });
});

describe('compilePattern (Go RE2 conventions)', () => {
  const cases: [string, string, boolean][] = [
    ['(?i)hello', 'HELLO', true],
    ['hello', 'HELLO', false],
    ['^b$', 'a\nb', false],
    ['(?m)^b$', 'a\nb', true],
    ['a.b', 'a\nb', false],
    ['(?s)a.b', 'a\nb', true],
  ];
  for (const [pattern, text, matches] of cases) {
    it(`/${pattern}/ on ${JSON.stringify(text)} → ${matches}`, () =>
      expect(compilePattern(pattern).test(text)).toBe(matches));
  }
  it('an invalid pattern fails the test with the reason', () => {
    const [f] = evaluateCommand(cmd({ expectedOutput: ['(unclosed'] }), {
      stdout: 'x',
      stderr: '',
      exitCode: 0,
    });
    expect(f?.found).toMatch(/invalid regular expression/);
  });
});

describe('substituteEnv (os.Expand semantics)', () => {
  const env = { HOME: '/home/node', APP: 'its' };
  const cases: [string, string][] = [
    ['$HOME/.npm', '/home/node/.npm'],
    ['${APP}-x', 'its-x'],
    ['$MISSING/y', '/y'],
    ['no vars', 'no vars'],
  ];
  for (const [input, output] of cases)
    it(`${input} → ${output}`, () => expect(substituteEnv(input, env)).toBe(output));
});

describe('formatMode (Go FileMode.String)', () => {
  const cases: [FileStat['type'], number, string][] = [
    ['file', 0o755, '-rwxr-xr-x'],
    ['file', 0o644, '-rw-r--r--'],
    ['dir', 0o755, 'drwxr-xr-x'],
    ['dir', 0o1777, 'dtrwxrwxrwx'],
    ['symlink', 0o777, 'Lrwxrwxrwx'],
    ['file', 0o4755, 'urwxr-xr-x'],
    ['fifo', 0o600, 'prw-------'],
  ];
  for (const [type, mode, text] of cases)
    it(`${type} ${mode.toString(8)} → ${text}`, () => expect(formatMode({ type, mode })).toBe(text));
});

describe('evaluateFileExistence', () => {
  const file: FileStat = { type: 'file', mode: 0o755, uid: 0, gid: 0 };
  const data: FileStat = { type: 'dir', mode: 0o755, uid: 1000, gid: 1000 };
  const fe = (fields: Record<string, unknown>) =>
    FileExistenceTest.parse({ name: 't', path: '/p', ...fields });
  const cases: { name: string; test: Record<string, unknown>; stat: FileStat | null; failures: string[] }[] =
    [
      { name: 'shouldExist defaults to true', test: {}, stat: null, failures: ['/p exists'] },
      { name: 'exists', test: {}, stat: file, failures: [] },
      {
        name: 'must not exist but does',
        test: { shouldExist: false },
        stat: file,
        failures: ['/p does not exist'],
      },
      { name: 'must not exist and does not', test: { shouldExist: false }, stat: null, failures: [] },
      { name: 'permissions match', test: { permissions: '-rwxr-xr-x' }, stat: file, failures: [] },
      {
        name: 'permissions differ',
        test: { permissions: '-rw-r--r--' },
        stat: file,
        failures: ['/p has permissions -rw-r--r--'],
      },
      {
        name: 'executable by other',
        test: { isExecutableBy: 'other' },
        stat: { ...file, mode: 0o750 },
        failures: ['/p is executable by other'],
      },
      {
        name: 'executable by group',
        test: { isExecutableBy: 'group' },
        stat: { ...file, mode: 0o750 },
        failures: [],
      },
      {
        name: 'executable by any needs one x bit',
        test: { isExecutableBy: 'any' },
        stat: { ...file, mode: 0o644 },
        failures: ['/p is executable by any'],
      },
      { name: 'uid and gid', test: { uid: 1000, gid: 1000 }, stat: data, failures: [] },
      { name: 'wrong owner', test: { uid: 1000, gid: 0 }, stat: file, failures: ['/p is owned by uid 1000'] },
      { name: 'uid -1 means unchecked', test: { uid: -1 }, stat: file, failures: [] },
    ];
  for (const c of cases)
    it(c.name, () =>
      expect(evaluateFileExistence(fe(c.test), c.stat).map((f) => f.expectation)).toEqual(c.failures),
    );
  it('reports what was found', () => {
    expect(evaluateFileExistence(fe({ permissions: '-rw-r--r--' }), file)[0]?.found).toBe('-rwxr-xr-x');
    expect(evaluateFileExistence(fe({ uid: 1000 }), file)[0]?.found).toBe('uid 0');
  });
});

describe('evaluateFileContent', () => {
  const fc = (fields: Record<string, unknown>) =>
    FileContentTest.parse({ name: 't', path: '/etc/os-release', ...fields });
  const text = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
  const cases: {
    name: string;
    test: Record<string, unknown>;
    contents: string | null;
    failures: string[];
  }[] = [
    {
      name: 'expected contents',
      test: { expectedContents: ['bookworm', 'ID=debian'] },
      contents: text,
      failures: [],
    },
    {
      name: 'expected missing',
      test: { expectedContents: ['bullseye'] },
      contents: text,
      failures: ['/etc/os-release content matches /bullseye/'],
    },
    {
      name: 'excluded present',
      test: { excludedContents: ['debian'] },
      contents: text,
      failures: ['/etc/os-release content does not match /debian/'],
    },
    {
      name: 'missing file',
      test: { expectedContents: ['x'] },
      contents: null,
      failures: ['/etc/os-release can be read'],
    },
  ];
  for (const c of cases)
    it(c.name, () =>
      expect(evaluateFileContent(fc(c.test), c.contents).map((f) => f.expectation)).toEqual(c.failures),
    );
});

describe('evaluateMetadata', () => {
  const image: ImageConfig = readImageConfig({
    Config: {
      Env: ['PATH=/usr/bin', 'NODE_ENV=production', 'EMPTY='],
      Labels: { 'org.opencontainers.image.version': '1.2.3', 'ai.its.target': 'production' },
      ExposedPorts: { '8000/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {} },
      Entrypoint: ['/usr/bin/tini', '--'],
      Cmd: ['api'],
      WorkingDir: '/app',
      User: 'node',
    },
  });
  const md = (fields: Record<string, unknown>) => MetadataTest.parse(fields);
  const cases: { name: string; test: Record<string, unknown>; failures: string[] }[] = [
    { name: 'env value', test: { env: [{ key: 'NODE_ENV', value: 'production' }] }, failures: [] },
    { name: 'env empty value is set', test: { env: [{ key: 'EMPTY', value: '' }] }, failures: [] },
    {
      name: 'env wrong value',
      test: { env: [{ key: 'NODE_ENV', value: 'development' }] },
      failures: ['env var NODE_ENV = "development"'],
    },
    { name: 'env missing', test: { env: [{ key: 'NOPE', value: 'x' }] }, failures: ['env var NOPE = "x"'] },
    {
      name: 'label regex',
      test: {
        labels: [{ key: 'org.opencontainers.image.version', value: '^\\d+\\.\\d+\\.\\d+$', isRegex: true }],
      },
      failures: [],
    },
    {
      name: 'label exact mismatch',
      test: { labels: [{ key: 'ai.its.target', value: 'edge' }] },
      failures: ['label ai.its.target = "edge"'],
    },
    { name: 'port without protocol means tcp', test: { exposedPorts: ['8000'] }, failures: [] },
    { name: 'udp port must be named', test: { exposedPorts: ['53'] }, failures: ['port 53 is exposed'] },
    { name: 'udp port named', test: { exposedPorts: ['53/udp'] }, failures: [] },
    {
      name: 'unexposed port exposed',
      test: { unexposedPorts: ['8000/tcp'] },
      failures: ['port 8000/tcp is not exposed'],
    },
    { name: 'unexposed port absent', test: { unexposedPorts: ['9229'] }, failures: [] },
    { name: 'volumes', test: { volumes: ['/data'], unmountedVolumes: ['/tmp'] }, failures: [] },
    {
      name: 'volume missing',
      test: { volumes: ['/var/lib/x'] },
      failures: ['volume /var/lib/x is declared'],
    },
    {
      name: 'entrypoint and cmd exact',
      test: { entrypoint: ['/usr/bin/tini', '--'], cmd: ['api'] },
      failures: [],
    },
    { name: 'cmd differs', test: { cmd: ['web'] }, failures: ['cmd ["web"]'] },
    { name: 'empty entrypoint expected', test: { entrypoint: [] }, failures: ['entrypoint []'] },
    { name: 'workdir and user', test: { workdir: '/app', user: 'node' }, failures: [] },
    { name: 'root user', test: { user: 'root' }, failures: ['user "root"'] },
  ];
  for (const c of cases)
    it(c.name, () =>
      expect(evaluateMetadata(md(c.test), image).map((f) => f.expectation)).toEqual(c.failures),
    );
  it('reads an image with no config sections', () => {
    expect(readImageConfig({ Config: { Env: null, Cmd: null } })).toEqual({
      env: {},
      labels: {},
      exposedPorts: [],
      volumes: [],
      entrypoint: [],
      cmd: [],
      workdir: '',
      user: '',
    });
  });
});
