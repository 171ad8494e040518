/** Exports: call records to CSV (calls to pcap live with the capture layer's PcapWriter). */
export { CsvRecordWriter } from './csv.js';
