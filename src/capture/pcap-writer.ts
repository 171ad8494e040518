/**
 * Classic pcap writer (little-endian, microsecond timestamps). Records are gathered into 64 KiB
 * chunks so that writing many small frames costs one stream write per chunk.
 */
import { closeSync, createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { SipscopeError } from './errors.js';

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_DEFAULT_SNAPLEN = 262144;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
const CHUNK_SIZE = 64 * 1024;

export function pcapGlobalHeader(linktype: number, snaplen: number = PCAP_DEFAULT_SNAPLEN): Buffer {
  const b = Buffer.alloc(GLOBAL_HEADER_LEN);
  b.writeUInt32LE(PCAP_MAGIC_USEC, 0);
  b.writeUInt16LE(2, 4); // version 2.4
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8); // thiszone
  b.writeUInt32LE(0, 12); // sigfigs
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(linktype, 20);
  return b;
}

function putRecordHeader(b: Buffer, at: number, tsSec: number, tsUsec: number, capLen: number, origLen: number): void {
  b.writeUInt32LE(tsSec >>> 0, at);
  b.writeUInt32LE(tsUsec >>> 0, at + 4);
  b.writeUInt32LE(capLen >>> 0, at + 8);
  b.writeUInt32LE(origLen >>> 0, at + 12);
}

export function pcapRecordHeader(tsSec: number, tsUsec: number, capLen: number, origLen: number): Buffer {
  const b = Buffer.alloc(RECORD_HEADER_LEN);
  putRecordHeader(b, 0, tsSec, tsUsec, capLen, origLen);
  return b;
}

export interface PcapWriterFrame {
  tsSec: number;
  tsNsec: number;
  data: Buffer;
  origLen?: number;
}

export interface PcapWriterOptions {
  snaplen?: number;
  /**
   * End a Writable passed in when the writer is closed (default true, as stream.pipe does;
   * process.stdout/stderr are never ended). A file opened from a path is always closed.
   */
  end?: boolean;
}

export class PcapWriter {
  readonly linktype: number;
  readonly snaplen: number;
  private readonly out: Writable;
  private readonly ownsStream: boolean;
  private readonly endStream: boolean;
  private chunk = Buffer.allocUnsafe(CHUNK_SIZE);
  private pos = 0;
  private error: Error | undefined;
  private closed = false;
  private readonly where: string;
  /** Number of records written so far. */
  count = 0;

  constructor(target: string | Writable, linktype: number, opts: PcapWriterOptions = {}) {
    this.linktype = linktype;
    this.snaplen = opts.snaplen ?? PCAP_DEFAULT_SNAPLEN;
    if (typeof target === 'string') {
      this.where = target;
      // Open synchronously so a bad path is reported now rather than at close().
      let fd: number;
      try {
        fd = openSync(target, 'w');
      } catch (e) {
        throw new SipscopeError('E_WRITE', `cannot write ${target}: ${(e as Error).message}`);
      }
      try {
        this.out = createWriteStream('', { fd });
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      this.ownsStream = true;
      this.endStream = true;
    } else {
      this.where = 'output';
      this.out = target;
      this.ownsStream = false;
      this.endStream = opts.end !== false && target !== process.stdout && target !== process.stderr;
    }
    // Keep the error for write()/close() instead of letting an 'error' event crash the process.
    this.out.on('error', (e: Error) => {
      this.error ??= e;
    });
    pcapGlobalHeader(linktype, this.snaplen).copy(this.chunk, 0);
    this.pos = GLOBAL_HEADER_LEN;
  }

  /**
   * Appends one record, copying the bytes (callers reuse their buffers). Returns false when the
   * stream is backed up; callers that can wait should then await drained().
   */
  write(frame: PcapWriterFrame): boolean {
    if (this.closed) throw new Error('PcapWriter: write after close');
    this.throwIfFailed();
    const capLen = Math.min(frame.data.length, this.snaplen);
    const origLen = Math.max(frame.origLen ?? frame.data.length, capLen);
    const tsUsec = Math.floor(frame.tsNsec / 1000);
    const recLen = RECORD_HEADER_LEN + capLen;
    if (this.pos + recLen > this.chunk.length) {
      this.flush();
      if (recLen > this.chunk.length) {
        // Bigger than a chunk: give it its own buffer.
        const big = Buffer.allocUnsafe(recLen);
        putRecordHeader(big, 0, frame.tsSec, tsUsec, capLen, origLen);
        frame.data.copy(big, RECORD_HEADER_LEN, 0, capLen);
        this.out.write(big);
        this.count++;
        return !this.out.writableNeedDrain;
      }
    }
    putRecordHeader(this.chunk, this.pos, frame.tsSec, tsUsec, capLen, origLen);
    frame.data.copy(this.chunk, this.pos + RECORD_HEADER_LEN, 0, capLen);
    this.pos += recLen;
    this.count++;
    return !this.out.writableNeedDrain;
  }

  /** Resolves once the stream has room again (immediately if it has). */
  async drained(): Promise<void> {
    this.throwIfFailed();
    if (!this.out.writableNeedDrain) return;
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error): void => {
        this.out.off('drain', done);
        this.out.off('error', done);
        if (e) reject(this.wrap(e));
        else resolve();
      };
      this.out.on('drain', done);
      this.out.on('error', done);
    });
  }

  /** Flushes everything and ends (or, for stdout, just drains) the stream. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const rest = this.chunk.subarray(0, this.pos);
    this.pos = 0;
    const out = this.out;
    this.throwIfFailed();
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(this.wrap(e));
      const done = (): void => {
        out.off('error', onError);
        resolve();
      };
      out.once('error', onError);
      if (this.endStream) out.end(rest, done);
      else out.write(rest, (e) => (e ? onError(e) : done())); // callbacks run in order: this is the last
    });
    if (this.ownsStream && !out.closed) {
      await new Promise<void>((resolve) => out.once('close', () => resolve()));
    }
    this.throwIfFailed();
  }

  private flush(): void {
    if (this.pos === 0) return;
    // The stream keeps a reference to what it was given, so start a fresh chunk.
    this.out.write(this.chunk.subarray(0, this.pos));
    this.chunk = Buffer.allocUnsafe(CHUNK_SIZE);
    this.pos = 0;
  }

  private throwIfFailed(): void {
    if (this.error) throw this.wrap(this.error);
  }

  private wrap(e: Error): SipscopeError {
    return e instanceof SipscopeError ? e : new SipscopeError('E_WRITE', `cannot write ${this.where}: ${e.message}`);
  }
}
