import { randomUUID } from 'node:crypto';
import { startPostgres, type PostgresServer } from '@its/testkit';
import { describeRepository } from './repository-cases.js';
import { openStore } from './fixtures.js';
import { createPgDb } from '../src/db/pg-db.js';

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
  // A fresh database on the same server for the cases that need an unmigrated one.
  async (store) => {
    const name = `empty_${randomUUID().replaceAll('-', '')}`;
    await store.db.query(`CREATE DATABASE ${name}`);
    const url = new URL(pg!.url);
    url.pathname = `/${name}`;
    return createPgDb({ url: url.toString() });
  },
);
