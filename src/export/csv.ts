import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { SipscopeError } from '../capture/index.js';
import { RECORD_COLUMNS, type CallRecord, type RecordColumn } from '../model/index.js';

/** One CSV row: the record's values in column order. */
type Row = Array<CallRecord[RecordColumn]>;

/**
 * Rows handed to csv-stringify at once. Its stream form cost a Transform pass and a Buffer per
 * record (and a path lookup per object field); a batch of arrays costs one call and one write.
 * About a hundred rows keep the joined string small (measured: thousands are slower).
 */
const BATCH_ROWS = 128;

/**
 * Call records as CSV through csv-stringify, the one way sipscope writes them (`export csv`, the
 * terminal UI's save, the responder's --cdr): a header line, then one line per record with the
 * columns in order, numbers as String() writes them (csv-stringify's default cast). Rows go out
 * in batches: when one is full, on `drained()`, on `close()`, and at the latest on the next turn of
 * the event loop (a live writer's file stays current). Writes honour backpressure: call
 * `drained()` between batches.
 */
export class RecordCsvWriter {
  private rows: Row[] = [];
  private headerWritten = false;
  private pending: NodeJS.Immediate | undefined;
  /** Records written so far. */
  count = 0;

  private constructor(
    private readonly sink: Writable,
    private readonly toStdout: boolean,
    private readonly columns: readonly RecordColumn[],
  ) {}

  /** Opens `output` (a path, or - for standard output); a path that cannot be written is an E_WRITE error. */
  static async open(output: string, columns: readonly RecordColumn[] = RECORD_COLUMNS): Promise<RecordCsvWriter> {
    if (output === '-') {
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
      });
      return new RecordCsvWriter(process.stdout, true, columns);
    }
    const sink = createWriteStream(output);
    await new Promise<void>((resolve, reject) => {
      sink.once('open', () => resolve());
      sink.once('error', (err) => reject(new SipscopeError('E_WRITE', `cannot write ${output}: ${err.message}`)));
    });
    return new RecordCsvWriter(sink, false, columns);
  }

  write(r: CallRecord): void {
    this.count++;
    this.rows.push(rowOf(r, this.columns));
    if (this.rows.length >= BATCH_ROWS) this.flush();
    else this.pending ??= setImmediate(() => this.flush());
  }

  /** Resolves once the sink has room again. */
  async drained(): Promise<void> {
    this.flush();
    // Asked of the sink, not remembered: a flush on a later turn may have filled it, or 'drain' passed.
    if (this.sink.writableNeedDrain) await new Promise<void>((r) => this.sink.once('drain', () => r()));
  }

  /** Ends the CSV; resolves when everything is written (and a file is closed). */
  async close(): Promise<void> {
    this.flush(true);
    if (this.toStdout) return this.drained();
    await new Promise<void>((resolve) => {
      this.sink.once('close', () => resolve());
      this.sink.end();
    });
  }

  /** Writes the rows gathered so far; `final` writes the header even with no rows (an empty export). */
  private flush(final = false): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    if (!this.rows.length && (this.headerWritten || !final)) return;
    const text = stringify(this.rows, { header: !this.headerWritten, columns: this.columns });
    this.headerWritten = true;
    this.rows = [];
    this.sink.write(text);
  }
}

/**
 * The record's values in column order. Records from buildRecord have exactly these keys in this
 * order, and then Object.values is about four times cheaper than looking each column up by name
 * (one lookup site seeing every key is megamorphic); other records are looked up by name.
 */
function rowOf(r: CallRecord, columns: readonly RecordColumn[]): Row {
  if (keysAre(r, columns)) return Object.values(r);
  const row: Row = new Array(columns.length);
  for (let i = 0; i < columns.length; i++) row[i] = r[columns[i]!];
  return row;
}

function keysAre(r: CallRecord, columns: readonly RecordColumn[]): boolean {
  const keys = Object.keys(r);
  if (keys.length !== columns.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== columns[i]) return false;
  return true;
}
