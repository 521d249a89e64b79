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

  // Every token moment.js formats (moment 2.30, locale en), checked against what moment prints.
  it.each([
    ['Mo DDDo do Qo', 'UTC', '1st 5th 0th 1st'],
    ['YYYY-[W]WW', 'UTC', '2020-W01'],
    ['W Wo WW GG GGGG GGGGG E', 'UTC', '1 1st 01 20 2020 02020 7'],
    ['w wo ww gg gggg ggggg e', 'UTC', '2 2nd 02 20 2020 02020 0'],
    ['Y YYYYY YYYYYY', 'UTC', '2020 02020 +002020'],
    ['N NN NNN NNNN NNNNN', 'UTC', 'AD AD AD Anno Domini AD'],
    ['y yy yyy yyyy yo', 'UTC', '2020 2020 2020 2020 2020th'],
    ['SSSS SSSSS SSSSSS SSSSSSSSS', 'UTC', '0670 06700 067000 067000000'],
    ['Hmm Hmmss hmm hmmss', 'UTC', '1304 130405 104 10405'],
    ['LT|LTS|L|LL', 'UTC', '1:04 PM|1:04:05 PM|01/05/2020|January 5, 2020'],
    ['LLL|LLLL', 'UTC', 'January 5, 2020 1:04 PM|Sunday, January 5, 2020 1:04 PM'],
    ['l|ll|lll|llll', 'UTC', '1/5/2020|Jan 5, 2020|Jan 5, 2020 1:04 PM|Sun, Jan 5, 2020 1:04 PM'],
    // Not tokens: printed as they are, as moment does (the T of an ISO date, punctuation).
    ['YYYY-MM-DDTHH:mm', 'UTC', '2020-01-05T13:04'],
    // Literals: [brackets] (up to the last ] before the next [) and a backslash before a token;
    // an escaped [ is one literal character, so the token after it is formatted.
    ['[Mo WW] [a]b] \\YYYY \\[YYYY]', 'UTC', 'Mo WW a]b YYYY [2020]'],
    ['[LT] \\LT', 'UTC', 'LT LT'],
    ['YYYY\\', 'UTC', '2020'],
  ])('moment token %s', (format, tz, expected) => {
    expect(formatDate(DATE, format, tz)).toBe(expected);
  });

  it('numbers ISO and locale weeks across the year boundary as moment does', () => {
    // 2020-12-31 is a Thursday: ISO week 53 of 2020; in the en locale (weeks start on Sunday,
    // the week of Jan 1st is week 1) week 1 of 2021.
    const newYearsEve = new Date('2020-12-31T12:00:00Z');
    expect(formatDate(newYearsEve, 'GGGG-[W]WW gggg-[w]ww')).toBe('2020-W53 2021-w01');
    // 2021-01-03 is a Sunday: still ISO week 53 of 2020; locale week 2 of 2021.
    expect(formatDate(new Date('2021-01-03T12:00:00Z'), 'GGGG-WW E gggg-ww e')).toBe('2020-53 7 2021-02 0');
  });

  it('without a format (or an empty one) uses moment’s default: ISO 8601, Z in UTC', () => {
    expect(formatDate(DATE, undefined)).toBe('2020-01-05T13:04:05Z');
    expect(formatDate(DATE, '', 'Asia/Tokyo')).toBe('2020-01-05T22:04:05+09:00');
    expect(formatDate(DATE, undefined, 'Europe/London')).toBe('2020-01-05T13:04:05Z');
  });

  it.each([['z'], ['zz'], ['YYYYMMDD-z']])(
    '%s (a zone abbreviation from moment-timezone’s database) is an error naming the token',
    (format) => {
      expect(() => formatDate(DATE, format, 'Asia/Tokyo')).toThrow(/'z{1,2}'.*zone abbreviation/);
    },
  );

  it('rejects an unknown time zone with the fix', () => {
    expect(() => formatDate(DATE, 'YYYY', 'Nowhere/City')).toThrow(/unknown time zone/);
  });
});
