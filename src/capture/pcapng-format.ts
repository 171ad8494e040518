import type { CaptureWarning, FrameSink } from './types.js';
import type { RecordParser } from './pcap-format.js';

/**
 * pcapng (draft-ietf-opsawg-pcapng): a sequence of blocks, each `type, total length, body,
 * total length`. A Section Header Block sets the byte order for the blocks that follow it;
 * Interface Description Blocks give each interface its link type and time-stamp resolution.
 */
export const PCAPNG_SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
const IDB = 1;
const OBSOLETE_PB = 2;
const SPB = 3;
const EPB = 6;
const MAX_BLOCK = 16 * 1024 * 1024;
const KNOWN_BLOCKS = new Set([IDB, OBSOLETE_PB, SPB, 4, 5, EPB, 7, 8, 9, 10, 0x0bad, 0x40000bad]);

interface Iface {
  linktype: number;
  snaplen: number;
  /** Time-stamp units per second, as a bigint (10^n or 2^n). */
  unitsPerSec: bigint;
  /** True when units are microseconds: the common case, done without bigint. */
  micro: boolean;
  offsetSec: number;
}

export class PcapngBlocks implements RecordParser {
  readonly headerSize = 12;
  private le = true;
  private ifaces: Iface[] = [];
  private index = 0;
  readonly linktypes = new Set<number>();

  constructor(
    private readonly sink: FrameSink,
    private readonly warn: (w: CaptureWarning) => void,
  ) {}

  private u32(buf: Buffer, off: number): number {
    return this.le ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
  }
  private u16(buf: Buffer, off: number): number {
    return this.le ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
  }

  recordSize(buf: Buffer, off: number): number {
    const typeLE = buf.readUInt32LE(off);
    if (typeLE === PCAPNG_SHB) {
      // The byte-order magic decides how to read this section, its own length included.
      const bomLE = buf.readUInt32LE(off + 8);
      if (bomLE === BOM) this.le = true;
      else if (buf.readUInt32BE(off + 8) === BOM) this.le = false;
      else return -1;
    }
    const len = this.u32(buf, off + 4);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) return -1;
    // Once the whole block is here, its trailing copy of the length must agree: a length that is
    // plausible but wrong would otherwise swallow the blocks after it.
    if (off + len <= buf.length && this.u32(buf, off + len - 4) !== len) return -1;
    return len;
  }

  record(buf: Buffer, off: number, size: number, fileOffset: number): void {
    const type = this.u32(buf, off);
    switch (type) {
      case PCAPNG_SHB:
        this.ifaces = []; // interface ids are per section
        return;
      case IDB:
        this.interface(buf, off, size);
        return;
      case EPB: {
        const ifId = this.u32(buf, off + 8);
        const caplen = this.u32(buf, off + 20);
        if (28 + caplen > size) return this.badLength(fileOffset);
        this.emit(ifId, this.u32(buf, off + 12), this.u32(buf, off + 16), buf.subarray(off + 28, off + 28 + caplen), this.u32(buf, off + 24), fileOffset);
        return;
      }
      case OBSOLETE_PB: {
        const ifId = this.u16(buf, off + 8);
        const caplen = this.u32(buf, off + 20);
        if (28 + caplen > size) return this.badLength(fileOffset);
        this.emit(ifId, this.u32(buf, off + 12), this.u32(buf, off + 16), buf.subarray(off + 28, off + 28 + caplen), this.u32(buf, off + 24), fileOffset);
        return;
      }
      case SPB: {
        // No time stamp and no interface id: interface 0. The captured length is the original
        // length cut to interface 0's snaplen (the block's padding is not packet data).
        const origLen = this.u32(buf, off + 8);
        const snaplen = this.ifaces[0]?.snaplen || Infinity;
        const caplen = Math.min(origLen, snaplen, size - 16);
        this.emit(0, -1, -1, buf.subarray(off + 12, off + 12 + caplen), origLen, fileOffset);
        return;
      }
      default:
        return; // name resolution, statistics, custom and unknown blocks carry no packets
    }
  }

  private badLength(offset: number): void {
    this.warn({ code: 'bad-block', message: `pcapng packet block at byte ${offset} claims more bytes than it holds`, offset });
  }

  private interface(buf: Buffer, off: number, size: number): void {
    const iface: Iface = { linktype: this.u16(buf, off + 8), snaplen: this.u32(buf, off + 12), unitsPerSec: 1000000n, micro: true, offsetSec: 0 };
    // Options: code u16, length u16, value padded to 4 (pcapng §3.5).
    let p = off + 16;
    const end = off + size - 4;
    while (p + 4 <= end) {
      const code = this.u16(buf, p);
      const len = this.u16(buf, p + 2);
      if (code === 0 || p + 4 + len > end) break;
      if (code === 9 && len >= 1) {
        const v = buf[p + 4]!;
        iface.unitsPerSec = v & 0x80 ? 1n << BigInt(v & 0x7f) : 10n ** BigInt(v);
        iface.micro = iface.unitsPerSec === 1000000n;
      } else if (code === 14 && len >= 8) {
        // if_tsoffset is a signed 64-bit count of seconds.
        iface.offsetSec = Number(this.le ? buf.readBigInt64LE(p + 4) : buf.readBigInt64BE(p + 4));
      }
      p += 4 + ((len + 3) & ~3);
    }
    this.ifaces.push(iface);
    this.linktypes.add(iface.linktype);
  }

  private emit(ifId: number, hi: number, lo: number, data: Buffer, origLen: number, fileOffset: number): void {
    const iface = this.ifaces[ifId];
    if (!iface) {
      this.warn({ code: 'unknown-interface', message: `pcapng packet at byte ${fileOffset} names interface ${ifId}, which was never described`, offset: fileOffset });
      return;
    }
    let sec = 0;
    let nsec = 0;
    if (hi >= 0) {
      if (iface.micro) {
        // hi·2^32 + lo stays below 2^53 for any µs time stamp before year 2255.
        const us = hi * 4294967296 + lo;
        sec = Math.floor(us / 1e6);
        nsec = (us - sec * 1e6) * 1000;
      } else {
        const units = (BigInt(hi) << 32n) | BigInt(lo);
        const s = units / iface.unitsPerSec;
        sec = Number(s);
        nsec = Number(((units - s * iface.unitsPerSec) * 1000000000n) / iface.unitsPerSec);
      }
      sec += iface.offsetSec;
    }
    this.sink({ tsSec: sec, tsNsec: nsec, linktype: iface.linktype, data, origLen, index: ++this.index, offset: fileOffset });
  }

  /**
   * Blocks are 4-byte aligned in the file and end with their own length: a strong check for
   * resynchronising. `base` is the file offset of buf[0], which need not be aligned.
   */
  resync(buf: Buffer, from: number, base: number): number {
    for (let off = from + ((4 - ((base + from) & 3)) & 3); off + 12 <= buf.length; off += 4) {
      const type = this.u32(buf, off);
      if (!KNOWN_BLOCKS.has(type) && type !== PCAPNG_SHB) continue;
      const len = this.u32(buf, off + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) continue;
      if (off + len <= buf.length && this.u32(buf, off + len - 4) !== len) continue;
      return off;
    }
    return -1;
  }
}
