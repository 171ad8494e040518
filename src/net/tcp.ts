import type { Counters } from './counters.js';
import { TCP_FIN, TCP_RST, TCP_SYN, type PacketMeta, type TcpSegment } from './packet.js';

/** Receives one direction of a TCP connection as ordered bytes. */
export interface StreamSink {
  /** In-order bytes; `bytes` is a view valid only during the call. */
  data(meta: PacketMeta, bytes: Buffer): void;
  /** Bytes were lost (never captured): the next data does not follow the previous. */
  gap(meta: PacketMeta): void;
  /** The direction ended (FIN, RST, idle timeout or end of capture). */
  end(): void;
}

/** Creates the sink for a new direction; `connection` names both directions alike. */
export type StreamFactory = (meta: PacketMeta, connection: string) => StreamSink;

export interface TcpLimits {
  /** Out-of-order bytes held per direction before declaring a gap. */
  maxHeldBytes: number;
  maxHeldSegments: number;
  /** Capture-time seconds an idle direction is kept. */
  idleSec: number;
  /** A closed direction is remembered this long so late retransmissions are recognised. */
  lingerSec: number;
}

const DEFAULTS: TcpLimits = { maxHeldBytes: 1 << 20, maxHeldSegments: 256, idleSec: 600, lingerSec: 60 };

interface Held {
  seq: number;
  meta: PacketMeta;
  bytes: Buffer;
}

interface Direction {
  /** Next expected sequence number, -1 until known. */
  next: number;
  held: Held[];
  heldBytes: number;
  sink: StreamSink;
  lastSec: number;
  closed: boolean;
  /** Sequence number of a FIN seen before all the bytes it follows, -1 if none. */
  finAt: number;
}

/** Signed distance a - b in 32-bit sequence space (RFC 9293 §3.4 modular arithmetic). */
function seqDiff(a: number, b: number): number {
  return ((a - b) | 0);
}

/**
 * Per-direction TCP reassembly: orders segments by sequence number, trims retransmitted and
 * overlapping bytes, holds out-of-order segments within bounds and reports gaps.
 */
export class TcpReassembler {
  private readonly flows = new Map<string, Direction>();
  private lastSweep = 0;

  constructor(
    private readonly factory: StreamFactory,
    private readonly counters: Counters,
    private readonly limits: TcpLimits = DEFAULTS,
  ) {}

  get openFlows(): number {
    return this.flows.size;
  }

  segment(seg: TcpSegment): void {
    this.sweep(seg.tsSec);
    const key = `${seg.src}|${seg.sport}|${seg.dst}|${seg.dport}`;
    let d = this.flows.get(key);
    if (d && d.closed && seg.flags & TCP_SYN) {
      this.flows.delete(key); // port reuse: a new connection
      d = undefined;
    }
    if (!d) {
      if (seg.payload.length === 0 && !(seg.flags & TCP_SYN)) return;
      const a = `${seg.src}|${seg.sport}`;
      const b = `${seg.dst}|${seg.dport}`;
      const connection = a < b ? `${a}|${b}` : `${b}|${a}`;
      d = { next: -1, held: [], heldBytes: 0, sink: this.factory(seg, connection), lastSec: seg.tsSec, closed: false, finAt: -1 };
      this.flows.set(key, d);
      this.counters.tcpStreams++;
    }
    d.lastSec = seg.tsSec;
    if (seg.flags & TCP_SYN) {
      d.next = (seg.seq + 1) >>> 0;
      d.finAt = -1;
      return;
    }
    const len = seg.payload.length;
    if (len > 0) {
      if (d.closed) {
        if (d.next >= 0 && seqDiff(seg.seq + len, d.next) <= 0) this.counters.drop('tcp-retransmission');
        else this.counters.drop('tcp-out-of-window');
        return;
      }
      if (d.next < 0) d.next = seg.seq; // joined mid-connection
      this.accept(d, seg, seg.seq, seg.payload);
    }
    if (d.closed) return;
    if (seg.flags & TCP_RST) return this.close(d);
    if (seg.flags & TCP_FIN) {
      // A FIN captured ahead of data it follows (reordering): close once that data is in.
      const finAt = (seg.seq + len) >>> 0;
      if (seqDiff(finAt, d.next) > 0) d.finAt = finAt;
      else this.close(d);
    }
  }

  private accept(d: Direction, meta: PacketMeta, seq: number, bytes: Buffer): void {
    let rel = seqDiff(seq, d.next);
    if (rel + bytes.length <= 0) {
      this.counters.drop('tcp-retransmission');
      return;
    }
    if (rel > this.limits.maxHeldBytes * 16) {
      // Far ahead of anything plausible: treat as lost state and restart here.
      this.counters.drop('tcp-out-of-window');
      this.flushHeld(d);
      d.sink.gap(meta);
      d.next = seq;
      rel = 0;
    }
    if (rel > 0) {
      d.held.push({ seq, meta, bytes: Buffer.from(bytes) });
      d.heldBytes += bytes.length;
      if (d.heldBytes > this.limits.maxHeldBytes || d.held.length > this.limits.maxHeldSegments) {
        this.counters.drop('tcp-gap');
        this.flushHeld(d);
        this.closeAtFin(d);
      }
      return;
    }
    if (rel < 0) bytes = bytes.subarray(-rel); // overlap with bytes already delivered
    d.next = (d.next + bytes.length) >>> 0;
    d.sink.data(meta, bytes);
    if (d.held.length) this.drain(d);
    this.closeAtFin(d);
  }

  /** Closes a direction whose early FIN has now been reached. */
  private closeAtFin(d: Direction): void {
    if (d.finAt >= 0 && seqDiff(d.next, d.finAt) >= 0) this.close(d);
  }

  /** Delivers held segments that have become contiguous. */
  private drain(d: Direction): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < d.held.length; i++) {
        if (seqDiff(d.held[i]!.seq, d.next) <= 0) {
          best = i;
          break;
        }
      }
      if (best < 0) return;
      const h = d.held.splice(best, 1)[0]!;
      d.heldBytes -= h.bytes.length;
      const rel = seqDiff(h.seq, d.next);
      if (rel + h.bytes.length <= 0) {
        this.counters.drop('tcp-retransmission');
        continue;
      }
      const bytes = h.bytes.subarray(-rel);
      d.next = (d.next + bytes.length) >>> 0;
      d.sink.data(h.meta, bytes);
    }
  }

  /** Gives up waiting for missing bytes: jumps to each held segment in order, reporting the holes. */
  private flushHeld(d: Direction): void {
    while (d.held.length) {
      d.held.sort((x, y) => seqDiff(x.seq, y.seq));
      const first = d.held[0]!;
      if (seqDiff(first.seq, d.next) > 0) {
        d.sink.gap(first.meta);
        d.next = first.seq;
      }
      this.drain(d);
    }
    d.heldBytes = 0;
  }

  private close(d: Direction): void {
    if (d.held.length) {
      this.counters.drop('tcp-gap');
      this.flushHeld(d);
    }
    d.closed = true;
    d.sink.end();
  }

  private sweep(nowSec: number): void {
    if (nowSec - this.lastSweep < 10) return;
    this.lastSweep = nowSec;
    for (const [key, d] of this.flows) {
      const age = nowSec - d.lastSec;
      if (age > (d.closed ? this.limits.lingerSec : this.limits.idleSec)) {
        if (!d.closed) this.close(d);
        this.flows.delete(key);
      }
    }
  }

  /** End of capture: flush and end every direction. */
  finish(): void {
    for (const d of this.flows.values()) if (!d.closed) this.close(d);
    this.flows.clear();
  }
}
