// Container health: GET /health on the service's own port.
import { get } from 'node:http';
const req = get(
  { host: '127.0.0.1', port: Number(process.env.PORT ?? 8000), path: '/health', timeout: 1500 },
  (res) => {
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on('error', () => process.exit(1));
req.on('timeout', () => process.exit(1));
