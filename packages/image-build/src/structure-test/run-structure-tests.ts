/**
 * Runs one config against one image through an ImageDriver and collects results in config order:
 * command tests, file existence, file content, then the metadata test (as the original tool).
 */
import type { StructureTestConfig } from './config.js';
import type { ImageDriver } from './docker-driver.js';
import {
  type Failure,
  type TestResult,
  evaluateCommand,
  evaluateFileContent,
  evaluateFileExistence,
  evaluateMetadata,
  substituteEnv,
} from './evaluate.js';

export interface StructureTestReport {
  image: string;
  config: string;
  pass: boolean;
  total: number;
  passed: number;
  failed: number;
  durationMs: number;
  results: TestResult[];
}

export interface RunOptions {
  image: string;
  configName: string;
  config: StructureTestConfig;
  driver: ImageDriver;
  now?: () => number;
  commandTimeoutMs?: number;
  onResult?: (result: TestResult) => void;
}

export async function runStructureTests(options: RunOptions): Promise<StructureTestReport> {
  const { image, config, driver } = options;
  const now = options.now ?? (() => performance.now());
  const started = now();
  const results: TestResult[] = [];
  const imageConfig = await driver.inspect(image);
  const globalEnv = Object.fromEntries(
    config.globalEnvVars.map((e) => [e.key, substituteEnv(e.value, imageConfig.env)]),
  );

  const record = async (
    kind: TestResult['kind'],
    name: string,
    check: () => Promise<{ failures: Failure[]; stdout?: string; stderr?: string }>,
  ) => {
    const t0 = now();
    let outcome: { failures: Failure[]; stdout?: string; stderr?: string };
    try {
      outcome = await check();
    } catch (err) {
      // A per-test problem (a directory where a file was expected) fails that test, not the run.
      if (
        (err as { kind?: string }).kind === 'step-failed' &&
        /Docker Engine is not reachable/.test((err as Error).message)
      )
        throw err;
      outcome = { failures: [{ expectation: 'the test can be evaluated', found: (err as Error).message }] };
    }
    const result: TestResult = {
      kind,
      name,
      pass: outcome.failures.length === 0,
      failures: outcome.failures,
      durationMs: Math.round(now() - t0),
    };
    if (outcome.stdout !== undefined) result.stdout = outcome.stdout;
    if (outcome.stderr !== undefined) result.stderr = outcome.stderr;
    results.push(result);
    options.onResult?.(result);
  };

  for (const test of config.commandTests) {
    await record('command', test.name, async () => {
      const env = {
        ...globalEnv,
        ...Object.fromEntries(test.envVars.map((e) => [e.key, substituteEnv(e.value, imageConfig.env)])),
      };
      const sub = (argv: string[]) => argv.map((a) => substituteEnv(a, imageConfig.env));
      const observed = await driver.runCommand(image, {
        argv: sub([test.command, ...test.args]),
        env,
        setup: test.setup.map(sub),
        teardown: test.teardown.map(sub),
        timeoutMs: options.commandTimeoutMs ?? 120_000,
      });
      return { failures: evaluateCommand(test, observed), stdout: observed.stdout, stderr: observed.stderr };
    });
  }
  for (const test of config.fileExistenceTests) {
    await record('fileExistence', test.name, async () => {
      const path = substituteEnv(test.path, imageConfig.env);
      return { failures: evaluateFileExistence(test, await driver.stat(image, path), path) };
    });
  }
  for (const test of config.fileContentTests) {
    await record('fileContent', test.name, async () => ({
      failures: evaluateFileContent(test, await driver.readFile(image, test.path)),
    }));
  }
  if (config.metadataTest) {
    const metadata = config.metadataTest;
    await record('metadata', 'Metadata Test', async () => ({
      failures: evaluateMetadata(metadata, imageConfig),
    }));
  }
  const failed = results.filter((r) => !r.pass).length;
  return {
    image,
    config: options.configName,
    pass: failed === 0,
    total: results.length,
    passed: results.length - failed,
    failed,
    durationMs: Math.round(now() - started),
    results,
  };
}
