import { createReadStream, promises as fsp } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { SipscopeError } from './errors.js';
import { RecordStream, type CaptureFormat } from './record-stream.js';
import type { CaptureWarning, FrameSink } from './types.js';

const CHUNK = 1 << 20;

export interface ReadOptions {
  onWarning?: (w: CaptureWarning) => void;
  /** Called after each chunk with bytes consumed from the input (compressed bytes for gzip). */
  onProgress?: (done: number, total: number) => void;
  /** Replaces stdin for `-` (tests). */
  stdin?: Readable;
  /** Awaited after each chunk: where output is flushed with backpressure. */
  afterChunk?: () => Promise<void> | void;
}

export interface CaptureSummary {
  format: CaptureFormat | undefined;
  compressed: boolean;
  /** Bytes of capture data (after decompression). */
  bytes: number;
  linktypes: number[];
  warnings: CaptureWarning[];
  skippedBytes: number;
}

function inputError(path: string, err: NodeJS.ErrnoException): SipscopeError {
  const why: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory' };
  return new SipscopeError('E_INPUT', `cannot read ${path}: ${why[err.code ?? ''] ?? err.message}`);
}

/**
 * Reads a pcap or pcapng capture (optionally gzip-compressed; `-` is standard input) and hands
 * every frame to `sink` synchronously. The await is per chunk, never per packet.
 */
export async function readCapture(path: string, sink: FrameSink, opts: ReadOptions = {}): Promise<CaptureSummary> {
  const warnings: CaptureWarning[] = [];
  const warn = (w: CaptureWarning): void => {
    if (warnings.length < 1000) warnings.push(w);
    opts.onWarning?.(w);
  };
  let total = 0;
  let raw: Readable;
  if (path === '-') {
    raw = opts.stdin ?? process.stdin;
  } else {
    try {
      const st = await fsp.stat(path);
      if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
      total = st.size;
    } catch (err) {
      throw inputError(path, err as NodeJS.ErrnoException);
    }
    raw = createReadStream(path, { highWaterMark: CHUNK });
  }
  const records = new RecordStream(sink, warn);
  let consumed = 0;
  let compressed = false;
  const it = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    const first = await it.next();
    if (!first.done) {
      const head = first.value;
      compressed = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
      if (compressed) {
        consumed = await pumpGunzip(head, it, records, async (n) => {
          consumed = n;
          opts.onProgress?.(n, total);
          await opts.afterChunk?.();
        }, warn);
      } else {
        consumed = head.length;
        records.push(head);
        opts.onProgress?.(consumed, total);
        await opts.afterChunk?.();
        for (;;) {
          const next = await it.next();
          if (next.done) break;
          consumed += next.value.length;
          records.push(next.value);
          opts.onProgress?.(consumed, total);
          await opts.afterChunk?.();
        }
      }
    }
  } catch (err) {
    if (err instanceof SipscopeError) {
      raw.destroy();
      throw err;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code && /^E[A-Z]+$/.test(e.code) && e.syscall) throw inputError(path, e);
    throw err;
  }
  records.end();
  return { format: records.format, compressed, bytes: records.bytes, linktypes: records.linktypes, warnings, skippedBytes: records.skippedBytes };
}

async function pumpGunzip(
  head: Buffer,
  it: AsyncIterator<Buffer>,
  records: RecordStream,
  progress: (n: number) => Promise<void>,
  warn: (w: CaptureWarning) => void,
): Promise<number> {
  const gunzip = createGunzip({ chunkSize: CHUNK });
  let fed = 0;
  const feed = async (): Promise<void> => {
    let chunk: Buffer | undefined = head;
    while (chunk) {
      fed += chunk.length;
      if (!gunzip.write(chunk)) await new Promise<void>((r) => gunzip.once('drain', r));
      const next = await it.next();
      chunk = next.done ? undefined : next.value;
    }
    gunzip.end();
  };
  const feeding = feed().catch((err: unknown) => gunzip.destroy(err as Error));
  try {
    for await (const out of gunzip) {
      records.push(out as Buffer);
      await progress(fed);
    }
  } catch (err) {
    // A gzip file cut short still yields everything decompressed so far.
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'Z_BUF_ERROR' || e.code === 'Z_DATA_ERROR' || /unexpected end/i.test(e.message)) {
      warn({ code: 'truncated-record', message: `gzip stream is damaged or cut short after ${records.bytes} decompressed bytes: ${e.message}`, offset: records.bytes });
    } else {
      throw err;
    }
  }
  await feeding;
  return fed;
}
