/** Compact header forms (RFC 3261 §7.3.3 and later RFCs), compact letter → full lower-case name. */
export const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Full lower-case name → compact letter. */
export const COMPACT_OF: Record<string, string> = Object.fromEntries(Object.entries(COMPACT).map(([k, v]) => [v, k]));

/** Canonical spelling for display, e.g. "call-id" → "Call-ID". */
const SPECIAL: Record<string, string> = { 'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', 'min-se': 'Min-SE', 'rseq': 'RSeq', 'rack': 'RAck', 'mime-version': 'MIME-Version' };

export function canonicalName(name: string): string {
  let lower = name.toLowerCase();
  if (lower.length === 1 && COMPACT[lower]) lower = COMPACT[lower]!;
  return SPECIAL[lower] ?? lower.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
}

/**
 * A header name in lower case, without a new string when it is one already: callers mostly pass
 * lower-case names, and toLowerCase makes a copy on each of the many lookups per message.
 */
export function lowerName(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c >= 0x80) return name.toLowerCase();
  }
  return name;
}

/** Case-insensitive compare of raw header-name bytes with a lower-case ASCII name. */
export function nameEquals(buf: Buffer, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = buf[start + i]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether raw header-name bytes name `lower` (a lower-case full name) or its compact form (§7.3.3). */
export function headerNameIs(buf: Buffer, start: number, end: number, lower: string): boolean {
  if (nameEquals(buf, start, end, lower)) return true;
  const compact = COMPACT_OF[lower];
  return compact !== undefined && end - start === 1 && (buf[start]! | 0x20) === compact.charCodeAt(0);
}

/**
 * Headers asked of every message (the dialog model, digest checks, the software of each INVITE
 * response): SipMessage notes where the first of each is while it builds its header table, so a
 * lookup need not compare names.
 */
export const HOT_HEADERS = [
  'call-id', 'cseq', 'via', 'from', 'to', 'content-length', 'content-type', 'authorization', 'proxy-authorization', 'user-agent', 'server',
] as const;


/**
 * hotSlot's table: by name length and first letter, the one hot header that could be meant
 * (no two hot names share both), as slot + 1; compact letters (§7.3.3) by char code. Every
 * header line of every message is looked up here: most are answered without comparing a name.
 */
const MAX_HOT_LENGTH = 31;
const HOT_BY_SHAPE = new Int8Array((MAX_HOT_LENGTH + 1) << 5);
const HOT_BY_LETTER = new Int8Array(128).fill(-1);
const shape = (length: number, first: number): number => (length << 5) | (first & 0x1f);
HOT_HEADERS.forEach((n, slot) => {
  const at = shape(n.length, n.charCodeAt(0));
  if (n.length > MAX_HOT_LENGTH || HOT_BY_SHAPE[at] !== 0) throw new Error(`hot header ${n} needs another lookup`);
  HOT_BY_SHAPE[at] = slot + 1;
  const letter = COMPACT_OF[n];
  if (letter) HOT_BY_LETTER[letter.charCodeAt(0)] = slot;
});

/** The HOT_HEADERS slot of the header name in buf[start, end) (full or compact form, any case), or -1. */
export function hotSlot(buf: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len === 1) {
    const c = buf[start]! | 0x20;
    return c < 128 ? HOT_BY_LETTER[c]! : -1;
  }
  if (len > MAX_HOT_LENGTH || len === 0) return -1;
  const first = buf[start]! | 0x20;
  if (first < 0x61 || first > 0x7a) return -1; // hot names start with a letter
  const slot = HOT_BY_SHAPE[shape(len, first)]! - 1;
  return slot >= 0 && nameEquals(buf, start, end, HOT_HEADERS[slot]!) ? slot : -1;
}

/** The HOT_HEADERS slot of a lower-case full name, or -1 (asked on every header lookup: no map). */
export function hotSlotOf(lower: string): number {
  const len = lower.length;
  if (len > MAX_HOT_LENGTH || len < 2) return -1;
  const slot = HOT_BY_SHAPE[shape(len, lower.charCodeAt(0))]! - 1;
  return slot >= 0 && HOT_HEADERS[slot] === lower ? slot : -1;
}
