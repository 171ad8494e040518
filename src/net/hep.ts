import { ipv4String, ipv6String } from './address.js';
import type { PacketMeta, Transport } from './packet.js';

/**
 * HEP (Homer Encapsulation Protocol) v2 and v3, as sent by captagent, heplify, Kamailio's
 * siptrace and FreeSWITCH. v3: "HEP3", total length, then chunks of (vendor, type, length,
 * value). v1/v2: a fixed header whose second byte is its own length.
 * We decode it ourselves: the npm `hep-js` package handles v3 only and hides errors.
 */
export interface HepResult {
  meta: PacketMeta;
  transport: Transport;
  payload: Buffer;
  /** Payload type chunk (1 = SIP); 0 when absent (v2 has none). */
  payloadType: number;
}

export function looksLikeHep(buf: Buffer): boolean {
  if (buf.length >= 6 && buf[0] === 0x48 && buf[1] === 0x45 && buf[2] === 0x50 && buf[3] === 0x33) return true; // "HEP3"
  // v1/v2: version, header length, family AF_INET(2)/AF_INET6(10), protocol UDP/TCP/SCTP.
  if (buf.length < 16 || (buf[0] !== 1 && buf[0] !== 2)) return false;
  const fam = buf[2];
  const proto = buf[3];
  const hl = buf[1]!;
  const want = fam === 2 ? 16 : fam === 10 ? 40 : -1;
  if (want < 0 || (proto !== 17 && proto !== 6 && proto !== 132)) return false;
  return hl === want || hl === want + (buf[0] === 2 ? 12 : 0) || hl === want + 10;
}

function transportOf(proto: number): Transport {
  return proto === 6 ? 'TCP' : proto === 132 ? 'SCTP' : 'UDP';
}

/** Decodes a HEP packet; `outer` supplies the time when the packet carries none. Undefined when damaged. */
export function decodeHep(buf: Buffer, outer: PacketMeta): HepResult | undefined {
  if (buf[0] === 0x48) return decodeV3(buf, outer);
  return decodeV2(buf, outer);
}

function decodeV3(buf: Buffer, outer: PacketMeta): HepResult | undefined {
  const total = Math.min(buf.readUInt16BE(4), buf.length);
  const meta: PacketMeta = { ...outer, src: '', dst: '', sport: 0, dport: 0, family: 4 };
  let proto = 17;
  let payload: Buffer | undefined;
  let payloadType = 0;
  let sec = -1;
  let usec = 0;
  for (let p = 6; p + 6 <= total; ) {
    const type = buf.readUInt16BE(p + 2);
    const len = buf.readUInt16BE(p + 4);
    if (len < 6 || p + len > total) return undefined;
    if (buf.readUInt16BE(p) !== 0) {
      p += len; // a vendor's own chunk: its type numbers are not the generic ones below
      continue;
    }
    const v = p + 6;
    const vlen = len - 6;
    switch (type) {
      case 1:
        meta.family = buf[v] === 10 ? 6 : 4;
        break;
      case 2:
        proto = buf[v]!;
        break;
      case 3:
        if (vlen >= 4) meta.src = ipv4String(buf, v);
        break;
      case 4:
        if (vlen >= 4) meta.dst = ipv4String(buf, v);
        break;
      case 5:
        if (vlen >= 16) meta.src = ipv6String(buf, v);
        break;
      case 6:
        if (vlen >= 16) meta.dst = ipv6String(buf, v);
        break;
      case 7:
        if (vlen >= 2) meta.sport = buf.readUInt16BE(v);
        break;
      case 8:
        if (vlen >= 2) meta.dport = buf.readUInt16BE(v);
        break;
      case 9:
        if (vlen >= 4) sec = buf.readUInt32BE(v);
        break;
      case 10:
        if (vlen >= 4) usec = buf.readUInt32BE(v);
        break;
      case 11:
        payloadType = buf[v]!;
        break;
      case 15:
        payload = buf.subarray(v, v + vlen);
        break;
      default:
        break;
    }
    p += len;
  }
  if (!payload || !meta.src || !meta.dst) return undefined;
  if (sec >= 0) {
    meta.tsSec = sec;
    meta.tsNsec = (usec % 1000000) * 1000;
  }
  return { meta, transport: transportOf(proto), payload, payloadType };
}

function decodeV2(buf: Buffer, outer: PacketMeta): HepResult | undefined {
  const version = buf[0]!;
  const hl = buf[1]!;
  const family = buf[2] === 10 ? 6 : 4;
  const meta: PacketMeta = { ...outer, sport: buf.readUInt16BE(4), dport: buf.readUInt16BE(6), family, src: '', dst: '' };
  const ipEnd = family === 4 ? 16 : 40;
  if (hl > buf.length || hl < ipEnd) return undefined;
  if (family === 4) {
    meta.src = ipv4String(buf, 8);
    meta.dst = ipv4String(buf, 12);
  } else {
    meta.src = ipv6String(buf, 8);
    meta.dst = ipv6String(buf, 24);
  }
  // v2 appends a time header (sec, usec, capture id; 12 bytes with padding, sender's byte order)
  // after the addresses. captagent and Kamailio's siptrace leave it out of the length byte, so
  // the payload starts after it; a length byte that already covers it is accepted too.
  let start = hl;
  if (version === 2) {
    if (hl === ipEnd) start += 12;
    if (start > buf.length) return undefined;
    meta.tsSec = buf.readUInt32LE(ipEnd);
    meta.tsNsec = (buf.readUInt32LE(ipEnd + 4) % 1000000) * 1000;
  }
  return { meta, transport: transportOf(buf[3]!), payload: buf.subarray(start), payloadType: 0 };
}
