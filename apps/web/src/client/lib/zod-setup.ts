/**
 * Imported first by main.tsx, before any schema is defined. zod compiles fast object parsers with
 * `new Function` and decides whether it may while each schema is *constructed*; our
 * Content-Security-Policy forbids eval, and even zod's caught probe is reported as a violation
 * (Firefox logs it as an error). The interpreted parser is fast enough for a dashboard.
 */
import { config } from 'zod';

config({ jitless: true });
