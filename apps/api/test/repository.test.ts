import { describeRepository } from './repository-cases.js';
import { openStore } from './fixtures.js';

describeRepository('the embedded store (PGlite)', () => openStore());
