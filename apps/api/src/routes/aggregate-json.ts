/**
 * The aggregates answer as JSON text, checked against the contract (@its/contracts AggregateSeries) and
 * written slice by slice. The route's schema serializer would validate and stringify tens of thousands
 * of buckets in one synchronous block (≈ 1 s for 50 000 on our loaded 2-core machine), during which
 * /health waits; the text is also what the read cache keeps, so a cached answer costs no serialising.
 */
import { AggregateBucket, AggregateSeries } from '@its/contracts';
import { z } from 'zod';
import { SLICE_ROWS, yieldToEventLoop } from '../event-loop.js';

const Head = AggregateSeries.omit({ buckets: true });
const Slice = z.array(AggregateBucket);

/** The same bytes the schema serializer would send: parsed by the contract, then JSON.stringify. */
export async function stringifyAggregateSeries(series: AggregateSeries): Promise<string> {
  const { buckets, ...head } = series;
  const parts: string[] = [];
  for (let i = 0; i < buckets.length; i += SLICE_ROWS) {
    if (i > 0) await yieldToEventLoop();
    parts.push(JSON.stringify(Slice.parse(buckets.slice(i, i + SLICE_ROWS))).slice(1, -1));
  }
  return `${JSON.stringify(Head.parse(head)).slice(0, -1)},"buckets":[${parts.join(',')}]}`;
}
