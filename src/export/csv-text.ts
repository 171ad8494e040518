import { stringify } from 'csv-stringify/sync';

/** One CSV row: a record's values in column order (what csv-stringify casts: numbers with String()). */
export type CsvValue = string | number | null;
export type CsvRow = CsvValue[];

/**
 * Separators of a batch of rows sent as text to the writer thread (csv-thread.ts). Lone low
 * surrogates: no record value can hold one, as every string in a record is decoded from bytes
 * (UTF-8 or Latin-1 decoding makes well-formed text) or made by sipscope in ASCII. The thread
 * checks the shape of what it splits all the same.
 */
export const FIELD_SEPARATOR = '\udc01';
export const ROW_SEPARATOR = '\udc02';

/**
 * Rows as CSV text through csv-stringify, with the header line first when asked: the one place
 * sipscope formats CSV, on the main thread or in the writer thread (csv-thread.ts).
 */
export function csvText(rows: CsvRow[], header: boolean, columns: readonly string[]): string {
  return stringify(rows, { header, columns });
}

/** Splits a batch made by joining rows' values with the separators above; undefined if misshapen. */
export function rowsOfText(text: string, count: number, columns: number): string[][] | undefined {
  if (count === 0) return [];
  const lines = text.split(ROW_SEPARATOR);
  if (lines.length !== count) return undefined;
  const rows = new Array<string[]>(count);
  for (let i = 0; i < count; i++) {
    const row = lines[i]!.split(FIELD_SEPARATOR);
    if (row.length !== columns) return undefined;
    rows[i] = row;
  }
  return rows;
}
