import { describeLeases } from './leases-cases.js';
import { openStore } from './fixtures.js';

describeLeases(
  'embedded store',
  () => openStore(),
  async () => undefined,
);
