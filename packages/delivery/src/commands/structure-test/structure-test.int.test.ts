/**
 * Structure tests against a real Docker Engine and a tiny image built here FROM debian:bookworm-slim:
 * a config that passes end to end, one that fails with named expectations, and the CLI's outputs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { resolveDockerCli } from '@its/docker-engine';
import { parseStructureTestConfig } from '@its/image-build';
import { createDockerDriver } from '@its/image-build';
import { runStructureTests } from '@its/image-build';

const docker = resolveDockerCli();
const tag = `its-structure-test-fixture:${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'structure-test-'));

beforeAll(() => {
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM debian:bookworm-slim
RUN useradd --uid 1234 app && mkdir /data && chown 1234:1234 /data \\
 && printf 'hello structure\\n' > /etc/greeting && chmod 0640 /etc/greeting && chgrp app /etc/greeting \\
 && ln -s /etc/greeting /etc/greeting-link && printf '#!/bin/sh\\necho tool "$@"\\n' > /usr/local/bin/tool \\
 && chmod 0750 /usr/local/bin/tool
ENV GREETING_FILE=/etc/greeting APP_MODE=test
LABEL org.opencontainers.image.version=1.2.3 ai.its.target=fixture
EXPOSE 8080
VOLUME /data
WORKDIR /data
USER app
ENTRYPOINT ["/bin/false"]
CMD ["serve"]
`,
  );
  execFileSync(docker, ['build', '-q', '-t', tag, dir], {
    env: { ...process.env, DOCKER_BUILDKIT: '1' },
    stdio: 'pipe',
  });
}, 180_000);

afterAll(() => {
  execFileSync(docker, ['image', 'rm', '-f', tag], { stdio: 'ignore' });
});

const passing = `schemaVersion: 2.0.0
globalEnvVars:
  - key: FROM_GLOBAL
    value: global-$APP_MODE
commandTests:
  - name: runs as the app user despite an entrypoint that always fails
    command: id
    args: ['-un']
    expectedOutput: ['^app\\n$']
  - name: image env expands in args
    command: cat
    args: ['$GREETING_FILE']
    expectedOutput: ['hello structure']
    excludedOutput: ['goodbye']
  - name: env vars reach the command
    command: sh
    # $NAME in args expands from the image's environment (as the original tool), so read them here.
    args: ['-c', 'printenv FROM_GLOBAL LOCAL >&2; exit 3']
    envVars:
      - key: LOCAL
        value: local
    expectedError: ['^global-test\\nlocal\\n$']
    excludedError: ['(?i)ERROR']
    exitCode: 3
  - name: setup steps persist into the command (outside volumes, which commit does not keep), teardown runs after
    setup: [['touch', '/tmp/ready']]
    command: ls
    args: ['/tmp']
    expectedOutput: ['ready']
    teardown: [['rm', '/tmp/ready']]
fileExistenceTests:
  - name: greeting
    path: $GREETING_FILE
    permissions: '-rw-r-----'
    uid: 0
    gid: 1234
  - name: data owned by app
    path: /data
    permissions: drwxr-xr-x
    uid: 1234
  - name: symlink
    path: /etc/greeting-link
    permissions: Lrwxrwxrwx
  - name: tool executable by owner and group only
    path: /usr/local/bin/tool
    isExecutableBy: group
  - name: no compiler
    path: /usr/bin/gcc
    shouldExist: false
fileContentTests:
  - name: greeting text, read through a symlink
    path: /etc/greeting-link
    expectedContents: ['^hello']
    excludedContents: ['secret']
metadataTest:
  env:
    - key: APP_MODE
      value: test
  labels:
    - key: org.opencontainers.image.version
      value: '^\\d+\\.\\d+\\.\\d+$'
      isRegex: true
  exposedPorts: ['8080']
  unexposedPorts: ['22']
  volumes: ['/data']
  entrypoint: ['/bin/false']
  cmd: ['serve']
  workdir: /data
  user: app
`;

const failing = `schemaVersion: 2.0.0
commandTests:
  - name: wrong output
    command: cat
    args: ['/etc/greeting']
    expectedOutput: ['^goodbye']
  - name: missing binary
    command: gcc
    args: ['--version']
fileExistenceTests:
  - name: wrong permissions
    path: /etc/greeting
    permissions: '-rw-r--r--'
  - name: should not exist
    path: /etc/greeting
    shouldExist: false
  - name: tool executable by other
    path: /usr/local/bin/tool
    isExecutableBy: other
fileContentTests:
  - name: missing file
    path: /etc/nope
    expectedContents: ['x']
metadataTest:
  user: root
  exposedPorts: ['9000']
`;

describe('structure tests on a real engine', () => {
  it('passes every kind of test against a matching image', async () => {
    const driver = createDockerDriver({ cli: docker });
    try {
      const report = await runStructureTests({
        image: tag,
        configName: 'passing',
        config: parseStructureTestConfig(passing, 'passing'),
        driver,
      });
      const failed = report.results.filter((r) => !r.pass);
      expect(failed).toEqual([]);
      expect(report).toMatchObject({ pass: true, total: 11, failed: 0 });
    } finally {
      await driver.close();
    }
  }, 120_000);

  it('names each failing test, its expectation and what the image showed', async () => {
    const driver = createDockerDriver({ cli: docker });
    try {
      const report = await runStructureTests({
        image: tag,
        configName: 'failing',
        config: parseStructureTestConfig(failing, 'failing'),
        driver,
      });
      expect(report.pass).toBe(false);
      const byName = Object.fromEntries(report.results.map((r) => [r.name, r.failures]));
      expect(byName['wrong output']).toEqual([
        { expectation: 'stdout matches /^goodbye/', found: 'stdout "hello structure\\n"' },
      ]);
      expect(byName['missing binary']?.[0]?.expectation).toBe('exit code 0');
      expect(byName['missing binary']?.[0]?.found).toMatch(/exit code 127|executable file not found/);
      expect(byName['wrong permissions']).toEqual([
        { expectation: '/etc/greeting has permissions -rw-r--r--', found: '-rw-r-----' },
      ]);
      expect(byName['should not exist']).toEqual([
        { expectation: '/etc/greeting does not exist', found: '/etc/greeting exists (-rw-r-----)' },
      ]);
      expect(byName['tool executable by other']).toEqual([
        { expectation: '/usr/local/bin/tool is executable by other', found: '-rwxr-x---' },
      ]);
      expect(byName['missing file']).toEqual([
        { expectation: '/etc/nope can be read', found: 'no such file' },
      ]);
      expect(byName['Metadata Test']).toEqual([
        { expectation: 'port 9000 is exposed', found: 'exposed: [8080/tcp]' },
        { expectation: 'user "root"', found: '"app"' },
      ]);
    } finally {
      await driver.close();
    }
  }, 120_000);

  it('itsctl structure-test: JSON on stdout, JUnit file, exit 1 on failure', async () => {
    const config = join(dir, 'failing.yaml');
    const junit = join(dir, 'out', 'junit.xml');
    writeFileSync(config, failing);
    let stdout = '';
    let stderr = '';
    const code = await runCli(
      ['structure-test', '--image', tag, '--config', config, '--json', '--junit', junit],
      {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
        env: process.env,
        cwd: dir,
        now: () => new Date(),
      },
    );
    expect(code).toBe(1);
    const document = JSON.parse(stdout.slice(0, stdout.indexOf('\n}\n') + 2)) as {
      pass: boolean;
      failed: number;
      total: number;
    };
    expect(document).toMatchObject({ pass: false, failed: 7, total: 7 });
    expect(stderr).toMatch(/7 of 7 structure test\(s\) failed/);
    expect(readFileSync(junit, 'utf8')).toContain(
      '<failure message="expected /etc/greeting has permissions -rw-r--r--">',
    );
  }, 120_000);

  it('reports a missing image and a bad config clearly', async () => {
    const config = join(dir, 'ok.yaml');
    writeFileSync(config, 'schemaVersion: 2.0.0\n');
    let stderr = '';
    const io = {
      stdout: () => undefined,
      stderr: (t: string) => (stderr += t),
      env: process.env,
      cwd: dir,
      now: () => new Date(),
    };
    expect(
      await runCli(['structure-test', '--image', 'its-no-such-image:never', '--config', config], io),
    ).toBe(1);
    expect(stderr).toMatch(/image its-no-such-image:never does not exist locally/);
    writeFileSync(config, 'schemaVersion: 2.0.0\ncommandTests:\n  - name: x\n');
    stderr = '';
    expect(await runCli(['structure-test', '--image', tag, '--config', config], io)).toBe(2);
    expect(stderr).toMatch(/commandTests\.0\.command/);
  }, 60_000);
});
