import { closeSync, createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { SipscopeError } from '../capture/index.js';
import { RECORD_COLUMNS, type CallRecord, type RecordColumn } from '../model/index.js';
import { FIELD_SEPARATOR, ROW_SEPARATOR, csvText, type CsvRow } from './csv-text.js';
import type { CsvThreadData, CsvThreadIn, CsvThreadOut } from './csv-thread.js';


/**
 * Rows handed to csv-stringify at once. Its stream form cost a Transform pass and a Buffer per
 * record (and a path lookup per object field); a batch of arrays costs one call and one write.
 * About a hundred rows keep the joined string small (measured: thousands are slower).
 */
const BATCH_ROWS = 128;

/** Where batches of rows go: formatted here and written to a stream, or to the writer thread. */
interface RowOut {
  write(rows: CsvRow[], header: boolean): void;
  drained(): Promise<void>;
  close(): Promise<void>;
  /** Stops without finishing (the run failed): nothing must keep the process alive. */
  abort(): Promise<void>;
}

export interface CsvOpenOptions {
  /**
   * Format and write in a worker thread (csv-thread.ts), for bulk exports to a file: the main
   * thread only hands rows over. Standard output is always written from the main thread.
   */
  thread?: boolean;
}

function writeError(output: string, err: Error): SipscopeError {
  return new SipscopeError('E_WRITE', `cannot write ${output}: ${err.message}`);
}

/**
 * Call records as CSV through csv-stringify, the one way sipscope writes them (`export csv`, the
 * terminal UI's save, the responder's --cdr): a header line, then one line per record with the
 * columns in order, numbers as String() writes them (csv-stringify's default cast). Rows go out
 * in batches: when one is full, on `drained()`, on `close()`, and at the latest on the next turn of
 * the event loop (a live writer's file stays current). Writes honour backpressure: call
 * `drained()` between batches.
 */
export class RecordCsvWriter {
  private rows: CsvRow[] = [];
  private headerWritten = false;
  private pending: NodeJS.Immediate | undefined;
  /** Records written so far. */
  count = 0;

  private constructor(
    private readonly out: RowOut,
    private readonly columns: readonly RecordColumn[],
  ) {}

  /** Opens `output` (a path, or - for standard output); a path that cannot be written is an E_WRITE error. */
  static async open(output: string, columns: readonly RecordColumn[] = RECORD_COLUMNS, opts: CsvOpenOptions = {}): Promise<RecordCsvWriter> {
    if (output === '-') {
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
      });
      return new RecordCsvWriter(new StreamOut(process.stdout, true, columns), columns);
    }
    if (opts.thread) {
      let fd: number;
      try {
        fd = openSync(output, 'w');
      } catch (err) {
        throw writeError(output, err as Error);
      }
      return new RecordCsvWriter(new ThreadOut(output, fd, columns), columns);
    }
    const sink = createWriteStream(output);
    await new Promise<void>((resolve, reject) => {
      sink.once('open', () => resolve());
      sink.once('error', (err) => reject(writeError(output, err)));
    });
    return new RecordCsvWriter(new StreamOut(sink, false, columns), columns);
  }

  write(r: CallRecord): void {
    this.count++;
    this.rows.push(rowOf(r, this.columns));
    if (this.rows.length >= BATCH_ROWS) this.flush();
    else this.pending ??= setImmediate(() => this.flush());
  }

  /** Resolves once the output has room again. */
  async drained(): Promise<void> {
    this.flush();
    await this.out.drained();
  }

  /** Ends the CSV; resolves when everything is written (and a file is closed). */
  async close(): Promise<void> {
    this.flush(true);
    await this.out.close();
  }

  /** Gives up after a failure: what was handed over may be lost; the output is closed. */
  async abort(): Promise<void> {
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    this.rows = [];
    await this.out.abort();
  }

  /** Hands over the rows gathered so far; `final` writes the header even with no rows (an empty export). */
  private flush(final = false): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    if (!this.rows.length && (this.headerWritten || !final)) return;
    this.out.write(this.rows, !this.headerWritten);
    this.headerWritten = true;
    this.rows = [];
  }
}

/** Formats on this thread and writes to a stream (a file, or standard output). */
class StreamOut implements RowOut {
  constructor(
    private readonly sink: Writable,
    private readonly toStdout: boolean,
    private readonly columns: readonly RecordColumn[],
  ) {}

  write(rows: CsvRow[], header: boolean): void {
    this.sink.write(csvText(rows, header, this.columns));
  }

  async drained(): Promise<void> {
    // Asked of the sink, not remembered: a flush on a later turn may have filled it, or 'drain' passed.
    if (this.sink.writableNeedDrain) await new Promise<void>((r) => this.sink.once('drain', () => r()));
  }

  async close(): Promise<void> {
    if (this.toStdout) return this.drained();
    await new Promise<void>((resolve) => {
      this.sink.once('close', () => resolve());
      this.sink.end();
    });
  }

  async abort(): Promise<void> {
    if (!this.toStdout) this.sink.destroy();
  }
}

/**
 * A batch as one string: fields joined by FIELD_SEPARATOR, rows by ROW_SEPARATOR (csv-thread.ts).
 * csv-stringify writes a number as String() does and null as an empty field, which is what join
 * makes of them, so the thread can take every field as text.
 */
function batchText(rows: CsvRow[]): string {
  const lines = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) lines[i] = rows[i]!.join(FIELD_SEPARATOR);
  return lines.join(ROW_SEPARATOR);
}

/** Batches the writer thread may have in hand before drained() waits (bounds memory on a slow disk). */
const THREAD_BACKLOG = 32;

/** Hands batches to the writer thread (csv-thread.ts), which formats and writes them to `fd`. */
class ThreadOut implements RowOut {
  private readonly worker: Worker;
  private inFlight = 0;
  private failure: SipscopeError | undefined;
  private readonly exited: Promise<void>;
  /** Called when the thread reports a batch written (or fails): wakes drained(). */
  private wake: (() => void) | undefined;

  constructor(
    private readonly output: string,
    private readonly fd: number,
    columns: readonly RecordColumn[],
  ) {
    const data: CsvThreadData = { fd, columns };
    this.worker = new Worker(new URL('./csv-thread.js', import.meta.url), { workerData: data });
    this.worker.on('message', (m: CsvThreadOut) => {
      if ('written' in m) this.inFlight--;
      else this.failure ??= writeError(this.output, new Error(m.error));
      this.wake?.();
    });
    this.exited = new Promise<void>((resolve) => {
      this.worker.once('error', (err) => {
        this.failure ??= writeError(this.output, err);
        this.wake?.();
      });
      this.worker.once('exit', () => {
        this.failure ??= this.inFlight > 0 ? writeError(this.output, new Error('the CSV writer thread stopped')) : undefined;
        this.wake?.();
        resolve();
      });
    });
  }

  write(rows: CsvRow[], header: boolean): void {
    if (this.failure) return;
    this.inFlight++;
    // As one string: it crosses to the thread as one copy, where a structured clone of the
    // arrays costs about four times as much here, and JSON twice.
    this.worker.postMessage({ text: batchText(rows), count: rows.length, header } satisfies CsvThreadIn);
  }

  async drained(): Promise<void> {
    while (!this.failure && this.inFlight > THREAD_BACKLOG) await new Promise<void>((r) => (this.wake = r));
    this.wake = undefined;
    if (this.failure) throw this.failure;
  }

  async abort(): Promise<void> {
    await this.worker.terminate();
    await this.exited;
    this.closeFile();
  }

  async close(): Promise<void> {
    this.worker.postMessage({ end: true } satisfies CsvThreadIn);
    await this.exited;
    this.closeFile();
    if (this.failure) throw this.failure;
  }

  /** The thread has exited: the descriptor is closed here, where it was opened. */
  private closeFile(): void {
    try {
      closeSync(this.fd);
    } catch (err) {
      this.failure ??= writeError(this.output, err as Error);
    }
  }
}

/**
 * The record's values in column order. Records from buildRecord have exactly these keys in this
 * order, and then Object.values is about four times cheaper than looking each column up by name
 * (one lookup site seeing every key is megamorphic); other records are looked up by name.
 */
function rowOf(r: CallRecord, columns: readonly RecordColumn[]): CsvRow {
  if (keysAre(r, columns)) return Object.values(r);
  const row: CsvRow = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) row[i] = r[columns[i]!];
  return row;
}

function keysAre(r: CallRecord, columns: readonly RecordColumn[]): boolean {
  const keys = Object.keys(r);
  if (keys.length !== columns.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== columns[i]) return false;
  return true;
}
