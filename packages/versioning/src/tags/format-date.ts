import { UsageError } from '@its/core';

/**
 * Formats a date with moment.js format tokens in an IANA time zone, because docker/metadata-action's
 * `{{date 'YYYYMMDD' tz='Asia/Tokyo'}}` is moment-timezone's format(). Implemented on Intl (full ICU
 * ships with Node) instead of depending on moment, which is in maintenance mode and weighs 4 MB with
 * its zone data. Text inside [brackets] is literal, as in moment.
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

// Longest tokens first so that YYYY wins over YY, MMMM over MM, and so on.
const TOKEN =
  /\[([^\]]*)\]|YYYY|YY|Q|MMMM|MMM|MM|M|DDDD|DDD|Do|DD|D|dddd|ddd|dd|d|HH|H|hh|h|kk|k|mm|m|ss|s|SSS|SS|S|A|a|ZZ|Z|X|x/g;

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

const pad = (value: number, width = 2): string => String(Math.abs(value)).padStart(width, '0');

function ordinal(n: number): string {
  const rem100 = n % 100;
  if (rem100 >= 11 && rem100 <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

function offset(minutes: number, separator: string): string {
  const sign = minutes < 0 ? '-' : '+';
  return `${sign}${pad(Math.trunc(Math.abs(minutes) / 60))}${separator}${pad(Math.abs(minutes) % 60)}`;
}

function dayOfYear(p: ZonedParts): number {
  return Math.round((Date.UTC(p.year, p.month - 1, p.day) - Date.UTC(p.year, 0, 1)) / 86_400_000) + 1;
}

export function formatDate(date: Date, format: string, timeZone = 'UTC'): string {
  const p = zonedParts(date, timeZone);
  const hour12 = p.hour % 12 === 0 ? 12 : p.hour % 12;
  return format.replace(TOKEN, (token: string, literal: string | undefined) => {
    if (literal !== undefined) return literal;
    switch (token) {
      case 'YYYY':
        return pad(p.year, 4);
      case 'YY':
        return pad(p.year % 100);
      case 'Q':
        return String(Math.ceil(p.month / 3));
      case 'MMMM':
        return MONTHS[p.month - 1] ?? '';
      case 'MMM':
        return (MONTHS[p.month - 1] ?? '').slice(0, 3);
      case 'MM':
        return pad(p.month);
      case 'M':
        return String(p.month);
      case 'DDDD':
        return pad(dayOfYear(p), 3);
      case 'DDD':
        return String(dayOfYear(p));
      case 'Do':
        return ordinal(p.day);
      case 'DD':
        return pad(p.day);
      case 'D':
        return String(p.day);
      case 'dddd':
        return WEEKDAYS[p.weekday] ?? '';
      case 'ddd':
        return (WEEKDAYS[p.weekday] ?? '').slice(0, 3);
      case 'dd':
        return (WEEKDAYS[p.weekday] ?? '').slice(0, 2);
      case 'd':
        return String(p.weekday);
      case 'HH':
        return pad(p.hour);
      case 'H':
        return String(p.hour);
      case 'hh':
        return pad(hour12);
      case 'h':
        return String(hour12);
      case 'kk':
        return pad(p.hour === 0 ? 24 : p.hour);
      case 'k':
        return String(p.hour === 0 ? 24 : p.hour);
      case 'mm':
        return pad(p.minute);
      case 'm':
        return String(p.minute);
      case 'ss':
        return pad(p.second);
      case 's':
        return String(p.second);
      case 'SSS':
        return pad(p.millisecond, 3);
      case 'SS':
        return pad(Math.floor(p.millisecond / 10));
      case 'S':
        return String(Math.floor(p.millisecond / 100));
      case 'A':
        return p.hour < 12 ? 'AM' : 'PM';
      case 'a':
        return p.hour < 12 ? 'am' : 'pm';
      case 'ZZ':
        return offset(p.offsetMinutes, '');
      case 'Z':
        return offset(p.offsetMinutes, ':');
      case 'X':
        return String(Math.floor(date.getTime() / 1000));
      case 'x':
        return String(date.getTime());
      default:
        return token;
    }
  });
}
