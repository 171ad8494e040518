/**
 * WebSocket framing (RFC 6455 §5.2), for SIP over WebSocket (RFC 7118): each WebSocket message
 * carries exactly one SIP message. Client frames are masked, server frames are not; payload
 * lengths come in 7-bit, 16-bit and 64-bit forms; messages may be fragmented (opcode 0).
 */
export const WS_TEXT = 1;
export const WS_BINARY = 2;

export interface WsEvents {
  message(payload: Buffer): void;
  control(opcode: number): void;
  /** A frame header that cannot be valid: the stream is not WebSocket (any more). */
  error(reason: string): void;
}

const MAX_MESSAGE = 1 << 20;

export class WsFrameParser {
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentBytes = 0;
  private failed = false;

  constructor(private readonly events: WsEvents) {}

  push(bytes: Buffer): void {
    if (this.failed) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, bytes]) : Buffer.from(bytes);
    let off = 0;
    for (;;) {
      const n = this.frame(off);
      if (n <= 0) break;
      off += n;
    }
    this.buf = off >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
  }

  /** Parses one frame at `off`; returns its size, or 0 when incomplete. */
  private frame(off: number): number {
    const b = this.buf;
    if (b.length - off < 2) return 0;
    const fin = (b[off]! & 0x80) !== 0;
    const opcode = b[off]! & 0x0f;
    const masked = (b[off + 1]! & 0x80) !== 0;
    let len = b[off + 1]! & 0x7f;
    let p = off + 2;
    if (len === 126) {
      if (b.length - p < 2) return 0;
      len = b.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (b.length - p < 8) return 0;
      const hi = b.readUInt32BE(p);
      len = hi * 4294967296 + b.readUInt32BE(p + 4);
      p += 8;
    }
    // The bound is on the message: continuation frames add up to it too.
    const continued = opcode < 8 && (opcode === 0 || !fin) ? this.fragmentBytes : 0;
    if ((b[off]! & 0x70) !== 0 || (opcode > 2 && opcode < 8) || opcode > 10 || continued + len > MAX_MESSAGE) {
      this.failed = true;
      this.events.error(`bad WebSocket frame header (opcode ${opcode}, length ${len})`);
      return 0;
    }
    const maskAt = p;
    if (masked) p += 4;
    if (b.length - p < len) return 0;
    const payload = Buffer.from(b.subarray(p, p + len));
    if (masked) for (let i = 0; i < len; i++) payload[i] = payload[i]! ^ b[maskAt + (i & 3)]!;
    if (opcode >= 8) {
      this.events.control(opcode);
    } else if (opcode === 0 || !fin) {
      this.fragments.push(payload);
      this.fragmentBytes += payload.length;
      if (fin) {
        const whole = Buffer.concat(this.fragments, this.fragmentBytes);
        this.fragments = [];
        this.fragmentBytes = 0;
        this.events.message(whole);
      }
    } else {
      this.events.message(payload);
    }
    return p + len - off;
  }
}
