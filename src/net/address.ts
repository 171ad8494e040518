const DEC: string[] = Array.from({ length: 256 }, (_, i) => String(i));

export function ipv4String(buf: Buffer, off: number): string {
  return `${DEC[buf[off]!]}.${DEC[buf[off + 1]!]}.${DEC[buf[off + 2]!]}.${DEC[buf[off + 3]!]}`;
}

/** IPv6 text form of RFC 5952: lower case, leading zeros dropped, longest zero run as `::`. */
export function ipv6String(buf: Buffer, off: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(buf.readUInt16BE(off + i * 2));
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
