import { createReadStream, promises as fsp } from 'node:fs';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { SipscopeError } from './errors.js';
import { RecordStream, type CaptureFormat } from './record-stream.js';
import type { CaptureWarning, FrameSink } from './types.js';

const CHUNK = 1 << 20;
/** Compressed bytes kept from the start of a gzip input, to salvage what precedes damage in it. */
const SALVAGE_LIMIT = 4 << 20;

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
      let head = first.value;
      // A pipe may hand over a single byte first: the gzip magic needs two.
      while (head.length < 2) {
        const more = await it.next();
        if (more.done) break;
        head = Buffer.concat([head, more.value]);
      }
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
  // Decompressed bytes go to the records as zlib produces them: when the stream then fails (a
  // cut or damaged file), everything decompressed before the failure has been read. Backpressure
  // is per input chunk: progress() (where output is flushed) is awaited after each one.
  let failure: unknown;
  gunzip.on('data', (out: Buffer) => {
    if (failure !== undefined) return;
    try {
      records.push(out);
    } catch (err) {
      failure = err;
      gunzip.destroy();
    }
  });
  const finished = new Promise<Error | undefined>((resolve) => {
    gunzip.once('end', () => resolve(undefined));
    gunzip.once('error', (e) => resolve(e));
    gunzip.once('close', () => resolve(undefined));
  });
  let fed = 0;
  let inputDone = false;
  const kept: Buffer[] = [];
  try {
    let chunk: Buffer | undefined = head;
    while (chunk && !gunzip.destroyed) {
      fed += chunk.length;
      if (fed <= SALVAGE_LIMIT) kept.push(chunk);
      else kept.length = 0;
      // A failing stream never drains: stop waiting when it ends either way.
      if (!gunzip.write(chunk)) await Promise.race([new Promise((r) => gunzip.once('drain', r)), finished]);
      if (gunzip.destroyed) break;
      await progress(fed);
      const next = await it.next();
      inputDone = next.done === true;
      chunk = next.done ? undefined : next.value;
    }
    if (!gunzip.destroyed) {
      // Get out all that the input decodes to before end(): on a cut stream end() fails, and zlib
      // drops the output of the step that fails.
      await Promise.race([new Promise((r) => gunzip.flush(zlibConstants.Z_SYNC_FLUSH, () => r(undefined))), finished]);
      gunzip.end();
    }
    const err = await finished;
    if (failure !== undefined) throw failure;
    if (err) {
      // A gzip file cut short or damaged still yields everything decompressed before the damage.
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'Z_BUF_ERROR' || e.code === 'Z_DATA_ERROR' || /unexpected end/i.test(e.message)) {
        // zlib drops the output of the step that failed: decode again what came before the damage
        // (a stream merely cut short lost nothing: the flush above got it all).
        if (e.code === 'Z_DATA_ERROR' && fed <= SALVAGE_LIMIT) {
          const out = salvageGzip(Buffer.concat(kept));
          if (out.length > records.bytes) records.push(out.subarray(records.bytes));
        }
        warn({ code: 'truncated-record', message: `gzip stream is damaged or cut short after ${records.bytes} decompressed bytes: ${e.message}`, offset: records.bytes });
      } else {
        throw err;
      }
    }
    await progress(fed);
  } finally {
    gunzip.destroy();
    if (!inputDone) await it.return?.(); // stopped early: close the input
  }
  return fed;
}

/**
 * What a damaged gzip stream decodes to before its damage: the output of its longest prefix that
 * decodes without error (found by bisection; prefixes up to the damage all decode).
 */
function salvageGzip(z: Buffer): Buffer {
  const decode = (n: number): Buffer | undefined => {
    try {
      return gunzipSync(z.subarray(0, n), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch {
      return undefined;
    }
  };
  let lo = 0;
  let best: Buffer = Buffer.alloc(0);
  let hi = z.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const out = decode(mid);
    if (out) {
      lo = mid;
      best = out;
    } else hi = mid - 1;
  }
  return best;
}
