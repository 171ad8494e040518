/**
 * Link-layer headers (https://www.tcpdump.org/linktypes.html). Each function answers with the
 * EtherType of what follows and where it starts, or a negative code when it cannot.
 */
import { u16be, u32be, u32le } from '../capture/bytes.js';

export const ETH_IPV4 = 0x0800;
export const ETH_IPV6 = 0x86dd;
export const ETH_VLAN = 0x8100;
export const ETH_QINQ = 0x88a8;
export const ETH_QINQ_OLD = 0x9100;
export const ETH_PPPOE = 0x8864;
export const ETH_MPLS = 0x8847;
export const ETH_MPLS_MC = 0x8848;
export const ETH_TEB = 0x6558;
export const ETH_ERSPAN2 = 0x88be;
export const ETH_ERSPAN3 = 0x22eb;

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_PPP = 9;
export const LINKTYPE_RAW_OLD = 12;
export const LINKTYPE_RAW_OLD2 = 14;
export const LINKTYPE_PPP_HDLC = 50;
export const LINKTYPE_PPP_ETHER = 51;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const LINKTYPE_NAMES: Record<number, string> = {
  0: 'NULL (BSD loopback)',
  1: 'Ethernet',
  9: 'PPP',
  12: 'raw IP',
  14: 'raw IP',
  50: 'PPP in HDLC',
  51: 'PPPoE',
  101: 'raw IP',
  108: 'LOOP (OpenBSD loopback)',
  113: 'Linux cooked (SLL)',
  228: 'IPv4',
  229: 'IPv6',
  276: 'Linux cooked v2 (SLL2)',
};

/** Pseudo EtherType meaning "an IP packet, version from its first nibble". */
export const ETH_IP_ANY = -2;
export const LINK_UNKNOWN = -1;
export const LINK_TRUNCATED = -3;

export interface LinkResult {
  type: number;
  offset: number;
}

/** BSD AF_INET6 differs between systems (24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin). */
function afToEthertype(af: number): number {
  if (af === 2) return ETH_IPV4;
  if (af === 24 || af === 28 || af === 30 || af === 10) return ETH_IPV6;
  return LINK_UNKNOWN;
}

/** PPP protocol numbers (RFC 1661) for IP. */
export function pppToEthertype(proto: number): number {
  if (proto === 0x0021) return ETH_IPV4;
  if (proto === 0x0057) return ETH_IPV6;
  return LINK_UNKNOWN;
}

export function linkHeader(linktype: number, buf: Buffer, out: LinkResult): void {
  out.offset = 0;
  switch (linktype) {
    case LINKTYPE_ETHERNET:
      if (buf.length < 14) return void (out.type = LINK_TRUNCATED);
      out.type = u16be(buf, 12);
      out.offset = 14;
      return;
    case LINKTYPE_LINUX_SLL:
      if (buf.length < 16) return void (out.type = LINK_TRUNCATED);
      out.type = u16be(buf, 14);
      out.offset = 16;
      return;
    case LINKTYPE_LINUX_SLL2:
      if (buf.length < 20) return void (out.type = LINK_TRUNCATED);
      out.type = u16be(buf, 0);
      out.offset = 20;
      return;
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_OLD:
    case LINKTYPE_RAW_OLD2:
      out.type = ETH_IP_ANY;
      return;
    case LINKTYPE_IPV4:
      out.type = ETH_IPV4;
      return;
    case LINKTYPE_IPV6:
      out.type = ETH_IPV6;
      return;
    case LINKTYPE_NULL: {
      if (buf.length < 4) return void (out.type = LINK_TRUNCATED);
      // Host byte order of the capturing machine: try both.
      const le = afToEthertype(u32le(buf, 0));
      out.type = le !== LINK_UNKNOWN ? le : afToEthertype(u32be(buf, 0));
      out.offset = 4;
      return;
    }
    case LINKTYPE_LOOP:
      if (buf.length < 4) return void (out.type = LINK_TRUNCATED);
      out.type = afToEthertype(u32be(buf, 0));
      out.offset = 4;
      return;
    case LINKTYPE_PPP_ETHER:
      // PPPoE session header (RFC 2516) with no Ethernet header before it.
      out.type = ETH_PPPOE;
      return;
    case LINKTYPE_PPP:
    case LINKTYPE_PPP_HDLC: {
      // Optional HDLC address/control bytes 0xff 0x03 before the protocol field.
      const o = buf[0] === 0xff && buf[1] === 0x03 ? 2 : 0;
      if (buf.length < o + 2) return void (out.type = LINK_TRUNCATED);
      out.type = pppToEthertype(u16be(buf, o));
      out.offset = o + 2;
      return;
    }
    default:
      out.type = LINK_UNKNOWN;
  }
}
