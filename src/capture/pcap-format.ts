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
  /** Look for the next plausible record start in buf[from..]; -1 if none (keep the tail). */
  resync(buf: Buffer, from: number): number;
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
    // The FCS-length bits share the link-type field (pcap-savefile(5) "LinkType and additional information").
    this.linktype = this.u32(header, 20) & 0x0fffffff;
  }

  private u32(buf: Buffer, off: number): number {
    return this.le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
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
   */
  resync(buf: Buffer, from: number): number {
    const limit = Math.max(this.snaplen, 65535);
    for (let off = from; off + 16 <= buf.length; off++) {
      const sec = this.u32(buf, off);
      if (Math.abs(sec - this.lastSec) > 86400) continue;
      const usec = this.u32(buf, off + 4);
      if (usec >= (this.nanos ? 1e9 : 1e6)) continue;
      const caplen = this.u32(buf, off + 8);
      const origLen = this.u32(buf, off + 12);
      if (caplen === 0 || caplen > limit || origLen < caplen || origLen > MAX_RECORD) continue;
      return off;
    }
    return -1;
  }

  warnBad(offset: number): void {
    this.warn({ code: 'bad-record-length', message: `corrupt pcap record header at byte ${offset}`, offset });
  }
}
