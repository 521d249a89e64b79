/**
 * @its/image-build: the five Dockerfile targets × platforms as a build plan (plan-build, pure), run with
 * the docker CLI and summarised (run-build, render-build-summary); container structure tests in the
 * spirit of GoogleContainerTools' container-structure-test (structure-test/), emulated for foreign
 * platforms (emulation.ts).
 */
export {
  BUILD_PLATFORMS,
  BUILD_TARGETS,
  DEFAULT_DEBIAN_IMAGE,
  DEFAULT_NODE_IMAGE,
  planBuild,
  platformImage,
  validateBuildRequest,
} from './build/plan-build.js';
export type * from './build/plan-build.js';
export { readHostFacts, runBuildPlan } from './build/run-build.js';
export { countCacheHits } from './build/parse-build-output.js';
export { formatBytes, formatDuration, renderBuildSummary } from './build/render-build-summary.js';
export type * from './build/render-build-summary.js';
export { emulationRunArgs } from './build/emulation.js';
export { parseStructureTestConfig } from './structure-test/config.js';
export type { StructureTestConfig } from './structure-test/config.js';
export { runStructureTests } from './structure-test/run-structure-tests.js';
export type { StructureTestReport } from './structure-test/run-structure-tests.js';
export { createDockerDriver } from './structure-test/docker-driver.js';
export { formatResultLine, renderJunit, renderText } from './structure-test/render-report.js';
