import { startPostgres, type PostgresServer } from '@its/testkit';
import { describeLeases } from './leases-cases.js';
import { openStore } from './fixtures.js';

let pg: PostgresServer | undefined;
describeLeases(
  'PostgreSQL',
  async () => {
    pg = await startPostgres();
    return openStore(pg.url);
  },
  async () => {
    await pg?.destroy();
  },
);
