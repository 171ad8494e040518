import { RecordCsvWriter } from '../export/index.js';
import { groupRecords } from '../model/index.js';
import { analyzeFile, type ModelOptions } from './analyze.js';

/**
 * `export csv`: call records written through csv-stringify (in batches) as groups finish, so
 * memory stays bounded by open calls. Backpressure is honoured between input chunks. Records
 * need no session's message list (only counts and transactions), so the model keeps none.
 */
export async function exportCsvCommand(file: string, opts: ModelOptions & { output: string }): Promise<void> {
  const csv = await RecordCsvWriter.open(opts.output, undefined, { thread: true });
  try {
    await analyzeFile(file, opts, (g) => {
      for (const r of groupRecords(g)) csv.write(r);
    }, { keepMessages: false }, () => csv.drained());
  } catch (err) {
    await csv.abort(); // the writer thread must not outlive the failure
    throw err;
  }
  await csv.close();
}
