import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { stringify, type Stringifier } from 'csv-stringify';
import { SipscopeError } from '../capture/index.js';
import { RECORD_COLUMNS, type CallRecord } from '../model/index.js';

/**
 * Call records to CSV with csv-stringify, one writer for `export csv`, the responder's --cdr and
 * the UI: same columns everywhere. Writes are streamed; `drain()` waits when the sink is full.
 */
export class CsvRecordWriter {
  private readonly csv: Stringifier;
  private blocked = false;
  private readonly done: Promise<void>;

  private constructor(sink: Writable, ownsSink: boolean) {
    this.csv = stringify({ header: true, columns: [...RECORD_COLUMNS], cast: { number: (n) => String(n) } });
    this.csv.pipe(sink, { end: ownsSink });
    this.done = new Promise<void>((resolve) => (ownsSink ? sink.once('finish', () => resolve()) : this.csv.once('end', () => resolve())));
  }

  /** Opens a file (or standard output for "-"). */
  static async open(path: string): Promise<CsvRecordWriter> {
    if (path === '-') {
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
      });
      return new CsvRecordWriter(process.stdout, false);
    }
    const file = createWriteStream(path);
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (err) => reject(new SipscopeError('E_WRITE', `cannot write ${path}: ${err.message}`)));
    });
    return new CsvRecordWriter(file, true);
  }

  write(r: CallRecord): void {
    if (!this.csv.write(r)) this.blocked = true;
  }

  /** Waits for the sink when it asked for a pause (backpressure between input chunks). */
  async drain(): Promise<void> {
    if (this.blocked) await new Promise<void>((r) => this.csv.once('drain', () => r()));
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.csv.end();
    await this.done;
  }
}
