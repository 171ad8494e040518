/** Exports of call records shared by the CLI and the terminal UI. */
export { RecordCsvWriter } from './csv.js';
