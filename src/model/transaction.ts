import type { SipPacket } from '../sip/index.js';

/** Capture time in seconds with sub-second precision (enough for ms arithmetic). */
export function packetTime(p: SipPacket): number {
  return p.meta.tsSec + p.meta.tsNsec / 1e9;
}

/**
 * One transaction as an observer sees it (RFC 3261 §17): the request, its retransmissions and
 * the responses. For an INVITE, the ACK for a non-2xx final response belongs here (§17.1.1.3).
 */
export class Transaction {
  readonly method: string;
  readonly request: SipPacket;
  readonly requestTime: number;
  /** Retransmitted copies of the request (and of each response) seen. */
  retransmissions = 0;
  readonly responses: SipPacket[] = [];
  firstResponseTime: number | undefined;
  finalStatus = 0;
  finalTime: number | undefined;
  ack: SipPacket | undefined;

  constructor(
    readonly key: string,
    request: SipPacket,
  ) {
    this.request = request;
    this.method = request.msg.method;
    this.requestTime = packetTime(request);
  }

  /** Records a response; returns true when it is a retransmission of one already seen. */
  response(p: SipPacket): boolean {
    const m = p.msg;
    // A retransmitted response repeats status and To tag (§17.1.1.2 absorbs these). The list
    // is short (a few responses per transaction): a scan beats keeping a set of keys.
    const tag = m.toTag ?? '';
    for (const r of this.responses) {
      if (r.msg.status === m.status && (r.msg.toTag ?? '') === tag) {
        this.retransmissions++;
        return true;
      }
    }
    this.responses.push(p);
    const t = packetTime(p);
    if (this.firstResponseTime === undefined) this.firstResponseTime = t;
    if (m.status >= 200 && this.finalTime === undefined) {
      this.finalStatus = m.status;
      this.finalTime = t;
    } else if (m.status >= 200 && m.status < 300 && this.method === 'INVITE') {
      // Forked 2xx responses (§13.2.2.4): keep the first final, remember the fork.
      if (this.finalStatus >= 300) this.finalStatus = m.status;
    }
    return false;
  }

  /** Milliseconds from the request to its first response, and to its final response. */
  get firstResponseMs(): number | undefined {
    return this.firstResponseTime === undefined ? undefined : (this.firstResponseTime - this.requestTime) * 1000;
  }

  get finalResponseMs(): number | undefined {
    return this.finalTime === undefined ? undefined : (this.finalTime - this.requestTime) * 1000;
  }

  /** Distinct To tags of 1xx/2xx responses: one per early or confirmed dialog (forking, §12.1). */
  get dialogTags(): string[] {
    const tags = new Set<string>();
    for (const r of this.responses) {
      const tag = r.msg.toTag;
      if (tag && r.msg.status > 100 && r.msg.status < 300) tags.add(tag);
    }
    return [...tags];
  }
}
