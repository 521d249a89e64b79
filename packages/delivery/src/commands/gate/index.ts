/**
 * `itsctl gate [--policy deploy/quality-gates.yml] [--json] [--markdown FILE] [--junit FILE]`:
 * one policy, one report, one exit code over the reports a pipeline produced.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, StepFailedError } from '@its/core';
// The one light entry of @its/gates (no zod, yaml or readers): --help states what the parser applies.
import { describeEnvironmentOverrides } from '@its/gates/environment';
import { type CommandModule, alreadyReported, writeResult } from '../../cli/io.js';

interface GateOptions {
  policy: string;
  markdown?: string;
  junit?: string;
}

async function writeOut(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

export const gateCommand: CommandModule = {
  register(program, io) {
    program
      .command('gate')
      .summary(
        'evaluate the quality-gate policy over coverage, test, security, performance, load, type-check and lint reports',
      )
      // One paragraph, wrapped by commander to the terminal's width.
      .description(
        [
          'Reads the reports a pipeline produced and evaluates one policy (deploy/quality-gates.yml):',
          'coverage (istanbul json-summary and coverage-final.json, lcov, Cobertura), JUnit XML, vulnerabilities',
          '(npm audit --json, Trivy, Grype, SARIF), performance and load (k6 summary, autocannon --json, bench',
          'JSON with k6 thresholds such as p(95)<200 and rate<0.01), tsc output and ESLint JSON. The policy is',
          'validated first: every mistake is reported with its field path before any report is read. A coverage',
          "or security report's format is what its content shows, unless the policy names it (the file name only",
          'breaks ties). A missing or unreadable report is a failed gate.',
          `Environment: ${describeEnvironmentOverrides()}; when GITHUB_STEP_SUMMARY is set the Markdown report`,
          'is appended to it.',
        ].join(' '),
      )
      .option('--policy <file>', 'the policy file', 'deploy/quality-gates.yml')
      .option(
        '--markdown <file>',
        'also write the report as Markdown (for GITHUB_STEP_SUMMARY or a PR comment)',
      )
      .option('--junit <file>', 'also write the report as JUnit XML (one testsuite per gate)')
      .addHelpText(
        'after',
        `
Exit codes: 0 every gate passed (warnings allowed), 1 a gate failed, 2 the policy or environment is invalid.

Examples:
  $ itsctl gate                                         the default policy, table on the terminal
  $ itsctl gate --json > reports/gate.json              the report as one JSON document
  $ itsctl gate --markdown reports/gate.md --junit reports/junit/gate.xml
  $ COVERAGE_THRESHOLD=95 SECURITY_SCAN_FAIL_ON=medium itsctl gate --policy deploy/quality-gates.yml`,
      )
      .action(async (options: GateOptions, command) => {
        // Loaded here, not at the top: `itsctl --help` and every other command skip zod, yaml and the readers.
        const { parsePolicy, renderJunit, renderMarkdown, renderTable, runGates } =
          await import('@its/gates');
        const policyPath = resolve(io.cwd, options.policy);
        let text: string;
        try {
          text = await readFile(policyPath, 'utf8');
        } catch (err) {
          throw new ConfigError(
            `${options.policy}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
            {
              fix: 'pass --policy with the path of a quality-gate policy (see docs/quality-gates.md)',
            },
          );
        }
        const { policy, errors, overrides } = parsePolicy(text, options.policy, io.env);
        if (!policy)
          throw new ConfigError(errors.join('\n'), {
            fix: 'correct each field above; docs/quality-gates.md documents every field and its default',
          });

        const today = io.now().toISOString().slice(0, 10);
        const report = await runGates(policy, { cwd: io.cwd, today });
        const markdown = renderMarkdown(report, overrides);
        if (options.markdown) await writeOut(resolve(io.cwd, options.markdown), markdown);
        if (options.junit) await writeOut(resolve(io.cwd, options.junit), renderJunit(report));
        if (io.env.GITHUB_STEP_SUMMARY) await appendFile(io.env.GITHUB_STEP_SUMMARY, markdown);
        writeResult(
          io,
          command,
          { policy: options.policy, overrides, ...report },
          renderTable(report, overrides),
        );
        // The table ends with the verdict: runCli adds only the exit code (and, with --json, this line).
        if (report.status === 'fail')
          throw alreadyReported(
            new StepFailedError(
              `quality gate failed: ${report.summary.fail} check${report.summary.fail === 1 ? '' : 's'} failed`,
              {
                fix: 'each FAIL row names the report, the threshold and the actual value',
              },
            ),
          );
      });
  },
};
