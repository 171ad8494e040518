/**
 * Structured views of header values (RFC 3261 §20, §25.1). All tolerant: they return what they
 * can read and never throw.
 */
export type Params = Record<string, string | null>;

/** Splits a header value on commas outside quoted strings and <...> (§7.3.1). */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++; // quoted-pair
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x3c) depth++;
    else if (c === 0x3e) depth = Math.max(0, depth - 1);
    else if (c === 0x2c && depth === 0) {
      const part = value.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}

/** `;name=value;flag` → { name: 'value', flag: null }. Names lower-cased, quotes removed. */
export function parseParams(s: string): Params {
  const params: Params = {};
  let i = 0;
  while (i < s.length) {
    while (i < s.length && (s[i] === ';' || s[i] === ' ' || s[i] === '\t')) i++;
    if (i >= s.length) break;
    let j = i;
    while (j < s.length && s[j] !== '=' && s[j] !== ';') j++;
    const name = s.slice(i, j).trim().toLowerCase();
    if (s[j] === '=') {
      j++;
      while (j < s.length && (s[j] === ' ' || s[j] === '\t')) j++;
      let value: string;
      if (s[j] === '"') {
        let k = j + 1;
        let v = '';
        while (k < s.length && s[k] !== '"') {
          if (s[k] === '\\' && k + 1 < s.length) k++;
          v += s[k];
          k++;
        }
        value = v;
        j = k + 1;
        while (j < s.length && s[j] !== ';') j++;
      } else {
        let k = j;
        while (k < s.length && s[k] !== ';') k++;
        value = s.slice(j, k).trim();
        j = k;
      }
      if (name) params[name] = value;
    } else if (name) {
      params[name] = null;
    }
    i = j;
  }
  return params;
}

export interface NameAddr {
  /** Display name without quotes, '' when absent. */
  display: string;
  uri: string;
  /** Header parameters (after the URI), e.g. tag, expires, q. */
  params: Params;
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  return t;
}

/** name-addr / addr-spec with header parameters: From, To, Contact, Route, Refer-To, P-Asserted-Identity… */
export function parseNameAddr(value: string): NameAddr {
  const v = value.trim();
  // A quoted display name may itself contain '<'; skip it before looking for the URI.
  let scanFrom = 0;
  if (v.startsWith('"')) {
    let k = 1;
    while (k < v.length && v[k] !== '"') k += v[k] === '\\' ? 2 : 1;
    scanFrom = k + 1;
  }
  const lt = v.indexOf('<', scanFrom);
  if (lt >= 0) {
    const gt = v.indexOf('>', lt);
    const uriEnd = gt < 0 ? v.length : gt;
    return { display: unquote(v.slice(0, lt)), uri: v.slice(lt + 1, uriEnd).trim(), params: gt < 0 ? {} : parseParams(v.slice(gt + 1)) };
  }
  // addr-spec form: parameters after the URI belong to the header (§20.10).
  const semi = v.indexOf(';');
  if (v === '*') return { display: '', uri: '*', params: {} };
  return { display: '', uri: (semi < 0 ? v : v.slice(0, semi)).trim(), params: semi < 0 ? {} : parseParams(v.slice(semi)) };
}

export interface Via {
  protocol: string;
  transport: string;
  host: string;
  port: number | undefined;
  params: Params;
  branch: string | undefined;
}

/** One Via value: `SIP/2.0/UDP host:port;branch=...` (§20.42). */
export function parseVia(value: string): Via | undefined {
  const m = /^\s*([^\s/]+)\s*\/\s*([^\s/]+)\s*\/\s*([^\s;]+)\s+([^;]+)(.*)$/s.exec(value);
  if (!m) return undefined;
  const sentBy = m[4]!.trim();
  let host = sentBy;
  let port: number | undefined;
  if (sentBy.startsWith('[')) {
    const close = sentBy.indexOf(']');
    host = sentBy.slice(0, close + 1);
    const rest = sentBy.slice(close + 1);
    if (rest.startsWith(':')) port = Number(rest.slice(1).trim()) || undefined;
  } else {
    const colon = sentBy.lastIndexOf(':');
    if (colon > 0) {
      host = sentBy.slice(0, colon).trim();
      port = Number(sentBy.slice(colon + 1).trim()) || undefined;
    }
  }
  const params = parseParams(m[5] ?? '');
  return { protocol: `${m[1]}/${m[2]}`, transport: m[3]!.toUpperCase(), host, port, params, branch: params['branch'] ?? undefined };
}

export interface CSeq {
  seq: number;
  method: string;
}

/** `CSeq: 4711 INVITE` (§20.16); the number is a 32-bit unsigned integer. */
export function parseCSeq(value: string): CSeq | undefined {
  const m = /^\s*(\d{1,10})\s+([!%'*+\-.0-9A-Z_`a-z~]+)\s*$/.exec(value);
  if (!m) return undefined;
  const seq = Number(m[1]);
  if (seq > 0xffffffff) return undefined;
  return { seq, method: m[2]! };
}
