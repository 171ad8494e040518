/** Transport that carried a SIP message, as SIP's Via names it (RFC 3261 §18, RFC 7118 for WS). */
export type Transport = 'UDP' | 'TCP' | 'TLS' | 'SCTP' | 'WS' | 'WSS';

/** Where a transport payload came from: the frame that completed it and its addresses. */
export interface PacketMeta {
  tsSec: number;
  tsNsec: number;
  /** Frame number (1-based) that completed this payload. */
  frame: number;
  /** Byte offset of that frame's record in the capture, -1 when live. */
  offset: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** 4 or 6: IPv6 addresses are shown in brackets with a port. */
  family: 4 | 6;
}

export interface TcpSegment extends PacketMeta {
  seq: number;
  flags: number;
  payload: Buffer;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;

/** What the network layer hands up: datagrams (UDP, SCTP DATA, HEP-carried) and TCP segments. */
export interface TransportHandler {
  datagram(meta: PacketMeta, transport: Transport, payload: Buffer): void;
  segment(seg: TcpSegment): void;
}

export function hostPort(ip: string, port: number, family: 4 | 6): string {
  return family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
