// A tiny HTTP service for fast deployment tests and benchmarks: the same surface the product's API
// offers a deployer (/health, /health/ready with a database entry, SIGTERM handled) in a 185 MB image
// that starts in well under a second. Failure modes come from the environment so one image can play a
// good and a bad version.
//   APP_VERSION / VERSION   echoed in every response (which version served a request)
//   FAIL_HEALTH=1           /health answers 503 (the API check fails)
//   FAIL_READY=1            /health/ready answers 503 with database "down" (the database check fails)
//   SLOW_MS=N               every response waits N ms (the performance check fails)
//   ERROR_RATE=0.x          that share of / requests answer 500
//   STARTUP_MS=N            listen only after N ms (a slow start)
//   LATENCY_MS=N            / requests take about N ms (uniform ±25 %): a realistic service time to compare
//   LATENCY_FACTOR=F        multiplies LATENCY_MS (an image ENV: "this version is F times slower")
//   FAIL_AFTER_MS=N         from N ms after start, / answers 500 and /health 503 (fails after the switch)
import { createServer } from 'node:http';

const version = process.env.APP_VERSION ?? process.env.VERSION ?? 'unknown';
const port = Number(process.env.PORT ?? 8000);
const slowMs = Number(process.env.SLOW_MS ?? 0);
const errorRate = Number(process.env.ERROR_RATE ?? 0);
const latencyMs = Number(process.env.LATENCY_MS ?? 0) * Number(process.env.LATENCY_FACTOR ?? 1);
const failAfterMs = Number(process.env.FAIL_AFTER_MS ?? 0);
const startedAt = Date.now();
const broken = () => failAfterMs > 0 && Date.now() - startedAt >= failAfterMs;
const json = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-version': version,
  });
  res.end(text);
};
let stopping = false;
const server = createServer((req, res) => {
  const answer = () => {
    if (req.url === '/health') {
      if (process.env.FAIL_HEALTH === '1' || broken()) return json(res, 503, { status: 'failing', version });
      return json(res, 200, { status: 'ok', version });
    }
    if (req.url === '/health/ready') {
      // The product's ReadinessReport shape (packages/contracts): one entry per dependency.
      const down = process.env.FAIL_READY === '1';
      const database = {
        name: 'database',
        status: down ? 'fail' : 'ok',
        durationMs: 1,
        reason: down ? 'connection refused' : null,
      };
      return json(res, down ? 503 : 200, { status: down ? 'fail' : 'ok', version, checks: [database] });
    }
    if (broken()) return json(res, 500, { error: 'broken after start', version });
    if (errorRate > 0 && Math.random() < errorRate) return json(res, 500, { error: 'injected', version });
    return json(res, 200, { version, path: req.url });
  };
  const isProbe = req.url === '/health' || req.url === '/health/ready';
  const wait = slowMs + (latencyMs > 0 && !isProbe ? latencyMs * (0.75 + Math.random() * 0.5) : 0);
  if (wait > 0) setTimeout(answer, wait);
  else answer();
});
server.keepAliveTimeout = 65_000;
const listen = () => server.listen(port, '0.0.0.0');
if (Number(process.env.STARTUP_MS ?? 0) > 0) setTimeout(listen, Number(process.env.STARTUP_MS));
else listen();
// Graceful stop: finish in-flight requests, close idle keep-alive connections, then exit.
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 10_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
