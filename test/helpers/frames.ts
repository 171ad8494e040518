/**
 * Test-only frame builders beyond what src/net/encode.ts offers: link headers (VLAN/QinQ, SLL,
 * SLL2, NULL, LOOP, PPP, PPPoE, MPLS), tunnels (GRE and its variants, ERSPAN, VXLAN, GTP-U),
 * IPv4 options and fragments, IPv6 extension headers and fragments, SCTP, ICMP errors, HEP v2/v3,
 * WebSocket frames and TLS records; plus SIP messages, a seeded RNG and a runner that puts
 * frames through SipExtractor. Ethernet/IP/UDP/TCP themselves come from src/net/encode.ts.
 */
import type { Frame } from '../../src/capture/types.js';
import {
  checksum, ethernetHeader, ipPacket, ipv4Bytes, ipv4Header, ipv6Bytes, ipv6Header, tcpSegment, udpSegment,
  type Ipv4Fields, type TcpFields,
} from '../../src/net/encode.js';
import type { Counters } from '../../src/net/counters.js';
import { SipExtractor, type SipPacket } from '../../src/sip/extractor.js';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_VLAN = 0x8100;
export const ETH_QINQ = 0x88a8;
export const ETH_PPPOE = 0x8864;
export const ETH_MPLS = 0x8847;
export const PROTO_ICMP = 1;
export const PROTO_IPIP = 4;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_IPV6 = 41;
export const PROTO_GRE = 47;
export const PROTO_ICMPV6 = 58;
export const PROTO_SCTP = 132;

export const T0 = 1_700_000_000;

// ---------------------------------------------------------------------------------------------
// SIP messages

export interface SipOpts {
  cseq?: number;
  body?: string;
  /** Write Content-Length in its compact form `l:`. */
  compactLength?: boolean;
  /** Leave Content-Length out altogether. */
  noContentLength?: boolean;
  transport?: string;
  branch?: string;
  fromTag?: string;
  toTag?: string;
  extra?: string[];
}

function sipHeaders(callId: string, cseqMethod: string, o: SipOpts): string[] {
  const body = o.body ?? '';
  const h = [
    `Via: SIP/2.0/${o.transport ?? 'UDP'} 192.0.2.10:5060;branch=${o.branch ?? `z9hG4bK-${callId}-${o.cseq ?? 1}`}`,
    'Max-Forwards: 70',
    `From: "Alice" <sip:alice@example.com>;tag=${o.fromTag ?? 'a1'}`,
    `To: <sip:bob@example.com>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${callId}`,
    `CSeq: ${o.cseq ?? 1} ${cseqMethod}`,
    'Contact: <sip:alice@192.0.2.10:5060>',
    ...(o.extra ?? []),
  ];
  if (body) h.push('Content-Type: application/sdp');
  if (!o.noContentLength) h.push(`${o.compactLength ? 'l' : 'Content-Length'}: ${Buffer.byteLength(body)}`);
  return h;
}

export function sipRequest(method: string, callId: string, o: SipOpts = {}): Buffer {
  const lines = [`${method} sip:bob@example.com SIP/2.0`, ...sipHeaders(callId, method, o)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${o.body ?? ''}`, 'utf8');
}

export function sipResponse(status: number, reason: string, callId: string, cseqMethod = 'INVITE', o: SipOpts = {}): Buffer {
  const lines = [`SIP/2.0 ${status} ${reason}`, ...sipHeaders(callId, cseqMethod, { toTag: 'b2', ...o })];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${o.body ?? ''}`, 'utf8');
}

export function sipInvite(callId: string, o: SipOpts = {}): Buffer {
  return sipRequest('INVITE', callId, o);
}

export function sipOk(callId: string, cseqMethod = 'INVITE', o: SipOpts = {}): Buffer {
  return sipResponse(200, 'OK', callId, cseqMethod, o);
}

/** An SDP body of roughly `size` bytes (padded with a=x- attributes). */
export function sdpBody(size = 200): string {
  let s = 'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\n';
  let i = 0;
  while (s.length < size) s += `a=x-pad${i++}:${'p'.repeat(40)}\r\n`;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Running frames through the pipeline

export function mkFrame(data: Buffer, linktype = 1, index = 1, tsSec = T0, tsNsec = 0): Frame {
  return { tsSec, tsNsec, linktype, data, origLen: data.length, index, offset: -1 };
}

/** Frames numbered from 1, one millisecond apart unless `stepNsec` says otherwise. */
export function mkFrames(datas: Buffer[], linktype = 1, o: { t0Sec?: number; stepNsec?: number } = {}): Frame[] {
  const step = o.stepNsec ?? 1_000_000;
  return datas.map((d, i) => {
    const ns = i * step;
    return mkFrame(d, linktype, i + 1, (o.t0Sec ?? T0) + Math.floor(ns / 1e9), ns % 1e9);
  });
}

export interface Extracted {
  packets: SipPacket[];
  counters: Counters;
  callIds: (string | undefined)[];
  /** `METHOD callid` or `status callid` per message, in order. */
  labels: string[];
  drop(reason: Parameters<Counters['drop']>[0]): number;
}

export function extract(frames: Iterable<Frame>): Extracted {
  const packets: SipPacket[] = [];
  const x = new SipExtractor((p) => packets.push(p));
  for (const f of frames) x.frame(f);
  x.finish();
  return {
    packets,
    counters: x.counters,
    callIds: packets.map((p) => p.msg.callId),
    labels: packets.map((p) => `${p.msg.isRequest ? p.msg.method : p.msg.status} ${p.msg.callId ?? '?'}`),
    drop: (reason) => x.counters.drops.get(reason) ?? 0,
  };
}

/** Shorthand: raw link-layer buffers (all of one link type) through the extractor. */
export function extractData(datas: Buffer[], linktype = 1): Extracted {
  return extract(mkFrames(datas, linktype));
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(rnd: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

/** Cuts `buf` into pieces of 1..maxPiece bytes (occasionally much smaller). */
export function randomSplit(buf: Buffer, rnd: () => number, maxPiece: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < buf.length; ) {
    const n = rnd() < 0.2 ? randInt(rnd, 1, 4) : randInt(rnd, 1, maxPiece);
    out.push(buf.subarray(off, Math.min(buf.length, off + n)));
    off += n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// IP

export function ipv4Packet(f: Ipv4Fields, payload: Buffer): Buffer {
  return Buffer.concat([ipv4Header(f, payload.length), payload]);
}

/** A UDP datagram in an IP packet (v4 or v6 by the address form). */
export function udpIp(src: string, dst: string, sport: number, dport: number, payload: Buffer, id = 0): Buffer {
  return ipPacket(src, dst, PROTO_UDP, udpSegment(src, dst, sport, dport, payload), id);
}

export function tcpIp(src: string, dst: string, sport: number, dport: number, f: TcpFields, payload: Buffer): Buffer {
  return ipPacket(src, dst, PROTO_TCP, tcpSegment(src, dst, sport, dport, f, payload));
}

export function ethernet(ethertype: number, payload: Buffer): Buffer {
  return Buffer.concat([ethernetHeader(ethertype), payload]);
}

/** Ethernet around an IP packet, EtherType from its version nibble. */
export function ethIp(ip: Buffer): Buffer {
  return ethernet(ip[0]! >> 4 === 6 ? ETH_IPV6 : ETH_IPV4, ip);
}

/** IPv4 router-alert option (RFC 2113) followed by NOP/EOL padding: 8 bytes. */
export const IPV4_OPTIONS = Buffer.from([0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00]);

/**
 * Cuts an IPv4 payload (transport header included) into fragments of `size` bytes (a multiple
 * of 8); returns whole IPv4 packets in order.
 */
export function ipv4Fragments(f: Omit<Ipv4Fields, 'more' | 'fragOffset'>, payload: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const piece = payload.subarray(off, off + size);
    out.push(ipv4Packet({ ...f, fragOffset: off, more: off + size < payload.length }, piece));
  }
  return out;
}

/** IPv6 extension header (hop-by-hop 0, routing 43, destination options 60): padded to 8n. */
export function ipv6Ext(next: number, body: Buffer): Buffer {
  const len = (2 + body.length + 7) & ~7;
  const h = Buffer.alloc(len);
  h[0] = next;
  h[1] = len / 8 - 1;
  body.copy(h, 2);
  // Remaining bytes are zero: Pad1 options.
  return h;
}

export function ipv6FragHeader(next: number, offset: number, more: boolean, id: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = next;
  h.writeUInt16BE((offset & 0xfff8) | (more ? 1 : 0), 2);
  h.writeUInt32BE(id >>> 0, 4);
  return h;
}

/** An IPv6 packet whose headers chain: `exts` are [type, bytes] in order, then `proto` payload. */
export function ipv6Packet(src: string, dst: string, proto: number, payload: Buffer, exts: Array<[number, Buffer]> = []): Buffer {
  // Each extension's own next-header byte must name what follows it.
  const parts: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const b = Buffer.from(exts[i]![1]);
    b[0] = i + 1 < exts.length ? exts[i + 1]![0] : proto;
    parts.push(b);
  }
  const rest = Buffer.concat([...parts, payload]);
  return Buffer.concat([ipv6Header(src, dst, exts.length ? exts[0]![0] : proto, rest.length), rest]);
}

/** IPv6 fragments of an upper-layer payload (`size` a multiple of 8), in order. */
export function ipv6Fragments(src: string, dst: string, proto: number, payload: Buffer, size: number, id: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const piece = payload.subarray(off, off + size);
    out.push(ipv6Packet(src, dst, proto, piece, [[44, ipv6FragHeader(proto, off, off + size < payload.length, id)]]));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Link layers

/** 802.1Q / 802.1ad tag body: TCI (PCP, DEI, VID) then the next EtherType. */
export function vlanTag(vid: number, next: number, pcp = 0): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(((pcp & 7) << 13) | (vid & 0x0fff), 0);
  b.writeUInt16BE(next, 2);
  return b;
}

/** Ethernet with stacked tags: `tags` outermost first, each with its TPID. */
export function ethernetTagged(tags: Array<{ tpid: number; vid: number }>, ethertype: number, payload: Buffer): Buffer {
  const parts: Buffer[] = [ethernetHeader(tags.length ? tags[0]!.tpid : ethertype)];
  for (let i = 0; i < tags.length; i++) parts.push(vlanTag(tags[i]!.vid, i + 1 < tags.length ? tags[i + 1]!.tpid : ethertype));
  parts.push(payload);
  return Buffer.concat(parts);
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 16 bytes). */
export function sllHeader(protocol: number, packetType = 0): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(packetType, 0);
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  Buffer.from([0x02, 0, 0, 0, 0, 0x01]).copy(h, 6);
  h.writeUInt16BE(protocol, 14);
  return h;
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 20 bytes). */
export function sll2Header(protocol: number, ifindex = 2): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(ifindex, 4);
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[10] = 4; // PACKET_OUTGOING
  h[11] = 6;
  Buffer.from([0x02, 0, 0, 0, 0, 0x01]).copy(h, 12);
  return h;
}

/** BSD loopback (LINKTYPE_NULL): the address family in the capturing host's byte order. */
export function nullHeader(af: number, endian: 'le' | 'be'): Buffer {
  const h = Buffer.alloc(4);
  if (endian === 'le') h.writeUInt32LE(af);
  else h.writeUInt32BE(af);
  return h;
}

/** OpenBSD loopback (LINKTYPE_LOOP): the address family in network byte order. */
export function loopHeader(af: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(af);
  return h;
}

/** PPP header: optional HDLC address/control (ff 03), then the protocol (0x0021 IPv4, 0x0057 IPv6). */
export function pppHeader(proto: number, hdlc = true): Buffer {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(proto);
  return hdlc ? Buffer.concat([Buffer.from([0xff, 0x03]), p]) : p;
}

/** PPPoE session stage (RFC 2516) around an IP packet, as an EtherType 0x8864 payload. */
export function pppoeSession(session: number, ip: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x11; // version 1, type 1
  h[1] = 0x00; // code: session data
  h.writeUInt16BE(session, 2);
  h.writeUInt16BE(ip.length + 2, 4);
  h.writeUInt16BE(ip[0]! >> 4 === 6 ? 0x0057 : 0x0021, 6);
  return Buffer.concat([h, ip]);
}

/** MPLS label stack (bottom-of-stack set on the last) before `payload`. */
export function mplsStack(labels: number[], payload: Buffer): Buffer {
  const h = Buffer.alloc(labels.length * 4);
  labels.forEach((label, i) => {
    const bos = i === labels.length - 1 ? 1 : 0;
    h.writeUInt32BE(((label & 0xfffff) << 12 | (bos << 8) | 64) >>> 0, i * 4);
  });
  return Buffer.concat([h, payload]);
}

// ---------------------------------------------------------------------------------------------
// Tunnels

export interface GreOpts {
  proto: number;
  checksum?: boolean;
  key?: number;
  seq?: number;
  /** 1: enhanced GRE of PPTP (key = payload length + call id, optional ack). */
  version?: 0 | 1;
  ack?: number;
}

/** A GRE header (RFC 2784/2890, or PPTP's RFC 2637 §4.1) followed by `payload`. */
export function gre(o: GreOpts, payload: Buffer): Buffer {
  let flags = o.version ?? 0;
  const fields: Buffer[] = [];
  const word = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return b;
  };
  if (o.checksum) {
    flags |= 0x8000;
    fields.push(Buffer.alloc(4)); // filled below
  }
  if (o.version === 1) {
    flags |= 0x2000;
    fields.push(word(((payload.length & 0xffff) << 16) | ((o.key ?? 0) & 0xffff)));
  } else if (o.key !== undefined) {
    flags |= 0x2000;
    fields.push(word(o.key));
  }
  if (o.seq !== undefined) {
    flags |= 0x1000;
    fields.push(word(o.seq));
  }
  if (o.version === 1 && o.ack !== undefined) {
    flags |= 0x0080;
    fields.push(word(o.ack));
  }
  const h = Buffer.alloc(4);
  h.writeUInt16BE(flags, 0);
  h.writeUInt16BE(o.proto, 2);
  const out = Buffer.concat([h, ...fields, payload]);
  if (o.checksum) out.writeUInt16BE(checksum([out]), 4);
  return out;
}

/** ERSPAN type I: GRE 0x88be with no sequence number and no ERSPAN header. */
export function erspanI(frame: Buffer): Buffer {
  return gre({ proto: 0x88be }, frame);
}

/** ERSPAN type II: GRE 0x88be with a sequence number, then an 8-byte ERSPAN header. */
export function erspanII(frame: Buffer, session = 7, seq = 1): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE((1 << 12) | 100, 0); // version 1 (type II), VLAN 100
  h.writeUInt16BE(session & 0x3ff, 2);
  return gre({ proto: 0x88be, seq }, Buffer.concat([h, frame]));
}

/** ERSPAN type III: GRE 0x22eb, a 12-byte header and (O flag) an 8-byte platform subheader. */
export function erspanIII(frame: Buffer, platform = false, session = 7, seq = 1): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE((2 << 12) | 100, 0); // version 2 (type III), VLAN 100
  h.writeUInt16BE(session & 0x3ff, 2);
  h.writeUInt32BE(0x12345678, 4); // timestamp
  h[11] = platform ? 0x01 : 0x00;
  const sub = platform ? Buffer.from([0x08, 0, 0, 0, 0, 0, 0, 0x2a]) : Buffer.alloc(0);
  return gre({ proto: 0x22eb, seq }, Buffer.concat([h, sub, frame]));
}

/** VXLAN header (RFC 7348, I flag set) before an Ethernet frame: the payload of UDP to 4789. */
export function vxlan(vni: number, frame: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 0x08;
  h.writeUInt32BE((vni << 8) >>> 0, 4);
  return Buffer.concat([h, frame]);
}

/** GTP-U G-PDU (TS 29.281) around an IP packet; `ext` adds a PDU session container extension. */
export function gtpu(teid: number, ip: Buffer, o: { seq?: number; ext?: boolean } = {}): Buffer {
  const opt = o.seq !== undefined || o.ext;
  const h = Buffer.alloc(opt ? 12 : 8);
  h[0] = 0x30 | (o.seq !== undefined ? 0x02 : 0) | (o.ext ? 0x04 : 0);
  h[1] = 0xff;
  h.writeUInt32BE(teid >>> 0, 4);
  let ext = Buffer.alloc(0);
  if (opt) {
    h.writeUInt16BE(o.seq ?? 0, 8);
    if (o.ext) {
      h[11] = 0x85; // PDU session container
      ext = Buffer.from([0x01, 0x10, 0x09, 0x00]); // 4 bytes, next extension type 0
    }
  }
  h.writeUInt16BE(h.length - 8 + ext.length + ip.length, 2);
  return Buffer.concat([h, ext, ip]);
}

// ---------------------------------------------------------------------------------------------
// SCTP

/** A DATA chunk (RFC 9260 §3.3.1), unpadded; sctpPacket pads. `idata` makes an I-DATA (RFC 8260). */
export function sctpDataChunk(payload: Buffer, tsn: number, o: { stream?: number; ssn?: number; ppid?: number; idata?: boolean } = {}): Buffer {
  if (o.idata) {
    const h = Buffer.alloc(20);
    h[0] = 64;
    h[1] = 0x03;
    h.writeUInt16BE(20 + payload.length, 2);
    h.writeUInt32BE(tsn >>> 0, 4);
    h.writeUInt16BE(o.stream ?? 0, 8);
    h.writeUInt32BE(0, 12); // MID
    h.writeUInt32BE(o.ppid ?? 0, 16);
    return Buffer.concat([h, payload]);
  }
  const h = Buffer.alloc(16);
  h[0] = 0; // DATA
  h[1] = 0x03; // B and E: unfragmented
  h.writeUInt16BE(16 + payload.length, 2);
  h.writeUInt32BE(tsn >>> 0, 4);
  h.writeUInt16BE(o.stream ?? 0, 8);
  h.writeUInt16BE(o.ssn ?? 0, 10);
  h.writeUInt32BE(o.ppid ?? 0, 12);
  return Buffer.concat([h, payload]);
}

/** A SACK chunk (no gap blocks). */
export function sctpSackChunk(cumTsn: number): Buffer {
  const h = Buffer.alloc(16);
  h[0] = 3;
  h.writeUInt16BE(16, 2);
  h.writeUInt32BE(cumTsn >>> 0, 4);
  h.writeUInt32BE(65535, 8);
  return h;
}

/**
 * SCTP common header and chunks, each padded to 4. The CRC32c checksum is left zero: the
 * decoder does not verify it.
 */
export function sctpPacket(sport: number, dport: number, chunks: Buffer[], vtag = 0x01020304): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(vtag >>> 0, 4);
  const parts: Buffer[] = [h];
  for (const c of chunks) parts.push(c, Buffer.alloc(((c.length + 3) & ~3) - c.length));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// ICMP

/** ICMP (v4) error quoting `quoted` (normally the offending IP header + at least 8 bytes). */
export function icmpError(type: number, code: number, quoted: Buffer): Buffer {
  const b = Buffer.concat([Buffer.from([type, code, 0, 0, 0, 0, 0, 0]), quoted]);
  b.writeUInt16BE(checksum([b]), 2);
  return b;
}

/** ICMPv6 destination unreachable (type 1, code 4 port unreachable). Checksum left zero. */
export function icmpv6Error(quoted: Buffer): Buffer {
  return Buffer.concat([Buffer.from([1, 4, 0, 0, 0, 0, 0, 0]), quoted]);
}

// ---------------------------------------------------------------------------------------------
// HEP

export interface HepFields {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** IP protocol of the captured packet: 17 UDP (default), 6 TCP, 132 SCTP. */
  proto?: number;
  tsSec?: number;
  tsUsec?: number;
  captureId?: number;
}

/**
 * HEP v1/v2 as captagent and Kamailio's siptrace send it: an 8-byte header, the addresses, whose
 * length is the header's length byte; v2 then adds a 12-byte time header (tv_sec, tv_usec,
 * capture id, padding) in the sender's byte order (little-endian here), then the payload.
 */
export function hepV2(f: HepFields, payload: Buffer, version: 1 | 2 = 2): Buffer {
  const v6 = f.src.includes(':');
  const addrs = v6 ? Buffer.concat([ipv6Bytes(f.src), ipv6Bytes(f.dst)]) : Buffer.concat([ipv4Bytes(f.src), ipv4Bytes(f.dst)]);
  const h = Buffer.alloc(8);
  h[0] = version;
  h[1] = 8 + addrs.length;
  h[2] = v6 ? 10 : 2;
  h[3] = f.proto ?? 17;
  h.writeUInt16BE(f.sport, 4);
  h.writeUInt16BE(f.dport, 6);
  const parts: Buffer[] = [h, addrs];
  if (version === 2) {
    const t = Buffer.alloc(12);
    t.writeUInt32LE(f.tsSec ?? 0, 0);
    t.writeUInt32LE(f.tsUsec ?? 0, 4);
    t.writeUInt16LE(f.captureId ?? 0, 8);
    parts.push(t);
  }
  parts.push(payload);
  return Buffer.concat(parts);
}

/** One HEP3 chunk: vendor, type, length (header included), value. */
export function hepChunk(vendor: number, type: number, value: Buffer): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt16BE(vendor, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt16BE(6 + value.length, 4);
  return Buffer.concat([h, value]);
}

function u8(v: number): Buffer {
  return Buffer.from([v]);
}
function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

/** HEP3 (EEP v3): "HEP3", total length, chunks. `before`/`after` add chunks around the payload. */
export function hepV3(f: HepFields & { payloadType?: number; before?: Buffer[]; after?: Buffer[] }, payload: Buffer): Buffer {
  const v6 = f.src.includes(':');
  const chunks = [
    hepChunk(0, 1, u8(v6 ? 10 : 2)),
    hepChunk(0, 2, u8(f.proto ?? 17)),
    v6 ? hepChunk(0, 5, ipv6Bytes(f.src)) : hepChunk(0, 3, ipv4Bytes(f.src)),
    v6 ? hepChunk(0, 6, ipv6Bytes(f.dst)) : hepChunk(0, 4, ipv4Bytes(f.dst)),
    hepChunk(0, 7, u16(f.sport)),
    hepChunk(0, 8, u16(f.dport)),
    hepChunk(0, 9, u32(f.tsSec ?? 0)),
    hepChunk(0, 10, u32(f.tsUsec ?? 0)),
    hepChunk(0, 11, u8(f.payloadType ?? 1)),
    hepChunk(0, 12, u32(f.captureId ?? 2001)),
    ...(f.before ?? []),
    hepChunk(0, 15, payload),
    ...(f.after ?? []),
  ];
  const body = Buffer.concat(chunks);
  const h = Buffer.alloc(6);
  h.write('HEP3', 0, 'latin1');
  h.writeUInt16BE(6 + body.length, 4);
  return Buffer.concat([h, body]);
}

// ---------------------------------------------------------------------------------------------
// WebSocket and TLS

export interface WsFrameOpts {
  opcode?: number;
  fin?: boolean;
  /** A 4-byte key masks the payload (client to server); true picks a fixed key. */
  mask?: Buffer | boolean;
  /** Force a length form; default the shortest (7-bit below 126, 16-bit below 65536). */
  lengthForm?: 7 | 16 | 64;
  rsv?: number;
}

/** One WebSocket frame (RFC 6455 §5.2). */
export function wsFrame(payload: Buffer, o: WsFrameOpts = {}): Buffer {
  const form = o.lengthForm ?? (payload.length < 126 ? 7 : payload.length < 65536 ? 16 : 64);
  const key = o.mask === true ? Buffer.from([0x37, 0xfa, 0x21, 0x3d]) : o.mask ? o.mask : undefined;
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (o.opcode ?? 1)];
  const m = key ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (form === 7) head.push(m | payload.length);
  else if (form === 16) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(payload.length);
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(payload.length));
  }
  const body = Buffer.from(payload);
  if (key) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ key[i & 3]!;
  return Buffer.concat([Buffer.from(head), ext, key ?? Buffer.alloc(0), body]);
}

export function wsUpgradeRequest(host = 'sip.example.com'): Buffer {
  return Buffer.from(
    `GET /ws HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n',
    'latin1',
  );
}

export function wsUpgradeResponse(): Buffer {
  return Buffer.from(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n',
    'latin1',
  );
}

/** A TLS record (RFC 8446 §5.1): content type, legacy version, length, body. */
export function tlsRecord(contentType: number, body: Buffer, version = 0x0303): Buffer {
  const h = Buffer.alloc(5);
  h[0] = contentType;
  h.writeUInt16BE(version, 1);
  h.writeUInt16BE(body.length, 3);
  return Buffer.concat([h, body]);
}

/** A ClientHello-shaped handshake record (legacy version 3.1 on the record, as clients send). */
export function tlsClientHello(): Buffer {
  const hello = Buffer.concat([Buffer.from([0x03, 0x03]), Buffer.alloc(32, 0x5a), Buffer.from([0, 0, 2, 0x13, 0x01, 1, 0, 0, 0])]);
  const hs = Buffer.concat([Buffer.from([0x01, 0, 0, hello.length]), hello]);
  return tlsRecord(0x16, hs, 0x0301);
}

// ---------------------------------------------------------------------------------------------
// TCP conversations

/** One direction of a TCP connection that keeps its own sequence numbers. */
export class TcpDir {
  next: number;

  constructor(
    readonly src: string,
    readonly dst: string,
    readonly sport: number,
    readonly dport: number,
    readonly isn = 1000,
  ) {
    this.next = isn;
  }

  /** SYN (or SYN-ACK): takes one sequence number. */
  syn(): Buffer {
    const f = this.frame(Buffer.alloc(0), { seq: this.isn, flags: 0x02 });
    this.next = (this.isn + 1) >>> 0;
    return f;
  }

  /** Data at the current position (advancing it), or at an explicit `seq` (not advancing). */
  data(payload: Buffer, o: { seq?: number; flags?: number } = {}): Buffer {
    const seq = o.seq ?? this.next;
    if (o.seq === undefined) this.next = (this.next + payload.length) >>> 0;
    return this.frame(payload, { seq, flags: o.flags ?? 0x18 });
  }

  /** FIN (with optional data); takes one sequence number. */
  fin(payload: Buffer = Buffer.alloc(0)): Buffer {
    const f = this.frame(payload, { seq: this.next, flags: 0x11 });
    this.next = (this.next + payload.length + 1) >>> 0;
    return f;
  }

  /** Segments of `payload` cut at the given lengths (the last takes the rest), advancing. */
  segments(payload: Buffer, sizes: number[]): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    for (const n of sizes) {
      if (off >= payload.length) break;
      out.push(this.data(payload.subarray(off, off + n)));
      off += n;
    }
    if (off < payload.length) out.push(this.data(payload.subarray(off)));
    return out;
  }

  frame(payload: Buffer, f: TcpFields): Buffer {
    return ethIp(tcpIp(this.src, this.dst, this.sport, this.dport, f, payload));
  }
}
