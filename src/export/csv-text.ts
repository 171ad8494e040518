import { stringify } from 'csv-stringify/sync';

/** One CSV row: a record's values in column order (what csv-stringify casts: numbers with String()). */
export type CsvValue = string | number | null;
export type CsvRow = CsvValue[];

/**
 * Rows as CSV text through csv-stringify, with the header line first when asked: the one place
 * sipscope formats CSV, on the main thread or in the writer thread (csv-thread.ts).
 */
export function csvText(rows: CsvRow[], header: boolean, columns: readonly string[]): string {
  return stringify(rows, { header, columns });
}
