/**
 * Codec names of an SDP answer read straight off its bytes, for call records (one per call,
 * the costliest of the notes a call takes). sdpCodecs() in body.ts states the rule on text; this
 * reader gives the same answer without making a string of the body or of its lines, and leaves
 * anything outside plain ASCII on the lines it reads to sdpCodecs().
 */
import { indexOfByte, latin1Text } from './bytes.js';

/** Static RTP payload types (RFC 3551 §6) for offers that omit rtpmap. */
export const STATIC_PT: Record<number, string> = { 0: 'PCMU', 3: 'GSM', 4: 'G723', 8: 'PCMA', 9: 'G722', 10: 'L16', 13: 'CN', 15: 'G728', 18: 'G729', 34: 'H263' };

/** Names met in nearly every answer: returned as these strings instead of new ones. */
const COMMON_NAMES = ['PCMU', 'PCMA', 'telephone-event', 'G722', 'G729', 'opus', 'CN', 'GSM', 'iLBC', 'speex', 'AMR', 'AMR-WB', 'H264', 'VP8'];

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const SLASH = 0x2f;
const RTPMAP = 'a=rtpmap:';
/** Spans kept per stream before the reader gives up and leaves the body to sdpCodecs(). */
const MAX_SPANS = 128;

/** Payload-type spans of the current m= line, and rtpmap spans (pt start, pt end, name start, name end). */
const pts = new Int32Array(MAX_SPANS * 2);
const maps = new Int32Array(MAX_SPANS * 4);

function isWs(c: number): boolean {
  return c === SP || c === HTAB;
}

function sameBytes(buf: Buffer, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (aEnd - a !== bEnd - b) return false;
  for (let i = 0; i < aEnd - a; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}

function startsWith(buf: Buffer, start: number, end: number, prefix: string): boolean {
  if (end - start < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix.charCodeAt(i)) return false;
  return true;
}

function nameText(buf: Buffer, start: number, end: number): string {
  outer: for (const n of COMMON_NAMES) {
    if (n.length !== end - start) continue;
    for (let i = 0; i < n.length; i++) if (buf[start + i] !== n.charCodeAt(i)) continue outer;
    return n;
  }
  return latin1Text(buf, start, end);
}

/**
 * The answer's codecs as records show them: per active stream (m= line with a port other than
 * "0" and at least one format) its formats' names (rtpmap, else the static type, else the number)
 * joined by ",", streams joined by " ". Null when no stream is active; undefined when an m= or
 * a=rtpmap line holds bytes outside printable ASCII and tab (sdpCodecs then decides).
 */
export function sdpCodecsText(buf: Buffer): string | null | undefined {
  let text: string | null = null;
  let nPts = 0;
  let nMaps = 0;
  let active = false;
  for (let at = 0; at <= buf.length; ) {
    let nl = indexOfByte(buf, LF, at);
    if (nl < 0) nl = buf.length;
    const start = at;
    at = nl + 1;
    const kind = buf[start];
    if ((kind !== 0x6d && kind !== 0x61) || buf[start + 1] !== 0x3d) continue; // "m=" or "a="
    const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if ((c < SP && c !== HTAB) || c > 0x7e) return undefined;
    }
    if (kind === 0x6d) {
      if (active) text = withStream(text, streamText(buf, nPts, nMaps));
      // Fields of "m=<media> <port> <proto> <fmt> ...", separated by runs of blanks.
      nPts = 0;
      nMaps = 0;
      let field = 0;
      let portZero = false;
      let p = start + 2;
      for (;;) {
        while (p < end && isWs(buf[p]!)) p++;
        if (p >= end) break;
        const fs = p;
        while (p < end && !isWs(buf[p]!)) p++;
        if (field === 1) portZero = p - fs === 1 && buf[fs] === 0x30;
        else if (field >= 3) {
          if (nPts >= MAX_SPANS) return undefined;
          pts[2 * nPts] = fs;
          pts[2 * nPts + 1] = p;
          nPts++;
        }
        field++;
      }
      active = field >= 4 && !portZero;
    } else if (startsWith(buf, start, end, RTPMAP)) {
      // "a=rtpmap:<digits><blanks><name>[/...]" (RFC 8866 §6.6); anything else is no mapping.
      let p = start + RTPMAP.length;
      const ds = p;
      while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
      const de = p;
      if (de === ds || p >= end || !isWs(buf[p]!)) continue;
      while (p < end && isWs(buf[p]!)) p++;
      const ns = p;
      while (p < end && buf[p] !== SLASH && !isWs(buf[p]!)) p++;
      if (p === ns) continue;
      if (nMaps >= MAX_SPANS) return undefined;
      maps[4 * nMaps] = ds;
      maps[4 * nMaps + 1] = de;
      maps[4 * nMaps + 2] = ns;
      maps[4 * nMaps + 3] = p;
      nMaps++;
    }
  }
  if (active) text = withStream(text, streamText(buf, nPts, nMaps));
  return text;
}

function withStream(text: string | null, stream: string): string {
  return text === null ? stream : `${text} ${stream}`;
}

/** One stream's formats by name (see sdpCodecsText), from the spans in `pts` and `maps`. */
function streamText(buf: Buffer, nPts: number, nMaps: number): string {
  let out = '';
  for (let i = 0; i < nPts; i++) {
    const ps = pts[2 * i]!;
    const pe = pts[2 * i + 1]!;
    let name: string | undefined;
    // The last rtpmap for a payload type is the one that counts.
    for (let j = nMaps - 1; j >= 0 && name === undefined; j--) {
      if (sameBytes(buf, maps[4 * j]!, maps[4 * j + 1]!, ps, pe)) name = nameText(buf, maps[4 * j + 2]!, maps[4 * j + 3]!);
    }
    if (name === undefined) {
      const pt = latin1Text(buf, ps, pe);
      name = STATIC_PT[Number(pt)] ?? pt;
    }
    out = i === 0 ? name : `${out},${name}`;
  }
  return out;
}
