import { describe, expect, it } from 'vitest';
import {
  NEWEST_API,
  OLDEST_API,
  compareApiVersions,
  engineFeatures,
  negotiateApiVersion,
  parseApiVersion,
  parseVersionRefusal,
  type DaemonApiRange,
} from './api-version.js';

describe('parseApiVersion / compareApiVersions', () => {
  it.each([
    ['1.41', { major: 1, minor: 41 }],
    ['v1.44', { major: 1, minor: 44 }],
    [' 1.52 ', { major: 1, minor: 52 }],
    ['1', undefined],
    ['1.41.0', undefined],
    ['latest', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (text, expected) => {
    expect(parseApiVersion(text)).toEqual(expected);
  });

  it.each([
    ['1.9', '1.41', -1],
    ['1.41', '1.41', 0],
    ['1.44', '1.41', 1],
    ['2.0', '1.52', 1],
  ])('%s vs %s is %i (numeric, not lexical)', (a, b, sign) => {
    expect(Math.sign(compareApiVersions(a, b))).toBe(sign);
  });

  it('the declared range is 1.41 (Docker 20.10) to 1.52 (Docker 29.0)', () => {
    expect([OLDEST_API, NEWEST_API]).toEqual(['1.41', '1.52']);
  });
});

const docker2010: DaemonApiRange = { max: '1.41', min: '1.12', engineVersion: '20.10.24+dfsg1' };
const docker29: DaemonApiRange = { max: '1.52', min: '1.44', engineVersion: '29.0.4' };

describe('negotiateApiVersion', () => {
  const ok = [
    { name: 'Docker 20.10 (Debian 12): its maximum, 1.41', daemon: docker2010, version: '1.41' },
    { name: 'Docker 25 (1.44, minimum 1.24): 1.44', daemon: { max: '1.44', min: '1.24' }, version: '1.44' },
    { name: 'Docker 29.0: 1.52', daemon: docker29, version: '1.52' },
    {
      name: 'a daemon newer than we know that still accepts our newest: our newest',
      daemon: { max: '1.55', min: '1.44' },
      version: '1.52',
    },
    {
      name: 'only /_ping answered (no minimum): min(its max, ours)',
      daemon: { max: '1.47' },
      version: '1.47',
    },
    {
      name: 'DOCKER_API_VERSION inside both ranges wins over negotiation',
      daemon: docker29,
      override: '1.45',
      version: '1.45',
      how: 'DOCKER_API_VERSION',
    },
    {
      name: 'DOCKER_API_VERSION above our newest, accepted by the daemon (the too-new escape hatch)',
      daemon: { max: '1.60', min: '1.55' },
      override: 'v1.55',
      version: '1.55',
      how: 'DOCKER_API_VERSION',
    },
    { name: 'an empty DOCKER_API_VERSION means unset', daemon: docker29, override: '', version: '1.52' },
  ];
  it.each(ok)('$name', ({ daemon, override, version, how }) => {
    expect(negotiateApiVersion({ daemon, override })).toEqual({
      ok: true,
      version,
      how: how ?? 'negotiated',
    });
  });

  const refused = [
    {
      name: 'a daemon older than 1.41 (max 1.30): names both versions and says to upgrade Docker',
      daemon: { max: '1.30', min: '1.12', engineVersion: '17.06.0' },
      problem: 'daemon-too-old',
      message: /Docker Engine 17\.06\.0 speaks API 1\.12–1\.30; itsctl speaks Docker Engine API 1\.41–1\.52/,
      fix: /upgrade Docker Engine to 20\.10 or newer/,
    },
    {
      name: 'a daemon whose minimum is above our newest: upgrade itsctl or set DOCKER_API_VERSION',
      daemon: { max: '1.60', min: '1.55', engineVersion: '31.0.0' },
      problem: 'daemon-too-new',
      message:
        /Docker Engine 31\.0\.0 accepts API 1\.55–1\.60 only; itsctl speaks Docker Engine API 1\.41–1\.52/,
      fix: /upgrade itsctl, or set DOCKER_API_VERSION=1\.55/,
    },
    {
      name: 'DOCKER_API_VERSION that is not a version',
      daemon: docker29,
      override: 'latest',
      problem: 'override-invalid',
      message: /DOCKER_API_VERSION: "latest" is not an API version/,
      fix: /unset DOCKER_API_VERSION/,
    },
    {
      name: 'DOCKER_API_VERSION below what we speak',
      daemon: docker2010,
      override: '1.24',
      problem: 'override-too-old',
      message: /DOCKER_API_VERSION: 1\.24 is older than the oldest API itsctl speaks \(1\.41/,
      fix: /set 1\.41 or newer/,
    },
    {
      name: 'DOCKER_API_VERSION the daemon refuses (1.41 against Docker 29)',
      daemon: docker29,
      override: '1.41',
      problem: 'override-outside-daemon',
      message: /DOCKER_API_VERSION: 1\.41 is outside what Docker Engine 29\.0\.4 accepts \(API 1\.44–1\.52\)/,
      fix: /unset DOCKER_API_VERSION/,
    },
    {
      name: 'DOCKER_API_VERSION above the daemon (1.52 against Docker 20.10)',
      daemon: docker2010,
      override: '1.52',
      problem: 'override-outside-daemon',
      message: /1\.52 is outside what Docker Engine 20\.10\.24\+dfsg1 accepts \(API 1\.12–1\.41\)/,
      fix: /unset/,
    },
    {
      name: 'an answer that is no version at all',
      daemon: { max: 'banana' },
      problem: 'daemon-answer-invalid',
      message: /reported API version "banana"/,
      fix: /DOCKER_HOST points at a Docker Engine/,
    },
  ];
  it.each(refused)('$name', ({ daemon, override, problem, message, fix }) => {
    const result = negotiateApiVersion({ daemon, override });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem).toBe(problem);
    expect(result.message).toMatch(message);
    expect(result.fix).toMatch(fix);
  });
});

describe('parseVersionRefusal', () => {
  it('reads Docker 29’s refusal of an old client', () => {
    expect(
      parseVersionRefusal(
        'client version 1.41 is too old. Minimum supported API version is 1.44, please upgrade your client to a newer version',
      ),
    ).toEqual({ client: '1.41', bound: 'minimum', daemon: '1.44' });
  });
  it('reads a refusal of a too-new client', () => {
    expect(
      parseVersionRefusal('client version 1.52 is too new. Maximum supported API version is 1.41'),
    ).toEqual({ client: '1.52', bound: 'maximum', daemon: '1.41' });
  });
  it('ignores any other message', () => {
    expect(parseVersionRefusal('No such container: x')).toBeUndefined();
  });
});

describe('engineFeatures', () => {
  it.each([
    ['1.41', { healthStartInterval: false, networkCheckDuplicate: true }],
    ['1.43', { healthStartInterval: false, networkCheckDuplicate: true }],
    ['1.44', { healthStartInterval: true, networkCheckDuplicate: false }],
    ['1.52', { healthStartInterval: true, networkCheckDuplicate: false }],
  ])('API %s', (version, features) => {
    expect(engineFeatures(version)).toEqual({ apiVersion: version, ...features });
  });
});
