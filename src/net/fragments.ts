import type { Counters } from './counters.js';

interface Piece {
  offset: number;
  data: Buffer;
}

interface Pending {
  pieces: Piece[];
  /** Total payload length, known once the last fragment (MF=0) has been seen; -1 before. */
  total: number;
  bytes: number;
  firstSec: number;
}

export interface FragmentLimits {
  /** Reassemblies open at once; the oldest is dropped beyond this. */
  maxOpen: number;
  /** Capture-time seconds a datagram may take to complete (RFC 791 suggests 15 s, Linux uses 30 s). */
  timeoutSec: number;
  /** Largest datagram accepted (IPv4 and IPv6 without jumbograms cap at 65 535). */
  maxBytes: number;
}

const DEFAULTS: FragmentLimits = { maxOpen: 4096, timeoutSec: 30, maxBytes: 65535 };

/**
 * IP fragment reassembly for IPv4 (RFC 791) and IPv6 (RFC 8200 §4.5), bounded in count, bytes
 * and capture time. Fragments are copied: the frame buffer they arrive in is reused.
 */
export class Reassembler {
  private readonly open = new Map<string, Pending>();
  private lastSweep = 0;

  constructor(
    private readonly counters: Counters,
    private readonly limits: FragmentLimits = DEFAULTS,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Adds a fragment; returns the whole payload when this fragment completes it. */
  add(key: string, offset: number, more: boolean, data: Buffer, tsSec: number): Buffer | undefined {
    this.sweep(tsSec);
    const end = offset + data.length;
    if (end > this.limits.maxBytes) {
      // Checked before a slot is taken, so an oversized datagram never evicts a good one.
      this.open.delete(key);
      this.counters.drop('fragment-overflow');
      return undefined;
    }
    let p = this.open.get(key);
    if (!p) {
      if (this.open.size >= this.limits.maxOpen) {
        const oldest = this.open.keys().next().value as string;
        this.open.delete(oldest);
        this.counters.drop('fragment-overflow');
      }
      p = { pieces: [], total: -1, bytes: 0, firstSec: tsSec };
      this.open.set(key, p);
    }
    if (!more) p.total = end;
    for (const q of p.pieces) {
      if (offset < q.offset + q.data.length && q.offset < end) {
        // Overlap: a retransmitted duplicate is harmless; different bytes are an attack or damage.
        if (q.offset === offset && q.data.length === data.length) return undefined;
        this.counters.drop('fragment-overlap');
      }
    }
    p.pieces.push({ offset, data: Buffer.from(data) });
    p.bytes += data.length;
    if (p.total < 0) return undefined;
    return this.tryComplete(key, p);
  }

  private tryComplete(key: string, p: Pending): Buffer | undefined {
    p.pieces.sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const q of p.pieces) {
      if (q.offset > covered) return undefined; // hole
      covered = Math.max(covered, q.offset + q.data.length);
    }
    if (covered < p.total) return undefined;
    const out = Buffer.alloc(p.total);
    for (const q of p.pieces) q.data.copy(out, q.offset, 0, Math.min(q.data.length, p.total - q.offset));
    this.open.delete(key);
    this.counters.reassembledFragments++;
    return out;
  }

  private sweep(nowSec: number): void {
    if (nowSec - this.lastSweep < 1) return;
    this.lastSweep = nowSec;
    for (const [key, p] of this.open) {
      if (nowSec - p.firstSec <= this.limits.timeoutSec) break; // insertion order = age order
      this.open.delete(key);
      this.counters.drop('fragment-timeout');
    }
  }

  /** At end of capture: whatever is still open never completed. */
  flush(): void {
    if (this.open.size) this.counters.drop('fragment-timeout', this.open.size);
    this.open.clear();
  }
}
