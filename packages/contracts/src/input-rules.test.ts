import { describe, expect, it } from 'vitest';
import {
  AggregateBatch,
  AggregateQuery,
  ApiKeyCreate,
  CameraInput,
  CameraPatch,
  CameraStatusReport,
  CrossingEventBatch,
  MAX_INGEST_AHEAD_MS,
  TotalsQuery,
  cameraInputSchema,
  checkIngestedTime,
  findIngestTimeIssues,
} from './index.js';

const CAM = '00000000-0000-4000-8000-000000000001';
const camera = (over: Record<string, unknown> = {}) => ({
  name: 'cam',
  streamUrl: 'rtsp://10.0.0.5/live',
  location: { lat: 0, lon: 0 },
  ...over,
});
const event = (over: Record<string, unknown> = {}) => ({
  id: '00000000-0000-4000-8000-0000000000e1',
  cameraId: CAM,
  lineId: 'l1',
  lane: 'nb',
  class: 'car',
  direction: 'forward',
  ts: '2025-03-01T08:00:00.000Z',
  ...over,
});
const aggregate = (over: Record<string, unknown> = {}) => ({
  cameraId: CAM,
  intervalStart: '2025-03-01T08:00:00.000Z',
  lane: 'nb',
  class: 'car',
  volume: 1,
  occupancyPct: 1,
  meanSpeedKmh: null,
  p85SpeedKmh: null,
  ...over,
});
const query = { from: '2025-03-01T00:00:00Z', to: '2025-03-02T00:00:00Z' };

/** The first issue as the API prints it: `path: message`. */
function firstIssue(
  schema: { safeParse(v: unknown): { success: boolean; error?: unknown } },
  value: unknown,
) {
  const r = schema.safeParse(value);
  if (r.success) return 'accepted';
  const issue = (r.error as { issues: Array<{ path: PropertyKey[]; message: string }> }).issues[0]!;
  return `${issue.path.join('/')}: ${issue.message}`;
}

describe('NUL characters are refused in every free-text field (PostgreSQL text cannot hold them)', () => {
  const NUL = 'a\u0000b';
  it.each([
    ['camera name', CameraInput, camera({ name: NUL }), /^name: must not contain NUL/],
    ['patched name', CameraPatch, { name: NUL }, /^name: must not contain NUL/],
    [
      'count line lane',
      CameraInput,
      camera({ lines: [{ id: 'l', name: 'l', a: { x: 0, y: 0 }, b: { x: 1, y: 1 }, lane: NUL }] }),
      /^lines\/0\/lane: must not contain NUL/,
    ],
    [
      'zone name',
      CameraInput,
      camera({
        zones: [
          {
            id: 'z',
            name: NUL,
            polygon: [
              { x: 0, y: 0 },
              { x: 1, y: 0 },
              { x: 1, y: 1 },
            ],
          },
        ],
      }),
      /^zones\/0\/name: must not contain NUL/,
    ],
    ['event lane', CrossingEventBatch, { events: [event({ lane: NUL })] }, /^events\/0\/lane: must not/],
    ['event trackId', CrossingEventBatch, { events: [event({ trackId: NUL })] }, /^events\/0\/trackId: must/],
    ['aggregate lane', AggregateBatch, { aggregates: [aggregate({ lane: NUL })] }, /^aggregates\/0\/lane: /],
    [
      'status reason',
      CameraStatusReport,
      { cameras: [{ cameraId: CAM, state: 'offline', reason: NUL }] },
      /^cameras\/0\/reason: must not contain NUL/,
    ],
    ['query lane', AggregateQuery, { ...query, lane: NUL }, /^lane: must not contain NUL/],
    ['API key name', ApiKeyCreate, { name: NUL }, /^name: must not contain NUL/],
  ])('%s', (_name, schema, value, message) => {
    expect(firstIssue(schema, value)).toMatch(message);
  });

  it('accepts ordinary text, including non-ASCII', () => {
    expect(firstIssue(CameraInput, camera({ name: 'Hauptstraße / Ørsteds Allé — north' }))).toBe('accepted');
  });
});

describe('timestamps stay in a sane range', () => {
  it.each([
    ['event in year 0000', CrossingEventBatch, { events: [event({ ts: '0000-01-01T00:00:00Z' })] }],
    ['event in 1999', CrossingEventBatch, { events: [event({ ts: '1999-12-31T23:59:59Z' })] }],
    [
      'aggregate in year 0000',
      AggregateBatch,
      { aggregates: [aggregate({ intervalStart: '0000-01-01T00:00:00Z' })] },
    ],
    ['query from year 0000', AggregateQuery, { ...query, from: '0000-01-01T00:00:00Z' }],
    ['query to 9999', AggregateQuery, { ...query, to: '9999-12-31T00:00:00Z' }],
    ['totals from 1970', TotalsQuery, { from: '1970-01-01T00:00:00Z' }],
  ])('refuses %s', (_name, schema, value) => {
    expect(firstIssue(schema, value)).toMatch(
      /(ts|intervalStart|from|to): must (not be before|be from) 2000-/,
    );
  });

  it('accepts the first instant of 2000 and a query up to 2100', () => {
    expect(firstIssue(CrossingEventBatch, { events: [event({ ts: '2000-01-01T00:00:00Z' })] })).toBe(
      'accepted',
    );
    expect(firstIssue(AggregateQuery, { from: '2000-01-01T00:00:00Z', to: '2099-12-31T23:59:59Z' })).toBe(
      'accepted',
    );
  });

  const now = Date.parse('2025-03-01T12:00:00Z');
  it.each([
    ['now', '2025-03-01T12:00:00.000Z', undefined],
    ['the limit exactly', new Date(now + MAX_INGEST_AHEAD_MS).toISOString(), undefined],
    ['a second past the limit', new Date(now + MAX_INGEST_AHEAD_MS + 1000).toISOString(), /5 minutes ahead/],
    ['9999-12-31', '9999-12-31T00:00:00.000Z', /^is \d+ days ahead of the API's clock \(2025-03-01T12:00/],
    ['year 0000', '0000-01-01T00:00:00.000Z', /^must not be before 2000-01-01/],
  ])('checkIngestedTime: %s', (_name, iso, expected) => {
    const problem = checkIngestedTime(iso, now);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it('findIngestTimeIssues names the fields, lists a few and counts the rest', () => {
    const future = '9999-12-31T00:00:00.000Z';
    expect(
      findIngestTimeIssues(
        { aggregates: [aggregate(), aggregate({ intervalStart: future })] as never[] },
        now,
      ),
    ).toEqual([expect.stringMatching(/^aggregates\/1\/intervalStart: is \d+ days ahead/)]);
    const many = findIngestTimeIssues({ events: Array.from({ length: 8 }, () => ({ ts: future })) }, now);
    expect(many).toHaveLength(6);
    expect(many[0]).toMatch(/^events\/0\/ts: /);
    expect(many[5]).toBe('… and 3 more timestamps out of range');
    expect(findIngestTimeIssues({ events: [{ ts: '2025-03-01T11:00:00Z' }] }, now)).toEqual([]);
  });
});

describe('stream URLs', () => {
  it.each([
    ['rtsp://user:pw@10.0.0.5:554/live', 'accepted'],
    ['rtsps://cam.example/live', 'accepted'],
    ['http://cam/video.mjpg', 'accepted'],
    ['https://cam/video.mjpg', 'accepted'],
    ['file:///etc/shadow', /^streamUrl: use an rtsp:\/\/, rtsps:\/\/ or http\(s\):\/\/ URL/],
    ['ftp://x', /^streamUrl: use an rtsp/],
    ['javascript:alert(1)', /^streamUrl: use an rtsp/],
    ['rtsp://10.0.0.5/live\nInjected: header', /^streamUrl: must not contain control characters/],
    ['rtsp://10.0.0.5/live\r', /^streamUrl: must not contain control characters/],
    ['rtsp://10.0.0.5/\u0000', /^streamUrl: must not contain control characters/],
    ['rtsp://10.0.0.5/\u007f', /^streamUrl: must not contain control characters/],
  ])('%j', (url, expected) => {
    const result = firstIssue(CameraInput, camera({ streamUrl: url }));
    if (expected === 'accepted') expect(result).toBe('accepted');
    else expect(result).toMatch(expected);
    // A patch follows the same rule.
    if (expected !== 'accepted') expect(firstIssue(CameraPatch, { streamUrl: url })).toMatch(expected);
  });

  it('accepts file:// only when the deployment allows it, and never with control characters', () => {
    const allowing = cameraInputSchema({ allowFile: true });
    expect(firstIssue(allowing, camera({ streamUrl: 'file:///videos/demo.mp4' }))).toBe('accepted');
    expect(firstIssue(allowing, camera({ streamUrl: 'file:///videos/a\n.mp4' }))).toMatch(
      /^streamUrl: must not contain control/,
    );
    expect(firstIssue(allowing, camera({ streamUrl: 'ftp://x' }))).toMatch(/^streamUrl: use an rtsp/);
  });
});
