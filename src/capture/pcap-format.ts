import { u32be, u32le } from './bytes.js';
import type { CaptureWarning, FrameSink } from './types.js';

/**
 * Classic libpcap format (https://www.tcpdump.org/manpages/pcap-savefile.5.html): a 24-byte
 * global header, then records of a 16-byte header and the captured bytes. Either byte order,
 * microsecond (0xa1b2c3d4) or nanosecond (0xa1b23c4d) time stamps.
 */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;

/** Wireshark refuses records longer than this (WTAP_MAX_PACKET_SIZE_STANDARD); so do we. */
export const MAX_RECORD = 262144 * 4;

export interface RecordParser {
  /** Bytes needed before recordSize() can answer. */
  readonly headerSize: number;
  /**
   * Size of the record starting at `off` (header included), or -1 when the header is corrupt
   * (the caller then resynchronises).
   */
  recordSize(buf: Buffer, off: number): number;
  /** Handle one complete record. */
  record(buf: Buffer, off: number, size: number, fileOffset: number): void;
  /**
   * Look for the next plausible record start in buf[from..]; -1 if none (keep the tail).
   * `base` is the file offset of buf[0], for formats whose records are aligned in the file.
   */
  resync(buf: Buffer, from: number, base: number): number;
}

export class PcapRecords implements RecordParser {
  readonly headerSize = 16;
  private readonly le: boolean;
  private readonly nanos: boolean;
  readonly linktype: number;
  readonly snaplen: number;
  private index = 0;
  private lastSec = 0;

  constructor(
    header: Buffer,
    private readonly sink: FrameSink,
    private readonly warn: (w: CaptureWarning) => void,
  ) {
    const magicLE = header.readUInt32LE(0);
    this.le = magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS;
    const magic = this.le ? magicLE : header.readUInt32BE(0);
    this.nanos = magic === PCAP_MAGIC_NS;
    this.snaplen = this.u32(header, 16);
    // The FCS-length bits and their P flag share the link-type field (pcap-savefile(5) "LinkType
    // and additional information"); libpcap's LT_LINKTYPE() keeps the low 26 bits.
    this.linktype = this.u32(header, 20) & 0x03ffffff;
  }

  private u32(buf: Buffer, off: number): number {
    return this.le ? u32le(buf, off) : u32be(buf, off);
  }

  recordSize(buf: Buffer, off: number): number {
    const caplen = this.u32(buf, off + 8);
    const origLen = this.u32(buf, off + 12);
    if (caplen > MAX_RECORD || (caplen > origLen && origLen !== 0)) return -1;
    return 16 + caplen;
  }

  record(buf: Buffer, off: number, size: number, fileOffset: number): void {
    const sec = this.u32(buf, off);
    const frac = this.u32(buf, off + 4);
    this.lastSec = sec;
    this.sink({
      tsSec: sec,
      tsNsec: this.nanos ? frac : frac * 1000,
      linktype: this.linktype,
      data: buf.subarray(off + 16, off + size),
      origLen: this.u32(buf, off + 12),
      index: ++this.index,
      offset: fileOffset,
    });
  }

  /**
   * After a corrupt header: the next offset whose header looks like a record (time within a day
   * of the last good one, sane lengths). Records are not aligned, so every byte is a candidate.
   * Before any good record there is no time to compare with: the candidate's own successor
   * must then agree with it instead (when the buffer holds it).
   */
  resync(buf: Buffer, from: number): number {
    for (let off = from; off + 16 <= buf.length; off++) {
      if (this.index > 0) {
        if (this.plausible(buf, off, this.lastSec)) return off;
        continue;
      }
      if (!this.plausible(buf, off, -1)) continue;
      const next = off + 16 + this.u32(buf, off + 8);
      if (next + 16 > buf.length || this.plausible(buf, next, this.u32(buf, off))) return off;
    }
    return -1;
  }

  /** Could a record header start at `off`? `nearSec` < 0: no time constraint. */
  private plausible(buf: Buffer, off: number, nearSec: number): boolean {
    const sec = this.u32(buf, off);
    if (nearSec >= 0 && Math.abs(sec - nearSec) > 86400) return false;
    const usec = this.u32(buf, off + 4);
    if (usec >= (this.nanos ? 1e9 : 1e6)) return false;
    const caplen = this.u32(buf, off + 8);
    const origLen = this.u32(buf, off + 12);
    return caplen > 0 && caplen <= Math.max(this.snaplen, 65535) && origLen >= caplen && origLen <= MAX_RECORD;
  }

  warnBad(offset: number): void {
    this.warn({ code: 'bad-record-length', message: `corrupt pcap record header at byte ${offset}`, offset });
  }
}
