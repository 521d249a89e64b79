/**
 * Print the synthetic-scene accuracy sweep as a Markdown table.
 *   node --conditions=source --import tsx packages/vision/src/bin/accuracy-sweep.ts [firstSeed] [count]
 * Defaults: seeds 1000..1019. About 2 s of CPU per scene.
 */
import { formatSweep, sweepScenes, SWEEP_SETTINGS } from '../synthetic/sweep.js';

const first = Number(process.argv[2] ?? 1000);
const count = Number(process.argv[3] ?? 20);
const seeds = Array.from({ length: count }, (_, i) => first + i);
console.log(`Seeds ${first}..${first + count - 1}\n`);
console.log(formatSweep(sweepScenes(SWEEP_SETTINGS, seeds)));
