import { endianness } from 'node:os';
import { HOT_HEADERS } from './header-names.js';

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

/**
 * Builds tables in one scratch buffer shared by every message (parsing is synchronous), so that
 * a message costs one string and no growing array; the string is decoded from the buffer's bytes
 * as UTF-16 in one native call.
 */
class TableBuilder {
  private bytes = Buffer.alloc(2048);
  private units = new Uint16Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length / 2);
  private n = TABLE_BASE;
  private wide = false;
  /** Offsets added so far (4 per header line). */
  count = 0;

  start(wide: boolean): void {
    this.units.fill(0, 0, TABLE_BASE);
    this.units[0] = wide ? 1 : 0;
    this.wide = wide;
    this.n = TABLE_BASE;
    this.count = 0;
  }

  /** Adds one header line; `slot` is its HOT_HEADERS slot or -1. */
  header(slot: number, nameStart: number, nameEnd: number, valueStart: number, valueEnd: number): void {
    if (this.n + 8 > this.units.length) this.grow();
    const units = this.units;
    if (slot >= 0 && units[HOT_BASE + slot] === 0) units[HOT_BASE + slot] = Math.min(HOT_UNKNOWN, this.count + 1);
    this.count += 4;
    if (!this.wide) {
      const n = this.n;
      units[n] = nameStart;
      units[n + 1] = nameEnd;
      units[n + 2] = valueStart;
      units[n + 3] = valueEnd;
      this.n = n + 4;
      return;
    }
    this.put(nameStart);
    this.put(nameEnd);
    this.put(valueStart);
    this.put(valueEnd);
  }

  /** A folded continuation line (§7.3.1): the last header's value now ends at `valueEnd`. */
  extend(valueEnd: number): void {
    if (this.count === 0) return;
    if (this.wide) {
      this.units[this.n - 2] = valueEnd >>> 16;
      this.units[this.n - 1] = valueEnd & 0xffff;
    } else this.units[this.n - 1] = valueEnd;
  }

  get hasHeaders(): boolean {
    return this.count > 0;
  }

  /** The table as a string. */
  pack(): string {
    const end = this.n * 2;
    if (LITTLE_ENDIAN) return this.bytes.toString('utf16le', 0, end);
    const copy = Buffer.from(this.bytes.subarray(0, end));
    return copy.swap16().toString('utf16le');
  }

  /** One offset of a wide table: two units, high then low. */
  private put(x: number): void {
    this.units[this.n++] = x >>> 16;
    this.units[this.n++] = x & 0xffff;
  }

  private grow(): void {
    const bytes = Buffer.alloc(this.bytes.length * 2);
    this.bytes.copy(bytes);
    this.bytes = bytes;
    this.units = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
  }
}

export const tableBuilder = new TableBuilder();
