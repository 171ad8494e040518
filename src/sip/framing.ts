import { indexOfByte } from './bytes.js';
import { headerNameIs } from './header-names.js';
import { LineKind, startLineKind } from './start-line.js';

/**
 * Message boundaries on a stream (RFC 3261 §18.3): the header ends at the first empty line and
 * the body is exactly Content-Length bytes. Framing only finds extents; parsing comes after.
 */
export const FRAME_NOT_SIP = -1;
export const FRAME_PARTIAL = -2;
/** Header section or declared body beyond the limits: treat as garbage and resynchronise. */
export const FRAME_OVERSIZE = -3;

export interface FrameLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = { maxHeaderBytes: 64 * 1024, maxBodyBytes: 1024 * 1024 };

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

/**
 * Frames one message starting at `off`. Returns its end offset, or FRAME_NOT_SIP, FRAME_PARTIAL
 * or FRAME_OVERSIZE.
 */
export function frameMessage(buf: Buffer, off: number, limits: FrameLimits = DEFAULT_FRAME_LIMITS): number {
  let le = indexOfByte(buf, LF, off);
  if (le < 0) {
    // Not even a whole first line yet: partial if it could still become one.
    return buf.length - off > 8192 ? FRAME_NOT_SIP : FRAME_PARTIAL;
  }
  if (startLineKind(buf, off, le) === LineKind.None) return FRAME_NOT_SIP;
  let contentLength = -1;
  let p = le + 1;
  for (;;) {
    if (p - off > limits.maxHeaderBytes) return FRAME_OVERSIZE;
    le = indexOfByte(buf, LF, p);
    if (le < 0) return buf.length - off > limits.maxHeaderBytes ? FRAME_OVERSIZE : FRAME_PARTIAL;
    const end = le > p && buf[le - 1] === CR ? le - 1 : le;
    if (end === p) {
      p = le + 1;
      break;
    }
    // Content-Length or its compact form "l" (§20.14), any case.
    const c = buf[p]! | 0x20;
    if (c === 0x63 || c === 0x6c) {
      const colon = indexOfByte(buf, COLON, p);
      if (colon > 0 && colon < end) {
        let ne = colon;
        while (ne > p && (buf[ne - 1] === 0x20 || buf[ne - 1] === 0x09)) ne--;
        if (headerNameIs(buf, p, ne, 'content-length')) {
          let v = 0;
          let digits = 0;
          for (let q = colon + 1; q < end; q++) {
            const d = buf[q]!;
            if (d >= 0x30 && d <= 0x39) {
              v = v * 10 + d - 0x30;
              digits++;
            } else if (d !== 0x20 && d !== 0x09) break;
          }
          if (digits > 0) contentLength = v;
        }
      }
    }
    p = le + 1;
  }
  // A missing Content-Length on a stream is an error (§18.3); treat the body as empty.
  const body = contentLength < 0 ? 0 : contentLength;
  if (body > limits.maxBodyBytes) return FRAME_OVERSIZE;
  if (buf.length - p < body) return FRAME_PARTIAL;
  return p + body;
}

/** Skips CRLF keep-alives (RFC 5626 §3.5.1: "\r\n\r\n" ping, "\r\n" pong) between messages. */
export function skipKeepAlives(buf: Buffer, off: number): number {
  while (off < buf.length && (buf[off] === CR || buf[off] === LF)) off++;
  return off;
}
