import { startPostgres, type PostgresServer } from '@its/testkit';
import { describeRepository } from './repository-cases.js';
import { openStore } from './fixtures.js';

let pg: PostgresServer | undefined;
describeRepository(
  'PostgreSQL',
  async () => {
    pg = await startPostgres();
    return openStore(pg.url);
  },
  async () => {
    await pg?.destroy();
  },
);
