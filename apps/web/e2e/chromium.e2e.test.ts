/** End-to-end: the dashboard in Debian's Chromium (CDP) at desktop, tablet and mobile viewports. */
import { defineDashboardSuite } from './support/dashboard-suite.js';

defineDashboardSuite('chromium');
