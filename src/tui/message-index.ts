import { Interner } from './interner.js';

/** Flags of one message. */
export const REQUEST = 1;
export const SDP = 2;
/** Its bytes are kept in memory (`kept`): it came from several frames, or the input cannot be re-read. */
export const KEPT = 4;

/** The outcome of one digest credential, as the message view shows it. */
export interface AuthNote {
  header: string;
  user: string;
  realm: string;
  result: string;
  explanation: string[];
  copy: boolean;
}

/** What is known about one message when it is indexed. */
export interface MessageInput {
  tsSec: number;
  tsNsec: number;
  /** File offset of the record of the frame that holds all of the message, -1 when none does. */
  offset: number;
  /** Where the message starts in that frame's data. */
  pos: number;
  len: number;
  frame: number;
  src: string;
  dst: string;
  label: string;
  transport: string;
  linktype: number;
  request: boolean;
  sdp: boolean;
  /** 0, or n for the n-th retransmission. */
  retrans: number;
  leg: number;
}

/**
 * Every message of every finished call as a few numbers (about 50 bytes each), in columns of
 * typed arrays: no message objects, no message bytes. The bytes are read again from the capture
 * when a message is shown (see CaptureFile); only messages that no single frame holds, or input
 * that cannot be re-read, keep theirs in `kept`.
 */
export class MessageIndex {
  length = 0;
  private cap = 0;
  tsSec: Float64Array = new Float64Array(0);
  tsNsec: Uint32Array = new Uint32Array(0);
  offset: Float64Array = new Float64Array(0);
  pos: Uint32Array = new Uint32Array(0);
  len: Uint32Array = new Uint32Array(0);
  frame: Uint32Array = new Uint32Array(0);
  src: Uint32Array = new Uint32Array(0);
  dst: Uint32Array = new Uint32Array(0);
  label: Uint32Array = new Uint32Array(0);
  flags: Uint8Array = new Uint8Array(0);
  retrans: Uint16Array = new Uint16Array(0);
  leg: Uint8Array = new Uint8Array(0);
  transport: Uint8Array = new Uint8Array(0);
  linktype: Uint16Array = new Uint16Array(0);
  readonly kept = new Map<number, Buffer>();
  readonly auth = new Map<number, AuthNote[]>();
  /** Frame time when it differs from the message's (HEP carries its own time stamps). */
  readonly frameTime = new Map<number, [number, number]>();
  readonly strings: Interner;
  private readonly transports = new Interner();
  private readonly linktypes = new Interner();

  constructor(strings = new Interner()) {
    this.strings = strings;
  }

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    const f64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    const u32 = (a: Uint32Array): Uint32Array => {
      const b = new Uint32Array(cap);
      b.set(a);
      return b;
    };
    const u16 = (a: Uint16Array): Uint16Array => {
      const b = new Uint16Array(cap);
      b.set(a);
      return b;
    };
    const u8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    this.tsSec = f64(this.tsSec);
    this.tsNsec = u32(this.tsNsec);
    this.offset = f64(this.offset);
    this.pos = u32(this.pos);
    this.len = u32(this.len);
    this.frame = u32(this.frame);
    this.src = u32(this.src);
    this.dst = u32(this.dst);
    this.label = u32(this.label);
    this.flags = u8(this.flags);
    this.retrans = u16(this.retrans);
    this.leg = u8(this.leg);
    this.transport = u8(this.transport);
    this.linktype = u16(this.linktype);
    this.cap = cap;
  }

  push(m: MessageInput): number {
    if (this.length === this.cap) this.grow();
    const i = this.length++;
    this.tsSec[i] = m.tsSec;
    this.tsNsec[i] = m.tsNsec;
    this.offset[i] = m.offset;
    this.pos[i] = m.pos;
    this.len[i] = m.len;
    this.frame[i] = m.frame;
    this.src[i] = this.strings.id(m.src);
    this.dst[i] = this.strings.id(m.dst);
    this.label[i] = this.strings.id(m.label);
    this.flags[i] = (m.request ? REQUEST : 0) | (m.sdp ? SDP : 0);
    this.retrans[i] = Math.min(m.retrans, 0xffff);
    this.leg[i] = Math.min(m.leg, 0xff);
    this.transport[i] = this.transports.id(m.transport);
    this.linktype[i] = this.linktypes.id(String(m.linktype));
    return i;
  }

  /** Keeps a message's bytes (a copy that pins no shared pool slab). */
  keep(i: number, raw: Buffer): void {
    const own = Buffer.allocUnsafeSlow(raw.length);
    raw.copy(own);
    this.kept.set(i, own);
    this.flags[i]! |= KEPT;
  }

  time(i: number): number {
    return this.tsSec[i]! + this.tsNsec[i]! / 1e9;
  }

  srcOf(i: number): string {
    return this.strings.str(this.src[i]!);
  }

  dstOf(i: number): string {
    return this.strings.str(this.dst[i]!);
  }

  labelOf(i: number): string {
    return this.strings.str(this.label[i]!);
  }

  transportOf(i: number): string {
    return this.transports.str(this.transport[i]!);
  }

  linktypeOf(i: number): number {
    return Number(this.linktypes.str(this.linktype[i]!));
  }

  isRequest(i: number): boolean {
    return (this.flags[i]! & REQUEST) !== 0;
  }

  hasSdp(i: number): boolean {
    return (this.flags[i]! & SDP) !== 0;
  }

  /** Bytes held by the index itself (typed arrays at capacity), for the bench and tests. */
  get bytes(): number {
    return this.cap * (8 + 4 + 8 + 4 + 4 + 4 + 4 + 4 + 4 + 1 + 2 + 1 + 1 + 2);
  }
}
