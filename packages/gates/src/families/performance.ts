/**
 * Performance and load: each named check (`performance.<name>`, `load.<name>`) reads one k6,
 * autocannon or bench report and judges its metrics against threshold expressions.
 */
import { evaluateThresholds } from '../evaluate.js';
import type { GateFamily } from '../gate-family.js';
import { PERFORMANCE_FORMATS, type Policy, type ReportRefInput } from '../policy.js';
import {
  inferPerformanceFormat,
  readPerformance,
  type Metrics,
  type PerformanceFormat,
} from '../readers/read-performance.js';

type PerformanceCheck = NonNullable<Policy['performance']>[string];

export const performanceFamily: GateFamily<PerformanceCheck, PerformanceFormat, { metrics: Metrics }> = {
  configured: (policy) =>
    (['performance', 'load'] as const).flatMap((section) =>
      Object.entries(policy[section] ?? {}).map(([name, check]) => ({
        name: `${section}.${name}`,
        config: check,
      })),
    ),
  reports: (check) => [check.report as ReportRefInput],
  formats: { accepts: PERFORMANCE_FORMATS, infer: inferPerformanceFormat },
  describe: (format) => `${format} report`,
  // A check reads a single report: when it is unavailable there is nothing else to judge.
  whenUnavailable: 'judge-the-rest',
  open: async () => ({ tally: { metrics: new Map() }, rows: [] }),
  async read(tally, { path, format }) {
    tally.metrics = await readPerformance(path, format);
  },
  evaluate: ({ name, config }, { metrics }, files) =>
    evaluateThresholds(name, metrics, config.thresholds, files),
};
