import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { stringify, type Stringifier } from 'csv-stringify';
import { SipscopeError } from '../capture/index.js';
import { RECORD_COLUMNS, type CallRecord, type RecordColumn } from '../model/index.js';

/**
 * Call records as CSV through csv-stringify, the one way sipscope writes them (`export csv` and
 * the terminal UI's save): a header line, then one line per record with the columns in order,
 * numbers as written by String(). Writes honour backpressure: call `drained()` between batches.
 */
export class RecordCsvWriter {
  private readonly csv: Stringifier;
  private blocked = false;
  /** Records written so far. */
  count = 0;

  private constructor(
    private readonly sink: Writable,
    private readonly toStdout: boolean,
    columns: readonly RecordColumn[],
  ) {
    this.csv = stringify({ header: true, columns: [...columns], cast: { number: (n) => String(n) } });
    this.csv.pipe(sink, { end: !toStdout });
  }

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
    if (!this.csv.write(r)) this.blocked = true;
  }

  /** Resolves once the CSV stream has room again. */
  async drained(): Promise<void> {
    if (this.blocked) await new Promise<void>((r) => this.csv.once('drain', () => r()));
    this.blocked = false;
  }

  /** Ends the CSV; resolves when everything is written (and a file is closed). */
  async close(): Promise<void> {
    const done = new Promise<void>((resolve) => (this.toStdout ? this.csv.once('end', () => resolve()) : this.sink.once('close', () => resolve())));
    this.csv.end();
    await done;
  }
}
