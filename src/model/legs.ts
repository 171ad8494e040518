import { parseNameAddr, uriUser, type SipMessage, type SipPacket } from '../sip/index.js';
import type { Session } from './session.js';
import { packetTime, type Transaction } from './transaction.js';

/** Headers that B2BUAs and SBCs use to carry the other leg's Call-ID. */
export const DEFAULT_CORRELATION_HEADERS = ['X-Call-ID', 'X-CID', 'X-Orig-Call-ID', 'X-Original-Call-ID', 'X-Leg-Call-ID'];

/** Two calls judged to be the legs of one call through a back-to-back user agent. */
export interface LegLink {
  a: Session;
  b: Session;
  confidence: number;
  evidence: string[];
}

export interface LegOptions {
  correlationHeaders: string[];
  /** Seconds between the a-leg INVITE arriving at the B2BUA and the b-leg INVITE leaving it. */
  windowSec: number;
}

interface Identity {
  callerUsers: Set<string>;
  callerDisplay: string;
  calleeUsers: Set<string>;
}

function userOf(v: string | undefined): string {
  if (!v) return '';
  return uriUser(parseNameAddr(v).uri) ?? '';
}

function identity(m: SipMessage): Identity {
  const from = m.from;
  const callerUsers = new Set<string>();
  const fromUser = from ? uriUser(from.uri) ?? '' : '';
  if (fromUser) callerUsers.add(fromUser);
  for (const h of ['p-asserted-identity', 'remote-party-id', 'p-preferred-identity']) {
    for (const v of m.values(h)) {
      const u = userOf(v);
      if (u) callerUsers.add(u);
    }
  }
  const calleeUsers = new Set<string>();
  const ru = m.uri?.user;
  if (ru) calleeUsers.add(ru);
  const tu = userOf(m.get('to'));
  if (tu) calleeUsers.add(tu);
  return { callerUsers, callerDisplay: from?.display ?? '', calleeUsers };
}

function intersects(a: Set<string>, b: Set<string>): string | undefined {
  for (const x of a) if (b.has(x)) return x;
  return undefined;
}

const ms = (s: number): string => `${Math.round(s * 1000)} ms`;

/**
 * Finds the legs of B2BUA calls as they start: a host that received an INVITE and soon sends
 * another, carrying the caller's identity or aiming at the same callee, is bridging them —
 * or a correlation header says so outright. Evidence from the rest of the call (responses
 * relayed in order, BYE propagated) is added when the group is complete.
 */
export class LegCorrelator {
  /**
   * Calls whose latest initial INVITE still awaits its final response, by the IP address that
   * received it: only those can be waiting on a b-leg. Settled calls leave at once, so the sets
   * stay as small as the number of calls ringing.
   */
  private readonly pending = new Map<string, Set<Session>>();
  /** The correlation headers' names in lower case (most INVITEs carry none: one look for all). */
  private readonly correlationNames: readonly string[];

  constructor(
    private readonly opts: LegOptions,
    private readonly findSession: (callId: string) => Session | undefined,
  ) {
    this.correlationNames = opts.correlationHeaders.map((n) => n.toLowerCase());
  }

  /** Called with each call's first INVITE. Returns the link made, if any. */
  invite(b: Session, p: SipPacket): LegLink | undefined {
    const m = p.msg;
    const t = packetTime(p);
    let link: LegLink | undefined;
    if (m.hasAny(this.correlationNames)) for (const name of this.opts.correlationHeaders) {
      const v = m.get(name);
      const a = v ? this.findSession(v.trim()) : undefined;
      if (a && a !== b) {
        link = { a, b, confidence: 0.99, evidence: [`${name}: ${v!.trim()} names the other leg`] };
        break;
      }
    }
    if (!link) link = this.byBehaviour(b, p, t);
    this.awaiting(b, p);
    return link;
  }

  /** An initial INVITE (first or resent after a challenge) now awaits its final response. */
  awaiting(s: Session, p: SipPacket): void {
    let set = this.pending.get(p.meta.dst);
    if (!set) {
      set = new Set();
      this.pending.set(p.meta.dst, set);
    }
    set.add(s);
  }

  /** The call's INVITE got its final response (or the call is gone): it bridges nothing new. */
  settled(s: Session, p: SipPacket): void {
    // A response travels back: the INVITE's receiver is its source.
    const set = this.pending.get(p.meta.src);
    if (set?.delete(s) && set.size === 0) this.pending.delete(p.meta.src);
  }

  forget(s: Session): void {
    this.pending.forEach((set, host) => {
      if (set.delete(s) && set.size === 0) this.pending.delete(host);
    });
  }

  private byBehaviour(b: Session, p: SipPacket, t: number): LegLink | undefined {
    const candidates = this.pending.get(p.meta.src);
    if (!candidates) return undefined;
    let bid: Identity | undefined; // made only when a candidate gets this far
    let best: { a: Session; score: number; evidence: string[]; gap: number } | undefined;
    for (const a of candidates) {
      const invites = a.initialInvites;
      const last = invites[invites.length - 1];
      const req = last?.request; // initial INVITEs keep theirs
      if (!last || !req) continue;
      const gap = t - last.requestTime;
      if (gap > this.opts.windowSec * 4) {
        candidates.delete(a); // unanswered for too long to be bridged now
        continue;
      }
      if (a === b || gap < 0 || gap > this.opts.windowSec || a.finished) continue;
      const am = req.meta;
      // The same UA sending again is a new call, not a bridge; nor does a B2BUA call itself.
      if ((am.src === p.meta.src && am.sport === p.meta.sport) || (am.dst === p.meta.dst && am.dport === p.meta.dport)) continue;
      // When everything runs on one host (a lab, loopback, the seed chapter), the address says
      // nothing: then only the port that received the a-leg can be the one sending the b-leg.
      if (p.meta.src === p.meta.dst && am.dport !== p.meta.sport) continue;
      const aid = identity(req.msg);
      bid ??= identity(p.msg);
      const evidence = [`${p.meta.src} received the a-leg INVITE and sent this INVITE ${ms(gap)} later`];
      let score = 0.35 * (1 - gap / this.opts.windowSec);
      if (am.dport === p.meta.sport) {
        score += 0.05;
        evidence.push(`sent from the port that received the a-leg (${p.meta.sport})`);
      }
      const caller = intersects(aid.callerUsers, bid.callerUsers);
      if (caller) {
        score += 0.25;
        evidence.push(`caller "${caller}" carried over (From / P-Asserted-Identity / Remote-Party-ID)`);
      }
      if (aid.callerDisplay && aid.callerDisplay === bid.callerDisplay) {
        score += 0.05;
        evidence.push(`caller display name "${aid.callerDisplay}" carried over`);
      }
      const callee = intersects(aid.calleeUsers, bid.calleeUsers);
      if (callee) {
        score += 0.25;
        evidence.push(`same callee "${callee}" (Request-URI / To user)`);
      }
      if (!caller && !callee) continue;
      if (!best || score > best.score || (score === best.score && gap < best.gap)) best = { a, score, evidence, gap };
    }
    if (!best || best.score < 0.45) return undefined;
    return { a: best.a, b, confidence: best.score, evidence: best.evidence };
  }

  /** Adds the evidence only a finished call gives, and settles the confidence. */
  static complete(link: LegLink): void {
    const relay = (x: number | undefined, y: number | undefined): number | undefined =>
      x !== undefined && y !== undefined && y >= x && y - x <= 5 ? y - x : undefined;
    const aInv = lastInvite(link.a);
    const bInv = lastInvite(link.b);
    if (aInv && bInv) {
      const r18 = relay(bInv.ringing?.time, aInv.ringing?.time);
      if (r18 !== undefined) {
        link.confidence += 0.1;
        link.evidence.push(`b-leg ringing relayed to the a-leg ${ms(r18)} later`);
      }
      const r2 = relay(bInv.answered?.time, aInv.answered?.time);
      if (r2 !== undefined) {
        link.confidence += 0.1;
        link.evidence.push(`b-leg answer (2xx) relayed to the a-leg ${ms(r2)} later`);
      }
      const rf = relay(bInv.finalStatus >= 300 ? bInv.finalTime : undefined, aInv.finalStatus >= 300 ? aInv.finalTime : undefined);
      if (rf !== undefined) {
        link.confidence += 0.1;
        link.evidence.push(`b-leg failure ${bInv.finalStatus} relayed to the a-leg as ${aInv.finalStatus} ${ms(rf)} later`);
      }
    }
    const aBye = firstBye(link.a);
    const bBye = firstBye(link.b);
    if (aBye !== undefined && bBye !== undefined && Math.abs(aBye - bBye) <= 5) {
      link.confidence += 0.1;
      link.evidence.push(`BYE on the ${bBye <= aBye ? 'b' : 'a'}-leg propagated to the ${bBye <= aBye ? 'a' : 'b'}-leg ${ms(Math.abs(aBye - bBye))} later`);
    }
    link.confidence = Math.min(0.99, Math.round(link.confidence * 100) / 100);
  }
}

function lastInvite(s: Session): Transaction | undefined {
  const inv = s.initialInvites;
  return inv[inv.length - 1];
}

function firstBye(s: Session): number | undefined {
  return s.transactions.find((t) => t.method === 'BYE')?.requestTime;
}
