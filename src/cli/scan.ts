import { readCapture, type CaptureSummary, type CaptureWarning } from '../capture/index.js';
import { SipExtractor, type SipPacketSink } from '../sip/index.js';
import { Progress } from './progress.js';

export interface ScanResult {
  summary: CaptureSummary;
  extractor: SipExtractor;
}

/**
 * Runs a capture file through the pipeline, calling `onPacket` for every SIP message. Capture
 * warnings go to stderr as they happen (a truncated file still yields its packets).
 */
/** `retain`: whether the callback keeps messages beyond its return (see SipExtractor). */
export async function scanFile(path: string, onPacket: SipPacketSink, afterChunk?: () => Promise<void>, retain = true): Promise<ScanResult> {
  const extractor = new SipExtractor(onPacket, undefined, retain);
  const progress = new Progress(path);
  const onWarning = (w: CaptureWarning): void => {
    progress.clear();
    process.stderr.write(`sipscope: warning: ${w.message}\n`);
  };
  try {
    const summary = await readCapture(path, (f) => extractor.frame(f), {
      onWarning,
      onProgress: (done, total) => progress.update(done, total, extractor.counters.sipMessages),
      afterChunk,
    });
    extractor.finish();
    return { summary, extractor };
  } finally {
    progress.clear();
    await afterChunk?.();
  }
}
