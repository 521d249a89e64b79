import { UsageError } from '@its/core';

/**
 * Formats a date with moment.js format tokens in an IANA time zone, because docker/metadata-action's
 * `{{date 'YYYYMMDD' tz='Asia/Tokyo'}}` is moment-timezone's format(). Implemented on Intl (full ICU
 * ships with Node) instead of depending on moment, which is in maintenance mode and weighs 4 MB with
 * its zone data.
 *
 * Every token moment 2.30 formats in its default `en` locale is implemented, with moment's lexing:
 * the longest token wins (`YYYY` over `YY`), `[text]` is literal (up to the last `]` before the next
 * `[`), a backslash makes the token after it literal (`\YYYY`), the locale formats `LT`, `LTS`,
 * `L`…`LLLL` and `l`…`llll` expand first, and a character that is no token (the `T` of an ISO date,
 * `-`, `:`) is printed as it is. The one exception is `z`/`zz`: moment-timezone prints the zone's
 * abbreviation from its own database (`JST`, `CET`), which Intl does not reproduce, so they are an
 * error naming the token rather than a different text.
 */

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * One token: a [bracketed] literal, or an optionally backslash-escaped token (longest first), or any
 * other single character. The token set is moment's.
 */
const TOKEN =
  /\[[^[]*\]|(\\)?(Mo|MMMM|MMM|MM|M|DDDo|Do|DDDD|DDD|DD|D|do|dddd|ddd|dd|d|wo|ww|w|Wo|WW|W|Qo|Q|NNNNN|NNNN|NNN|NN|N|YYYYYY|YYYYY|YYYY|YY|yyyy|yyy|yy|yo|y|ggggg|gggg|gg|GGGGG|GGGG|GG|e|E|a|A|hh|h|HH|H|kk|k|mm|m|ss|s|S{1,9}|x|X|zz|z|ZZ|Z|[\s\S])/g;

/** moment's `en` long date formats; the lower-case ones are the upper-case ones with short names. */
const LOCALE_FORMATS: Readonly<Record<string, string>> = {
  LTS: 'h:mm:ss A',
  LT: 'h:mm A',
  L: 'MM/DD/YYYY',
  LL: 'MMMM D, YYYY',
  LLL: 'MMMM D, YYYY h:mm A',
  LLLL: 'dddd, MMMM D, YYYY h:mm A',
  l: 'M/D/YYYY',
  ll: 'MMM D, YYYY',
  lll: 'MMM D, YYYY h:mm A',
  llll: 'ddd, MMM D, YYYY h:mm A',
};
const LOCALE_TOKEN = /\[[^[]*\]|(\\)?(LTS|LT|LLLL|LLL|LL|L|llll|lll|ll|l)/g;

/** moment's format() without a format: ISO 8601, with `Z` when the offset is zero. */
const DEFAULT_FORMAT_UTC = 'YYYY-MM-DDTHH:mm:ss[Z]';
const DEFAULT_FORMAT = 'YYYY-MM-DDTHH:mm:ssZ';

interface ZonedParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number; // 0-23
  minute: number;
  second: number;
  millisecond: number;
  weekday: number; // 0 = Sunday
  offsetMinutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new UsageError(`tz='${timeZone}': unknown time zone`, {
        fix: "use an IANA zone name such as 'UTC', 'Europe/Paris' or 'Asia/Tokyo'",
      });
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function zonedParts(date: Date, timeZone: string): ZonedParts {
  const values: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(date)) {
    if (part.type !== 'literal') values[part.type] = Number(part.value);
  }
  const year = values.year ?? 0;
  const month = values.month ?? 1;
  const day = values.day ?? 1;
  const hour = values.hour ?? 0;
  const minute = values.minute ?? 0;
  const second = values.second ?? 0;
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const wholeSeconds = Math.floor(date.getTime() / 1000) * 1000;
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    millisecond: date.getTime() - wholeSeconds,
    weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(),
    offsetMinutes: Math.round((asUtc - wholeSeconds) / 60_000),
  };
}

/** moment's zeroFill: at least `width` digits, never truncated; `+` when forced. */
function pad(value: number, width = 2, forceSign = false): string {
  const sign = value < 0 ? '-' : forceSign ? '+' : '';
  return `${sign}${String(Math.abs(value)).padStart(width, '0')}`;
}

/** The `en` locale's ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st… */
function ordinal(n: number): string {
  const rem100 = n % 100;
  if (rem100 >= 11 && rem100 <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

function offset(minutes: number, separator: string): string {
  const sign = minutes < 0 ? '-' : '+';
  return `${sign}${pad(Math.trunc(Math.abs(minutes) / 60))}${separator}${pad(Math.abs(minutes) % 60)}`;
}

const isLeap = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

function dayOfYear(p: ZonedParts): number {
  return Math.round((Date.UTC(p.year, p.month - 1, p.day) - Date.UTC(p.year, 0, 1)) / 86_400_000) + 1;
}

/**
 * Where week 1 starts relative to January 1st (in days, ≤ 0), for weeks that start on weekday `dow`
 * (0 = Sunday) and whose first week contains January `7 + dow - doy`: ISO is dow 1, doy 4 (the week
 * of January 4th); moment's `en` locale is dow 0, doy 6 (the week of January 1st).
 */
function firstWeekOffset(year: number, dow: number, doy: number): number {
  const firstWeekDay = 7 + dow - doy;
  const weekdayOfIt = (7 + new Date(Date.UTC(year, 0, firstWeekDay)).getUTCDay() - dow) % 7;
  return -weekdayOfIt + firstWeekDay - 1;
}

function weeksInYear(year: number, dow: number, doy: number): number {
  const days = isLeap(year) ? 366 : 365;
  return (days - firstWeekOffset(year, dow, doy) + firstWeekOffset(year + 1, dow, doy)) / 7;
}

/** The week number and the year it belongs to (which differs from the date's near January 1st). */
function weekOfYear(p: ZonedParts, dow: number, doy: number): { week: number; year: number } {
  const week = Math.floor((dayOfYear(p) - firstWeekOffset(p.year, dow, doy) - 1) / 7) + 1;
  if (week < 1) return { week: week + weeksInYear(p.year - 1, dow, doy), year: p.year - 1 };
  const inYear = weeksInYear(p.year, dow, doy);
  if (week > inYear) return { week: week - inYear, year: p.year + 1 };
  return { week, year: p.year };
}

const ISO_WEEK = [1, 4] as const;
const LOCALE_WEEK = [0, 6] as const;

type TokenFormatter = (p: ZonedParts, date: Date) => string;

function tokenFormatters(): Readonly<Record<string, TokenFormatter>> {
  const hour12 = (p: ZonedParts): number => (p.hour % 12 === 0 ? 12 : p.hour % 12);
  const hour24 = (p: ZonedParts): number => (p.hour === 0 ? 24 : p.hour);
  const isoWeek = (p: ZonedParts) => weekOfYear(p, ...ISO_WEEK);
  const localeWeek = (p: ZonedParts) => weekOfYear(p, ...LOCALE_WEEK);
  const month = (p: ZonedParts): string => MONTHS[p.month - 1] ?? '';
  const weekday = (p: ZonedParts): string => WEEKDAYS[p.weekday] ?? '';
  const fraction = (digits: number) => (p: ZonedParts) =>
    digits <= 3
      ? pad(Math.floor(p.millisecond / 10 ** (3 - digits)), digits)
      : pad(p.millisecond * 10 ** (digits - 3), digits);
  const formatters: Record<string, TokenFormatter> = {
    // Years. Dates before year 1 (era BC) do not occur for a build.
    Y: (p) => (p.year <= 9999 ? pad(p.year, 4) : `+${p.year}`),
    YY: (p) => pad(p.year % 100),
    YYYY: (p) => pad(p.year, 4),
    YYYYY: (p) => pad(p.year, 5),
    YYYYYY: (p) => pad(p.year, 6, true),
    y: (p) => String(p.year),
    yy: (p) => pad(p.year, 2),
    yyy: (p) => pad(p.year, 3),
    yyyy: (p) => pad(p.year, 4),
    yo: (p) => ordinal(p.year),
    N: () => 'AD',
    NN: () => 'AD',
    NNN: () => 'AD',
    NNNN: () => 'Anno Domini',
    NNNNN: () => 'AD',
    Q: (p) => String(Math.ceil(p.month / 3)),
    Qo: (p) => ordinal(Math.ceil(p.month / 3)),
    // Months and days.
    M: (p) => String(p.month),
    Mo: (p) => ordinal(p.month),
    MM: (p) => pad(p.month),
    MMM: (p) => month(p).slice(0, 3),
    MMMM: month,
    D: (p) => String(p.day),
    Do: (p) => ordinal(p.day),
    DD: (p) => pad(p.day),
    DDD: (p) => String(dayOfYear(p)),
    DDDo: (p) => ordinal(dayOfYear(p)),
    DDDD: (p) => pad(dayOfYear(p), 3),
    d: (p) => String(p.weekday),
    do: (p) => ordinal(p.weekday),
    dd: (p) => weekday(p).slice(0, 2),
    ddd: (p) => weekday(p).slice(0, 3),
    dddd: weekday,
    // The en locale's weeks start on Sunday, so its weekday (e) is d.
    e: (p) => String(p.weekday),
    E: (p) => String(p.weekday === 0 ? 7 : p.weekday),
    w: (p) => String(localeWeek(p).week),
    wo: (p) => ordinal(localeWeek(p).week),
    ww: (p) => pad(localeWeek(p).week),
    W: (p) => String(isoWeek(p).week),
    Wo: (p) => ordinal(isoWeek(p).week),
    WW: (p) => pad(isoWeek(p).week),
    gg: (p) => pad(localeWeek(p).year % 100),
    gggg: (p) => pad(localeWeek(p).year, 4),
    ggggg: (p) => pad(localeWeek(p).year, 5),
    GG: (p) => pad(isoWeek(p).year % 100),
    GGGG: (p) => pad(isoWeek(p).year, 4),
    GGGGG: (p) => pad(isoWeek(p).year, 5),
    // Time.
    H: (p) => String(p.hour),
    HH: (p) => pad(p.hour),
    h: (p) => String(hour12(p)),
    hh: (p) => pad(hour12(p)),
    k: (p) => String(hour24(p)),
    kk: (p) => pad(hour24(p)),
    m: (p) => String(p.minute),
    mm: (p) => pad(p.minute),
    s: (p) => String(p.second),
    ss: (p) => pad(p.second),
    a: (p) => (p.hour < 12 ? 'am' : 'pm'),
    A: (p) => (p.hour < 12 ? 'AM' : 'PM'),
    Z: (p) => offset(p.offsetMinutes, ':'),
    ZZ: (p) => offset(p.offsetMinutes, ''),
    X: (_p, date) => String(Math.floor(date.getTime() / 1000)),
    x: (_p, date) => String(date.getTime()),
  };
  for (let digits = 1; digits <= 9; digits++) formatters['S'.repeat(digits)] = fraction(digits);
  return formatters;
}

const FORMATTERS = tokenFormatters();

/** Tokens moment formats that we refuse, with the reason and the fix. */
const REFUSED: Readonly<Record<string, string>> = {
  z: 'a zone abbreviation',
  zz: 'a zone abbreviation',
};

function expandLocaleFormats(format: string): string {
  return format.replace(
    LOCALE_TOKEN,
    (token: string, escaped: string | undefined, name: string | undefined) =>
      escaped === undefined && name !== undefined ? (LOCALE_FORMATS[name] ?? token) : token,
  );
}

/**
 * `format` undefined or empty: moment's default (ISO 8601). Throws a UsageError naming a token we
 * cannot print as moment-timezone would.
 */
export function formatDate(date: Date, format: string | undefined, timeZone = 'UTC'): string {
  const p = zonedParts(date, timeZone);
  const effective =
    format === undefined || format === ''
      ? p.offsetMinutes === 0
        ? DEFAULT_FORMAT_UTC
        : DEFAULT_FORMAT
      : format;
  return expandLocaleFormats(effective).replace(
    TOKEN,
    (token: string, escaped: string | undefined, name: string | undefined) => {
      // [literal]: the brackets go; \token: the backslash goes.
      if (name === undefined) return token.slice(1, -1);
      if (escaped !== undefined) return name;
      // A backslash with nothing after it: moment drops it.
      if (name === '\\') return '';
      const refused = REFUSED[name];
      if (refused !== undefined) {
        throw new UsageError(
          `date format '${format ?? ''}': token '${name}' (${refused}) is not supported: moment-timezone prints it from its own zone database, which this implementation does not reproduce`,
          {
            fix: "use Z (+09:00) or ZZ (+0900) for the offset, or write the abbreviation as a literal: '[JST]'",
          },
        );
      }
      const formatter = FORMATTERS[name];
      return formatter === undefined ? name : formatter(p, date);
    },
  );
}
