import { VIA_NOT_A_VIA, VIA_PLAIN, latin1Text, viaSpans, type ViaSpans } from './bytes.js';
import type { SipMessage } from './message.js';

/** RFC 3261 §8.1.1.7: branches that begin with this cookie are unique per transaction. */
export const MAGIC_COOKIE = 'z9hG4bK';

/**
 * The key that matches requests and responses of one transaction, shared by the passive
 * analyzer and the responder's transaction machines.
 *
 * RFC 3261 §17.2.3: with a magic-cookie branch, a request matches by top Via branch, sent-by and
 * method, where ACK (for a non-2xx response) belongs to the INVITE transaction; a CANCEL is its
 * own transaction. §17.1.3: a response matches by top Via branch, sent-by and CSeq method.
 * Without the cookie (RFC 2543 peers), Call-ID, From tag, CSeq and the whole top Via decide.
 *
 * The key is `branch|sent-by|method`, sent-by lower-cased and ending in ":" when it has no port
 * (so "host" and "host:" agree and "host:5060" does not collapse into them); the RFC 2543 form
 * starts with "2543|".
 */
const SENT_BY = /^\s*SIP\s*\/\s*2\.0\s*\/\s*[^\s;,]+\s+([^;,\s]+)/i;
const BRANCH = /;\s*branch\s*=\s*([^;,\s]+)/i;
const PIPE = 0x7c;
const COLON = 0x3a;
const LBRACKET = 0x5b;

/** sent-by with its ":" when it has no port (and is no IPv6 reference); see above. */
function sentByKey(lower: string): string {
  return lower.includes(':') || lower.startsWith('[') ? lower : `${lower}:`;
}

/**
 * A message's transaction key, read once and then compared with the keys of known transactions
 * without being made into a string: the analyzer asks this of every message, and only a request
 * that starts a transaction needs its key as text. Read off the bytes of the top Via when it is
 * plain with a magic-cookie branch (nearly always); otherwise the key is built as text at once.
 * One probe serves one message at a time.
 */
export class TransactionKeyProbe {
  private raw: Buffer = Buffer.alloc(0);
  private readonly via: ViaSpans = { sentByStart: 0, sentByEnd: 0, branchStart: -1, branchEnd: -1 };
  /** sent-by has no port: the key adds ":". */
  private bareHost = false;
  private method = '';
  /** The key as text: made at once for the RFC 2543 and unusual forms, else on demand. */
  private text: string | undefined;
  private scratch = Buffer.alloc(256);

  private readonly readVia = (buf: Buffer, start: number, end: number): number => {
    this.raw = buf;
    return viaSpans(buf, start, end, this.via);
  };

  /** Reads `msg`'s key; false when it has none (no CSeq). */
  read(msg: SipMessage): boolean {
    const cseq = msg.cseq;
    if (!cseq) return false;
    this.method = cseq.method === 'ACK' ? 'INVITE' : cseq.method;
    this.text = undefined;
    const v = this.via;
    const plain = msg.readValue('via', this.readVia);
    if (plain === VIA_PLAIN && v.branchStart >= 0 && this.hasCookie()) {
      this.bareHost = this.raw[v.sentByStart] !== LBRACKET && !this.sentByHas(COLON);
      return true;
    }
    this.text = this.slowKey(msg, plain);
    return true;
  }

  /**
   * The key as text (what Transaction#key holds), decoded in one piece from a scratch buffer: a
   * call keeps its transactions' keys while it lingers, and one flat string is a third of what
   * joining the parts leaves behind (the parts and the concatenation nodes).
   */
  get key(): string {
    if (this.text === undefined) {
      const v = this.via;
      const raw = this.raw;
      const size = v.branchEnd - v.branchStart + v.sentByEnd - v.sentByStart + this.method.length + 3;
      if (this.scratch.length < size) this.scratch = Buffer.alloc(Math.max(size, 2 * this.scratch.length));
      const out = this.scratch;
      let n = 0;
      for (let i = v.branchStart; i < v.branchEnd; i++) out[n++] = raw[i]!; // a few dozen bytes: less than a copy() call
      out[n++] = PIPE;
      for (let i = v.sentByStart; i < v.sentByEnd; i++) {
        const c = raw[i]!;
        out[n++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      }
      if (this.bareHost) out[n++] = COLON;
      out[n++] = PIPE;
      const method = this.method;
      for (let i = 0; i < method.length; i++) out[n++] = method.charCodeAt(i);
      const text = latin1Text(out, 0, n);
      // A method read by the string parser may hold what Latin-1 cannot (it is compared as text).
      this.text = text.endsWith(method) ? text : `${text.slice(0, n - method.length)}${method}`;
    }
    return this.text;
  }

  /** Whether `key` is this message's key: compared with the bytes, no string made. */
  matches(key: string): boolean {
    if (this.text !== undefined) return key === this.text;
    const v = this.via;
    const raw = this.raw;
    const branchLen = v.branchEnd - v.branchStart;
    const sentByLen = v.sentByEnd - v.sentByStart + (this.bareHost ? 1 : 0);
    if (key.length !== branchLen + sentByLen + this.method.length + 2) return false;
    for (let i = 0; i < branchLen; i++) if (key.charCodeAt(i) !== raw[v.branchStart + i]) return false;
    let k = branchLen;
    if (key.charCodeAt(k++) !== PIPE) return false;
    for (let i = v.sentByStart; i < v.sentByEnd; i++) {
      const c = raw[i]!;
      // toLowerCase of the ASCII a sent-by is made of (viaSpans leaves anything else to the parser).
      if (key.charCodeAt(k++) !== (c >= 0x41 && c <= 0x5a ? c | 0x20 : c)) return false;
    }
    if (this.bareHost && key.charCodeAt(k++) !== COLON) return false;
    if (key.charCodeAt(k++) !== PIPE) return false;
    return key.endsWith(this.method);
  }

  private hasCookie(): boolean {
    const v = this.via;
    if (v.branchEnd - v.branchStart < MAGIC_COOKIE.length) return false;
    for (let i = 0; i < MAGIC_COOKIE.length; i++) if (this.raw[v.branchStart + i] !== MAGIC_COOKIE.charCodeAt(i)) return false;
    return true;
  }

  private sentByHas(c: number): boolean {
    const v = this.via;
    for (let i = v.sentByStart; i < v.sentByEnd; i++) if (this.raw[i] === c) return true;
    return false;
  }

  /** The key made as text, for a top Via that is unusual, lacks the cookie, or is missing. */
  private slowKey(msg: SipMessage, plain: number | undefined): string {
    let sentBy = '';
    let branch: string | undefined;
    if (plain === VIA_PLAIN) {
      const v = this.via;
      sentBy = sentByKey(this.raw.toString('latin1', v.sentByStart, v.sentByEnd).toLowerCase());
      if (v.branchStart >= 0) branch = this.raw.toString('latin1', v.branchStart, v.branchEnd);
    } else if (plain !== VIA_NOT_A_VIA && plain !== undefined) {
      const ids = viaIdsFromText(msg.get('via'));
      sentBy = ids?.sentBy ?? '';
      branch = ids?.branch;
    }
    if (branch && branch.startsWith(MAGIC_COOKIE)) return `${branch}|${sentBy}|${this.method}`;
    return `2543|${msg.callId ?? ''}|${msg.fromTag ?? ''}|${msg.cseq!.seq}|${this.method}|${sentBy}|${branch ?? ''}`;
  }
}

/** sent-by and branch of the top Via by the string parser (folded or non-ASCII values). */
function viaIdsFromText(v: string | undefined): { sentBy: string; branch: string | undefined } | undefined {
  if (v === undefined) return undefined;
  const comma = v.indexOf(',');
  const first = comma < 0 ? v : v.slice(0, comma);
  const s = SENT_BY.exec(first);
  if (!s) return undefined;
  return { sentBy: sentByKey(s[1]!.toLowerCase()), branch: BRANCH.exec(first)?.[1] };
}

const probe = new TransactionKeyProbe();

export function transactionKey(msg: SipMessage): string | undefined {
  return probe.read(msg) ? probe.key : undefined;
}
