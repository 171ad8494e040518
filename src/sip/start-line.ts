/**
 * Recognising a SIP start line on raw bytes (RFC 3261 §7.1, §7.2):
 *   Request-Line = Method SP Request-URI SP SIP-Version CRLF
 *   Status-Line  = SIP-Version SP Status-Code SP Reason-Phrase CRLF
 * This is how SIP is found by content, on any port.
 */

/** token characters of RFC 3261 §25.1: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
export const TOKEN = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
for (const ch of "-.!%*_+`'~") TOKEN[ch.charCodeAt(0)] = 1;

const S = 0x53, I = 0x49, P = 0x50, SLASH = 0x2f, TWO = 0x32, DOT = 0x2e, ZERO = 0x30, SP = 0x20, CR = 0x0d, LF = 0x0a;

function upper(c: number | undefined): number {
  return c !== undefined && c >= 0x61 && c <= 0x7a ? c - 0x20 : (c ?? -1);
}

/** "SIP/2.0" at off (SIP-Version is case-insensitive, §7.1). */
export function isSipVersion(buf: Buffer, off: number): boolean {
  return (
    upper(buf[off]) === S && upper(buf[off + 1]) === I && upper(buf[off + 2]) === P &&
    buf[off + 3] === SLASH && buf[off + 4] === TWO && buf[off + 5] === DOT && buf[off + 6] === ZERO
  );
}

export enum LineKind {
  None = 0,
  Request = 1,
  Response = 2,
}

/**
 * Is the line at `off` (ending before `lineEnd`, which points at CR or LF or the end) a SIP
 * start line? Cheap: no allocation.
 */
export function startLineKind(buf: Buffer, off: number, lineEnd: number): LineKind {
  let end = lineEnd;
  if (end > off && buf[end - 1] === CR) end--;
  if (end - off < 11) return LineKind.None;
  if (isSipVersion(buf, off) && buf[off + 7] === SP) {
    const d0 = buf[off + 8]!, d1 = buf[off + 9]!, d2 = buf[off + 10]!;
    const digits = d0 >= 0x31 && d0 <= 0x36 && d1 >= 0x30 && d1 <= 0x39 && d2 >= 0x30 && d2 <= 0x39;
    if (digits && (end === off + 11 || buf[off + 11] === SP)) return LineKind.Response;
    return LineKind.None;
  }
  // Method token, SP, Request-URI (no SP), SP, SIP-Version at the end of the line.
  let p = off;
  while (p < end && TOKEN[buf[p]!]) p++;
  if (p === off || p >= end || buf[p] !== SP) return LineKind.None;
  if (end - 7 <= p + 1 || buf[end - 8] !== SP || !isSipVersion(buf, end - 7)) return LineKind.None;
  for (let q = p + 1; q < end - 8; q++) if (buf[q] === SP || buf[q] === LF) return LineKind.None;
  return end - 8 > p + 1 ? LineKind.Request : LineKind.None;
}

/** Methods of RFC 3261 and its extensions: what a resynchronising reader trusts (RFC 3261 §27.4 registry). */
export const KNOWN_METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE'];

/**
 * Where a trusted start line begins on the line at `ls`: a status line, or a request whose
 * method is a known one. A line such as "xxxxOPTIONS sip:… SIP/2.0" (a body without its final
 * CRLF glued to the next request) yields the offset of "OPTIONS". -1 when none.
 */
function trustedStart(buf: Buffer, ls: number, le: number): number {
  const kind = startLineKind(buf, ls, le);
  if (kind === LineKind.Response) return ls;
  if (kind !== LineKind.Request) return -1;
  const sp = buf.indexOf(SP, ls);
  const token = buf.toString('latin1', ls, sp);
  for (const m of KNOWN_METHODS) if (token.endsWith(m)) return sp - m.length;
  return -1;
}

/**
 * Finds the next start line at or after `from` (a line beginning after CR/LF, or at `from`).
 * With `trusted`, as when resynchronising a stream after lost or garbage bytes, only status
 * lines and known methods count.
 */
export function findStartLine(buf: Buffer, from: number, end = buf.length, trusted = false): number {
  let p = from;
  for (;;) {
    const v = buf.indexOf('SIP/2.0', p, 'latin1');
    if (v < 0 || v >= end) return -1;
    // The line holding "SIP/2.0": it starts after the previous LF.
    let ls = v;
    while (ls > from && buf[ls - 1] !== LF) ls--;
    let le = buf.indexOf(LF, v);
    if (le < 0 || le > end) le = end;
    if (trusted) {
      const at = trustedStart(buf, ls, le);
      if (at >= 0) return at;
    } else if (startLineKind(buf, ls, le) !== LineKind.None) return ls;
    // No other "SIP/2.0" on this line can make it a start line: go on after it (linear time).
    p = le + 1;
  }
}
