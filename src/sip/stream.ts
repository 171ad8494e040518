import type { Counters, PacketMeta, StreamSink, Transport } from '../net/index.js';
import { WsFrameParser } from '../net/index.js';
import { FRAME_OVERSIZE, FRAME_PARTIAL, frameMessage, skipKeepAlives } from './framing.js';
import { findStartLine } from './start-line.js';

/** What both directions of one TCP connection have learnt about it. */
export interface ConnectionState {
  tls: boolean;
  websocket: boolean;
  openDirections: number;
}

/** Receives framed SIP message bytes (a view: the receiver copies what it keeps). */
export type MessageBytesSink = (meta: PacketMeta, transport: Transport, bytes: Buffer, stream: boolean) => void;

type Mode = 'detect' | 'sip' | 'tls' | 'http-upgrade' | 'websocket';

/** Bytes kept while looking for the next start line: enough for any start line split across segments. */
const RESYNC_TAIL = 8192;

function looksLikeTls(b: Buffer): boolean {
  // TLS record: content type 20–23, version 3.x (RFC 8446 §5.1).
  return b.length >= 3 && b[0]! >= 0x14 && b[0]! <= 0x17 && b[1] === 0x03 && b[2]! <= 0x04;
}

const HTTP_GET = Buffer.from('GET ');
const HTTP_101 = Buffer.from('HTTP/1.1 101');

/** Too short to tell a WebSocket upgrade or TLS from SIP: a strict prefix of what decides. */
function undecided(b: Buffer): boolean {
  const prefixOf = (whole: Buffer): boolean => b.length < whole.length && whole.subarray(0, b.length).equals(b);
  return b.length === 0 || prefixOf(HTTP_GET) || prefixOf(HTTP_101) || (b.length < 3 && b[0]! >= 0x14 && b[0]! <= 0x17 && (b.length < 2 || b[1] === 0x03));
}

/**
 * One direction of a TCP connection seen as SIP: decides what the stream carries (SIP, TLS,
 * WebSocket after an HTTP upgrade), frames SIP messages by Content-Length and resynchronises at
 * the next start line after a gap or garbage.
 */
export class SipStream implements StreamSink {
  private mode: Mode = 'detect';
  private pending: Buffer | undefined;
  private ws: WsFrameParser | undefined;
  private lastMeta: PacketMeta | undefined;
  /** After lost bytes the stream resumes mid-line: a start line must follow a line end. */
  private afterGap = false;

  constructor(
    private readonly conn: ConnectionState,
    private readonly counters: Counters,
    private readonly emit: MessageBytesSink,
    private readonly closed: () => void,
  ) {}

  data(meta: PacketMeta, bytes: Buffer): void {
    this.lastMeta = meta;
    if (this.mode === 'detect') {
      const b = this.pending ? Buffer.concat([this.pending, bytes]) : bytes;
      // A first segment of a few bytes ("GE", "HTTP/1.") cannot tell yet: wait for more.
      if (undecided(b)) {
        this.pending = Buffer.from(b);
        return;
      }
      this.pending = undefined;
      bytes = b;
      this.detect(bytes);
    }
    switch (this.mode) {
      case 'tls':
        this.counters.drop('tls-encrypted');
        return;
      case 'websocket':
        this.ws!.push(bytes);
        return;
      case 'http-upgrade':
        return this.httpHead(meta, bytes);
      default:
        return this.sip(meta, bytes);
    }
  }

  gap(): void {
    if (this.pending && (this.mode === 'sip' || this.mode === 'detect')) this.counters.drop('tcp-skipped-bytes', this.pending.length);
    this.pending = undefined;
    this.afterGap = true;
  }

  end(): void {
    if (this.pending && (this.mode === 'sip' || this.mode === 'detect')) this.counters.drop('tcp-skipped-bytes', this.pending.length);
    this.pending = undefined;
    this.closed();
  }

  private detect(b: Buffer): void {
    if (this.conn.tls || looksLikeTls(b)) {
      if (!this.conn.tls) this.counters.tlsStreams++;
      this.conn.tls = true;
      this.mode = 'tls';
    } else if (this.conn.websocket || b.subarray(0, 4).toString('latin1') === 'GET ' || b.subarray(0, 12).toString('latin1') === 'HTTP/1.1 101') {
      this.mode = 'http-upgrade';
    } else {
      this.mode = 'sip';
    }
  }

  /** The HTTP request or 101 response that opens a WebSocket (RFC 6455 §4). */
  private httpHead(meta: PacketMeta, bytes: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, bytes]) : bytes;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      this.pending = buf.length > 16384 ? undefined : Buffer.from(buf);
      if (buf.length > 16384) this.mode = 'sip';
      return;
    }
    this.pending = undefined;
    const head = buf.toString('latin1', 0, end);
    if (!/^upgrade:\s*websocket/im.test(head) && !this.conn.websocket) {
      // Plain HTTP (e.g. on port 5060): not SIP; keep watching in case SIP follows.
      this.mode = 'sip';
      return this.sip(meta, buf.subarray(end + 4));
    }
    if (!this.conn.websocket) this.counters.websocketStreams++;
    this.conn.websocket = true;
    this.mode = 'websocket';
    this.ws = new WsFrameParser({
      message: (payload) => this.emit(this.lastMeta ?? meta, 'WS', payload, false),
      control: () => this.counters.drop('websocket-control'),
      error: () => {
        this.counters.drop('websocket-non-sip');
        this.mode = 'sip';
      },
    });
    const rest = buf.subarray(end + 4);
    if (rest.length) this.ws.push(rest);
  }

  private sip(meta: PacketMeta, bytes: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, bytes]) : bytes;
    this.pending = undefined;
    let off = 0;
    if (this.afterGap) {
      // After lost bytes the stream resumes anywhere, even inside a body: only a status line or a
      // known method counts as a message start until one is found (a cut "VITE sip:…" or a body
      // glued to the next request, "xxxxOPTIONS sip:…", must not become a message).
      const next = findStartLine(buf, 0, buf.length, true);
      if (next < 0) {
        const lastLf = buf.lastIndexOf(0x0a);
        const keepFrom = lastLf >= 0 && buf.length - lastLf <= RESYNC_TAIL ? lastLf + 1 : buf.length;
        this.counters.drop('tcp-skipped-bytes', keepFrom);
        if (keepFrom < buf.length) this.pending = Buffer.from(buf.subarray(keepFrom));
        return;
      }
      this.counters.drop('tcp-skipped-bytes', next);
      off = next;
      this.afterGap = false;
    }
    for (;;) {
      off = skipKeepAlives(buf, off);
      if (off >= buf.length) return;
      const end = frameMessage(buf, off);
      if (end >= 0) {
        this.emit(meta, 'TCP', buf.subarray(off, end), true);
        off = end;
        continue;
      }
      if (end === FRAME_PARTIAL) {
        this.pending = Buffer.from(buf.subarray(off));
        return;
      }
      if (end === FRAME_OVERSIZE) this.counters.drop('tcp-buffer-overflow');
      // Not at a message start (joined mid-stream, after a gap, or not SIP): find the next one.
      const next = findStartLine(buf, off + 1, buf.length, true);
      if (next < 0) {
        // Keep only the last partial line: it may be a start line cut by the segment boundary.
        const lastLf = buf.lastIndexOf(0x0a);
        const keepFrom = lastLf >= off && buf.length - lastLf <= RESYNC_TAIL ? lastLf + 1 : buf.length;
        if (keepFrom > off) this.counters.drop('tcp-skipped-bytes', keepFrom - off);
        if (keepFrom < buf.length) this.pending = Buffer.from(buf.subarray(keepFrom));
        return;
      }
      this.counters.drop('tcp-skipped-bytes', next - off);
      off = next;
    }
  }
}

