import { describe, expect, it } from 'vitest';
import { CROSSING_NAMESPACE, deriveCrossingId, uuidV5 } from './crossing-id.js';

const KEY = {
  cameraId: '6f1c2b1e-3d4a-4b5c-8d6e-7f8091a2b3c4',
  trackId: 7,
  trackBornAtMs: 1_768_464_020_000,
  lineId: 'nb-1-line',
  direction: 'forward' as const,
  countIndex: 0,
};

describe('uuidV5', () => {
  it('matches the RFC 4122 reference: "www.example.com" in the DNS namespace', () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
  });
  it('the crossing namespace is itself the v5 id of its name under the URL namespace', () => {
    expect(uuidV5('its-camera-ai/crossing', '6ba7b811-9dad-11d1-80b4-00c04fd430c8')).toBe(CROSSING_NAMESPACE);
  });
});

describe('deriveCrossingId', () => {
  it('is a version-5, RFC 4122 variant UUID', () => {
    expect(deriveCrossingId(KEY)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
  it('is stable for the same key', () => {
    expect(deriveCrossingId({ ...KEY })).toBe(deriveCrossingId(KEY));
  });
  it.each([
    { name: 'camera', change: { cameraId: '00000000-0000-4000-8000-000000000000' } },
    { name: 'track number', change: { trackId: 8 } },
    {
      name: 'track birth time (a restarted worker reuses track numbers)',
      change: { trackBornAtMs: KEY.trackBornAtMs + 1 },
    },
    { name: 'line', change: { lineId: 'nb-2-line' } },
    { name: 'direction', change: { direction: 'reverse' as const } },
    { name: 'count index', change: { countIndex: 1 } },
  ])('changes with the $name', ({ change }) => {
    expect(deriveCrossingId({ ...KEY, ...change })).not.toBe(deriveCrossingId(KEY));
  });
});
