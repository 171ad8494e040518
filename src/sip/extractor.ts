import type { Frame } from '../capture/index.js';
import { Counters, FrameDecoder, TcpReassembler, bump } from '../net/index.js';
import type { PacketMeta, TcpSegment, Transport, TransportHandler } from '../net/index.js';
import { SipMessage } from './message.js';
import { SipStream, type ConnectionState } from './stream.js';

/** A SIP message as found in a capture: the message, where it was seen and how it travelled. */
export interface SipPacket {
  msg: SipMessage;
  meta: PacketMeta;
  transport: Transport;
}

export type SipPacketSink = (p: SipPacket) => void;

const CR = 0x0d;
const LF = 0x0a;

/**
 * The pipeline below the dialog model: frames in, SIP messages out.
 * link → IP → UDP/TCP/SCTP (→ WebSocket) → SIP framing → parse. Every frame that yields no
 * message is counted by reason in `counters`.
 */
export class SipExtractor implements TransportHandler {
  readonly counters: Counters;
  private readonly decoder: FrameDecoder;
  private readonly tcp: TcpReassembler;
  private readonly connections = new Map<string, ConnectionState>();

  /**
   * @param retain copy each message's bytes so the sink may keep any of them; false when the
   *   sink keeps none (stats, messages) or calls own() on those it keeps (the lean analyzer).
   */
  constructor(
    private readonly sink: SipPacketSink,
    counters?: Counters,
    private readonly retain = true,
  ) {
    this.counters = counters ?? new Counters();
    this.decoder = new FrameDecoder(this, this.counters);
    this.tcp = new TcpReassembler((_meta, connection) => this.openStream(connection), this.counters);
  }

  frame(f: Frame): void {
    this.decoder.decode(f);
  }

  /** End of input: flush TCP streams and fragments. */
  finish(): void {
    this.tcp.finish();
    this.decoder.finish();
  }

  get openTcpFlows(): number {
    return this.tcp.openFlows;
  }

  segment(seg: TcpSegment): void {
    this.tcp.segment(seg);
  }

  datagram(meta: PacketMeta, transport: Transport, payload: Buffer): void {
    let off = 0;
    while (off < payload.length && (payload[off] === CR || payload[off] === LF)) off++;
    if (off === payload.length) return this.counters.drop(payload.length ? 'keep-alive' : 'not-sip');
    // Not SIP (RTP, say) is told by SipMessage.parse, which reads the start line once.
    this.message(meta, transport, off === 0 ? payload : payload.subarray(off), false);
  }

  private openStream(connection: string): SipStream {
    let conn = this.connections.get(connection);
    if (!conn) {
      conn = { tls: false, websocket: false, openDirections: 0 };
      this.connections.set(connection, conn);
    }
    conn.openDirections++;
    const state = conn;
    return new SipStream(state, this.counters, (m, t, b, s) => this.message(m, t, b, s), () => {
      if (--state.openDirections <= 0) this.connections.delete(connection);
    });
  }

  private message(meta: PacketMeta, transport: Transport, bytes: Buffer, stream: boolean): void {
    // Parsed where the bytes lie (a view of the frame). With `retain` every message then owns
    // its bytes before the sink sees it; else a sink that keeps a message calls own() on it.
    let msg: SipMessage | undefined;
    try {
      msg = SipMessage.parse(bytes, stream, true);
    } catch (err) {
      // A parser bug must not end the run: count it and go on.
      bump(this.counters.malformed, `parser-error: ${(err as Error).message}`);
      return;
    }
    if (!msg) return this.counters.drop('not-sip');
    if (this.retain) msg.own();
    const c = this.counters;
    c.sipMessages++;
    c.sipBytes += bytes.length;
    c.sipMessage(transport, msg.isRequest ? msg.method : undefined, msg.status);
    if (msg.problems.length) for (const p of msg.problems) bump(c.malformed, p);
    this.sink({ msg, meta, transport });
  }
}
