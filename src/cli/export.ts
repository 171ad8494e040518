import { CsvRecordWriter } from '../export/index.js';
import { groupRecords } from '../model/index.js';
import { analyzeFile, type ModelOptions } from './analyze.js';

/**
 * `export csv`: call records streamed as groups finish, so memory stays bounded by open calls.
 * Backpressure is honoured between input chunks.
 */
export async function exportCsvCommand(file: string, opts: ModelOptions & { output: string }): Promise<void> {
  const out = await CsvRecordWriter.open(opts.output);
  await analyzeFile(file, opts, (g) => {
    for (const r of groupRecords(g)) out.write(r);
  }, {}, () => out.drain());
  await out.close();
}
