import { endianness } from 'node:os';
import { indexOfByte, ucs2Text } from './bytes.js';
import { HOT_HEADERS, hotSlot } from './header-names.js';

/**
 * The header table of a SIP message, packed into a string: one small heap object per message,
 * a quarter of the size of a number array, which the garbage collector copies for every message
 * the model keeps.
 *
 * Layout in UTF-16 code units: unit 0 says whether an offset takes one unit or two (messages
 * longer than 0xFFFF bytes); then one unit per HOT_HEADERS slot: 0 when the message has no
 * such header, else 1 + the offset index of its first line (HOT_UNKNOWN past what a unit holds:
 * then it is looked up by name); then four offsets per header line: name start, name end, value
 * start, value end.
 */
export const HOT_BASE = 1;
export const TABLE_BASE = HOT_BASE + HOT_HEADERS.length;
export const HOT_UNKNOWN = 0xffff;

const LITTLE_ENDIAN = endianness() === 'LE';
const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/**
 * Builds tables in one scratch buffer shared by every message (parsing is synchronous), so that
 * a message costs one string and no growing array; the string is decoded from the buffer's bytes
 * as UTF-16 in one native call.
 */
class TableBuilder {
  private bytes = Buffer.alloc(2048);
  private units = new Uint16Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length / 2);
  private wide = false;
  /** Offsets added so far (4 per header line). */
  count = 0;

  /** Set by build() when a line had no colon (the message is flagged, the line skipped). */
  badLine = false;

  /**
   * Builds the table of the header lines from `from` (after the start line) to the empty line
   * (§7.3): returns the offset after the empty line, or -1 when there is none.
   */
  build(raw: Buffer, from: number): number {
    this.start(raw.length > 0xffff);
    this.badLine = false;
    for (let p = from; p < raw.length; ) {
      let le = indexOfByte(raw, LF, p);
      if (le < 0) le = raw.length;
      const contentEnd = le > p && raw[le - 1] === CR ? le - 1 : le;
      if (contentEnd === p) return le + 1; // the empty line
      const c = raw[p];
      if ((c === SP || c === HTAB) && this.count > 0) {
        this.extend(contentEnd); // folded continuation (§7.3.1)
      } else {
        // Look for the colon on this line only: scanning past it would be quadratic.
        let colon = p;
        while (colon < contentEnd && raw[colon] !== COLON) colon++;
        if (colon >= contentEnd) {
          this.badLine = true;
        } else {
          let ne = colon;
          while (ne > p && (raw[ne - 1] === SP || raw[ne - 1] === HTAB)) ne--;
          let vs = colon + 1;
          while (vs < contentEnd && (raw[vs] === SP || raw[vs] === HTAB)) vs++;
          this.header(hotSlot(raw, p, ne), p, ne, vs, contentEnd);
        }
      }
      p = le + 1;
    }
    return -1;
  }

  private start(wide: boolean): void {
    this.units.fill(0, 0, TABLE_BASE);
    this.units[0] = wide ? 1 : 0;
    this.wide = wide;
    this.count = 0;
  }

  /** Adds one header line; `slot` is its HOT_HEADERS slot or -1. */
  private header(slot: number, nameStart: number, nameEnd: number, valueStart: number, valueEnd: number): void {
    const k = this.count;
    if (this.unitsFor(k + 4) > this.units.length) this.grow();
    const units = this.units;
    if (slot >= 0 && units[HOT_BASE + slot] === 0) units[HOT_BASE + slot] = Math.min(HOT_UNKNOWN, k + 1);
    this.set(k, nameStart);
    this.set(k + 1, nameEnd);
    this.set(k + 2, valueStart);
    this.set(k + 3, valueEnd);
    this.count = k + 4;
  }

  /** A folded continuation line (§7.3.1): the last header's value now ends at `valueEnd`. */
  private extend(valueEnd: number): void {
    if (this.count > 0) this.set(this.count - 1, valueEnd);
  }

  /** The table as a string. */
  pack(): string {
    const end = this.unitsFor(this.count) * 2;
    if (LITTLE_ENDIAN) return ucs2Text(this.bytes, 0, end);
    const copy = Buffer.from(this.bytes.subarray(0, end));
    return copy.swap16().toString('utf16le');
  }

  /** Offset k: one unit, or two (high, low) in a wide table (SipMessage#at reads them back). */
  private set(k: number, x: number): void {
    if (this.wide) {
      const u = TABLE_BASE + 2 * k;
      this.units[u] = x >>> 16;
      this.units[u + 1] = x & 0xffff;
    } else this.units[TABLE_BASE + k] = x;
  }

  /** Units a table of `count` offsets takes, head included. */
  private unitsFor(count: number): number {
    return TABLE_BASE + (this.wide ? 2 : 1) * count;
  }

  private grow(): void {
    const bytes = Buffer.alloc(this.bytes.length * 2);
    this.bytes.copy(bytes);
    this.bytes = bytes;
    this.units = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  }
}

export const tableBuilder = new TableBuilder();
