import { hostPort, type PacketMeta } from '../net/index.js';

/** ISO 8601 UTC with microseconds: 2010-04-27T13:31:39.938891Z. */
export function isoMicros(sec: number, nsec: number): string {
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return `@${sec}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}`;
  return `${d.toISOString().slice(0, 19)}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}Z`;
}

export function srcOf(m: PacketMeta): string {
  return hostPort(m.src, m.sport, m.family);
}

export function dstOf(m: PacketMeta): string {
  return hostPort(m.dst, m.dport, m.family);
}

/** 1234567 → "1 234 567" for tables read by people. */
export function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}
