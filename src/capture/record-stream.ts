import { SipscopeError } from './errors.js';
import { PcapRecords, PCAP_MAGIC_NS, PCAP_MAGIC_US, type RecordParser } from './pcap-format.js';
import { PcapngBlocks, PCAPNG_SHB } from './pcapng-format.js';
import type { CaptureWarning, FrameSink } from './types.js';

export type CaptureFormat = 'pcap' | 'pcapng';

/**
 * Push-based splitter of a capture byte stream into records. Chunks arrive in any sizes; a
 * record split across chunks is completed by copying only the bytes that straddle the
 * boundary. Records are handed on as views, so nothing is copied on the common path.
 */
export class RecordStream {
  format: CaptureFormat | undefined;
  private parser: RecordParser | undefined;
  private pending: Buffer | undefined;
  private pendingOffset = 0;
  /** Chunks held back while a large record is still incomplete. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private needed = 0;
  private resyncing = false;
  private resyncFrom = 0;
  bytes = 0;
  skippedBytes = 0;
  private pcapLinktype = -1;

  constructor(
    private readonly sink: FrameSink,
    private readonly warn: (w: CaptureWarning) => void,
  ) {}

  get linktypes(): number[] {
    if (this.parser instanceof PcapngBlocks) return [...this.parser.linktypes];
    return this.pcapLinktype >= 0 ? [this.pcapLinktype] : [];
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.pending) {
      if (this.needed > this.pending.length + this.heldBytes + chunk.length) {
        this.held.push(chunk);
        this.heldBytes += chunk.length;
        return;
      }
      const base = this.pendingOffset;
      const have = this.pending.length + this.heldBytes;
      if (this.parser && !this.resyncing && this.pending.length >= this.parser.headerSize && this.needed > have) {
        // Copy only the record that straddles the boundary, then go on in the chunk itself.
        const taken = this.needed - have;
        const record = Buffer.concat([this.pending, ...this.held, chunk.subarray(0, taken)]);
        this.held = [];
        this.heldBytes = 0;
        this.pending = undefined;
        this.process(record, base);
        if (this.pending) {
          // The record was not what its header promised (resync): fall back to joining all.
          const rest = Buffer.concat([this.pending, chunk.subarray(taken)]);
          const at = this.pendingOffset;
          this.pending = undefined;
          this.process(rest, at);
        } else {
          this.process(chunk.subarray(taken), base + record.length);
        }
        return;
      }
      const parts = [this.pending, ...this.held, chunk];
      this.held = [];
      this.heldBytes = 0;
      this.pending = undefined;
      this.process(Buffer.concat(parts), base);
    } else {
      this.process(chunk, this.bytes - chunk.length);
    }
  }

  /** Call at end of input: a partial record left over means the capture was cut short. */
  end(): void {
    const rest = this.pending ? this.pending.length + this.heldBytes : 0;
    if (!this.parser) {
      if (this.bytes === 0) throw new SipscopeError('E_EMPTY', 'the input is empty: not a capture');
      throw new SipscopeError('E_NOT_CAPTURE', 'the input is too short to be a pcap or pcapng capture');
    }
    if (rest > 0 && !this.resyncing) {
      const have = rest;
      this.warn({
        code: 'truncated-record',
        message: `capture is truncated: the record at byte ${this.pendingOffset} is incomplete (${have} of ${this.needed || '?'} bytes present)`,
        offset: this.pendingOffset,
      });
    } else if (this.resyncing) {
      this.skippedBytes += rest;
    }
    this.pending = undefined;
  }

  private detect(buf: Buffer): boolean {
    if (buf.length < 4) return false;
    const le = buf.readUInt32LE(0);
    const be = buf.readUInt32BE(0);
    if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) {
      if (buf.length < 24) return false;
      const p = new PcapRecords(buf, this.sink, this.warn);
      this.pcapLinktype = p.linktype;
      this.parser = p;
      this.format = 'pcap';
      return true;
    }
    if (le === PCAPNG_SHB) {
      this.parser = new PcapngBlocks(this.sink, this.warn);
      this.format = 'pcapng';
      return true;
    }
    const head = buf.subarray(0, 4).toString('hex').replace(/(..)/g, '$1 ').trim();
    throw new SipscopeError('E_NOT_CAPTURE', `not a pcap or pcapng capture (it starts with bytes ${head})`);
  }

  private process(buf: Buffer, base: number): void {
    let off = 0;
    if (!this.parser) {
      if (!this.detect(buf)) return this.keep(buf, 0, base, 24);
      if (this.format === 'pcap') off = 24;
    }
    const parser = this.parser!;
    for (;;) {
      if (this.resyncing) {
        const next = parser.resync(buf, off, base);
        if (next < 0) {
          // Keep a tail long enough to hold a header that straddles the chunk boundary.
          const keepFrom = Math.max(off, buf.length - parser.headerSize);
          this.skippedBytes += keepFrom - off;
          return this.keep(buf, keepFrom, base, parser.headerSize);
        }
        this.skippedBytes += next - off;
        this.warn({ code: 'bad-record-length', message: `resynchronised at byte ${base + next} after skipping ${base + next - this.resyncFrom} corrupt bytes`, offset: base + next });
        off = next;
        this.resyncing = false;
      }
      if (buf.length - off < parser.headerSize) return this.keep(buf, off, base, parser.headerSize);
      const size = parser.recordSize(buf, off);
      if (size < 0) {
        this.warn({ code: 'bad-record-length', message: `corrupt record header at byte ${base + off}`, offset: base + off });
        this.resyncing = true;
        this.resyncFrom = base + off;
        this.skippedBytes += 1;
        off += 1;
        continue;
      }
      if (off + size > buf.length) return this.keep(buf, off, base, size);
      parser.record(buf, off, size, base + off);
      off += size;
    }
  }

  private keep(buf: Buffer, off: number, base: number, needed: number): void {
    this.needed = needed;
    if (off >= buf.length) {
      this.pending = undefined;
      return;
    }
    this.pending = buf.subarray(off);
    this.pendingOffset = base + off;
  }
}
