import { describe, expect, it } from 'vitest';
import { formatDate } from '../src/tags/format-date.js';

// 2020-01-05 was a Sunday; 13:04:05.067 UTC.
const DATE = new Date('2020-01-05T13:04:05.067Z');

describe('formatDate (moment format tokens)', () => {
  it.each([
    ['YYYYMMDD', 'UTC', '20200105'],
    ['YYYY-MM-DDTHH:mm:ss.SSSZ', 'UTC', '2020-01-05T13:04:05.067+00:00'],
    ['YY M D H m s S SS', 'UTC', '20 1 5 13 4 5 0 06'],
    ['MMMM MMM Do dddd ddd dd d', 'UTC', 'January Jan 5th Sunday Sun Su 0'],
    ['hh h A a kk k', 'UTC', '01 1 PM pm 13 13'],
    ['Q DDD DDDD', 'UTC', '1 5 005'],
    ['X x', 'UTC', '1578229445 1578229445067'],
    ['[Week of] YYYY', 'UTC', 'Week of 2020'],
    ['YYYYMMDD-HHmm ZZ', 'Asia/Tokyo', '20200105-2204 +0900'],
    ['YYYY-MM-DD HH:mm Z', 'America/St_Johns', '2020-01-05 09:34 -03:30'],
    ['Do', 'Pacific/Kiritimati', '6th'],
  ])('%s in %s', (format, tz, expected) => {
    expect(formatDate(DATE, format, tz)).toBe(expected);
  });

  it('writes midnight as 12 AM and 24 with k', () => {
    expect(formatDate(new Date('2020-01-01T00:00:00Z'), 'h A k')).toBe('12 AM 24');
  });

  it.each([
    [1, '1st'],
    [2, '2nd'],
    [3, '3rd'],
    [11, '11th'],
    [12, '12th'],
    [13, '13th'],
    [22, '22nd'],
    [31, '31st'],
  ])('ordinal of day %i', (day, expected) => {
    expect(formatDate(new Date(Date.UTC(2020, 0, day, 12)), 'Do')).toBe(expected);
  });

  it('rejects an unknown time zone with the fix', () => {
    expect(() => formatDate(DATE, 'YYYY', 'Nowhere/City')).toThrow(/unknown time zone/);
  });
});
