/**
 * Byte-level readers for the few header fields the model asks of every message (CSeq, tags,
 * method). They run per message, so they read the raw bytes and make at most one small string;
 * anything unusual (quotes, folding, non-ASCII) returns `undefined` and the caller falls back to
 * the full string parsers in headers.ts, so both paths always agree.
 */
import { KNOWN_METHODS, TOKEN } from './start-line.js';

const SP = 0x20;
const HTAB = 0x09;
const SEMI = 0x3b;
const EQ = 0x3d;
const LT = 0x3c;
const GT = 0x3e;
const DQUOTE = 0x22;
const COMMA = 0x2c;

/**
 * Buffer#indexOf for a byte, called through a reference taken once: a method call on a Buffer
 * goes through V8's generic property lookup each time, and the framing runs once per line.
 */
const bufferIndexOf = Buffer.prototype.indexOf;

export function indexOfByte(buf: Buffer, byte: number, from: number): number {
  return bufferIndexOf.call(buf, byte, from);
}

/**
 * Buffer#toString('latin1' | 'utf16le' | 'utf8', start, end) without its JS wrapper, which looks
 * the encoding up and checks its arguments on every call: the header table, tags, transaction
 * keys and header values are made per message. The decoders behind both are the same (Node's
 * Buffer.prototype.latin1Slice, ucs2Slice, utf8Slice); the range is clamped as toString does.
 */
type Slice = (this: Buffer, start: number, end: number) => string;
const slices = Buffer.prototype as unknown as { latin1Slice?: Slice; ucs2Slice?: Slice; utf8Slice?: Slice };
const decoder = (fast: Slice | undefined, encoding: BufferEncoding): Slice =>
  fast ?? function (this: Buffer, start: number, end: number): string {
    return this.toString(encoding, start, end);
  };
const latin1Slice = decoder(slices.latin1Slice, 'latin1');
const ucs2Slice = decoder(slices.ucs2Slice, 'utf16le');
const utf8Slice = decoder(slices.utf8Slice, 'utf8');

function decode(slice: Slice, buf: Buffer, start: number, end: number): string {
  if (start < 0) start = 0;
  if (end > buf.length) end = buf.length;
  return start < end ? slice.call(buf, start, end) : '';
}

export function latin1Text(buf: Buffer, start: number, end: number): string {
  return decode(latin1Slice, buf, start, end);
}

export function ucs2Text(buf: Buffer, start: number, end: number): string {
  return decode(ucs2Slice, buf, start, end);
}

export function utf8Text(buf: Buffer, start: number, end: number): string {
  return decode(utf8Slice, buf, start, end);
}

/** Known method names by length, so a method read off the wire is the same string every time. */
const METHODS_BY_LENGTH: string[][] = [];
for (const m of KNOWN_METHODS) (METHODS_BY_LENGTH[m.length] ??= []).push(m);

/** The token at [start, end) as a string; a known method is returned without allocating. */
export function methodString(buf: Buffer, start: number, end: number): string {
  const candidates = METHODS_BY_LENGTH[end - start];
  if (candidates) {
    outer: for (const m of candidates) {
      for (let i = 0; i < m.length; i++) if (buf[start + i] !== m.charCodeAt(i)) continue outer;
      return m;
    }
  }
  return latin1Text(buf, start, end);
}

function isWs(c: number | undefined): boolean {
  return c === SP || c === HTAB;
}

/** Bytes the plain scans read as they are: ASCII without line breaks (the rest goes to the parsers). */
function plainByte(c: number): boolean {
  return c < 0x80 && c !== 0x0d && c !== 0x0a;
}

/**
 * What the scans over whole values (tags, the top Via) must notice in a byte, as flags looked up
 * once per byte: most bytes are none of these, and one load and compare passes them where the
 * separate tests took five.
 */
const NOT_PLAIN = 1;
const IS_QUOTE = 2;
const VIA_STOP = 4; // ends a Via token: SP, HTAB, ';', ','
const IS_SEMI = 8;
const IS_COMMA = 16;
/** What sends a From/To value to the full parser: a quote, or a byte that is not plain. */
const TAG_PARSER_BYTE = NOT_PLAIN | IS_QUOTE;
const BYTE_FLAGS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  BYTE_FLAGS[c] =
    (plainByte(c) ? 0 : NOT_PLAIN) |
    (c === DQUOTE ? IS_QUOTE : 0) |
    (c === SP || c === HTAB || c === SEMI || c === COMMA ? VIA_STOP : 0) |
    (c === SEMI ? IS_SEMI : 0) |
    (c === COMMA ? IS_COMMA : 0);
}

function skipWs(buf: Buffer, p: number, end: number): number {
  while (p < end && isWs(buf[p])) p++;
  return p;
}

/**
 * A Content-Length value (§20.14) made of digits only. Returns the number, -1 when the value is
 * empty, undefined for anything else (the string reader then decides).
 */
export function lengthFromBytes(buf: Buffer, start: number, end: number): number | undefined {
  let p = start;
  let n = 0;
  let digits = 0;
  for (; p < end; p++) {
    const c = buf[p]!;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
    digits++;
  }
  if (p !== end) return undefined;
  if (digits > 15) return undefined; // past exact integers: let the string reader decide
  return digits === 0 ? -1 : n;
}

/**
 * `CSeq: 4711 INVITE` (§20.16) read off the bytes of its value. Accepts only the plain form
 * (ASCII digits, spaces or tabs, a token); undefined means "ask the string parser".
 */
export function cseqFromBytes(buf: Buffer, start: number, end: number): { seq: number; method: string } | undefined {
  let p = start;
  while (p < end && isWs(buf[p])) p++;
  const ds = p;
  let seq = 0;
  while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) seq = seq * 10 + (buf[p++]! - 0x30);
  const digits = p - ds;
  if (digits === 0 || digits > 10 || !isWs(buf[p])) return undefined;
  while (p < end && isWs(buf[p])) p++;
  const ms = p;
  while (p < end && TOKEN[buf[p]!]) p++;
  const me = p;
  while (p < end && isWs(buf[p])) p++;
  if (me === ms || p !== end || seq > 0xffffffff) return undefined;
  return { seq, method: methodString(buf, ms, me) };
}

/** Where tagSpan() found the tag value: buf[start, end), trimmed. */
export interface Span {
  start: number;
  end: number;
}

/** tagSpan() outcomes. */
export const TAG_FOUND = 1;
export const TAG_NONE = 0;
export const TAG_ASK_PARSER = -1;

/**
 * The `tag` parameter of a From/To value (§19.3) read off the bytes: parameters start after the
 * `>` of a name-addr, or after the URI of an addr-spec. Returns null when there is no tag, and
 * undefined when the value has quotes or anything else the plain scan does not handle.
 */
export function tagFromBytes(buf: Buffer, start: number, end: number): string | null | undefined {
  const found = tagSpan(buf, start, end, TAG);
  return found === TAG_FOUND ? latin1Text(buf, TAG.start, TAG.end) : found === TAG_NONE ? null : undefined;
}

const TAG: Span = { start: 0, end: 0 };

/**
 * Where the tag of a From/To value lies (see tagFromBytes), into `out`, without making its string:
 * TAG_FOUND, TAG_NONE, or TAG_ASK_PARSER for what the plain scan leaves to the full parser.
 */
export function tagSpan(buf: Buffer, start: number, end: number, out: Span): number {
  let p = start;
  let angle = -1;
  let gt = -1;
  // One pass in three stretches: up to the first '<', up to the first '>' after it, the rest;
  // quotes, non-ASCII and line breaks anywhere go to the full parser.
  let i = start;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === LT) break;
    if ((BYTE_FLAGS[c]! & TAG_PARSER_BYTE) !== 0) return TAG_ASK_PARSER;
  }
  if (i < end) {
    angle = i;
    for (i++; i < end; i++) {
      const c = buf[i]!;
      if (c === GT) break;
      if ((BYTE_FLAGS[c]! & TAG_PARSER_BYTE) !== 0) return TAG_ASK_PARSER;
    }
    if (i < end) gt = i;
    for (i++; i < end; i++) if ((BYTE_FLAGS[buf[i]!]! & TAG_PARSER_BYTE) !== 0) return TAG_ASK_PARSER;
  }
  if (angle >= 0) {
    if (gt < 0) return TAG_ASK_PARSER;
    p = gt + 1;
    // Text between '>' and the first ';' is read as a parameter by the full parser: leave it that.
    while (p < end && isWs(buf[p])) p++;
    if (p < end && buf[p] !== SEMI) return TAG_ASK_PARSER;
  }
  // Walk the parameters: ;name[=value] with optional whitespace around the separators. A repeated
  // tag is read as the full parser reads it: the last one wins.
  let found = TAG_NONE;
  for (;;) {
    while (p < end && buf[p] !== SEMI) {
      if (buf[p] === COMMA) return TAG_ASK_PARSER; // a list where one value is expected
      p++;
    }
    if (p >= end) return found;
    p++;
    while (p < end && isWs(buf[p])) p++;
    const ns = p;
    while (p < end && buf[p] !== EQ && buf[p] !== SEMI && !isWs(buf[p])) p++;
    const isTag = p - ns === 3 && (buf[ns]! | 0x20) === 0x74 && (buf[ns + 1]! | 0x20) === 0x61 && (buf[ns + 2]! | 0x20) === 0x67;
    while (p < end && isWs(buf[p])) p++;
    if (buf[p] !== EQ || p >= end) {
      if (isTag) return TAG_ASK_PARSER; // "tag" without a value: leave it to the full parser
      continue;
    }
    p++;
    while (p < end && isWs(buf[p])) p++;
    const vs = p;
    while (p < end && buf[p] !== SEMI) p++;
    let ve = p;
    while (ve > vs && isWs(buf[ve - 1])) ve--;
    if (isTag) {
      out.start = vs;
      out.end = ve;
      found = TAG_FOUND;
    }
  }
}

function matchCi(buf: Buffer, p: number, end: number, lower: string): boolean {
  if (end - p < lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((buf[p + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Where the top Via's sent-by and branch lie in the message bytes (see viaSpans). */
export interface ViaSpans {
  sentByStart: number;
  sentByEnd: number;
  /** -1 when the top value has no branch parameter. */
  branchStart: number;
  branchEnd: number;
}

/** viaSpans() outcomes. */
export const VIA_PLAIN = 1;
export const VIA_NOT_A_VIA = 0;
export const VIA_ASK_PARSER = -1;

/**
 * Finds sent-by and branch of the top Via (§20.42, §8.1.1.7) in the bytes of the Via value,
 * what every message's transaction key needs, without making strings. VIA_NOT_A_VIA when the
 * value does not read as a Via, VIA_ASK_PARSER for anything the plain scan leaves to the string
 * parser (folding, non-ASCII).
 */
export function viaSpans(buf: Buffer, start: number, end: number, out: ViaSpans): number {
  // One pass over the top value (up to the first comma). A byte the plain scan does not handle
  // anywhere in it sends the whole value to the string parser, whatever else is wrong with it.
  let p = skipWs(buf, start, end);
  if (!matchCi(buf, p, end, 'sip')) return notAVia(buf, p, end);
  p = skipWs(buf, p + 3, end);
  if (buf[p] !== 0x2f) return notAVia(buf, p, end);
  p = skipWs(buf, p + 1, end);
  if (!matchCi(buf, p, end, '2.0')) return notAVia(buf, p, end);
  p = skipWs(buf, p + 3, end);
  if (buf[p] !== 0x2f) return notAVia(buf, p, end);
  p = skipWs(buf, p + 1, end);
  const ts = p;
  p = viaToken(buf, p, end);
  if (p < 0) return VIA_ASK_PARSER;
  if (p === ts || p >= end || !isWs(buf[p])) return notAVia(buf, p, end);
  p = skipWs(buf, p, end);
  const ss = p;
  p = viaToken(buf, p, end);
  if (p < 0) return VIA_ASK_PARSER;
  if (p === ss) return notAVia(buf, p, end);
  out.sentByStart = ss;
  out.sentByEnd = p;
  out.branchStart = -1;
  out.branchEnd = -1;
  // The rest of the top value: the first ";branch=value" is the branch.
  for (; p < end; p++) {
    const flags = BYTE_FLAGS[buf[p]!]!;
    if (flags === 0 || flags === VIA_STOP) continue; // most bytes; a space
    if ((flags & IS_COMMA) !== 0) break;
    if ((flags & NOT_PLAIN) !== 0) return VIA_ASK_PARSER;
    if ((flags & IS_SEMI) === 0 || out.branchStart >= 0) continue;
    let r = p + 1;
    while (r < end && isWs(buf[r])) r++;
    if (!matchCi(buf, r, end, 'branch')) continue;
    r += 6;
    while (r < end && isWs(buf[r])) r++;
    if (buf[r] !== EQ || r >= end) continue;
    r++;
    while (r < end && isWs(buf[r])) r++;
    const bs = r;
    while (r < end && (BYTE_FLAGS[buf[r]!]! & VIA_STOP) === 0) r++;
    if (r === bs) continue;
    out.branchStart = bs;
    out.branchEnd = r;
  }
  return VIA_PLAIN;
}

/** The end of the token at p (up to a blank, ";" or ","); -1 at a byte for the string parser. */
function viaToken(buf: Buffer, p: number, end: number): number {
  for (; p < end; p++) {
    const flags = BYTE_FLAGS[buf[p]!]!;
    if (flags === 0 || flags === IS_QUOTE) continue;
    if ((flags & VIA_STOP) !== 0) return p;
    return -1; // not plain
  }
  return p;
}

/** A top value that does not read as a Via: unless a byte in it needs the string parser. */
function notAVia(buf: Buffer, from: number, end: number): number {
  for (let p = from; p < end; p++) {
    const c = buf[p]!;
    if (c === COMMA) break;
    if (!plainByte(c)) return VIA_ASK_PARSER;
  }
  return VIA_NOT_A_VIA;
}

/**
 * Whether a Content-Type value (§20.15) names application/sdp: 1 when it does, 0 when it names
 * another type that is not multipart, -1 to ask the string reader (multipart bodies, where SDP
 * may be a part, and anything unusual: non-ASCII, folding, text between the type and its ";").
 * What mediaType() decides, without making the string, for every INVITE response and ACK.
 */
export function sdpTypeFromBytes(buf: Buffer, start: number, end: number): number {
  const p = skipWs(buf, start, end);
  let q = p;
  for (; q < end; q++) {
    const c = buf[q]!;
    if (c === SEMI || isWs(c)) break;
    if (c < 0x21 || c >= 0x7f) return -1;
  }
  const r = skipWs(buf, q, end);
  if (r < end && buf[r] !== SEMI) return -1;
  if (matchCi(buf, p, q, 'multipart/')) return -1;
  return q - p === 15 && matchCi(buf, p, q, 'application/sdp') ? 1 : 0;
}
