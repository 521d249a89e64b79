import { API_ROUTES, DetectResult, ErrorBody } from '@its/contracts';
import { ApiError, badRequest } from '../errors.js';
import type { RouteContext, ZodApp } from '../context.js';

/** JPEG files start with the SOI marker FF D8 followed by another marker (FF). */
export function isJpeg(body: unknown): body is Buffer {
  return (
    Buffer.isBuffer(body) && body.length >= 3 && body[0] === 0xff && body[1] === 0xd8 && body[2] === 0xff
  );
}

export function registerDetectRoutes(app: ZodApp, ctx: RouteContext) {
  app.addContentTypeParser('image/jpeg', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post(
    API_ROUTES.detect,
    {
      // onRequest: authenticate before the body is read and parsed.
      onRequest: ctx.guards.read,
      schema: {
        tags: ['vision'],
        summary: 'Detect vehicles in one JPEG frame (body: image/jpeg)',
        consumes: ['image/jpeg'],
        response: { 200: DetectResult, 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 503: ErrorBody },
      },
    },
    async (req) => {
      const detector = ctx.detector;
      if (!detector) {
        throw new ApiError(
          'unavailable',
          'the detector is not configured on this API instance (no detector was injected)',
        );
      }
      if (!isJpeg(req.body)) throw badRequest('body: not a JPEG image; send the frame as image/jpeg');
      const t0 = performance.now();
      const detections = await detector.detect(req.body);
      return { detections, durationMs: Math.round((performance.now() - t0) * 100) / 100 };
    },
  );
}
