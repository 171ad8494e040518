import type { SipMessage, SipPacket } from '../sip/index.js';
import { agentOf, answerCodecsOf, reasonCauseOf } from './notes.js';

/** Capture time in seconds with sub-second precision (enough for ms arithmetic). */
export function packetTime(p: SipPacket): number {
  return p.meta.tsSec + p.meta.tsNsec / 1e9;
}

const NO_TAGS: readonly string[] = Object.freeze([]);

/** What call records ask of one response, taken as it arrives (the message itself is not kept). */
export interface ResponseNote {
  status: number;
  time: number;
  /** User-Agent, else Server: the software that sent it. */
  agent: string | null;
}

/**
 * One transaction as an observer sees it (RFC 3261 §17): the request, its retransmissions and
 * the responses. For an INVITE, the ACK for a non-2xx final response belongs here (§17.1.1.3).
 *
 * Responses are not kept: what the records and the leg correlator ask of them is noted as they
 * arrive, so that a call holds a few numbers and strings per transaction instead of messages
 * (the messages die young, which is what keeps long captures cheap). Views that show messages
 * keep them in the session's `observed` list.
 */
export class Transaction {
  readonly method: string;
  /**
   * The request, kept where something asks for it later: initial INVITEs (the call's parties,
   * the B2BUA correlator) and REGISTERs (the binding asked for). Undefined for the rest.
   */
  readonly request: SipPacket | undefined;
  readonly requestTime: number;
  /** Sent outside any dialog (no To tag, §12.1): for an INVITE, a call attempt. */
  readonly initial: boolean;
  /** BYE and CANCEL: the From tag (who hung up) and the Q.850 cause of a Reason header (RFC 3326). */
  readonly fromTag: string | undefined;
  readonly reasonCause: number | undefined;
  /** Retransmitted copies of the request (and of each response) seen. */
  retransmissions = 0;
  /**
   * Status and To tag of each distinct response, in pairs: what §17.1.1.2 tells retransmissions
   * by. Made at the first response, exactly as long as needed (a call lingers with it).
   */
  private seen: ReadonlyArray<number | string> | undefined;
  finalStatus = 0;
  finalTime: number | undefined;
  /** Whether the ACK for a non-2xx final response was seen (INVITE only). */
  acked = false;
  /** INVITE: its first 18x (alerting, §13.3.1.1) and first 2xx (the answer). */
  ringing: ResponseNote | undefined;
  answered: ResponseNote | undefined;
  /** INVITE: the latest response while neither of those came (who refused, or said nothing). */
  latest: ResponseNote | undefined;
  /** INVITE: Q.850 cause in the Reason header of the first final failure response. */
  finalCause: number | undefined;
  /** Distinct To tags of 1xx/2xx responses: one per early or confirmed dialog (forking, §12.1). */
  dialogTags: readonly string[] = NO_TAGS;
  /** INVITE: codecs of the first 2xx with SDP, of the first response with SDP, of an ACK with SDP. */
  private codecs2xx: string | null | undefined;
  private codecsAny: string | null | undefined;
  private codecsAck: string | null | undefined;
  /** REGISTER: the first 2xx, which lists the bindings granted (§10.3 step 8). */
  ok: SipPacket | undefined;

  constructor(
    readonly key: string,
    request: SipPacket,
  ) {
    const m = request.msg;
    this.method = m.method;
    this.requestTime = packetTime(request);
    this.initial = !m.hasToTag;
    if ((this.method === 'INVITE' && this.initial) || this.method === 'REGISTER') {
      m.own();
      this.request = request;
    }
    if (this.method === 'BYE' || this.method === 'CANCEL') {
      this.fromTag = m.fromTag;
      this.reasonCause = reasonCauseOf(m);
    }
  }

  /** Milliseconds from the request to its final response. */
  get finalResponseMs(): number | undefined {
    return this.finalTime === undefined ? undefined : (this.finalTime - this.requestTime) * 1000;
  }

  /** Records a response; returns true when it is a retransmission of one already seen. */
  response(p: SipPacket): boolean {
    const m = p.msg;
    const status = m.status;
    // A retransmitted response repeats status and To tag (§17.1.1.2 absorbs these). The list
    // is short (a few responses per transaction): a scan beats keeping a set of keys.
    let tag = m.toTag ?? '';
    const seen = this.seen;
    if (!seen) this.seen = [status, tag];
    else {
      for (let i = 0; i < seen.length; i += 2) {
        if (seen[i + 1] !== tag) continue;
        if (seen[i] === status) {
          this.retransmissions++;
          return true;
        }
        tag = seen[i + 1] as string; // the string already held (a call lingers with it)
      }
      // Exact size (see append); a second pair is the common case (a 18x, then the 200).
      this.seen = seen.length === 2 ? [seen[0]!, seen[1]!, status, tag] : seen.concat(status, tag);
    }
    const t = packetTime(p);
    const firstFinal = status >= 200 && this.finalTime === undefined;
    if (firstFinal) {
      this.finalStatus = status;
      this.finalTime = t;
    } else if (status >= 200 && status < 300 && this.method === 'INVITE') {
      // Forked 2xx responses (§13.2.2.4): keep the first final, remember the fork.
      if (this.finalStatus >= 300) this.finalStatus = status;
    }
    if (this.method === 'INVITE') this.noteInviteResponse(m, status, tag, t, firstFinal);
    else if (this.method === 'REGISTER' && status >= 200 && status < 300 && !this.ok) {
      m.own();
      this.ok = p;
    }
    return false;
  }

  /** The ACK for a non-2xx final response; returns true when it is a retransmission. */
  acknowledge(p: SipPacket): boolean {
    if (this.acked) {
      this.retransmissions++;
      return true;
    }
    this.acked = true;
    if (p.msg.hasSdp) this.codecsAck = answerCodecsOf(p.msg);
    return false;
  }

  /**
   * Codecs of the SDP answer (RFC 3264) as records show them, e.g. "PCMU,telephone-event": of
   * the first 2xx with SDP, else the first response with SDP, else an ACK with SDP (a late offer
   * answered in the ACK). Null when there is none, or it names no active stream.
   */
  get answerCodecs(): string | null {
    if (this.codecs2xx !== undefined) return this.codecs2xx;
    if (this.codecsAny !== undefined) return this.codecsAny;
    return this.codecsAck ?? null;
  }

  private noteInviteResponse(m: SipMessage, status: number, tag: string, t: number, firstFinal: boolean): void {
    if (tag && status > 100 && status < 300 && !this.dialogTags.includes(tag)) {
      this.dialogTags = this.dialogTags.length === 0 ? [tag] : this.dialogTags.concat([tag]);
    }
    if (status >= 180 && status < 190 && !this.ringing) this.ringing = { status, time: t, agent: agentOf(m) };
    else if (status >= 200 && status < 300 && !this.answered) this.answered = { status, time: t, agent: agentOf(m) };
    else if (!this.ringing && !this.answered) this.latest = { status, time: t, agent: agentOf(m) };
    if (firstFinal && status >= 300) this.finalCause = reasonCauseOf(m);
    if ((this.codecs2xx === undefined || this.codecsAny === undefined) && m.hasSdp) {
      const codecs = answerCodecsOf(m);
      if (this.codecsAny === undefined) this.codecsAny = codecs;
      if (this.codecs2xx === undefined && status >= 200 && status < 300) this.codecs2xx = codecs;
    }
  }
}
