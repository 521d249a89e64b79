/**
 * The one place that decides what is secret in a URL. Stream URLs carry `user:password@`, database
 * and proxy URLs too, some cameras and APIs take `?password=` or `?token=`, and a webhook's path is
 * its password. Whatever prints, logs, serves or shows a URL runs it through one of these functions.
 *
 * The parser is our own rather than WHATWG `URL`: the strings that matter most are the ones `URL`
 * rejects or splits wrongly (a password with '@' or '/' in it, an rtsp URL with odd characters, a
 * URL without its scheme), and a parse failure must never be the reason a password is printed.
 * Everything that is not masked is kept exactly as written (no normalisation), so a redacted URL is
 * still the one the operator typed. When the parser is in doubt, it masks.
 *
 * Only `node:`-free code: the dashboard's browser bundle imports this module (`@its/core/redact-url`).
 */

export interface RedactUrlOptions {
  /**
   * What replaces each secret part. Default `'***'`, which logs and API answers have always used;
   * the dashboard shows `'•••'`.
   */
  mask?: string;
  /**
   * Which query (and `#k=v` fragment) values are masked. Default `'credentials'`: the values whose key
   * names a credential (`password`, `pwd`, `token`, `api_key`, `secret`, `sig`, … — see
   * {@link isSecretParam}), so `?channel=1&subtype=0` stays readable. `'all'`: every value and any
   * non-parameter fragment — for URLs quoted in text nobody vetted (a failure reason in a
   * notification), whose parameters may be anything.
   */
  values?: 'credentials' | 'all';
  /**
   * Default `'keep'`. `'first-segment'`: the path itself is a credential (a Slack or Discord webhook:
   * whoever holds https://hooks.slack.com/services/T…/B…/X… can post), so only its first segment is
   * kept (`/services/***`, a lone segment becomes `/***`), every query value and the fragment are
   * masked, and a string without a scheme and a host keeps at most its scheme (`https://***`): it may
   * be such a URL with a typo.
   */
  path?: 'keep' | 'first-segment';
}

/** A URL cut into the parts as written; nothing is decoded or normalised. */
interface UrlParts {
  /** `rtsp://`, `//`, `file:` or `''`: what comes before the authority (or the path), as written. */
  prefix: string;
  /** The scheme's name (`rtsp`), `''` when there is none. */
  scheme: string;
  /** Whether an authority (user-info, host, port) follows the prefix. */
  hasAuthority: boolean;
  /** Whether the authority had user-info (text before an '@'). */
  hasUserinfo: boolean;
  /** `host[:port]` as written; `undefined` when the authority is not a valid host: it is then masked. */
  host: string | undefined;
  path: string;
  /** Without its '?'; `undefined` when the URL has none. */
  query: string | undefined;
  /** Without its '#'; `undefined` when the URL has none. */
  fragment: string | undefined;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
/**
 * A host and an optional port: a bracketed IP literal, or a name/IPv4 of unreserved characters; a
 * comma-separated list of them for libpq's multi-host URLs (`postgres://u:p@db1:5432,db2:5432/its`).
 */
const HOST_PORT =
  /^(?:\[[0-9a-z:.%_~-]*\]|[a-z0-9._~%-]*)(?::\d*)?(?:,(?:\[[0-9a-z:.%_~-]*\]|[a-z0-9._~%-]+)(?::\d*)?)*$/i;
/** Where an authority (or the host after an '@') ends: '\' too, which WHATWG reads as '/' for http(s). */
const AUTHORITY_END = /[/\\?#]/;
/** A file-system path: nothing in it is an authority. */
const PATH_START = /^[/\\.~]/;

function hostUntilPath(text: string): string {
  const end = text.search(AUTHORITY_END);
  return end === -1 ? text : text.slice(0, end);
}

/** Path, query and fragment of what follows the authority. */
function splitPath(rest: string): Pick<UrlParts, 'path' | 'query' | 'fragment'> {
  const hash = rest.indexOf('#');
  const beforeHash = hash === -1 ? rest : rest.slice(0, hash);
  const fragment = hash === -1 ? undefined : rest.slice(hash + 1);
  const mark = beforeHash.indexOf('?');
  return mark === -1
    ? { path: beforeHash, query: undefined, fragment }
    : { path: beforeHash.slice(0, mark), query: beforeHash.slice(mark + 1), fragment };
}

/** The position of the '@' that ends the user-info, or -1 when no '@' leaves a valid host after it. */
function userinfoEnd(rest: string): number {
  const lastValidAt = (text: string) => {
    for (let at = text.lastIndexOf('@'); at !== -1; at = at === 0 ? -1 : text.lastIndexOf('@', at - 1))
      if (HOST_PORT.test(hostUntilPath(rest.slice(at + 1)))) return at;
    return -1;
  };
  // A password may hold '/' (and '@'): the user-info ends at the LAST '@' before the query that leaves
  // a valid host. One may hold '?' or '#' too: failing that, the last such '@' anywhere.
  const hier = rest.search(/[?#]/);
  const inHier = lastValidAt(hier === -1 ? rest : rest.slice(0, hier));
  return inHier !== -1 ? inHier : lastValidAt(rest);
}

function splitAuthority(prefix: string, scheme: string, rest: string): UrlParts {
  const base = { prefix, scheme, hasAuthority: true };
  const authority = hostUntilPath(rest);
  // The common case, and the only reading of `rtsp://host/a@b`: a valid host and no '@' before the path.
  if (!authority.includes('@') && HOST_PORT.test(authority))
    return { ...base, hasUserinfo: false, host: authority, ...splitPath(rest.slice(authority.length)) };
  const at = userinfoEnd(rest);
  if (at !== -1) {
    const afterAt = rest.slice(at + 1);
    const host = hostUntilPath(afterAt);
    return { ...base, hasUserinfo: true, host, ...splitPath(afterAt.slice(host.length)) };
  }
  // Not a host, and no '@' that makes one: `rtsp://admin:secret` (no host), `::not a url::`. Without
  // an '@' only the authority is masked; with one, everything after the prefix is (whatever is
  // user-info cannot be told from the rest).
  if (!rest.includes('@'))
    return { ...base, hasUserinfo: false, host: undefined, ...splitPath(rest.slice(authority.length)) };
  return { ...base, hasUserinfo: false, host: undefined, path: '', query: undefined, fragment: undefined };
}

/** Cuts a URL into parts; never fails: what cannot be read as a host is marked for masking. */
function splitUrl(url: string): UrlParts {
  const slashes = /^[/\\]{2}/.exec(url);
  if (slashes) return splitAuthority(slashes[0], '', url.slice(2));
  const scheme = SCHEME.exec(url);
  if (scheme) {
    const name = scheme[1] ?? '';
    const rest = url.slice(scheme[0].length);
    const marker = /^[/\\]{2}/.exec(rest);
    if (marker) return splitAuthority(scheme[0] + marker[0], name, rest.slice(2));
    // `file:/x`, `C:\x`, `urn:isbn:…`: a path or an opaque string — unless it holds an '@'. Then it may
    // be user-info after a lost slash (`rtsp:/admin:pw@h`: ffmpeg skips up to two slashes, so do we) or
    // without its scheme (`admin:pw@10.0.0.5/live`): read as an authority, which a plain path survives.
    if (!rest.includes('@'))
      return {
        prefix: scheme[0],
        scheme: name,
        hasAuthority: false,
        hasUserinfo: false,
        host: undefined,
        ...splitPath(rest),
      };
    if (/^[/\\]/.test(rest)) return splitAuthority(scheme[0] + rest.charAt(0), name, rest.slice(1));
    return splitAuthority('', '', url);
  }
  if (url === '' || PATH_START.test(url))
    return {
      prefix: '',
      scheme: '',
      hasAuthority: false,
      hasUserinfo: false,
      host: undefined,
      ...splitPath(url),
    };
  // No scheme: `user:pw@host/x` or `cam.local/live` — an authority first, as in a URL.
  return splitAuthority('', '', url);
}

/**
 * Whether a query parameter's key names a credential: compared case-insensitively, percent-decoded,
 * with '-', '_' and '.' ignored, by its ending (`access_token`, `X-Amz-Signature`, `loginPas` and
 * `client_secret` all count). A benign value that is masked now and then (`?monkey=`) is the price of
 * not missing `?x-api-key=`.
 */
export function isSecretParam(key: string): boolean {
  let name = key.replace(/\+/g, ' ');
  try {
    name = decodeURIComponent(name);
  } catch {
    // A malformed escape: compare the key as written.
  }
  const squeezed = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SECRET_PARAM_ENDINGS.some((ending) => squeezed.endsWith(ending));
}

const SECRET_PARAM_ENDINGS = [
  'pass',
  'pas',
  'passwd',
  'password',
  'passphrase',
  'pwd',
  'pw',
  'token',
  'secret',
  'key',
  'auth',
  'authorization',
  'sig',
  'sign',
  'signature',
  'credential',
  'credentials',
  'session',
  'sessionid',
  'sid',
  'cookie',
  'jwt',
  'otp',
  'ticket',
];

/** `a=1&password=x;b` with the secret values masked; separators and keys kept as written. */
function maskParams(params: string, values: 'credentials' | 'all', mask: string): string {
  return params
    .split(/([&;])/)
    .map((part, i) => {
      if (i % 2 === 1 || part === '') return part;
      const eq = part.indexOf('=');
      // A bare value (`?s3cr3t`) is a value with no name: in 'all' mode the whole of it is masked.
      if (eq === -1) return values === 'all' ? mask : part;
      const value = part.slice(eq + 1);
      const secret = values === 'all' || (value !== '' && isSecretParam(part.slice(0, eq)));
      return secret ? `${part.slice(0, eq)}=${mask}` : part;
    })
    .join('');
}

function maskFragment(fragment: string, values: 'credentials' | 'all', mask: string): string {
  if (fragment === '') return fragment;
  if (values === 'all') return mask;
  // `#access_token=…&token_type=bearer` (OAuth's implicit flow) is a parameter list; a plain anchor is not.
  return fragment.includes('=') ? maskParams(fragment, values, mask) : fragment;
}

/** Leading and trailing white space, kept as they were around the redacted URL. */
function splitSpace(text: string): [lead: string, body: string, trail: string] {
  const lead = /^\s*/.exec(text)?.[0] ?? '';
  const trail = /\s*$/.exec(text.slice(lead.length))?.[0] ?? '';
  return [lead, text.slice(lead.length, text.length - trail.length), trail];
}

/**
 * A URL with its secrets masked and everything else as written: the user-info (all of it, up to the
 * last '@' of the authority) becomes `***@`, credential query values become `***`.
 * `rtsp://admin:p@ss/w0rd@10.0.0.5:554/live?channel=1&password=x` →
 * `rtsp://***@10.0.0.5:554/live?channel=1&password=***`. An authority that is not a host is masked
 * whole (`rtsp://admin:secret` → `rtsp://***`); file paths and URLs without secrets come back unchanged.
 */
export function redactUrl(url: string, options: RedactUrlOptions = {}): string {
  const mask = options.mask ?? '***';
  const firstSegment = options.path === 'first-segment';
  const values = firstSegment ? 'all' : (options.values ?? 'credentials');
  const [lead, body, trail] = splitSpace(url);
  const u = splitUrl(body);
  if (firstSegment && (u.scheme === '' || !u.hasAuthority || u.host === undefined || u.host === ''))
    return `${lead}${u.scheme === '' ? mask : `${u.scheme}://${mask}`}${trail}`;
  const authority = !u.hasAuthority
    ? ''
    : u.host === undefined
      ? mask
      : `${u.hasUserinfo ? `${mask}@` : ''}${u.host}`;
  let path = u.path;
  if (firstSegment) {
    const segments = u.path.split('/').filter((s) => s !== '');
    // A lone segment is masked too: some webhook services put the whole token there (/T0KEN).
    path = segments.length === 0 ? '' : segments.length === 1 ? `/${mask}` : `/${segments[0]}/${mask}`;
  }
  const query = u.query === undefined ? '' : `?${maskParams(u.query, values, mask)}`;
  const fragment = u.fragment === undefined ? '' : `#${maskFragment(u.fragment, values, mask)}`;
  return `${lead}${u.prefix}${authority}${path}${query}${fragment}${trail}`;
}

/**
 * What a caller who may not hold the credentials sees: scheme, host, port and path only — no
 * user-info, no query, no fragment. `rtsp://admin:pw@10.0.0.5:554/live?token=x#a` →
 * `rtsp://10.0.0.5:554/live`. An authority that is not a host is masked (`rtsp://***`).
 */
export function publicUrl(url: string, options: Pick<RedactUrlOptions, 'mask'> = {}): string {
  const u = splitUrl(url.trim());
  const authority = !u.hasAuthority ? '' : (u.host ?? options.mask ?? '***');
  return `${u.prefix}${authority}${u.path}`;
}

/** A URL inside free text: a scheme and '//' (or a bare '//'), then anything up to white space or a quote. */
const URL_IN_TEXT = /(?:\b[a-z][a-z0-9+.-]*:)?\/\/[^\s"'<>`]+/gi;
/** Sentence punctuation right after a URL is not part of it (`… at rtsp://10.0.0.5:554, retrying`). */
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;
/** An '@', the host after it, and the rest of the URL up to white space or a quote. */
const AT_HOST = /@([^\s"'<>`/\\?#]*)[^\s"'<>`]*/;

/**
 * Where a URL found in text really ends. A password holding a space or a quote cuts the match short
 * (`rtsp://user:pa ss@h/x`): the match is then all authority, with no '@' and no valid host. The URL
 * then runs on, within the line, to the first '@' that leaves a valid host; without one, the match
 * stands (and its authority is masked whole).
 */
function urlEnd(text: string, start: number, found: string): number {
  const end = start + found.length;
  const rest = found.slice(found.indexOf('//') + 2);
  const authority = hostUntilPath(rest);
  const cutShort =
    authority.length === rest.length &&
    !authority.includes('@') &&
    !HOST_PORT.test(authority.replace(TRAILING_PUNCTUATION, ''));
  if (!cutShort) return end;
  const lineEnd = text.slice(end).search(/[\r\n]/);
  const line = lineEnd === -1 ? text.slice(end) : text.slice(end, end + lineEnd);
  const atHost = new RegExp(AT_HOST.source, 'g');
  for (let m = atHost.exec(line); m; m = atHost.exec(line)) {
    const host = (m[1] ?? '').replace(TRAILING_PUNCTUATION, '');
    if (host !== '' && HOST_PORT.test(host)) return end + m.index + m[0].length;
  }
  return end;
}

/**
 * Every URL in a text (an ffmpeg error, a failure reason, a notification) passed through
 * {@link redactUrl}: `Error opening 'rtsp://u:p@ss@h/x'` → `Error opening 'rtsp://***@h/x'`. Paths stay,
 * which is what makes a reason useful. Sentence punctuation after a URL stays outside it, and a
 * password with a space or a quote in it is still found whole (see {@link urlEnd}).
 */
export function redactUrlsInText(text: string, options: RedactUrlOptions = {}): string {
  const pattern = new RegExp(URL_IN_TEXT.source, URL_IN_TEXT.flags);
  let out = '';
  let done = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    const end = urlEnd(text, m.index, m[0]);
    const found = text.slice(m.index, end);
    const trailing = TRAILING_PUNCTUATION.exec(found)?.[0] ?? '';
    out +=
      text.slice(done, m.index) +
      redactUrl(found.slice(0, found.length - trailing.length), options) +
      trailing;
    done = end;
    pattern.lastIndex = end;
  }
  return out + text.slice(done);
}
