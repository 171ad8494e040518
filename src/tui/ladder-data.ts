import { buildLadder } from '../flow/index.js';
import { packetTime, type AuthCheck } from '../model/index.js';
import { hostPort } from '../net/index.js';
import type { SipPacket } from '../sip/index.js';
import { KEPT, type AuthNote } from './message-index.js';
import type { CallStore, Group } from './store.js';

export interface LadderLifeline {
  address: string;
  role: string;
}

/** One arrow: a message from the index (`msg` ≥ 0) or, for a call still open, the packet itself. */
export interface LadderArrow {
  from: number;
  to: number;
  time: number;
  delta: number;
  label: string;
  request: boolean;
  sdp: boolean;
  retrans: number;
  /** Leg number across the whole ladder (0 = first leg of the first call). */
  leg: number;
  msg: number;
  packet: SipPacket | undefined;
  auth: AuthNote[];
}

export interface LadderData {
  lifelines: LadderLifeline[];
  arrows: LadderArrow[];
  callIds: string[];
}

/** A message with what the message view shows about it. */
export interface MessageInfo {
  raw: Buffer | undefined;
  time: number;
  src: string;
  dst: string;
  transport: string;
  frame: number;
  label: string;
  retrans: number;
  auth: AuthNote[];
  /** Where the bytes came from: re-read from the file, or kept in memory. */
  origin: string;
}

function note(c: AuthCheck): AuthNote {
  return { header: c.header, user: c.credentials.username, realm: c.credentials.realm, result: c.result, explanation: c.explanation, copy: c.copy };
}

/** Arrows of a live group, built from its open sessions. */
function liveArrows(g: Group, legBase: number): Array<{ a: LadderArrow; src: string; dst: string }> {
  const sessions = g.live ?? [];
  const ladder = buildLadder({ sessions, links: [] });
  const byRaw = new Map<Buffer, SipPacket>();
  const auth = new Map<Buffer, AuthNote[]>();
  for (const s of sessions) {
    for (const o of s.observed) byRaw.set(o.packet.msg.raw, o.packet);
    for (const c of s.auth) auth.set(c.packet.msg.raw, [...(auth.get(c.packet.msg.raw) ?? []), note(c)]);
  }
  return ladder.arrows.map((a) => {
    const p = byRaw.get(a.raw)!;
    const arrow: LadderArrow = {
      from: -1, to: -1, time: a.time, delta: 0, label: a.label, request: a.isRequest, sdp: a.sdp,
      retrans: a.retransmission, leg: legBase + a.leg, msg: -1, packet: p, auth: auth.get(a.raw) ?? [],
    };
    return { a: arrow, src: hostPort(p.meta.src, p.meta.sport, p.meta.family), dst: hostPort(p.meta.dst, p.meta.dport, p.meta.family) };
  });
}

/**
 * The ladder of one or more groups (a call with its legs, or several selected calls): lifelines
 * in order of first appearance (so a B2BUA sits between its legs), roles as the analyzer's
 * ladder named them, arrows merged by time.
 */
export function ladderOf(store: CallStore, groups: Group[]): LadderData {
  const m = store.messages;
  const rows: Array<{ a: LadderArrow; src: string; dst: string; order: number }> = [];
  const roles = new Map<string, string>();
  const callIds: string[] = [];
  let legBase = 0;
  let order = 0;
  for (const g of groups) {
    for (const r of g.rows) callIds.push(String(r.get('call_id') ?? ''));
    for (let i = 0; i + 1 < g.roles.length; i += 2) if (g.roles[i + 1] && !roles.has(g.roles[i]!)) roles.set(g.roles[i]!, g.roles[i + 1]!);
    if (g.live) {
      for (const x of liveArrows(g, legBase)) rows.push({ ...x, order: order++ });
    } else {
      for (let i = g.msgStart; i < g.msgStart + g.msgCount; i++) {
        const a: LadderArrow = {
          from: -1, to: -1, time: m.time(i), delta: 0, label: m.labelOf(i), request: m.isRequest(i), sdp: m.hasSdp(i),
          retrans: m.retrans[i]!, leg: legBase + m.leg[i]!, msg: i, packet: undefined, auth: m.auth.get(i) ?? [],
        };
        rows.push({ a, src: m.srcOf(i), dst: m.dstOf(i), order: order++ });
      }
    }
    legBase += g.rows.length;
  }
  if (groups.length > 1) rows.sort((x, y) => x.a.time - y.a.time || x.order - y.order);
  const index = new Map<string, number>();
  const lifelines: LadderLifeline[] = [];
  const lifeline = (addr: string): number => {
    let i = index.get(addr);
    if (i === undefined) {
      i = lifelines.length;
      index.set(addr, i);
      lifelines.push({ address: addr, role: roles.get(addr) ?? '' });
    }
    return i;
  };
  let prev: number | undefined;
  for (const { a, src, dst } of rows) {
    a.from = lifeline(src);
    a.to = lifeline(dst);
    a.delta = prev === undefined ? 0 : a.time - prev;
    prev = a.time;
  }
  return { lifelines, arrows: rows.map((r) => r.a), callIds };
}

/** What the message view needs about the message behind an arrow. */
export function messageInfo(store: CallStore, l: LadderData, a: LadderArrow): MessageInfo {
  const src = l.lifelines[a.from]?.address ?? '';
  const dst = l.lifelines[a.to]?.address ?? '';
  if (a.packet) {
    return { raw: a.packet.msg.raw, time: packetTime(a.packet), src, dst, transport: a.packet.transport, frame: a.packet.meta.frame, label: a.label, retrans: a.retrans, auth: a.auth, origin: 'live, in memory' };
  }
  const m = store.messages;
  const i = a.msg;
  const kept = (m.flags[i]! & KEPT) !== 0;
  return {
    raw: store.raw(i),
    time: a.time,
    src,
    dst,
    transport: m.transportOf(i),
    frame: m.frame[i]!,
    label: a.label,
    retrans: a.retrans,
    auth: a.auth,
    origin: kept ? 'kept in memory (not in one frame of the file)' : `re-read from the capture at byte ${m.offset[i]! + m.pos[i]!}`,
  };
}
