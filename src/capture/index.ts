/** The capture layer: pcap and pcapng files (gzip, stdin) and live interfaces. */
export { readCapture, type CaptureSummary, type ReadOptions } from './reader.js';
export { RecordStream, type CaptureFormat } from './record-stream.js';
export { SipscopeError } from './errors.js';
export type { Frame, FrameSink, CaptureWarning } from './types.js';
