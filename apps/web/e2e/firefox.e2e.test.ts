/** End-to-end: the dashboard in Debian's Firefox ESR (WebDriver BiDi) at desktop, tablet and mobile viewports. */
import { defineDashboardSuite } from './support/dashboard-suite.js';

defineDashboardSuite('firefox');
