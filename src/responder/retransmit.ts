import type { Clock, TimerBase } from '../sip/index.js';
import type { Peer } from './transport.js';

/**
 * A UAS's 2xx to an INVITE (first or re-INVITE) is retransmitted by the TU, not the transaction
 * (RFC 3261 §13.3.1.4, RFC 6026): with an interval starting at T1 and doubling up to T2, until the
 * ACK with the same Call-ID and CSeq arrives. Over a reliable transport nothing is resent, but
 * 64·T1 without an ACK still gives up.
 */
export class OkRetransmitter {
  private readonly pending = new Map<string, { timer: unknown; callId: string }>();

  constructor(
    private readonly clock: Clock,
    private readonly timers: TimerBase,
    private readonly send: (to: Peer, bytes: Buffer) => void,
  ) {}

  /** Starts retransmitting `bytes` to `peer`; `giveUp` runs when 64·T1 pass without the ACK. */
  start(callId: string, cseq: number, peer: Peer, bytes: Buffer, giveUp?: () => void): void {
    this.schedule(`${callId}|${cseq}`, callId, peer, bytes, giveUp, 0, 0);
  }

  private schedule(key: string, callId: string, peer: Peer, bytes: Buffer, giveUp: (() => void) | undefined, n: number, waited: number): void {
    const step = Math.min(this.timers.T1 * 2 ** n, this.timers.T2);
    const left = 64 * this.timers.T1 - waited;
    const timer = step < left
      ? this.clock.setTimeout(() => {
          if (peer.proto === 'UDP') this.send(peer, bytes);
          this.schedule(key, callId, peer, bytes, giveUp, n + 1, waited + step);
        }, step)
      : this.clock.setTimeout(() => {
          this.pending.delete(key);
          giveUp?.();
        }, left);
    this.pending.set(key, { timer, callId });
  }

  /** The ACK for the 2xx of this INVITE arrived. */
  ack(callId: string, cseq: number): void {
    this.stop(`${callId}|${cseq}`);
  }

  /** The dialog ended (BYE): nothing of this Call-ID is resent any more. */
  forget(callId: string): void {
    for (const [key, p] of this.pending) if (p.callId === callId) this.stop(key);
  }

  private stop(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.clock.clearTimeout(p.timer);
    this.pending.delete(key);
  }
}
