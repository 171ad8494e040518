/**
 * Parsing of WWW-Authenticate / Proxy-Authenticate challenges and Authorization /
 * Proxy-Authorization credentials (RFC 3261 §25.1 "challenge" / "credentials", RFC 7616):
 *   Digest realm="r", nonce="n", algorithm=MD5, qop="auth,auth-int"
 * The parameters are a comma-separated list of name=token or name=quoted-string.
 */
export interface AuthParams {
  scheme: string;
  /** Parameter names lower-cased; quoted values unquoted. */
  params: Record<string, string>;
}

export function parseAuthParams(value: string): AuthParams {
  const v = value.trim();
  const sp = v.search(/\s/);
  const scheme = sp < 0 ? v : v.slice(0, sp);
  const params: Record<string, string> = {};
  let i = sp < 0 ? v.length : sp;
  while (i < v.length) {
    while (i < v.length && /[\s,]/.test(v[i]!)) i++;
    const eq = v.indexOf('=', i);
    if (eq < 0) break;
    const name = v.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    while (j < v.length && /\s/.test(v[j]!)) j++;
    let val = '';
    if (v[j] === '"') {
      j++;
      while (j < v.length && v[j] !== '"') {
        if (v[j] === '\\' && j + 1 < v.length) j++;
        val += v[j];
        j++;
      }
      j++;
    } else {
      const end = v.indexOf(',', j);
      val = (end < 0 ? v.slice(j) : v.slice(j, end)).trim();
      j = end < 0 ? v.length : end;
    }
    if (name) params[name] = val;
    i = j;
  }
  return { scheme, params };
}

export interface Challenge {
  scheme: string;
  realm: string;
  nonce: string;
  opaque: string | undefined;
  /** Upper-cased; MD5 when absent (RFC 2617 §3.2.1). */
  algorithm: string;
  /** Offered qop values, e.g. ["auth", "auth-int"]; empty for RFC 2069 challenges. */
  qop: string[];
  stale: boolean;
  params: Record<string, string>;
}

export function parseChallenge(value: string): Challenge {
  const { scheme, params } = parseAuthParams(value);
  return {
    scheme,
    realm: params['realm'] ?? '',
    nonce: params['nonce'] ?? '',
    opaque: params['opaque'],
    algorithm: (params['algorithm'] ?? 'MD5').toUpperCase(),
    qop: (params['qop'] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    stale: (params['stale'] ?? '').toLowerCase() === 'true',
    params,
  };
}

export interface Credentials {
  scheme: string;
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: string;
  cnonce: string | undefined;
  opaque: string | undefined;
  qop: string | undefined;
  /** Nonce count as written (8 hex digits). */
  nc: string | undefined;
  params: Record<string, string>;
}

export function parseCredentials(value: string): Credentials {
  const { scheme, params } = parseAuthParams(value);
  return {
    scheme,
    username: params['username'] ?? '',
    realm: params['realm'] ?? '',
    nonce: params['nonce'] ?? '',
    uri: params['uri'] ?? '',
    response: (params['response'] ?? '').toLowerCase(),
    algorithm: (params['algorithm'] ?? 'MD5').toUpperCase(),
    cnonce: params['cnonce'],
    opaque: params['opaque'],
    qop: params['qop'],
    nc: params['nc'],
    params,
  };
}
