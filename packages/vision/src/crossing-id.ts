/**
 * Deterministic crossing ids: an RFC 4122 version-5 (SHA-1, name-based) UUID of the camera, the
 * track (its number and birth time), the line, the direction and the count index. Processing the same
 * frames again gives the same ids, so a replayed video or a retried batch is a no-op at ingestion;
 * the track's birth time keeps ids from two runs of a live stream apart even though track numbers
 * restart at 1.
 */
import { createHash } from 'node:crypto';
import type { CrossingDirection } from '@its/contracts';

/** Namespace of ITS Camera AI crossing ids (itself a v5 UUID of "its-camera-ai/crossing" under the URL namespace). */
export const CROSSING_NAMESPACE = '469272f6-63f4-5b96-aa43-1fb245e43acf';

export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface CrossingKey {
  cameraId: string;
  trackId: number;
  trackBornAtMs: number;
  lineId: string;
  direction: CrossingDirection;
  countIndex: number;
}

export function deriveCrossingId(k: CrossingKey): string {
  return uuidV5(
    `${k.cameraId}|${k.trackId}@${k.trackBornAtMs}|${k.lineId}|${k.direction}|${k.countIndex}`,
    CROSSING_NAMESPACE,
  );
}
