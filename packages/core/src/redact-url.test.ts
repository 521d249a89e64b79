import { describe, expect, it } from 'vitest';
import { isSecretParam, publicUrl, redactUrl, redactUrlsInText } from './redact-url.js';

/** Inputs from the security probe: each one leaked a secret through at least one old redactor. */
const LEAKED: [name: string, url: string, redacted: string, shown: string][] = [
  [
    'a password in the query',
    'http://cam/video.cgi?user=admin&password=S3cretQ',
    'http://cam/video.cgi?user=admin&password=***',
    'http://cam/video.cgi',
  ],
  [
    "an '@' in the password: masked up to the last '@'",
    'rtsp://admin:p@ssw0rd@h',
    'rtsp://***@h',
    'rtsp://h',
  ],
  ["a '/' in the password does not end the user-info", 'rtsp://admin:pa/ss@h', 'rtsp://***@h', 'rtsp://h'],
  [
    "a '/' in the password, then a path and a query",
    'rtsp://admin:pa/ss@10.0.0.5:554/live?channel=1',
    'rtsp://***@10.0.0.5:554/live?channel=1',
    'rtsp://10.0.0.5:554/live',
  ],
  ["a '?' in the password", 'rtsp://admin:pa?ss@h/x', 'rtsp://***@h/x', 'rtsp://h/x'],
  ["a '#' in the password", 'rtsp://admin:pa#ss@h/x', 'rtsp://***@h/x', 'rtsp://h/x'],
  [
    "'@', '/' and ':' in the password",
    'rtsp://admin:p@s/s:w@h:554/x',
    'rtsp://***@h:554/x',
    'rtsp://h:554/x',
  ],
  [
    'a space in the password (WHATWG URL rejects it)',
    'rtsp://user:pa ss@h/x',
    'rtsp://***@h/x',
    'rtsp://h/x',
  ],
  ['a user name alone', 'rtsp://admin@10.0.0.5/live', 'rtsp://***@10.0.0.5/live', 'rtsp://10.0.0.5/live'],
  ['no scheme', 'admin:pw@10.0.0.5/live', '***@10.0.0.5/live', '10.0.0.5/live'],
  ['no scheme, a user name alone', 'admin@10.0.0.5/live', '***@10.0.0.5/live', '10.0.0.5/live'],
  ['one slash lost (ffmpeg still reads an authority)', 'rtsp:/admin:pw@h/x', 'rtsp:/***@h/x', 'rtsp:/h/x'],
  [
    'backslashes (WHATWG reads them as slashes for http)',
    'http:\\\\u:p@host/x',
    'http:\\\\***@host/x',
    'http:\\\\host/x',
  ],
  ['a password and no host: the authority is masked', 'rtsp://admin:secret', 'rtsp://***', 'rtsp://***'],
  ['an authority that is no host, then a path', 'rtsp://host:abc/x', 'rtsp://***/x', 'rtsp://***/x'],
  ["an '@' but no host anywhere: all of it", 'rtsp://a:b@c d e', 'rtsp://***', 'rtsp://***'],
  ['not a URL at all', '::not a url::', '***', '***'],
  [
    'percent-encoded user-info',
    'postgres://us%40er:p%3Ass@db:5432/its',
    'postgres://***@db:5432/its',
    'postgres://db:5432/its',
  ],
  [
    'an IPv6 host with a zone',
    'rtsp://u:p@[fe80::1%25eth0]:554/x',
    'rtsp://***@[fe80::1%25eth0]:554/x',
    'rtsp://[fe80::1%25eth0]:554/x',
  ],
  [
    'a libpq multi-host URL',
    'postgres://its:s3cret@db1:5432,db2:5432/its?sslmode=require',
    'postgres://***@db1:5432,db2:5432/its?sslmode=require',
    'postgres://db1:5432,db2:5432/its',
  ],
  [
    'credential-like query keys, any case',
    'https://x.io/q?API_KEY=a&api-key=b&apikey=c&Token=d&access_token=e&X-Amz-Signature=f&sig=g&pwd=h&pass=i&secret=j&auth=k&key=l&channel=1',
    'https://x.io/q?API_KEY=***&api-key=***&apikey=***&Token=***&access_token=***&X-Amz-Signature=***&sig=***&pwd=***&pass=***&secret=***&auth=***&key=***&channel=1',
    'https://x.io/q',
  ],
  [
    "a camera's login parameters",
    'http://10.0.0.7/videostream.cgi?loginuse=admin&loginpas=hunter2&resolution=32',
    'http://10.0.0.7/videostream.cgi?loginuse=admin&loginpas=***&resolution=32',
    'http://10.0.0.7/videostream.cgi',
  ],
  [
    'a percent-encoded key',
    'http://h/x?pass%77ord=s&a=1;token=t',
    'http://h/x?pass%77ord=***&a=1;token=***',
    'http://h/x',
  ],
  [
    "a token in the fragment (OAuth's implicit flow)",
    'https://app/cb#access_token=abc&token_type=bearer',
    'https://app/cb#access_token=***&token_type=bearer',
    'https://app/cb',
  ],
  [
    'a path and query without user-info',
    '/snapshot.jpg?user=admin&password=S3cretQ',
    '/snapshot.jpg?user=admin&password=***',
    '/snapshot.jpg',
  ],
  ['white space around the URL is kept', ' rtsp://u:p@h/x\n', ' rtsp://***@h/x\n', 'rtsp://h/x'],
];

/** URLs without secrets: every one comes back exactly as written. */
const UNCHANGED: string[] = [
  'http://example.com',
  'http://example.com/',
  'https://example.com:8443/a/b?x=1&y=2#section',
  'http://127.0.0.1:9090',
  'rtsp://10.0.0.5:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1',
  'rtsps://cam.example.com/live',
  'rtsp://host/a@b',
  'rtsp://cam_01.local:554/x',
  'http://[::1]:8080/x?y=1#z',
  'rtsp://[2001:db8::1]/live',
  'http://[fe80::1%25eth0]:80/',
  'redis://127.0.0.1:6379',
  'postgres://db:5432/its?sslmode=require',
  'postgresql:///its?host=/var/run/postgresql',
  'file:///videos/a.mp4',
  'file:///videos/a@b.mp4',
  'file://localhost/videos/a.mp4',
  'file:/videos/a@b.mp4',
  '/videos/a@b.mp4',
  './clips/a b.mp4',
  '~/clips/a.mp4',
  'C:\\videos\\a@b.mp4',
  'cam.local/live',
  'cam.local:554/live',
  'urn:isbn:0451450523',
  'http://h/x?password=',
  'http://h/x?flag&channel=1#top',
  '',
];

describe('redactUrl', () => {
  it.each(LEAKED)('%s: %s', (_name, url, redacted) => expect(redactUrl(url)).toBe(redacted));
  it.each(UNCHANGED.map((u) => [u]))('leaves %s as written', (url) => expect(redactUrl(url)).toBe(url));

  it.each([
    ['http://cam/video.cgi?user=admin&password=S3cretQ', 'S3cretQ'],
    ['rtsp://admin:p@ssw0rd@h', 'ssw0rd'],
    ['rtsp://admin:pa/ss@h', 'pa/ss'],
    ['rtsp://admin:pa/ss@h', 'admin'],
    ['rtsp://admin:s3cret', 's3cret'],
    ['rtsp://admin:s3cret@', 's3cret'],
    ['rtsp://admin:s3c ret@10.0.0.5/x', 'ret'],
    ['rtsp ://admin:s3cret@10.0.0.5/x', 's3cret'],
    ['admin:s3cret@10.0.0.5', 's3cret'],
    ['//admin:s3cret@10.0.0.5', 's3cret'],
    ['admin:s3cret@', 's3cret'],
  ])('never shows the secret of %s', (url, secret) => {
    expect(redactUrl(url)).not.toContain(secret);
    expect(publicUrl(url)).not.toContain(secret);
  });

  it('uses the mask it is given (the dashboard shows •••)', () => {
    expect(redactUrl('rtsp://u:p@10.0.0.5/s1?pwd=x', { mask: '•••' })).toBe('rtsp://•••@10.0.0.5/s1?pwd=•••');
  });

  it("masks every query value and the fragment with values: 'all'", () => {
    expect(redactUrl('postgres://app:pw@db:5432/its?sslmode=require&x#frag', { values: 'all' })).toBe(
      'postgres://***@db:5432/its?sslmode=***&***#***',
    );
  });

  it.each([
    ['https://hooks.slack.com/services/T000/B000/XXXX', 'https://hooks.slack.com/services/***'],
    ['https://discord.com/api/webhooks/123/tok', 'https://discord.com/api/***'],
    ['https://example.com/T0KEN', 'https://example.com/***'],
    ['http://127.0.0.1:9090', 'http://127.0.0.1:9090'],
    ['https://user:pass@prom.example.com:9090/', 'https://***@prom.example.com:9090'],
    [
      'https://example.com/a/b?token=s3cret&channel=ops#frag',
      'https://example.com/a/***?token=***&channel=***#***',
    ],
    ['hooks.slack.com/services/T000/B000/XXXX', '***'],
    ['https://', 'https://***'],
    ['https://admin:secret', 'https://***'],
  ])("path: 'first-segment' (a webhook): %s", (url, shown) => {
    expect(redactUrl(url, { path: 'first-segment' })).toBe(shown);
  });
});

describe('publicUrl', () => {
  it.each(LEAKED)('%s: %s', (_name, url, _redacted, shown) => expect(publicUrl(url)).toBe(shown));

  it.each([
    ['https://example.com:8443/a/b?x=1#section', 'https://example.com:8443/a/b'],
    ['rtsp://10.0.0.5:554/live', 'rtsp://10.0.0.5:554/live'],
    ['http://[::1]:8080/x?y=1', 'http://[::1]:8080/x'],
    ['file:///videos/a@b.mp4', 'file:///videos/a@b.mp4'],
    ['/videos/a.mp4?t=1', '/videos/a.mp4'],
  ])('keeps scheme, host, port and path: %s', (url, shown) => expect(publicUrl(url)).toBe(shown));
});

describe('redactUrlsInText', () => {
  it('masks every URL in a text and leaves the rest unchanged', () => {
    expect(redactUrlsInText("Error opening 'rtsp://u:p@ss@h/x' and http://a@b/c: refused")).toBe(
      "Error opening 'rtsp://***@h/x' and http://***@b/c: refused",
    );
    expect(redactUrlsInText('rtsp://user:secret@10.0.0.5:554/x: Connection refused')).toBe(
      'rtsp://***@10.0.0.5:554/x: Connection refused',
    );
    expect(redactUrlsInText('[rtsp @ 0x5581] method DESCRIBE failed: rtsp://admin:pa/ss@h/live?pwd=x.')).toBe(
      '[rtsp @ 0x5581] method DESCRIBE failed: rtsp://***@h/live?pwd=***.',
    );
  });

  it('keeps sentence punctuation after a URL out of it', () => {
    expect(redactUrlsInText('cannot reach rtsp://10.0.0.5:554, retrying (see http://h/x).')).toBe(
      'cannot reach rtsp://10.0.0.5:554, retrying (see http://h/x).',
    );
  });

  it('finds a password with a space or a quote in it whole', () => {
    expect(redactUrlsInText('rtsp://user:pa ss@10.0.0.5:554/x: Connection refused')).toBe(
      'rtsp://***@10.0.0.5:554/x: Connection refused',
    );
    expect(redactUrlsInText("Error opening 'rtsp://admin:it's@h/x': refused")).toBe(
      "Error opening 'rtsp://***@h/x': refused",
    );
    // No '@' on the line: the authority that is no host is masked whole, the next line is left alone.
    expect(redactUrlsInText('rtsp://admin:secret timed out\nops@example.com')).toBe(
      'rtsp://*** timed out\nops@example.com',
    );
  });

  it('finds a URL without its scheme after //', () => {
    expect(redactUrlsInText('opening //u:p@h/x failed')).toBe('opening //***@h/x failed');
  });

  it('leaves text without URLs, and file paths, alone', () => {
    expect(redactUrlsInText('no url: a@b, x://')).toBe('no url: a@b, x://');
    expect(redactUrlsInText('file:///videos/a@b.mp4 no frames for 1 s')).toBe(
      'file:///videos/a@b.mp4 no frames for 1 s',
    );
  });

  it('passes its options on', () => {
    expect(redactUrlsInText('proxy https://x.io/q?api_key=abc&x=1 down', { values: 'all' })).toBe(
      'proxy https://x.io/q?api_key=***&x=*** down',
    );
  });
});

describe('isSecretParam', () => {
  it.each([
    'password',
    'PASSWORD',
    'pass',
    'passwd',
    'pwd',
    'token',
    'access_token',
    'key',
    'apikey',
    'api_key',
    'X-Api-Key',
    'secret',
    'client_secret',
    'auth',
    'sig',
    'signature',
    'X-Amz-Signature',
    'X-Amz-Credential',
    'sessionid',
  ])('%s names a credential', (key) => expect(isSecretParam(key)).toBe(true));
  it.each(['user', 'username', 'channel', 'subtype', 'resolution', 'profile', 'sslmode', 'q', 'x'])(
    '%s does not',
    (key) => expect(isSecretParam(key)).toBe(false),
  );
});
