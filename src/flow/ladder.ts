import type { SessionGroup } from '../model/index.js';
import { packetTime } from '../model/index.js';
import { hostPort } from '../net/index.js';
import { parseNameAddr, uriUser } from '../sip/index.js';

/** A lifeline of the ladder: one SIP endpoint (ip:port). */
export interface Lifeline {
  address: string;
  /** Who it is, when the messages tell: a user name, or "B2BUA". */
  role: string;
}

/** One arrow of the ladder. */
export interface Arrow {
  from: number;
  to: number;
  time: number;
  /** Seconds since the previous arrow. */
  delta: number;
  label: string;
  isRequest: boolean;
  sdp: boolean;
  /** 0 for an original message, n for its n-th retransmission. */
  retransmission: number;
  /** Which leg (index into the group's sessions) the message belongs to. */
  leg: number;
  callId: string;
  /** The message itself, for raw views. */
  raw: Buffer;
}

export interface Ladder {
  lifelines: Lifeline[];
  arrows: Arrow[];
  callIds: string[];
}

function userOf(addr: string | undefined): string {
  if (!addr) return '';
  return uriUser(parseNameAddr(addr).uri) ?? '';
}

/**
 * Lays out the messages of a call (or all legs of a B2BUA call) as a ladder: one lifeline per
 * endpoint in order of first appearance, the B2BUA in the middle; one arrow per message.
 */
export function buildLadder(g: SessionGroup): Ladder {
  const all = g.sessions.flatMap((s, leg) => s.observed.map((o) => ({ o, leg, callId: s.callId })));
  all.sort((x, y) => packetTime(x.o.packet) - packetTime(y.o.packet) || x.o.packet.meta.frame - y.o.packet.meta.frame);
  const index = new Map<string, number>();
  const lifelines: Lifeline[] = [];
  const roles = new Map<string, Set<string>>();
  const inviteIn = new Set<string>();
  const inviteOut = new Set<string>();
  const lifeline = (addr: string): number => {
    let i = index.get(addr);
    if (i === undefined) {
      i = lifelines.length;
      index.set(addr, i);
      lifelines.push({ address: addr, role: '' });
    }
    return i;
  };
  const note = (addr: string, user: string): void => {
    if (!user) return;
    const set = roles.get(addr) ?? new Set<string>();
    set.add(user);
    roles.set(addr, set);
  };
  const counts = new Map<string, number>();
  const arrows: Arrow[] = [];
  let prev: number | undefined;
  for (const { o, leg, callId } of all) {
    const p = o.packet;
    const m = p.msg;
    const src = hostPort(p.meta.src, p.meta.sport, p.meta.family);
    const dst = hostPort(p.meta.dst, p.meta.dport, p.meta.family);
    const from = lifeline(src);
    const to = lifeline(dst);
    if (m.isRequest && m.method === 'INVITE' && !m.toTag) {
      inviteOut.add(src);
      inviteIn.add(dst);
      note(src, userOf(m.get('contact')) || userOf(m.get('from')));
      note(dst, m.uri?.user ?? '');
    }
    const t = packetTime(p);
    let retransmission = 0;
    if (o.retransmission) {
      const key = `${callId}|${m.startLine}|${m.cseq?.seq}|${src}`;
      retransmission = (counts.get(key) ?? 0) + 1;
      counts.set(key, retransmission);
    }
    arrows.push({
      from,
      to,
      time: t,
      delta: prev === undefined ? 0 : t - prev,
      label: m.isRequest ? m.method : `${m.status} ${m.reason}`.trim(),
      isRequest: m.isRequest,
      sdp: m.hasSdp,
      retransmission,
      leg,
      callId,
      raw: m.raw,
    });
    prev = t;
  }
  for (const l of lifelines) {
    if (inviteIn.has(l.address) && inviteOut.has(l.address) && g.sessions.length > 1) l.role = 'B2BUA';
    else l.role = [...(roles.get(l.address) ?? [])].slice(0, 2).join('/');
  }
  return { lifelines, arrows, callIds: g.sessions.map((s) => s.callId) };
}
