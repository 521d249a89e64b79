/**
 * Long synchronous work in slices. The API has one event loop: mapping or serialising tens of
 * thousands of aggregate rows in one go (≈ 20–40 µs a row on our loaded 2-core machine) keeps /health
 * and every other request waiting for all of it; sliced, they are answered in between.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Rows per slice: a few milliseconds of mapping or validation each. */
export const SLICE_ROWS = 250;

/** Lets pending I/O (other requests, /health) run before continuing. */
export const yieldToEventLoop = (): Promise<void> => nextTurn();

/** `items.map(fn)`, yielding to the event loop between slices of `sliceSize`. */
export async function mapInSlices<T, U>(
  items: readonly T[],
  fn: (item: T) => U,
  sliceSize = SLICE_ROWS,
): Promise<U[]> {
  const out: U[] = new Array<U>(items.length);
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % sliceSize === 0) await yieldToEventLoop();
    out[i] = fn(items[i]!);
  }
  return out;
}
