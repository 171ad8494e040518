import { ETH_ERSPAN2, ETH_ERSPAN3, ETH_IP_ANY, ETH_TEB, LINK_UNKNOWN, pppToEthertype, type LinkResult } from './link.js';

/** Pseudo EtherType: an Ethernet frame follows (transparent bridging, ERSPAN, VXLAN). */
export const ETH_FRAME = -10;

/**
 * GRE (RFC 2784/2890, and the enhanced GRE of PPTP, RFC 2637 §4.1) and the ERSPAN headers some
 * switches mirror traffic in. Answers what follows the GRE header and where.
 */
export function greHeader(buf: Buffer, off: number, end: number, out: LinkResult): void {
  out.type = LINK_UNKNOWN;
  if (end - off < 4) return;
  const flags = buf.readUInt16BE(off);
  let proto = buf.readUInt16BE(off + 2);
  const version = flags & 0x7;
  let p = off + 4;
  if (flags & 0xc000) p += 4; // checksum (+ offset) present if C or R
  if (flags & 0x2000) p += 4; // key
  const hasSeq = (flags & 0x1000) !== 0;
  if (hasSeq) p += 4;
  if (version === 1 && flags & 0x0080) p += 4; // PPTP acknowledgment number
  if (p > end) return;
  if (version === 1) {
    if (proto !== 0x880b) return;
    const o = buf[p] === 0xff && buf[p + 1] === 0x03 ? 2 : 0;
    if (p + o + 2 > end) return;
    out.type = pppToEthertype(buf.readUInt16BE(p + o));
    out.offset = p + o + 2;
    return;
  }
  if (proto === ETH_TEB) {
    out.type = ETH_FRAME;
    out.offset = p;
    return;
  }
  if (proto === ETH_ERSPAN2) {
    // Type I has no sequence number and no ERSPAN header; type II has both.
    out.type = ETH_FRAME;
    out.offset = hasSeq ? p + 8 : p;
    return;
  }
  if (proto === ETH_ERSPAN3) {
    if (p + 12 > end) return;
    const hasPlatform = (buf[p + 11]! & 0x01) !== 0;
    out.type = ETH_FRAME;
    out.offset = p + 12 + (hasPlatform ? 8 : 0);
    return;
  }
  if (proto === 0x0800 || proto === 0x86dd) {
    out.type = proto;
    out.offset = p;
    return;
  }
  proto = LINK_UNKNOWN;
  out.type = proto;
}

/** VXLAN (RFC 7348): an 8-byte header with the I flag set, then an Ethernet frame. */
export function isVxlan(buf: Buffer, off: number, end: number): boolean {
  return end - off >= 8 + 14 && (buf[off]! & 0x08) !== 0;
}

/**
 * GTP-U (3GPP TS 29.281): version 1, message type 255 (G-PDU) carries a user IP packet after
 * the mandatory 8 bytes, the optional 4 and any extension headers.
 */
export function gtpuHeader(buf: Buffer, off: number, end: number, out: LinkResult): void {
  out.type = LINK_UNKNOWN;
  if (end - off < 8) return;
  const flags = buf[off]!;
  if (flags >> 5 !== 1 || (flags & 0x10) === 0 || buf[off + 1] !== 0xff) return;
  let p = off + 8;
  if (flags & 0x07) {
    if (p + 4 > end) return;
    let next = flags & 0x04 ? buf[p + 3]! : 0;
    p += 4;
    while (next !== 0) {
      if (p >= end) return;
      const len = buf[p]! * 4;
      if (len === 0 || p + len > end) return;
      next = buf[p + len - 1]!;
      p += len;
    }
  }
  out.type = ETH_IP_ANY;
  out.offset = p;
}
