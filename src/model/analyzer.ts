import type { SipMessage, SipPacket } from '../sip/index.js';
import { AuthTracker, NO_CHECKS, type AuthCheck } from './auth.js';
import { DEFAULT_CORRELATION_HEADERS, LegCorrelator, type LegLink } from './legs.js';
import type { Secrets } from './secrets.js';
import { Session, type Observed, type Story } from './session.js';
import { Tombstones } from './tombstones.js';
import { packetTime } from './transaction.js';

export interface AnalyzerOptions {
  /** Seconds of quiet after which a finished session is emitted (default 4, near T4). */
  lingerSec?: number;
  /**
   * Seconds an emitted session's key is remembered, so that a late retransmission is counted
   * as one instead of starting a bogus session (64·T1 = 32 s, RFC 3261 §17.1.2.2 timer J).
   */
  tombstoneSec?: number;
  /** Seconds of silence after which an unfinished session is given up. */
  idleSec?: number;
  secrets?: Secrets;
  correlationHeaders?: string[];
  /** Seconds between an a-leg INVITE reaching a B2BUA and its b-leg INVITE (default 10). */
  legWindowSec?: number;
  /** Called for every credential checked, as it is seen. */
  onAuth?: (check: AuthCheck) => void;
  /**
   * Keep every message of a session (default true): ladders and the UI need them. Call records
   * need only counts and the transactions' notes: without the lists a lingering call holds one
   * message (its initial INVITE), and the messages it does not keep may be borrowed (own()).
   */
  keepMessages?: boolean;
  /** Called for every message with what the model made of it. */
  onObserved?: (o: Observed, s: Session) => void;
}

/** Call-IDs remembered by the analyzer's look-up cache. */
const RECENT = 8;

/** The links of a release when no call is linked (never added to). */
const NO_LINKS: ReadonlySet<LegLink> = new Set<LegLink>();

/** Methods of the INVITE dialog's story (compared as strings: a set lookup per message costs more). */
function isCallMethod(m: string): boolean {
  return m === 'INVITE' || m === 'ACK' || m === 'BYE' || m === 'CANCEL' || m === 'PRACK' || m === 'UPDATE';
}


function storyOf(method: string, slot: Slot | undefined): Story {
  if (method === 'REGISTER') return 'reg';
  if (isCallMethod(method) || slot?.call) return 'call';
  return 'other';
}

/** The open sessions of one Call-ID, one per story (looked up per message: no key string is built). */
interface Slot {
  call?: Session;
  reg?: Session;
  other?: Session;
}

/** Calls that are legs of one call, emitted together; or a lone session. */
export interface SessionGroup {
  sessions: Session[];
  links: LegLink[];
}

/**
 * The dialog model over a stream of SIP messages: sessions by Call-ID with their transactions,
 * credentials checked against challenges, B2BUA legs linked. A session is emitted once its
 * story has ended and a linger has passed (or at the end of input), then dropped, so memory
 * follows the open calls, not the capture size. Time is the capture's.
 */
export class Analyzer {
  private readonly open = new Map<string, Slot>();
  /** The last Call-IDs looked up and their slots (see recentSlot), replaced in turn. */
  private readonly recentIds = new Array<string | undefined>(RECENT).fill(undefined);
  private readonly recentSlots = new Array<Slot | undefined>(RECENT).fill(undefined);
  private recentNext = 0;
  private openCount = 0;
  private readonly auth: AuthTracker;
  private readonly legs: LegCorrelator;
  private readonly linger: number;
  private readonly tombstoneSec: number;
  private readonly idle: number;
  /** Sessions linked as legs share one group set. */
  private readonly groups = new Map<Session, Set<Session>>();
  private readonly linksOf = new Map<Session, LegLink[]>();
  private now = 0;
  private lastSweep = 0;
  emitted = 0;
  /**
   * Call-IDs of emitted sessions, per story → capture time until which late messages are
   * absorbed (tombstoneSec after the session's last message).
   */
  private readonly tombstones: Record<Story, Tombstones>;
  /** Messages that arrived after their session was emitted (late retransmissions). */
  late = 0;

  constructor(
    private readonly emit: (g: SessionGroup) => void,
    private readonly opts: AnalyzerOptions = {},
  ) {
    this.linger = opts.lingerSec ?? 4;
    this.tombstoneSec = opts.tombstoneSec ?? 32;
    this.tombstones = { call: new Tombstones(this.tombstoneSec), reg: new Tombstones(this.tombstoneSec), other: new Tombstones(this.tombstoneSec) };
    this.idle = opts.idleSec ?? 7200;
    this.auth = new AuthTracker(opts.secrets);
    this.legs = new LegCorrelator(
      { correlationHeaders: opts.correlationHeaders ?? DEFAULT_CORRELATION_HEADERS, windowSec: opts.legWindowSec ?? 10 },
      (id) => this.open.get(id)?.call,
    );
  }

  get openSessions(): number {
    return this.openCount;
  }

  packet(p: SipPacket): void {
    let slot = this.recentSlot(p.msg);
    const callId = p.msg.callId;
    if (callId === undefined) return; // nothing to group it by; counted as malformed upstream
    const t = packetTime(p);
    if (t > this.now) this.now = t;
    if (!slot) {
      slot = this.open.get(callId);
      if (slot) this.remember(callId, slot);
    }
    const story = storyOf(p.msg.isRequest ? p.msg.method : p.msg.cseq?.method ?? '', slot);
    let s = slot?.[story];
    if (!s) {
      // An INVITE outside a dialog always starts a story: only other messages are looked up.
      const straggler = !p.msg.isRequest || p.msg.method !== 'INVITE' || p.msg.hasToTag;
      const until = straggler ? this.tombstones[story].until(callId) : undefined;
      if (until !== undefined && t <= until) {
        this.late++; // a straggler of a session already told: not a new story
        return;
      }
      s = new Session(callId, p, story, this.opts.keepMessages ?? true);
      if (!slot) {
        slot = { call: undefined, reg: undefined, other: undefined }; // one shape for every slot
        this.open.set(callId, slot);
        this.remember(callId, slot);
      }
      slot[story] = s;
      this.openCount++;
    } else p.msg.shareCallId(s.callId);
    const firstInvite = s.kind === 'call' && p.msg.method === 'INVITE' && !p.msg.hasToTag && s.initialInvites.length === 0;
    const o = s.add(p);
    if (!o.retransmission) {
      if (p.msg.isRequest) {
        const checks = o.transaction ? this.auth.request(p, o.transaction.key) : NO_CHECKS;
        for (const c of checks) {
          p.msg.own(); // the check keeps the packet
          s.addAuth(c);
          this.opts.onAuth?.(c);
        }
      } else this.auth.response(p);
      if (firstInvite) {
        const link = this.legs.invite(s, p);
        if (link) this.join(link);
      } else if (s.kind === 'call' && o.transaction?.method === 'INVITE' && o.transaction.initial) {
        if (p.msg.isRequest && p.msg.method === 'INVITE') this.legs.awaiting(s, p);
        else if (p.msg.status >= 200) this.legs.settled(s, p);
      }
    }
    this.opts.onObserved?.(o, s);
    if (this.now - this.lastSweep >= 1) this.sweep();
  }

  /**
   * The open calls linked to `s` as legs of one call (B2BUA), `s` among them, in order of their
   * first message; `[s]` alone when it has none. Views of calls in progress show them together.
   */
  legsOf(s: Session): Session[] {
    const g = this.groups.get(s);
    return g ? [...g].sort((a, b) => a.firstTime - b.firstTime) : [s];
  }

  /**
   * Live input: lets capture time pass without a packet, so finished sessions still go out after
   * their linger when the traffic stops (`packet` alone only sweeps when a message arrives).
   */
  advance(t: number): void {
    if (t > this.now) this.now = t;
    if (this.now - this.lastSweep >= 1) this.sweep();
  }

  /** End of input: everything still open is emitted as it stands. */
  finish(): void {
    this.sweep(true);
  }

  private join(link: LegLink): void {
    const ga = this.groups.get(link.a) ?? new Set([link.a]);
    const gb = this.groups.get(link.b) ?? new Set([link.b]);
    for (const x of gb) ga.add(x);
    for (const x of ga) this.groups.set(x, ga);
    this.linksOf.set(link.b, [...(this.linksOf.get(link.b) ?? []), link]);
    this.linksOf.set(link.a, [...(this.linksOf.get(link.a) ?? []), link]);
  }

  private ready(s: Session, all: boolean): boolean {
    if (all) return true;
    const quiet = this.now - s.lastTime;
    return (s.finished && quiet > this.linger) || quiet > this.idle;
  }

  private sweep(all = false): void {
    this.lastSweep = this.now;
    this.tombstones.call.advance(this.now);
    this.tombstones.reg.advance(this.now);
    this.tombstones.other.advance(this.now);
    const seen = new Set<Set<Session>>();
    for (const slot of this.open.values()) {
      if (slot.call) this.sweepOne(slot.call, all, seen);
      if (slot.reg) this.sweepOne(slot.reg, all, seen);
      if (slot.other) this.sweepOne(slot.other, all, seen);
    }
  }

  /** Releases `s` if its story is over (with its linked legs, once all of them are). */
  private sweepOne(s: Session, all: boolean, seen: Set<Set<Session>>): void {
    if (!this.ready(s, all)) return;
    const g = this.groups.size ? this.groups.get(s) : undefined; // most calls are no B2BUA legs
    if (!g) return this.release([s]);
    if (seen.has(g)) return;
    seen.add(g);
    // A linked group goes out only when every leg is done.
    if ([...g].every((x) => this.ready(x, all))) this.release([...g]);
  }

  /**
   * The open slot of the message's Call-ID when it is one of the last few looked up: messages of
   * a call come close together, and comparing bytes with a held Call-ID costs less than making
   * the string and hashing it for the map (it then shares the held string).
   */
  private recentSlot(msg: SipMessage): Slot | undefined {
    const i = msg.indexOfCallId(this.recentIds);
    return i < 0 ? undefined : this.recentSlots[i];
  }

  private remember(callId: string, slot: Slot): void {
    this.recentIds[this.recentNext] = callId;
    this.recentSlots[this.recentNext] = slot;
    this.recentNext = (this.recentNext + 1) % RECENT;
  }

  private close(s: Session): void {
    const slot = this.open.get(s.callId);
    if (!slot) return;
    if (slot.call === s) slot.call = undefined;
    else if (slot.reg === s) slot.reg = undefined;
    else if (slot.other === s) slot.other = undefined;
    else return;
    this.openCount--;
    if (!slot.call && !slot.reg && !slot.other) {
      this.open.delete(s.callId);
      for (let i = 0; i < RECENT; i++) {
        if (this.recentSlots[i] === slot) {
          this.recentIds[i] = undefined;
          this.recentSlots[i] = undefined;
        }
      }
    }
  }

  private release(members: Session[]): void {
    let links = NO_LINKS;
    if (this.linksOf.size) {
      const found = new Set<LegLink>();
      for (const m of members) for (const l of this.linksOf.get(m) ?? []) found.add(l);
      links = found;
    }
    for (const m of members) {
      this.legs.forget(m);
      this.close(m);
      this.tombstones[m.story].set(m.callId, m.lastTime + this.tombstoneSec);
      if (this.groups.size) {
        this.groups.delete(m);
        this.linksOf.delete(m);
      }
    }
    members.sort((a, b) => a.firstTime - b.firstTime);
    if (links.size) for (const l of links) LegCorrelator.complete(l);
    this.emitted += members.length;
    this.emit({ sessions: members, links: links.size ? [...links] : [] });
  }
}
