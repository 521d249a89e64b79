/**
 * `itsctl structure-test --image IMAGE --config FILE [--config FILE…] [--json] [--junit FILE]`:
 * container-structure-test (schema 2.0.0) against the local Docker Engine.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, StepFailedError, UsageError } from '@its/core';
import { type CommandModule, collect, log, wantsJson, writeResult } from '../../cli/io.js';
import type { StructureTestConfig, StructureTestReport } from '@its/image-build';

interface Options {
  image?: string;
  config?: string[];
  junit?: string;
  timeout: string;
}

export const structureTestCommand: CommandModule = {
  register(program, io) {
    program
      .command('structure-test')
      .summary('run container structure tests (schema 2.0.0) against an image on the local engine')
      .description(
        `Runs container-structure-test configs (schemaVersion 2.0.0: commandTests, fileExistenceTests,
fileContentTests, metadataTest) against IMAGE on the local Docker Engine, with the original tool's field
semantics: regexes are RE2-style, command tests run without the image's entrypoint, paths and args expand
$VAR from the image's environment. Command tests run with --network none.`,
      )
      .option('--image <image>', 'the image to test (must exist locally)')
      .option('--config <file>', 'a structure test config (YAML or JSON); repeatable', collect)
      .option('--junit <file>', 'also write a JUnit XML report to this file')
      .option('--timeout <seconds>', 'per-command time limit', '120')
      .addHelpText(
        'after',
        `
Examples:
  $ itsctl structure-test --image its-camera-ai:production --config docker/structure-tests/production.yaml
  $ itsctl structure-test --image its-camera-ai:edge --config docker/structure-tests/edge.yaml --json
  $ itsctl structure-test --image app:1 --config a.yaml --config b.yaml --junit reports/structure.xml`,
      )
      .action(async (options: Options, command) => {
        const problems: string[] = [];
        if (!options.image)
          problems.push('--image: required (the image to test, e.g. its-camera-ai:production)');
        if (!options.config?.length)
          problems.push(
            '--config: required (a schema 2.0.0 YAML file, e.g. docker/structure-tests/production.yaml)',
          );
        const timeoutS = Number(options.timeout);
        if (!Number.isFinite(timeoutS) || timeoutS <= 0)
          problems.push(`--timeout: '${options.timeout}' is not a positive number of seconds`);
        if (problems.length) throw new UsageError(problems.join('\n'));
        const image = options.image as string;
        // Loaded here, not at the top, so registering every command stays cheap (`itsctl --help`).
        const [
          { createDockerRunner, ensureDockerRunning, resolveDockerCli },
          {
            createDockerDriver,
            formatResultLine,
            parseStructureTestConfig,
            renderJunit,
            renderText,
            runStructureTests,
          },
        ] = await Promise.all([import('@its/docker-engine'), import('@its/image-build')]);

        // Every config is read and validated before anything runs, so all mistakes are reported together.
        const configs: { name: string; config: StructureTestConfig }[] = [];
        const configErrors: string[] = [];
        for (const file of options.config ?? []) {
          const path = resolve(io.cwd, file);
          try {
            configs.push({
              name: file,
              config: parseStructureTestConfig(await readFile(path, 'utf8'), file),
            });
          } catch (err) {
            configErrors.push(
              (err as NodeJS.ErrnoException).code === 'ENOENT'
                ? `${file}: no such file`
                : (err as Error).message,
            );
          }
        }
        if (configErrors.length) throw new ConfigError(configErrors.join('\n'));

        const cli = resolveDockerCli(io.env);
        const docker = createDockerRunner(cli, { ...process.env, ...io.env });
        await ensureDockerRunning(docker);
        const driver = createDockerDriver({ cli, docker, env: { ...process.env, ...io.env } });
        const reports: StructureTestReport[] = [];
        const json = wantsJson(command);
        try {
          for (const { name, config } of configs) {
            if (!json) log(io, `structure-test: ${image} with ${name}`);
            reports.push(
              await runStructureTests({
                image,
                configName: name,
                config,
                driver,
                commandTimeoutMs: timeoutS * 1000,
                // Progress goes to stderr in JSON mode so stdout stays one document.
                onResult: (r) => (json ? log(io, formatResultLine(r)) : undefined),
              }),
            );
          }
        } finally {
          await driver.close();
        }
        if (options.junit) {
          const path = resolve(io.cwd, options.junit);
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, renderJunit(reports));
        }
        const failed = reports.reduce((n, r) => n + r.failed, 0);
        const total = reports.reduce((n, r) => n + r.total, 0);
        writeResult(io, command, { image, pass: failed === 0, total, failed, reports }, renderText(reports));
        if (failed > 0) {
          throw new StepFailedError(`${failed} of ${total} structure test(s) failed for ${image}`, {
            fix: 'each FAIL line above names the expectation and what the image showed',
          });
        }
      });
  },
};
