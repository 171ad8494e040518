import { u16be, u32be } from '../capture/bytes.js';
import type { Frame } from '../capture/types.js';
import { ipv4String, ipv6String } from './address.js';
import type { Counters } from './counters.js';
import { Reassembler } from './fragments.js';
import { decodeHep, looksLikeHep } from './hep.js';
import {
  ETH_IPV4, ETH_IPV6, ETH_IP_ANY, ETH_MPLS, ETH_MPLS_MC, ETH_PPPOE, ETH_QINQ, ETH_QINQ_OLD, ETH_VLAN,
  LINK_TRUNCATED, LINK_UNKNOWN, linkHeader, pppToEthertype, type LinkResult,
} from './link.js';
import type { PacketMeta, TransportHandler } from './packet.js';
import { ETH_FRAME, greHeader, gtpuHeader, isVxlan } from './tunnels.js';

const PROTO_ICMP = 1;
const PROTO_IPIP = 4;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_IPV6 = 41;
const PROTO_GRE = 47;
const PROTO_ICMPV6 = 58;
const PROTO_SCTP = 132;
/** Tunnels inside tunnels are legal but a hostile packet could nest them forever. */
const MAX_DEPTH = 8;

/**
 * Link → IP (with fragment reassembly) → UDP/TCP/SCTP, through the tunnels met in real
 * captures. Hands transport payloads to the handler; every frame that yields none is counted
 * under a drop reason.
 */
export class FrameDecoder {
  private readonly fragments: Reassembler;
  private readonly link: LinkResult = { type: 0, offset: 0 };
  private frame!: Frame;
  /** SCTP user messages being put back together, by association and stream. */
  private readonly sctpParts = new Map<string, Buffer[]>();
  /** Set by extensionHeaders(): the protocol after the headers it skipped. */
  private nextHeader = 0;

  constructor(
    private readonly handler: TransportHandler,
    private readonly counters: Counters,
  ) {
    this.fragments = new Reassembler(counters);
  }

  /**
   * A header that does not fit in the captured bytes: cut by the capture's snaplen when the frame
   * was longer on the wire than captured, else truncated as sent (or damaged).
   */
  private truncated(reason: 'truncated-link' | 'truncated-ip' | 'truncated-l4'): void {
    const f = this.frame;
    this.counters.drop(f.data.length < f.origLen ? 'snaplen-cut' : reason);
  }

  decode(frame: Frame): void {
    const c = this.counters;
    c.frames++;
    c.bytes += frame.data.length;
    c.linktype(frame.linktype);
    this.frame = frame;
    linkHeader(frame.linktype, frame.data, this.link);
    if (this.link.type === LINK_UNKNOWN && !(frame.linktype in KNOWN_LINK)) return c.drop('unknown-linktype');
    if (this.link.type === LINK_TRUNCATED) return this.truncated('truncated-link');
    this.ethertype(this.link.type, frame.data, this.link.offset, 0);
  }

  /** End of capture: fragments still waiting will never complete. */
  finish(): void {
    this.fragments.flush();
  }

  private ethernet(buf: Buffer, off: number, depth: number): void {
    if (buf.length - off < 14) return this.truncated('truncated-link');
    this.ethertype(u16be(buf, off + 12), buf, off + 14, depth);
  }

  private ethertype(type: number, buf: Buffer, off: number, depth: number): void {
    for (;;) {
      if (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) {
        if (buf.length - off < 4) return this.truncated('truncated-link');
        type = u16be(buf, off + 2);
        off += 4;
        continue;
      }
      if (type === ETH_PPPOE) {
        // PPPoE session header (RFC 2516) is 6 bytes, then the PPP protocol field.
        if (buf.length - off < 8) return this.truncated('truncated-link');
        this.counters.tunnel('pppoe');
        type = pppToEthertype(u16be(buf, off + 6));
        off += 8;
        continue;
      }
      if (type === ETH_MPLS || type === ETH_MPLS_MC) {
        // Label stack entries until the bottom-of-stack bit; the payload's first nibble says IPv4/6.
        while (buf.length - off >= 4 && (buf[off + 2]! & 0x01) === 0) off += 4;
        off += 4;
        this.counters.tunnel('mpls');
        type = ETH_IP_ANY;
        continue;
      }
      break;
    }
    if (type === ETH_IP_ANY) {
      if (off >= buf.length) return this.truncated('truncated-ip');
      const v = buf[off]! >> 4;
      type = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : LINK_UNKNOWN;
    }
    if (type === ETH_IPV4) return this.ipv4(buf, off, depth);
    if (type === ETH_IPV6) return this.ipv6(buf, off, depth);
    if (type === ETH_FRAME) return this.ethernet(buf, off, depth);
    this.counters.drop('non-ip');
  }

  private ipv4(buf: Buffer, off: number, depth: number): void {
    const c = this.counters;
    if (buf.length - off < 20) return this.truncated('truncated-ip');
    const vihl = buf[off]!;
    const ihl = (vihl & 0x0f) * 4;
    if (vihl >> 4 !== 4 || ihl < 20) return c.drop('bad-ip-header');
    const total = u16be(buf, off + 2);
    // TSO captures show total length 0; otherwise a length past the captured bytes was cut by snaplen.
    let end = total === 0 ? buf.length : off + total;
    if (end > buf.length) end = buf.length;
    if (end - off < ihl) return this.truncated('truncated-ip');
    c.ipv4++;
    const proto = buf[off + 9]!;
    const src = ipv4String(buf, off + 12);
    const dst = ipv4String(buf, off + 16);
    const fragField = u16be(buf, off + 6);
    const more = (fragField & 0x2000) !== 0;
    const fragOffset = (fragField & 0x1fff) * 8;
    if (more || fragOffset) {
      const whole = this.fragments.add(`4|${src}|${dst}|${u16be(buf, off + 4)}|${proto}`, fragOffset, more, buf.subarray(off + ihl, end), this.frame.tsSec);
      if (!whole) return;
      return this.l4(proto, whole, 0, whole.length, src, dst, 4, depth);
    }
    // In place: no view of the payload is made per packet.
    this.l4(proto, buf, off + ihl, end, src, dst, 4, depth);
  }

  private ipv6(buf: Buffer, off: number, depth: number): void {
    const c = this.counters;
    if (buf.length - off < 40) return this.truncated('truncated-ip');
    if (buf[off]! >> 4 !== 6) return c.drop('bad-ip-header');
    c.ipv6++;
    const plen = u16be(buf, off + 4);
    const end = plen === 0 ? buf.length : Math.min(buf.length, off + 40 + plen);
    let next = buf[off + 6]!;
    const src = ipv6String(buf, off + 8);
    const dst = ipv6String(buf, off + 24);
    // Extension headers (RFC 8200 §4) up to a fragment header: what follows that belongs to the
    // fragmentable part, which may itself start with more headers (destination options, AH).
    let p = this.extensionHeaders(buf, off + 40, end, next);
    if (p < 0) return this.truncated('truncated-ip');
    next = this.nextHeader;
    let payload = buf.subarray(p, end);
    if (next === 44) {
      if (end - p < 8) return this.truncated('truncated-ip');
      const field = u16be(buf, p + 2);
      const fragOffset = field & 0xfff8;
      const more = (field & 1) === 1;
      next = buf[p]!;
      payload = buf.subarray(p + 8, end);
      if (more || fragOffset) {
        const whole = this.fragments.add(`6|${src}|${dst}|${u32be(buf, p + 4)}`, fragOffset, more, payload, this.frame.tsSec);
        if (!whole) return;
        payload = whole;
      }
      p = this.extensionHeaders(payload, 0, payload.length, next);
      if (p < 0) return this.truncated('truncated-ip');
      next = this.nextHeader;
      payload = payload.subarray(p);
    }
    this.l4(next, payload, 0, payload.length, src, dst, 6, depth);
  }

  /**
   * Skips hop-by-hop, routing, destination-options and AH headers from `p`; stops at a fragment
   * header or the upper layer, whose protocol is left in `nextHeader`. -1 when they run past `end`.
   */
  private extensionHeaders(buf: Buffer, p: number, end: number, next: number): number {
    for (;;) {
      if (next === 0 || next === 43 || next === 60) {
        if (end - p < 8) return -1;
        const nh = buf[p]!;
        p += (buf[p + 1]! + 1) * 8;
        next = nh;
      } else if (next === 51) {
        if (end - p < 8) return -1;
        const nh = buf[p]!;
        p += (buf[p + 1]! + 2) * 4;
        next = nh;
      } else break;
      if (p > end) return -1;
    }
    this.nextHeader = next;
    return p;
  }

  private meta(src: string, dst: string, sport: number, dport: number, family: 4 | 6): PacketMeta {
    const f = this.frame;
    return { tsSec: f.tsSec, tsNsec: f.tsNsec, frame: f.index, offset: f.offset, src, dst, sport, dport, family };
  }

  private l4(proto: number, buf: Buffer, off: number, end: number, src: string, dst: string, family: 4 | 6, depth: number): void {
    const c = this.counters;
    switch (proto) {
      case PROTO_UDP: {
        if (end - off < 8) return this.truncated('truncated-l4');
        c.udp++;
        const sport = u16be(buf, off);
        const dport = u16be(buf, off + 2);
        const ulen = u16be(buf, off + 4);
        const pend = ulen >= 8 ? Math.min(end, off + ulen) : end;
        return this.udp(buf, off + 8, pend, this.meta(src, dst, sport, dport, family), depth);
      }
      case PROTO_TCP: {
        if (end - off < 20) return this.truncated('truncated-l4');
        c.tcp++;
        const hl = (buf[off + 12]! >> 4) * 4;
        if (hl < 20 || off + hl > end) return this.truncated('truncated-l4');
        const m = this.meta(src, dst, u16be(buf, off), u16be(buf, off + 2), family);
        this.handler.segment({ ...m, seq: u32be(buf, off + 4), flags: buf[off + 13]!, payload: buf.subarray(off + hl, end) });
        return;
      }
      case PROTO_SCTP:
        c.sctp++;
        return this.sctp(buf, off, end, src, dst, family);
      case PROTO_ICMP:
      case PROTO_ICMPV6:
        // An ICMP error quotes the datagram that caused it: that quote is not a new SIP message.
        return c.drop('icmp');
      case PROTO_IPIP:
      case PROTO_IPV6:
        if (depth >= MAX_DEPTH) return c.drop('tunnel-unsupported');
        c.tunnel(proto === PROTO_IPIP ? 'ip-in-ip' : 'ipv6-in-ip');
        return proto === PROTO_IPIP ? this.ipv4(buf.subarray(off, end), 0, depth + 1) : this.ipv6(buf.subarray(off, end), 0, depth + 1);
      case PROTO_GRE: {
        if (depth >= MAX_DEPTH) return c.drop('tunnel-unsupported');
        const r: LinkResult = { type: 0, offset: 0 };
        greHeader(buf, off, end, r);
        if (r.type === LINK_UNKNOWN) return c.drop('tunnel-unsupported');
        c.tunnel('gre');
        return this.ethertype(r.type, buf.subarray(0, end), r.offset, depth + 1);
      }
      default:
        return c.drop('other-l4');
    }
  }

  private udp(buf: Buffer, off: number, end: number, meta: PacketMeta, depth: number): void {
    const c = this.counters;
    if ((meta.dport === 4789 || meta.dport === 8472) && depth < MAX_DEPTH && isVxlan(buf, off, end)) {
      c.tunnel('vxlan');
      return this.ethernet(buf.subarray(0, end), off + 8, depth + 1);
    }
    if ((meta.dport === 2152 || meta.sport === 2152) && depth < MAX_DEPTH) {
      const r: LinkResult = { type: 0, offset: 0 };
      gtpuHeader(buf, off, end, r);
      if (r.type !== LINK_UNKNOWN) {
        c.tunnel('gtp-u');
        return this.ethertype(r.type, buf.subarray(0, end), r.offset, depth + 1);
      }
    }
    const payload = buf.subarray(off, end);
    if (looksLikeHep(payload)) {
      const hep = decodeHep(payload, meta);
      if (!hep) return c.drop('hep-bad');
      c.hepPackets++;
      return this.handler.datagram(hep.meta, hep.transport, hep.payload);
    }
    this.handler.datagram(meta, 'UDP', payload);
  }

  /** SCTP (RFC 9260): common header, then chunks; only DATA chunks (type 0) carry SIP. */
  private sctp(buf: Buffer, off: number, end: number, src: string, dst: string, family: 4 | 6): void {
    const c = this.counters;
    if (end - off < 12) return this.truncated('truncated-l4');
    const meta = this.meta(src, dst, u16be(buf, off), u16be(buf, off + 2), family);
    let found = false;
    for (let p = off + 12; p + 4 <= end; ) {
      const type = buf[p]!;
      const len = u16be(buf, p + 2);
      if (len < 4 || p + len > end) break;
      if (type === 0 && len > 16) {
        found = true;
        this.sctpData(meta, buf[p + 1]!, u16be(buf, p + 8), buf.subarray(p + 16, p + len));
      } else if (type === 64 && len > 20) {
        found = true; // I-DATA (RFC 8260)
        this.sctpData(meta, buf[p + 1]!, u16be(buf, p + 8), buf.subarray(p + 20, p + len));
      }
      p += (len + 3) & ~3;
    }
    if (!found) c.drop('sctp-not-data');
  }

  /**
   * A user message split over several DATA chunks (RFC 9260 §3.3.1: B flag on the first, E on
   * the last) is put back together per association and stream, in arrival order, bounded.
   */
  private sctpData(meta: PacketMeta, flags: number, stream: number, data: Buffer): void {
    const begin = (flags & 0x02) !== 0;
    const end = (flags & 0x01) !== 0;
    if (begin && end) return this.handler.datagram(meta, 'SCTP', data);
    const key = `${meta.src}|${meta.sport}|${meta.dst}|${meta.dport}|${stream}`;
    let parts = this.sctpParts.get(key);
    if (begin || !parts) {
      if (!begin) return this.counters.drop('sctp-not-data'); // a middle piece without its start
      parts = [];
      if (this.sctpParts.size >= 1024) {
        this.sctpParts.delete(this.sctpParts.keys().next().value as string);
        this.counters.drop('fragment-overflow');
      }
      this.sctpParts.set(key, parts);
    }
    parts.push(Buffer.from(data));
    const size = parts.reduce((n, b) => n + b.length, 0);
    if (size > 1 << 20) {
      this.sctpParts.delete(key);
      return this.counters.drop('fragment-overflow');
    }
    if (end) {
      this.sctpParts.delete(key);
      this.handler.datagram(meta, 'SCTP', Buffer.concat(parts, size));
    }
  }
}

const KNOWN_LINK: Record<number, true> = { 0: true, 1: true, 9: true, 12: true, 14: true, 50: true, 51: true, 101: true, 108: true, 113: true, 228: true, 229: true, 276: true };
