import { COMPACT_OF, canonicalName, nameEquals } from './header-names.js';
import { parseCSeq, parseNameAddr, parseVia, splitList, type CSeq, type NameAddr, type Via } from './headers.js';
import { LineKind, startLineKind } from './start-line.js';
import { mediaType, parseSdp, splitBody, type BodyPart } from './body.js';
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
const COLON = 0x3a;

/**
 * One SIP message (RFC 3261 §7) over its raw bytes. Construction finds the start line and the
 * extent of every header line in one pass; strings are made only for what is asked for.
 */
export class SipMessage {
  readonly raw: Buffer;
  readonly isRequest: boolean;
  /** Request method; for a response, the CSeq method. */
  readonly method: string;
  /** Status code of a response, 0 for a request. */
  readonly status: number;
  readonly problems: Malformation[] = [];
  readonly bodyStart: number;
  readonly bodyEnd: number;
  private readonly startEnd: number;
  /** Per header: name start, name end, value start, value end (value may span folded lines). */
  private readonly idx: number[] = [];
  private cseqCache: CSeq | null | undefined;
  /** Parsed From/To, made once on first use (tags are asked for per message by the model). */
  private fromCache: NameAddr | null | undefined;
  private callIdCache: string | null | undefined;
  private toCache: NameAddr | null | undefined;

  private constructor(raw: Buffer, kind: LineKind, lineEnd: number, stream: boolean) {
    this.raw = raw;
    this.isRequest = kind === LineKind.Request;
    this.startEnd = lineEnd > 0 && raw[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    let p = lineEnd + 1;
    let headerEnd = -1;
    while (p < raw.length) {
      let le = raw.indexOf(LF, p);
      if (le < 0) le = raw.length;
      const contentEnd = le > p && raw[le - 1] === CR ? le - 1 : le;
      if (contentEnd === p) {
        headerEnd = le + 1; // the empty line
        break;
      }
      const c = raw[p];
      if ((c === 0x20 || c === 0x09) && this.idx.length) {
        this.idx[this.idx.length - 1] = contentEnd; // folded continuation (§7.3.1)
      } else {
        // Look for the colon on this line only: scanning past it would be quadratic.
        let colon = p;
        while (colon < contentEnd && raw[colon] !== COLON) colon++;
        if (colon >= contentEnd) {
          if (!this.problems.includes('bad-header-line')) this.problems.push('bad-header-line');
        } else {
          let ne = colon;
          while (ne > p && (raw[ne - 1] === 0x20 || raw[ne - 1] === 0x09)) ne--;
          let vs = colon + 1;
          while (vs < contentEnd && (raw[vs] === 0x20 || raw[vs] === 0x09)) vs++;
          this.idx.push(p, ne, vs, contentEnd);
        }
      }
      p = le + 1;
    }
    if (headerEnd < 0) {
      this.problems.push('no-header-end');
      headerEnd = raw.length;
    }
    this.bodyStart = Math.min(headerEnd, raw.length);
    const cl = this.get('content-length');
    let bodyEnd = raw.length;
    if (cl === undefined) {
      if (stream) this.problems.push('missing-content-length');
    } else if (!/^\d+$/.test(cl)) {
      this.problems.push('bad-content-length');
    } else {
      const n = Number(cl);
      // §18.3: bytes past Content-Length in a datagram are discarded; fewer means truncation.
      if (this.bodyStart + n > raw.length) this.problems.push('body-truncated');
      else bodyEnd = this.bodyStart + n;
    }
    this.bodyEnd = bodyEnd;
    if (this.isRequest) {
      this.method = raw.toString('latin1', 0, raw.indexOf(0x20));
      this.status = 0;
    } else {
      this.status = (raw[8]! - 48) * 100 + (raw[9]! - 48) * 10 + (raw[10]! - 48);
      this.method = this.cseq?.method ?? '';
    }
    this.validate();
  }

  /**
   * Parses `raw` (which the message keeps: pass a copy you own). Returns undefined when the first
   * line is not a SIP start line. `stream` says the message came over a stream transport,
   * where Content-Length is mandatory (§18.3).
   */
  static parse(raw: Buffer, stream = false): SipMessage | undefined {
    let le = raw.indexOf(LF);
    if (le < 0) le = raw.length;
    const kind = startLineKind(raw, 0, le);
    if (kind === LineKind.None) return undefined;
    return new SipMessage(raw, kind, le, stream);
  }

  private validate(): void {
    const p = this.problems;
    if (this.callId === undefined) p.push('missing-call-id');
    const cseqRaw = this.get('cseq');
    if (cseqRaw === undefined) p.push('missing-cseq');
    else if (!this.cseq) p.push('bad-cseq');
    else if (this.isRequest && this.cseq.method !== this.method && this.method !== 'ACK' && this.method !== 'CANCEL') p.push('cseq-method-mismatch');
    if (!this.has('from')) p.push('missing-from');
    if (!this.has('to')) p.push('missing-to');
    if (!this.has('via')) p.push('missing-via');
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
    const a = this.raw.indexOf(0x20);
    return this.raw.toString('utf8', a + 1, this.startEnd - 8);
  }

  get reason(): string {
    return this.isRequest ? '' : this.raw.toString('utf8', Math.min(12, this.startEnd), this.startEnd);
  }

  private find(lower: string, from = 0): number {
    const compact = COMPACT_OF[lower];
    const idx = this.idx;
    const raw = this.raw;
    for (let i = from; i < idx.length; i += 4) {
      const ns = idx[i]!;
      const ne = idx[i + 1]!;
      if (nameEquals(raw, ns, ne, lower) || (compact !== undefined && ne - ns === 1 && (raw[ns]! | 0x20) === compact.charCodeAt(0))) return i;
    }
    return -1;
  }

  private value(i: number): string {
    const s = this.raw.toString('utf8', this.idx[i + 2]!, this.idx[i + 3]!);
    // Folded lines become single spaces (§7.3.1).
    return s.includes('\n') ? s.replace(/\r?\n[ \t]+/g, ' ') : s;
  }

  has(name: string): boolean {
    return this.find(name.toLowerCase()) >= 0;
  }

  /** First value of a header (full or compact name, any case). */
  get(name: string): string | undefined {
    const i = this.find(name.toLowerCase());
    return i < 0 ? undefined : this.value(i);
  }

  /** Every header line with this name, in order. */
  getAll(name: string): string[] {
    const lower = name.toLowerCase();
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
    for (let i = 0; i < this.idx.length; i += 4) out.push([canonicalName(this.raw.toString('latin1', this.idx[i]!, this.idx[i + 1]!)), this.value(i)]);
    return out;
  }

  get callId(): string | undefined {
    if (this.callIdCache === undefined) this.callIdCache = this.get('call-id') ?? null;
    return this.callIdCache ?? undefined;
  }

  get cseq(): CSeq | undefined {
    if (this.cseqCache === undefined) {
      const v = this.get('cseq');
      this.cseqCache = (v === undefined ? undefined : parseCSeq(v)) ?? null;
    }
    return this.cseqCache ?? undefined;
  }

  get from(): NameAddr | undefined {
    if (this.fromCache === undefined) {
      const v = this.get('from');
      this.fromCache = v === undefined ? null : parseNameAddr(v);
    }
    return this.fromCache ?? undefined;
  }

  get to(): NameAddr | undefined {
    if (this.toCache === undefined) {
      const v = this.get('to');
      this.toCache = v === undefined ? null : parseNameAddr(v);
    }
    return this.toCache ?? undefined;
  }

  get fromTag(): string | undefined {
    return this.from?.params['tag'] ?? undefined;
  }

  get toTag(): string | undefined {
    return this.to?.params['tag'] ?? undefined;
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
    const part = this.parts.find((p) => p.contentType === 'application/sdp');
    return part ? parseSdp(part.body) : undefined;
  }

  /** True when the body holds SDP; cheap (no parsing): for "(SDP)" labels. */
  get hasSdp(): boolean {
    const t = mediaType(this.contentType);
    return this.bodyEnd > this.bodyStart && (t === 'application/sdp' || (t.startsWith('multipart/') && this.body.includes('application/sdp')));
  }

  /** Short label for ladders and lists: method, or "code reason". */
  get label(): string {
    return this.isRequest ? this.method : `${this.status} ${this.reason}`.trim();
  }
}
