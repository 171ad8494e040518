import { isIPv6 } from 'node:net';

/**
 * Building frames: Ethernet, IPv4/IPv6, UDP and TCP with correct lengths and checksums. Used to
 * write captures of messages that were sent or received through sockets (the responder's
 * --record) and by tests to build captures.
 */
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;

export function ethernetHeader(ethertype: number, dstMac = Buffer.alloc(6), srcMac = Buffer.alloc(6)): Buffer {
  const h = Buffer.alloc(14);
  dstMac.copy(h, 0);
  srcMac.copy(h, 6);
  h.writeUInt16BE(ethertype, 12);
  return h;
}

export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !(n >= 0 && n <= 255))) throw new Error(`not an IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

export function ipv6Bytes(ip: string): Buffer {
  const addr = ip.replace(/^\[|\]$/g, '');
  if (!isIPv6(addr)) throw new Error(`not an IPv6 address: ${ip}`);
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const words = (s: string | undefined): number[] => {
    if (!s) return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (part.includes('.')) {
        const v4 = ipv4Bytes(part);
        out.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
      } else out.push(parseInt(part, 16));
    }
    return out;
  };
  const h = words(head);
  const t = words(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  all.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

/** Internet checksum (RFC 1071) over several buffers. */
export function checksum(parts: Buffer[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      if (odd === undefined) odd = p[i]!;
      else {
        sum += (odd << 8) | p[i]!;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Fields {
  src: string;
  dst: string;
  proto: number;
  id?: number;
  ttl?: number;
  /** Set "more fragments". */
  more?: boolean;
  dontFragment?: boolean;
  /** Fragment offset in bytes (multiple of 8). */
  fragOffset?: number;
  /** IP options, padded to a multiple of 4 bytes. */
  options?: Buffer;
}

export function ipv4Header(f: Ipv4Fields, payloadLength: number): Buffer {
  const opts = f.options ?? Buffer.alloc(0);
  const optLen = (opts.length + 3) & ~3;
  const h = Buffer.alloc(20 + optLen);
  h[0] = 0x40 | ((20 + optLen) / 4);
  h.writeUInt16BE(h.length + payloadLength, 2);
  h.writeUInt16BE(f.id ?? 0, 4);
  h.writeUInt16BE((f.more ? 0x2000 : 0) | (f.dontFragment ? 0x4000 : 0) | ((f.fragOffset ?? 0) >> 3), 6);
  h[8] = f.ttl ?? 64;
  h[9] = f.proto;
  ipv4Bytes(f.src).copy(h, 12);
  ipv4Bytes(f.dst).copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(checksum([h]), 10);
  return h;
}

export function ipv6Header(src: string, dst: string, next: number, payloadLength: number, hopLimit = 64): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(payloadLength, 4);
  h[6] = next;
  h[7] = hopLimit;
  ipv6Bytes(src).copy(h, 8);
  ipv6Bytes(dst).copy(h, 24);
  return h;
}

function pseudoHeader(src: string, dst: string, proto: number, length: number): Buffer {
  if (src.includes(':')) {
    const p = Buffer.alloc(40);
    ipv6Bytes(src).copy(p, 0);
    ipv6Bytes(dst).copy(p, 16);
    p.writeUInt32BE(length, 32);
    p[39] = proto;
    return p;
  }
  const p = Buffer.alloc(12);
  ipv4Bytes(src).copy(p, 0);
  ipv4Bytes(dst).copy(p, 4);
  p[9] = proto;
  p.writeUInt16BE(length, 10);
  return p;
}

export function udpSegment(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  const sum = checksum([pseudoHeader(src, dst, 17, 8 + payload.length), h, payload]);
  h.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  return Buffer.concat([h, payload]);
}

export interface TcpFields {
  seq: number;
  ack?: number;
  /** FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10. */
  flags?: number;
  window?: number;
}

export function tcpSegment(src: string, dst: string, sport: number, dport: number, f: TcpFields, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(f.seq >>> 0, 4);
  h.writeUInt32BE((f.ack ?? 0) >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = f.flags ?? 0x18;
  h.writeUInt16BE(f.window ?? 65535, 14);
  h.writeUInt16BE(checksum([pseudoHeader(src, dst, 6, 20 + payload.length), h, payload]), 16);
  return Buffer.concat([h, payload]);
}

/** An IP packet (v4 or v6 by the address form) around a transport segment. */
export function ipPacket(src: string, dst: string, proto: number, segment: Buffer, id = 0): Buffer {
  if (src.includes(':')) return Buffer.concat([ipv6Header(src, dst, proto, segment.length), segment]);
  return Buffer.concat([ipv4Header({ src, dst, proto, id }, segment.length), segment]);
}

/** An Ethernet frame carrying one UDP datagram. */
export function udpFrame(src: string, dst: string, sport: number, dport: number, payload: Buffer, id = 0): Buffer {
  const ip = ipPacket(src, dst, 17, udpSegment(src, dst, sport, dport, payload), id);
  return Buffer.concat([ethernetHeader(src.includes(':') ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4), ip]);
}

/** An Ethernet frame carrying one TCP segment. */
export function tcpFrame(src: string, dst: string, sport: number, dport: number, f: TcpFields, payload: Buffer, id = 0): Buffer {
  const ip = ipPacket(src, dst, 6, tcpSegment(src, dst, sport, dport, f, payload), id);
  return Buffer.concat([ethernetHeader(src.includes(':') ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4), ip]);
}
