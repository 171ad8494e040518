/**
 * The CSV writer thread: formats batches of rows with csv-stringify and writes them to a file
 * descriptor the main thread opened. csv-stringify makes a few objects per field (a cast context,
 * pairs, separator lists): for a bulk export that is most of what the main thread would allocate
 * and a tenth of its time, so `export csv` hands the rows over and goes on with the capture.
 *
 * Protocol (see ThreadOut in csv.ts): in { text, count, header } and { end: true }; out { written: n }
 * per batch, { error: message } on a failed write. After `end` the thread exits.
 */
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { csvText, rowsOfText } from './csv-text.js';

export interface CsvThreadData {
  fd: number;
  columns: readonly string[];
}

export type CsvThreadIn = { text: string; count: number; header: boolean } | { end: true };
export type CsvThreadOut = { written: number } | { error: string };

const port = parentPort;
if (port) {
  const { fd, columns } = workerData as CsvThreadData;
  let failed = false;
  port.on('message', (m: CsvThreadIn) => {
    if ('end' in m) {
      port.close(); // the main thread, which opened the descriptor, closes it
      return;
    }
    if (failed) return;
    try {
      const rows = rowsOfText(m.text, m.count, columns.length);
      if (!rows) throw new Error('a batch of rows came apart (a value held a separator)');
      const bytes = Buffer.from(csvText(rows, m.header, columns));
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
      port.postMessage({ written: rows.length } satisfies CsvThreadOut);
    } catch (err) {
      failed = true;
      port.postMessage({ error: (err as Error).message } satisfies CsvThreadOut);
    }
  });
}
