import { parseParams, type Params } from './headers.js';

/**
 * SIP, SIPS (RFC 3261 §19.1) and tel (RFC 3966) URIs:
 *   sip:user:password@host:port;uri-parameters?headers
 * The user part may itself contain ';' (e.g. sip:alice;day=tuesday@atlanta.com) and escaped
 * characters; hosts may be IPv6 references in brackets.
 */
export interface Uri {
  scheme: string;
  /** Unescaped user part (for tel: the number), '' when absent. */
  user: string;
  password: string | undefined;
  /** Host as written; IPv6 references keep their brackets. */
  host: string;
  port: number | undefined;
  params: Params;
  headers: Record<string, string>;
}

function unescape(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Parses a URI; undefined when it has no scheme. Never throws. */
export function parseUri(input: string): Uri | undefined {
  const s = input.trim();
  const colon = s.indexOf(':');
  if (colon <= 0 || !/^[A-Za-z][A-Za-z0-9+.-]*$/.test(s.slice(0, colon))) return undefined;
  const scheme = s.slice(0, colon).toLowerCase();
  let rest = s.slice(colon + 1);
  const headers: Record<string, string> = {};
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const pair of rest.slice(q + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq > 0) headers[unescape(pair.slice(0, eq))] = unescape(pair.slice(eq + 1));
    }
    rest = rest.slice(0, q);
  }
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    return { scheme, user: unescape(number), password: undefined, host: '', port: undefined, params: semi < 0 ? {} : parseParams(rest.slice(semi)), headers };
  }
  let user = '';
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    if (pc >= 0) {
      user = unescape(userinfo.slice(0, pc));
      password = unescape(userinfo.slice(pc + 1));
    } else {
      user = unescape(userinfo);
    }
  }
  let host: string;
  let after: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return { scheme, user, password, host: rest, port: undefined, params: {}, headers };
    host = rest.slice(0, close + 1);
    after = rest.slice(close + 1);
  } else {
    const end = rest.search(/[:;]/);
    host = end < 0 ? rest : rest.slice(0, end);
    after = end < 0 ? '' : rest.slice(end);
  }
  let port: number | undefined;
  if (after.startsWith(':')) {
    const m = /^:(\d{1,5})/.exec(after);
    if (m) port = Number(m[1]);
    const semi = after.indexOf(';');
    after = semi < 0 ? '' : after.slice(semi);
  }
  return { scheme, user, password, host: host.toLowerCase(), port, params: parseParams(after), headers };
}

/** user@host[:port] for display; the number for tel URIs. */
export function uriAddress(u: Uri): string {
  if (u.scheme === 'tel') return u.user;
  const hp = u.port ? `${u.host}:${u.port}` : u.host;
  return u.user ? `${u.user}@${hp}` : hp;
}

/** Loose URI equality for digest checks: same scheme, user, host and port (RFC 3261 §19.1.4 in spirit). */
export function uriEquals(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseUri(a);
  const y = parseUri(b);
  return !!x && !!y && x.scheme === y.scheme && x.user === y.user && x.host === y.host && (x.port ?? 0) === (y.port ?? 0);
}

/** sip:/sips: URI with one '@' and nothing to unescape: its user is what lies between scheme and '@'. */
const PLAIN_SIP_URI = /^sips?:([^@?%:\s]*)@[^@?\s]*$/i;

/**
 * The user part of a URI, as parseUri reads it ('' when it has none, undefined when it is no
 * URI). Plain SIP URIs (nearly all From/To) skip the full parse: records ask this per call.
 */
export function uriUser(uri: string): string | undefined {
  const plain = PLAIN_SIP_URI.exec(uri);
  return plain ? plain[1]! : parseUri(uri)?.user;
}
