/** A parsed `WWW-Authenticate` challenge (RFC 7235), as registries send it on 401. */
export interface AuthChallenge {
  scheme: 'basic' | 'bearer' | 'other';
  params: Record<string, string>;
}

/**
 * Parses the first challenge of a WWW-Authenticate header, e.g.
 * `Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull"`.
 * Quoted values may contain commas (scopes with `pull,push`), so this is a small tokenizer, not a split.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge {
  const trimmed = header.trim();
  const space = trimmed.search(/\s/);
  const rawScheme = (space < 0 ? trimmed : trimmed.slice(0, space)).toLowerCase();
  const scheme = rawScheme === 'basic' || rawScheme === 'bearer' ? rawScheme : 'other';
  const params: Record<string, string> = {};
  let i = space < 0 ? trimmed.length : space;
  const s = trimmed;
  while (i < s.length) {
    while (i < s.length && /[\s,]/.test(s[i]!)) i++;
    const eq = s.indexOf('=', i);
    if (eq < 0) break;
    const key = s.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        value += s[i];
        i++;
      }
      i++;
    } else {
      const end = s.slice(i).search(/[\s,]/);
      value = end < 0 ? s.slice(i) : s.slice(i, i + end);
      i = end < 0 ? s.length : i + end;
    }
    if (key) params[key] = value;
  }
  return { scheme, params };
}
