import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { SipscopeError } from '../capture/index.js';
import { groupRecords, RECORD_COLUMNS } from '../model/index.js';
import { analyzeFile, type ModelOptions } from './analyze.js';

/**
 * `export csv`: call records streamed through csv-stringify as groups finish, so memory stays
 * bounded by open calls. Backpressure is honoured between input chunks.
 */
export async function exportCsvCommand(file: string, opts: ModelOptions & { output: string }): Promise<void> {
  let sink: Writable;
  if (opts.output === '-') {
    sink = process.stdout;
    sink.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
    });
  } else {
    sink = createWriteStream(opts.output);
    await new Promise<void>((resolve, reject) => {
      sink.once('open', () => resolve());
      sink.once('error', (err) => reject(new SipscopeError('E_WRITE', `cannot write ${opts.output}: ${err.message}`)));
    });
  }
  const csv = stringify({ header: true, columns: [...RECORD_COLUMNS], cast: { number: (n) => String(n) } });
  csv.pipe(sink, { end: opts.output !== '-' });
  let blocked = false;
  const flush = async (): Promise<void> => {
    if (blocked) await new Promise<void>((r) => csv.once('drain', () => r()));
    blocked = false;
  };
  await analyzeFile(file, opts, (g) => {
    for (const r of groupRecords(g)) if (!csv.write(r)) blocked = true;
  }, {}, flush);
  csv.end();
  await new Promise<void>((resolve) => (opts.output === '-' ? csv.once('end', () => resolve()) : sink.once('finish', () => resolve())));
}
