import type { Frame } from '../capture/index.js';
import { buildLadder } from '../flow/index.js';
import { groupRecords, type Session, type SessionGroup } from '../model/index.js';
import type { SipPacket } from '../sip/index.js';
import type { CallStore, Group, GroupData } from './store.js';

const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS'];
/** Per open message: record offset, position in the frame, frame number, link type, times. */
const F_OFFSET = 0;
const F_POS = 1;
const F_FRAME = 2;
const F_LINKTYPE = 3;
const F_SEC = 4;
const F_NSEC = 5;
const F_FRAME_SEC = 6;
const F_FRAME_NSEC = 7;
const F_TRANSPORT = 8;
const FIELDS = 9;

/**
 * Where each message of the open calls was found, noted as it passes and used when its call is
 * indexed: numbers in one growing array with slots reused, no object per message (a dense
 * capture has hundreds of thousands of messages in open calls at once).
 */
class Locations {
  private data = new Float64Array(FIELDS * 1024);
  private next = 0;
  private readonly free: number[] = [];

  alloc(): number {
    const slot = this.free.pop();
    if (slot !== undefined) return slot;
    if ((this.next + 1) * FIELDS > this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    return this.next++;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  set(slot: number, field: number, v: number): void {
    this.data[slot * FIELDS + field] = v;
  }

  get(slot: number, field: number): number {
    return this.data[slot * FIELDS + field]!;
  }
}

function firstMethod(s: Session): string {
  return s.head.msg.method;
}

/** Rows of calls in progress: one per leg, lettered and naming each other as finished ones are. */
function provisionalData(legs: readonly Session[]): GroupData {
  const records = groupRecords({ sessions: [...legs], links: [] });
  legs.forEach((s, i) => {
    if (!s.finished) records[i]!.status = 'in_progress';
  });
  return { records, methods: legs.map(firstMethod), msgStart: 0, msgCount: 0, roles: [], live: [...legs] };
}

/**
 * Turns what the pipeline and the analyzer produce into the UI's store: as each message passes,
 * where its bytes are in the capture (`packet`); as each call finishes, its rows and the compact
 * index of its messages in ladder order (`group`). The Session objects are then let go. Open
 * sessions get a provisional row (in progress) that `refreshOpen` keeps current.
 */
export class Ingest {
  private readonly locs = new Map<Buffer, number>();
  private readonly table = new Locations();
  private readonly open = new Map<Session, Group>();
  private readonly touched = new Set<Session>();
  /** When each open session's row was last rebuilt (ms). */
  private readonly refreshed = new Map<Session, number>();

  constructor(
    private readonly store: CallStore,
    /** True when frames can be read again from the file by their record offset. */
    private readonly seekable: boolean,
    /**
     * An open session's row is rebuilt at most this often (ms): a file read at full speed
     * touches thousands of calls between two ticks; live traffic, a few.
     */
    private readonly refreshEveryMs = 0,
    /**
     * The open calls linked to a session as legs of one call (Analyzer#legsOf): they share one
     * provisional row group, so the group their finished call replaces is the one shown.
     */
    private readonly legsOf: (s: Session) => readonly Session[] = (s) => [s],
  ) {}

  /**
   * A message as it leaves the pipeline; `f` is the frame being decoded (undefined when the
   * message was completed at end of input). The message can be read again later from that
   * frame's record only if the frame's data holds all of its bytes: a message that spanned
   * several TCP segments or IP fragments, or a WebSocket payload (masked), does not, and keeps
   * its bytes instead.
   */
  packet(p: SipPacket, f: Frame | undefined): void {
    if (p.msg.callId === undefined) return; // the analyzer keeps no message without a Call-ID
    const raw = p.msg.raw;
    let offset = -1;
    let pos = 0;
    if (f && this.seekable && f.offset >= 0 && p.meta.frame === f.index) {
      const d = f.data;
      let at = d.length - raw.length; // a datagram usually ends the frame
      if (at < 0 || d.compare(raw, 0, raw.length, at, at + raw.length) !== 0) at = d.indexOf(raw);
      if (at >= 0) {
        offset = f.offset;
        pos = at;
      }
    }
    const t = this.table;
    const slot = t.alloc();
    t.set(slot, F_OFFSET, offset);
    t.set(slot, F_POS, pos);
    t.set(slot, F_FRAME, p.meta.frame);
    t.set(slot, F_LINKTYPE, f?.linktype ?? 1);
    t.set(slot, F_SEC, p.meta.tsSec);
    t.set(slot, F_NSEC, p.meta.tsNsec);
    t.set(slot, F_FRAME_SEC, f ? f.tsSec : p.meta.tsSec);
    t.set(slot, F_FRAME_NSEC, f ? f.tsNsec : p.meta.tsNsec);
    t.set(slot, F_TRANSPORT, Math.max(0, TRANSPORTS.indexOf(p.transport)));
    this.locs.set(raw, slot);
  }

  /** A finished group from the analyzer; a live call's provisional rows give way to it. */
  group(g: SessionGroup): Group {
    const data = this.index(g);
    const provisional: Group[] = [];
    for (const s of g.sessions) {
      const p = this.open.get(s);
      if (p) provisional.push(p);
      this.open.delete(s);
      this.touched.delete(s);
      this.refreshed.delete(s);
    }
    const [first, ...rest] = new Set(provisional);
    for (const p of rest) this.store.remove(p);
    if (first) {
      this.store.update(first, data);
      return first;
    }
    return this.store.add(data);
  }

  /** A message of an open session was seen (the analyzer's onObserved). */
  observed(s: Session): void {
    this.touched.add(s);
  }

  /** Once per UI tick: open sessions seen since the last tick get or refresh their row. */
  refreshOpen(): number {
    const now = Date.now();
    let n = 0;
    for (const s of this.touched) {
      const g = this.open.get(s);
      if (g && now - (this.refreshed.get(s) ?? 0) < this.refreshEveryMs) continue;
      const legs = this.legsOf(s);
      for (const l of legs) {
        this.touched.delete(l);
        this.refreshed.set(l, now);
      }
      n++;
      const data = provisionalData(legs);
      // Legs linked after each got a row (rare: the link is made at the b-leg's first INVITE)
      // keep the first row group; the others go.
      const groups = [...new Set(legs.map((l) => this.open.get(l)).filter((x): x is Group => x !== undefined))];
      const [keep, ...extra] = groups;
      for (const x of extra) this.store.remove(x);
      const target = keep ?? this.store.add(data);
      if (keep) this.store.update(keep, data);
      for (const l of legs) this.open.set(l, target);
    }
    return n;
  }

  private index(g: SessionGroup): GroupData {
    const ladder = buildLadder(g);
    const msgs = this.store.messages;
    const msgStart = msgs.length;
    const at = new Map<Buffer, number>();
    const t = this.table;
    for (const a of ladder.arrows) {
      const slot = this.locs.get(a.raw);
      this.locs.delete(a.raw);
      const field = (f: number, otherwise: number): number => (slot === undefined ? otherwise : t.get(slot, f));
      const offset = field(F_OFFSET, -1);
      const tsSec = field(F_SEC, Math.floor(a.time));
      const tsNsec = field(F_NSEC, Math.round((a.time - Math.floor(a.time)) * 1e9));
      const i = msgs.push({
        tsSec,
        tsNsec,
        offset,
        pos: field(F_POS, 0),
        len: a.raw.length,
        frame: field(F_FRAME, 0),
        src: ladder.lifelines[a.from]!.address,
        dst: ladder.lifelines[a.to]!.address,
        label: a.label,
        transport: TRANSPORTS[field(F_TRANSPORT, 0)]!,
        linktype: field(F_LINKTYPE, 1),
        request: a.isRequest,
        sdp: a.sdp,
        retrans: a.retransmission,
        leg: a.leg,
      });
      if (offset < 0) msgs.keep(i, a.raw);
      if (slot !== undefined) {
        const fs = t.get(slot, F_FRAME_SEC);
        const fn = t.get(slot, F_FRAME_NSEC);
        if (fs !== tsSec || fn !== tsNsec) msgs.frameTime.set(i, [fs, fn]);
        t.release(slot);
      }
      at.set(a.raw, i);
    }
    for (const s of g.sessions) {
      for (const c of s.auth) {
        const i = at.get(c.packet.msg.raw);
        if (i === undefined) continue;
        const notes = msgs.auth.get(i) ?? [];
        notes.push({ header: c.header, user: c.credentials.username, realm: c.credentials.realm, result: c.result, explanation: c.explanation, copy: c.copy });
        msgs.auth.set(i, notes);
      }
    }
    return {
      records: groupRecords(g),
      methods: g.sessions.map(firstMethod),
      msgStart,
      msgCount: ladder.arrows.length,
      roles: ladder.lifelines.flatMap((l) => [l.address, l.role]),
    };
  }
}
