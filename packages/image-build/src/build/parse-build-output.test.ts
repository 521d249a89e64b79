import { describe, expect, it } from 'vitest';
import { countCacheHits, failureExcerpt, progressLines } from './parse-build-output.js';

const output = `#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#2 [internal] load .dockerignore
#2 DONE 0.0s
#4 [node-base 1/2] FROM docker.io/library/node:20-bookworm-slim
#4 DONE 0.0s
#5 [node-base 2/2] WORKDIR /app
#5 CACHED
#12 [deps 2/2] RUN npm ci --include=dev
#12 CACHED
#16 [build 1/2] COPY . .
#16 DONE 0.4s
#17 [build 2/2] RUN npm run build
#17 3.2 > tsc -b
#17 DONE 15.1s
#7 [internal] load build context
#7 CACHED
`;

describe('countCacheHits', () => {
  it('counts Dockerfile steps and cached ones, ignoring [internal] vertices and FROM', () => {
    expect(countCacheHits(output)).toEqual({ steps: 4, cached: 2 });
  });
  it('a fully cached rebuild', () => {
    const cached = '#5 [a 1/1] RUN x\n#5 CACHED\n#6 [b 1/1] COPY . .\n#6 CACHED\n';
    expect(countCacheHits(cached)).toEqual({ steps: 2, cached: 2 });
  });
  it('nothing recognisable', () =>
    expect(countCacheHits('Sending build context\n')).toEqual({ steps: 0, cached: 0 }));
});

describe('progressLines and failureExcerpt', () => {
  it('keeps step headers only, shortened', () => {
    const long = `#9 [deps 2/2] RUN ${'x'.repeat(200)}`;
    expect(progressLines(`${output}${long}\n`)).toEqual([
      '#4 [node-base 1/2] FROM docker.io/library/node:20-bookworm-slim',
      '#5 [node-base 2/2] WORKDIR /app',
      '#12 [deps 2/2] RUN npm ci --include=dev',
      '#16 [build 1/2] COPY . .',
      '#17 [build 2/2] RUN npm run build',
      `${long.slice(0, 139)}…`,
    ]);
  });
  it('ends with the last lines of the output', () => {
    expect(failureExcerpt('a\nb\nc\nd\n', 2)).toBe('c\nd');
  });
  it('brings earlier error lines (tsc, npm) forward', () => {
    const out = [
      '#16 5.1 src/x.ts(3,1): error TS2304: Cannot find name',
      '#16 5.2 noise',
      '#16 ERROR: executor failed running',
      'tail 1',
      'tail 2',
    ].join('\n');
    expect(failureExcerpt(out, 2)).toBe(
      ['#16 5.1 src/x.ts(3,1): error TS2304: Cannot find name', '…', 'tail 1', 'tail 2'].join('\n'),
    );
  });
});
