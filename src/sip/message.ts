import { canonicalName, headerNameIs, hotSlotOf, lowerName } from './header-names.js';
import { HOT_BASE, HOT_UNKNOWN, TABLE_BASE, tableBuilder } from './header-table.js';
import { parseCSeq, parseNameAddr, parseVia, splitList, type CSeq, type NameAddr, type Via } from './headers.js';
import { LineKind, startLineKind } from './start-line.js';
import { mediaType, parseSdp, splitBody, type BodyPart } from './body.js';
import { TAG_FOUND, TAG_NONE, cseqFromBytes, indexOfByte, lengthFromBytes, methodString, sdpTypeFromBytes, tagFromBytes, tagSpan, utf8Text, type Span } from './bytes.js';
import { parseUri, type Uri } from './uri.js';
import type { SessionDescription } from 'sdp-transform';

/** Why a message is flagged: it is still kept and shown, with these reasons. */
export type Malformation =
  | 'bad-header-line'
  | 'no-header-end'
  | 'missing-call-id'
  | 'missing-cseq'
  | 'bad-cseq'
  | 'cseq-method-mismatch'
  | 'missing-from'
  | 'missing-to'
  | 'missing-via'
  | 'missing-content-length'
  | 'bad-content-length'
  | 'body-truncated';

const LF = 0x0a;
const CR = 0x0d;

/** Where hasToTag's scan puts the tag it finds (parsing is synchronous: one will do). */
const SPAN: Span = { start: 0, end: 0 };

/** Most messages are well formed: they share this empty list instead of one each. */
const NO_PROBLEMS: readonly Malformation[] = Object.freeze([]);

/**
 * One SIP message (RFC 3261 §7) over its raw bytes. Construction finds the start line and the
 * extent of every header line in one pass; strings are made only for what is asked for.
 */
export class SipMessage {
  /** The message's bytes; a borrowed view until own() copies them (see parse). */
  raw: Buffer;
  private borrowed: boolean;
  readonly isRequest: boolean;
  /** Request method; for a response, the CSeq method. */
  readonly method: string;
  /** Status code of a response, 0 for a request. */
  readonly status: number;
  problems: readonly Malformation[] = NO_PROBLEMS;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  private readonly startEnd: number;
  /**
   * Per header: name start, name end, value start, value end (value may span folded lines),
   * after where the first of each hot header is; see header-table.ts.
   */
  private readonly table: string;
  /** Number of offsets in the table (4 per header). */
  private readonly count: number;
  private cseqCache: CSeq | null | undefined;
  private callIdCache: string | null | undefined;
  private fromTagCache: string | null | undefined;
  private toTagCache: string | null | undefined;

  private constructor(raw: Buffer, kind: LineKind, lineEnd: number, stream: boolean, borrowed: boolean) {
    this.raw = raw;
    this.borrowed = borrowed;
    this.isRequest = kind === LineKind.Request;
    this.startEnd = lineEnd > 0 && raw[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    const table = tableBuilder;
    let headerEnd = table.build(raw, lineEnd + 1);
    if (table.badLine) this.flag('bad-header-line');
    this.table = table.pack();
    this.count = table.count;
    if (headerEnd < 0) {
      this.flag('no-header-end');
      headerEnd = raw.length;
    }
    this.bodyStart = Math.min(headerEnd, raw.length);
    let bodyEnd = raw.length;
    const n = this.contentLength();
    if (n === undefined) {
      if (stream) this.flag('missing-content-length');
    } else if (n < 0) {
      this.flag('bad-content-length');
    } else {
      // §18.3: bytes past Content-Length in a datagram are discarded; fewer means truncation.
      if (this.bodyStart + n > raw.length) this.flag('body-truncated');
      else bodyEnd = this.bodyStart + n;
    }
    this.bodyEnd = bodyEnd;
    if (this.isRequest) {
      this.method = methodString(raw, 0, indexOfByte(raw, 0x20, 0));
      this.status = 0;
    } else {
      this.status = (raw[8]! - 48) * 100 + (raw[9]! - 48) * 10 + (raw[10]! - 48);
      this.method = this.cseq?.method ?? '';
    }
    this.validate();
  }

  /**
   * Parses `raw`, which the message keeps. Returns undefined when the first line is not a SIP
   * start line. `stream` says the message came over a stream transport, where Content-Length is
   * mandatory (§18.3). `borrowed` says `raw` is a view of a buffer the caller will drop or
   * reuse (a capture chunk): whoever keeps the message beyond the call must own() it first.
   */
  static parse(raw: Buffer, stream = false, borrowed = false): SipMessage | undefined {
    let le = indexOfByte(raw, LF, 0);
    if (le < 0) le = raw.length;
    const kind = startLineKind(raw, 0, le);
    if (kind === LineKind.None) return undefined;
    return new SipMessage(raw, kind, le, stream, borrowed);
  }

  /**
   * Copies borrowed bytes into the message's own buffer (a no-op when they are its own). Only
   * the messages a consumer keeps pay for the copy, and none pins a whole capture chunk.
   */
  own(): void {
    if (!this.borrowed) return;
    this.raw = Buffer.from(this.raw);
    this.borrowed = false;
  }

  /** Content-Length as a number; undefined when absent, -1 when not a number (§20.14). */
  private contentLength(): number | undefined {
    const i = this.find('content-length');
    if (i < 0) return undefined;
    const fast = lengthFromBytes(this.raw, this.at(i + 2), this.at(i + 3));
    if (fast !== undefined) return fast;
    const v = this.value(i);
    return /^\d+$/.test(v) ? Number(v) : -1;
  }

  private flag(p: Malformation): void {
    if (this.problems === NO_PROBLEMS) this.problems = [p];
    else if (!this.problems.includes(p)) this.problems = [...this.problems, p];
  }

  private validate(): void {
    if (!this.has('call-id')) this.flag('missing-call-id');
    if (this.cseq === undefined) this.flag(this.has('cseq') ? 'bad-cseq' : 'missing-cseq');
    else if (this.isRequest && this.cseq.method !== this.method && this.method !== 'ACK' && this.method !== 'CANCEL') this.flag('cseq-method-mismatch');
    if (!this.has('from')) this.flag('missing-from');
    if (!this.has('to')) this.flag('missing-to');
    if (!this.has('via')) this.flag('missing-via');
  }

  get malformed(): boolean {
    return this.problems.length > 0;
  }

  /** The start line as text. */
  get startLine(): string {
    return this.raw.toString('utf8', 0, this.startEnd);
  }

  get requestUri(): string {
    if (!this.isRequest) return '';
    // The method is a short token: look for the space here rather than in a native indexOf call.
    const raw = this.raw;
    let a = 0;
    while (a < this.startEnd && raw[a] !== 0x20) a++;
    return utf8Text(raw, a + 1, this.startEnd - 8);
  }

  get reason(): string {
    return this.isRequest ? '' : this.raw.toString('utf8', Math.min(12, this.startEnd), this.startEnd);
  }

  private find(lower: string, from = 0): number {
    if (from === 0) {
      const slot = hotSlotOf(lower);
      if (slot >= 0) {
        const h = this.table.charCodeAt(HOT_BASE + slot);
        if (h !== HOT_UNKNOWN) return h - 1;
      }
    }
    for (let i = from; i < this.count; i += 4) if (headerNameIs(this.raw, this.at(i), this.at(i + 1), lower)) return i;
    return -1;
  }

  /** Offset k of the header table. */
  private at(k: number): number {
    const t = this.table;
    return t.charCodeAt(0) === 0 ? t.charCodeAt(TABLE_BASE + k) : t.charCodeAt(TABLE_BASE + 2 * k) * 0x10000 + t.charCodeAt(TABLE_BASE + 2 * k + 1);
  }

  private value(i: number): string {
    const s = utf8Text(this.raw, this.at(i + 2), this.at(i + 3));
    // Folded lines become single spaces (§7.3.1).
    return s.includes('\n') ? s.replace(/\r?\n[ \t]+/g, ' ') : s;
  }

  /**
   * Hands the raw bytes of the first `name` header's value to `read` (no string is made): for
   * readers that run on every message. Undefined when the header is absent.
   */
  readValue<T>(name: string, read: (buf: Buffer, start: number, end: number) => T): T | undefined {
    const i = this.find(lowerName(name));
    return i < 0 ? undefined : read(this.raw, this.at(i + 2), this.at(i + 3));
  }

  has(name: string): boolean {
    return this.find(lowerName(name)) >= 0;
  }

  /**
   * Whether any of these headers (lower-case full names) is present: one pass over the header
   * table, for lists of names asked of many messages that seldom carry any of them.
   */
  hasAny(lowerNames: readonly string[]): boolean {
    for (let i = 0; i < this.count; i += 4) {
      const ns = this.at(i);
      const ne = this.at(i + 1);
      for (let k = 0; k < lowerNames.length; k++) if (headerNameIs(this.raw, ns, ne, lowerNames[k]!)) return true;
    }
    return false;
  }

  /** First value of a header (full or compact name, any case). */
  get(name: string): string | undefined {
    const i = this.find(lowerName(name));
    return i < 0 ? undefined : this.value(i);
  }

  /** Every header line with this name, in order. */
  getAll(name: string): string[] {
    const lower = lowerName(name);
    const out: string[] = [];
    for (let i = this.find(lower); i >= 0; i = this.find(lower, i + 4)) out.push(this.value(i));
    return out;
  }

  /** Values of a list header, comma-separated values split out (Via, Contact, Route, …). */
  values(name: string): string[] {
    return this.getAll(name).flatMap(splitList);
  }

  /** All headers as [canonical name, value], in order. */
  headers(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (let i = 0; i < this.count; i += 4) out.push([canonicalName(this.raw.toString('latin1', this.at(i), this.at(i + 1))), this.value(i)]);
    return out;
  }

  get callId(): string | undefined {
    if (this.callIdCache === undefined) this.callIdCache = this.get('call-id') ?? null;
    return this.callIdCache ?? undefined;
  }

  /**
   * Takes `same` (equal to this message's Call-ID) as the cached Call-ID, so that the messages
   * of one call kept by the model share one string instead of holding a copy each.
   */
  shareCallId(same: string): void {
    if (this.callIdCache === same) this.callIdCache = same;
  }

  /**
   * Which of `ids` this message's Call-ID is (-1 for none), told from the bytes without making a
   * string (plain ASCII values; anything else answers -1, and the caller then asks callId). The
   * matching string becomes the cached Call-ID.
   */
  indexOfCallId(ids: ReadonlyArray<string | undefined>): number {
    const cached = this.callIdCache;
    if (cached !== undefined) return cached === null ? -1 : ids.indexOf(cached);
    const i = this.find('call-id');
    if (i < 0) return -1;
    const vs = this.at(i + 2);
    const len = this.at(i + 3) - vs;
    const raw = this.raw;
    next: for (let j = 0; j < ids.length; j++) {
      const id = ids[j];
      if (id === undefined || id.length !== len) continue;
      for (let k = 0; k < len; k++) {
        const c = raw[vs + k]!;
        if (c >= 0x80 || c !== id.charCodeAt(k)) continue next;
      }
      this.callIdCache = id;
      return j;
    }
    return -1;
  }

  get cseq(): CSeq | undefined {
    if (this.cseqCache === undefined) {
      const i = this.find('cseq');
      if (i < 0) this.cseqCache = null;
      else this.cseqCache = cseqFromBytes(this.raw, this.at(i + 2), this.at(i + 3)) ?? parseCSeq(this.value(i)) ?? null;
    }
    return this.cseqCache ?? undefined;
  }

  /** From parsed (§20.20) on each ask: no cache field, whose first write (by records, late) deoptimized the parser. */
  get from(): NameAddr | undefined {
    const v = this.get('from');
    return v === undefined ? undefined : parseNameAddr(v);
  }

  /** To parsed (§20.39), made on each call (see from). */
  get to(): NameAddr | undefined {
    const v = this.get('to');
    return v === undefined ? undefined : parseNameAddr(v);
  }

  /** The From tag (§19.3), read off the bytes without parsing the whole From (asked of every message). */
  get fromTag(): string | undefined {
    if (this.fromTagCache === undefined) this.fromTagCache = this.tagOf('from');
    return this.fromTagCache ?? undefined;
  }

  get toTag(): string | undefined {
    if (this.toTagCache === undefined) this.toTagCache = this.tagOf('to');
    return this.toTagCache ?? undefined;
  }

  /**
   * Whether To carries a tag (a request inside a dialog, §12.2.1.1; !!toTag), asked of every
   * request that starts a transaction: answered off the bytes without making the tag's string.
   */
  get hasToTag(): boolean {
    if (this.toTagCache === undefined) {
      const i = this.find('to');
      const found = i < 0 ? TAG_NONE : tagSpan(this.raw, this.at(i + 2), this.at(i + 3), SPAN);
      if (found === TAG_FOUND) return SPAN.end > SPAN.start;
      if (found === TAG_NONE) {
        this.toTagCache = null;
        return false;
      }
    }
    return !!this.toTag;
  }

  private tagOf(name: 'from' | 'to'): string | null {
    const i = this.find(name);
    if (i < 0) return null;
    const fast = tagFromBytes(this.raw, this.at(i + 2), this.at(i + 3));
    if (fast !== undefined) return fast;
    return (name === 'from' ? this.from : this.to)?.params['tag'] ?? null;
  }

  get vias(): Via[] {
    return this.values('via').map(parseVia).filter((v): v is Via => v !== undefined);
  }

  get topVia(): Via | undefined {
    const v = this.get('via');
    const first = v === undefined ? undefined : splitList(v)[0];
    return first === undefined ? undefined : parseVia(first);
  }

  get contentType(): string | undefined {
    return this.get('content-type');
  }

  get body(): Buffer {
    return this.raw.subarray(this.bodyStart, this.bodyEnd);
  }

  /** The Request-URI, parsed. */
  get uri(): Uri | undefined {
    return this.isRequest ? parseUri(this.requestUri) : undefined;
  }

  /** Body parts: one for a simple body, several for multipart (RFC 2046), none when empty. */
  get parts(): BodyPart[] {
    return splitBody(this.contentType, this.body);
  }

  /** The SDP carried by this message (alone or inside a multipart body), parsed. */
  get sdp(): SessionDescription | undefined {
    const body = this.sdpBody;
    return body ? parseSdp(body) : undefined;
  }

  /** The bytes of the SDP this message carries: its body, or the first SDP part of a multipart one. */
  get sdpBody(): Buffer | undefined {
    if (this.bodyEnd <= this.bodyStart) return undefined;
    const fast = this.readValue('content-type', sdpTypeFromBytes);
    if (fast === 1) return this.body;
    if (fast === 0 || fast === undefined) return undefined; // another type, or none (then the body is no SDP part either)
    return this.parts.find((p) => p.contentType === 'application/sdp')?.body;
  }

  /** True when the body holds SDP; cheap (no parsing): for "(SDP)" labels. */
  get hasSdp(): boolean {
    if (this.bodyEnd <= this.bodyStart) return false;
    const fast = this.readValue('content-type', sdpTypeFromBytes);
    if (fast !== -1) return fast === 1;
    const t = mediaType(this.contentType);
    return t === 'application/sdp' || (t.startsWith('multipart/') && this.body.includes('application/sdp'));
  }

  /** Short label for ladders and lists: method, or "code reason". */
  get label(): string {
    return this.isRequest ? this.method : `${this.status} ${this.reason}`.trim();
  }
}
