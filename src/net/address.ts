import { u16be, u32be } from '../capture/bytes.js';

const DEC: string[] = Array.from({ length: 256 }, (_, i) => String(i));

/**
 * Addresses repeat on every packet of a capture: each one is made into a string once and then
 * shared (the model keeps packets by the thousand). Bounded: the cache starts over when full.
 */
const V4_CACHE = new Map<number, string>();
const V4_CACHE_MAX = 65536;

export function ipv4String(buf: Buffer, off: number): string {
  const key = u32be(buf, off);
  let s = V4_CACHE.get(key);
  if (s === undefined) {
    if (V4_CACHE.size >= V4_CACHE_MAX) V4_CACHE.clear();
    s = `${DEC[buf[off]!]}.${DEC[buf[off + 1]!]}.${DEC[buf[off + 2]!]}.${DEC[buf[off + 3]!]}`;
    V4_CACHE.set(key, s);
  }
  return s;
}

/** IPv6 text form of RFC 5952: lower case, leading zeros dropped, longest zero run as `::`. */
export function ipv6String(buf: Buffer, off: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(u16be(buf, off + i * 2));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // An IPv4-mapped address keeps its dotted tail (::ffff:a.b.c.d).
  if (bestStart === 0 && bestLen === 5 && words[5] === 0xffff) return `::ffff:${ipv4String(buf, off + 12)}`;
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
