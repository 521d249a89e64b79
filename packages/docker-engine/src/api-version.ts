/**
 * Docker Engine API versions, as pure functions: parsing, comparing, choosing the version to speak
 * with a daemon, and what that version lets the client send. No I/O here; docker-engine.ts asks the
 * daemon (`GET /version`) and calls these.
 *
 * Why a range: Debian 12's Docker 20.10 speaks at most API 1.41; Docker Engine 29 refuses every client
 * below 1.44 ("client version 1.41 is too old. Minimum supported API version is 1.44"). The client
 * speaks the highest version both sides know, as the docker CLI does.
 */

export interface ApiVersion {
  major: number;
  minor: number;
}

/** The lowest version we speak: Docker 20.10 (Debian 12's docker.io). */
export const OLDEST_API = '1.41';
/**
 * The newest version whose changes since 1.41 were read against every field we send and read: Docker
 * Engine 29.0 (API 1.52, minimum 1.44). A newer daemon is spoken to at this version while it still
 * accepts it (Docker keeps old versions for several releases).
 */
export const NEWEST_API = '1.52';

/** "1.44" or "v1.44" → {1, 44}; anything else → undefined. */
export function parseApiVersion(text: string | undefined): ApiVersion | undefined {
  if (text === undefined) return undefined;
  const m = /^v?(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export function formatApiVersion(v: ApiVersion): string {
  return `${v.major}.${v.minor}`;
}

/** Negative when a < b, 0 when equal, positive when a > b (numeric: 1.9 < 1.41). */
export function compareApiVersions(a: string | ApiVersion, b: string | ApiVersion): number {
  const pa = typeof a === 'string' ? mustParse(a) : a;
  const pb = typeof b === 'string' ? mustParse(b) : b;
  return pa.major - pb.major || pa.minor - pb.minor;
}

function mustParse(text: string): ApiVersion {
  const v = parseApiVersion(text);
  if (!v) throw new TypeError(`not an API version: "${text}"`);
  return v;
}

/** What the daemon said about itself (`GET /version`: ApiVersion, MinAPIVersion; or `/_ping`'s API-Version). */
export interface DaemonApiRange {
  /** The daemon's newest version. */
  max: string;
  /** The daemon's oldest accepted version; unknown when only `/_ping` answered. */
  min?: string | undefined;
  /** The daemon's product version (e.g. 29.0.4), for messages. */
  engineVersion?: string | undefined;
}

export interface SupportedApiRange {
  oldest: string;
  newest: string;
}

export const SUPPORTED_API: SupportedApiRange = { oldest: OLDEST_API, newest: NEWEST_API };

export type Negotiation =
  | { ok: true; version: string; how: 'negotiated' | 'DOCKER_API_VERSION' }
  | {
      ok: false;
      problem:
        | 'daemon-too-old'
        | 'daemon-too-new'
        | 'override-invalid'
        | 'override-too-old'
        | 'override-outside-daemon'
        | 'daemon-answer-invalid';
      message: string;
      fix: string;
    };

const daemonName = (d: DaemonApiRange) =>
  d.engineVersion ? `Docker Engine ${d.engineVersion}` : 'the Docker Engine';

const daemonRange = (d: DaemonApiRange) => (d.min ? `${d.min}–${d.max}` : `up to ${d.max}`);

/**
 * The version to speak: DOCKER_API_VERSION when set (validated, as the docker CLI honours it), else
 * the highest version both the daemon and we know, never below the daemon's minimum.
 */
export function negotiateApiVersion(input: {
  daemon: DaemonApiRange;
  supported?: SupportedApiRange;
  override?: string | undefined;
}): Negotiation {
  const supported = input.supported ?? SUPPORTED_API;
  const { daemon } = input;
  const ours = `itsctl speaks Docker Engine API ${supported.oldest}–${supported.newest}`;
  const max = parseApiVersion(daemon.max);
  const min = daemon.min === undefined || daemon.min === '' ? undefined : parseApiVersion(daemon.min);
  if (!max || (daemon.min !== undefined && daemon.min !== '' && !min))
    return {
      ok: false,
      problem: 'daemon-answer-invalid',
      message: `${daemonName(daemon)} reported API version "${daemon.max}"${daemon.min ? ` (minimum "${daemon.min}")` : ''}, which is not MAJOR.MINOR`,
      fix: 'check that DOCKER_HOST points at a Docker Engine (not another HTTP server)',
    };

  if (input.override !== undefined && input.override !== '') {
    const forced = parseApiVersion(input.override);
    if (!forced)
      return {
        ok: false,
        problem: 'override-invalid',
        message: `DOCKER_API_VERSION: "${input.override}" is not an API version (expected MAJOR.MINOR, e.g. 1.44)`,
        fix: `unset DOCKER_API_VERSION to negotiate, or set a version such as ${supported.newest}`,
      };
    const version = formatApiVersion(forced);
    if (compareApiVersions(forced, supported.oldest) < 0)
      return {
        ok: false,
        problem: 'override-too-old',
        message: `DOCKER_API_VERSION: ${version} is older than the oldest API itsctl speaks (${supported.oldest}; ${ours})`,
        fix: `unset DOCKER_API_VERSION to negotiate, or set ${supported.oldest} or newer`,
      };
    if (compareApiVersions(forced, max) > 0 || (min && compareApiVersions(forced, min) < 0))
      return {
        ok: false,
        problem: 'override-outside-daemon',
        message: `DOCKER_API_VERSION: ${version} is outside what ${daemonName(daemon)} accepts (API ${daemonRange(daemon)})`,
        fix: 'unset DOCKER_API_VERSION to negotiate, or set a version the daemon accepts',
      };
    return { ok: true, version, how: 'DOCKER_API_VERSION' };
  }

  if (compareApiVersions(max, supported.oldest) < 0)
    return {
      ok: false,
      problem: 'daemon-too-old',
      message: `${daemonName(daemon)} speaks API ${daemonRange(daemon)}; ${ours}`,
      fix: 'upgrade Docker Engine to 20.10 or newer (Debian 12: apt-get install -y docker.io)',
    };
  const chosen = compareApiVersions(max, supported.newest) < 0 ? max : mustParse(supported.newest);
  if (min && compareApiVersions(min, chosen) > 0)
    return {
      ok: false,
      problem: 'daemon-too-new',
      message: `${daemonName(daemon)} accepts API ${daemonRange(daemon)} only; ${ours}`,
      fix: `upgrade itsctl, or set DOCKER_API_VERSION=${daemon.min} to speak the daemon's oldest version (untested)`,
    };
  return { ok: true, version: formatApiVersion(chosen), how: 'negotiated' };
}

/**
 * Docker's own refusal of a version outside its range (HTTP 400): "client version 1.41 is too old.
 * Minimum supported API version is 1.44, …" or "client version 1.53 is too new. Maximum supported API
 * version is 1.52". Undefined for any other body.
 */
export function parseVersionRefusal(
  message: string,
): { client: string; bound: 'minimum' | 'maximum'; daemon: string } | undefined {
  const m =
    /client version (\d+\.\d+) is too (old|new)\. (Minimum|Maximum) supported API version is (\d+\.\d+)/i.exec(
      message,
    );
  if (!m) return undefined;
  return { client: m[1]!, bound: m[3]!.toLowerCase() as 'minimum' | 'maximum', daemon: m[4]! };
}

/** What the negotiated version changes in the bodies we send (container-spec.ts, docker-engine.ts). */
export interface EngineFeatures {
  apiVersion: string;
  /**
   * API 1.44 (Docker 25): `Healthcheck.StartInterval`, the probe interval during the start period. Below
   * it the daemon ignores the field, so the whole interval is shortened instead.
   */
  healthStartInterval: boolean;
  /**
   * `CheckDuplicate` on network create: deprecated in 1.44 (the daemon always refuses a duplicate name
   * with 409 since then) and dropped from later API documents; sent only below 1.44.
   */
  networkCheckDuplicate: boolean;
}

export function engineFeatures(apiVersion: string): EngineFeatures {
  const atLeast = (v: string) => compareApiVersions(apiVersion, v) >= 0;
  return {
    apiVersion,
    healthStartInterval: atLeast('1.44'),
    networkCheckDuplicate: !atLeast('1.44'),
  };
}

/** The features of the oldest version we speak: what a caller that did not negotiate gets. */
export const OLDEST_FEATURES: EngineFeatures = engineFeatures(OLDEST_API);
