import { closeSync, openSync, readSync } from 'node:fs';

/** 256 KiB blocks, 16 of them kept: a ladder's messages sit close together in the file. */
const BLOCK = 1 << 18;
const BLOCKS = 16;

const PCAP_US = 0xa1b2c3d4;
const PCAP_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
/** pcapng packet blocks: obsolete packet, simple packet, enhanced packet. */
const OPB = 2;
const SPB = 3;
const EPB = 6;

/** One captured frame read back from the file. */
export interface StoredFrame {
  data: Buffer;
  origLen: number;
}

/**
 * A capture file opened again for reading frames by the record offsets the reader reported, so
 * that the UI keeps offsets instead of messages. Only plain pcap and pcapng files can be read
 * this way; gzip and standard input cannot (`open` says undefined), and the UI keeps those
 * messages' bytes instead. Reads go through a small cache of file blocks.
 */
export class CaptureFile {
  private readonly cache = new Map<number, Buffer>();
  /** Bytes read from the file since it was opened (for tests and the bench). */
  bytesRead = 0;

  private constructor(
    private readonly fd: number,
    readonly format: 'pcap' | 'pcapng',
    /** pcap only: byte order of record headers. */
    private readonly le: boolean,
  ) {}

  static open(path: string): CaptureFile | undefined {
    if (path === '-') return undefined;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return undefined;
    }
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    if (n === 4) {
      const le = head.readUInt32LE(0);
      const be = head.readUInt32BE(0);
      if (le === PCAP_US || le === PCAP_NS) return new CaptureFile(fd, 'pcap', true);
      if (be === PCAP_US || be === PCAP_NS) return new CaptureFile(fd, 'pcap', false);
      if (le === PCAPNG_SHB) return new CaptureFile(fd, 'pcapng', true);
    }
    closeSync(fd); // gzip or something else: not seekable by record offsets
    return undefined;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    this.cache.clear();
  }

  private block(n: number): Buffer {
    let b = this.cache.get(n);
    if (b) {
      this.cache.delete(n); // most recently used goes last
      this.cache.set(n, b);
      return b;
    }
    const buf = Buffer.allocUnsafe(BLOCK);
    const got = readSync(this.fd, buf, 0, BLOCK, n * BLOCK);
    this.bytesRead += got;
    b = buf.subarray(0, got);
    if (this.cache.size >= BLOCKS) this.cache.delete(this.cache.keys().next().value as number);
    this.cache.set(n, b);
    return b;
  }

  /** `len` bytes at `pos`, fewer at the end of the file. A view: copy what you keep. */
  readAt(pos: number, len: number): Buffer {
    const n = Math.floor(pos / BLOCK);
    if (Math.floor((pos + len - 1) / BLOCK) === n) {
      const b = this.block(n);
      const at = pos - n * BLOCK;
      return b.subarray(Math.min(at, b.length), Math.min(at + len, b.length));
    }
    const buf = Buffer.allocUnsafe(len);
    const got = readSync(this.fd, buf, 0, len, pos);
    this.bytesRead += got;
    return buf.subarray(0, got);
  }

  /** The frame whose record starts at `offset`; undefined when the bytes there are no packet record. */
  frame(offset: number): StoredFrame | undefined {
    if (offset < 0) return undefined;
    if (this.format === 'pcap') {
      const h = this.readAt(offset, 16);
      if (h.length < 16) return undefined;
      const caplen = this.le ? h.readUInt32LE(8) : h.readUInt32BE(8);
      const origLen = this.le ? h.readUInt32LE(12) : h.readUInt32BE(12);
      const data = this.readAt(offset + 16, caplen);
      return data.length === caplen ? { data, origLen } : undefined;
    }
    const h = this.readAt(offset, 28);
    if (h.length < 12) return undefined;
    // Byte order is per section; a packet block's type number tells it.
    const typeLE = h.readUInt32LE(0);
    const le = typeLE === OPB || typeLE === SPB || typeLE === EPB;
    const u32 = (o: number): number => (le ? h.readUInt32LE(o) : h.readUInt32BE(o));
    const type = u32(0);
    if (type === SPB) {
      const blockLen = u32(4);
      const origLen = u32(8);
      const caplen = Math.min(origLen, blockLen - 16);
      const data = this.readAt(offset + 12, caplen);
      return data.length === caplen ? { data, origLen } : undefined;
    }
    if ((type !== EPB && type !== OPB) || h.length < 28) return undefined;
    const caplen = u32(20);
    const data = this.readAt(offset + 28, caplen);
    return data.length === caplen ? { data, origLen: u32(24) } : undefined;
  }

  /** A message's bytes: `len` bytes at `pos` in the data of the frame at `offset`. */
  message(offset: number, pos: number, len: number): Buffer | undefined {
    const f = this.frame(offset);
    if (!f || pos + len > f.data.length) return undefined;
    return f.data.subarray(pos, pos + len);
  }
}
