import { listInterfaces, openLive } from '../capture/live.js';
import { PcapWriter } from '../capture/pcap-writer.js';
import { SipscopeError } from '../capture/index.js';
import { SipExtractor } from '../sip/index.js';
import { messageLine, messageRecord } from './messages.js';
import { Output } from './output.js';

export function interfacesCommand(opts: { json?: boolean }): void {
  const out = new Output();
  const list = listInterfaces();
  for (const i of list) {
    if (opts.json) out.line(JSON.stringify(i));
    else out.line(`${i.name.padEnd(16)} ${i.addresses.join(', ') || '-'}${i.description ? `  (${i.description})` : ''}`);
  }
  void out.flush();
}

export interface CaptureOptions {
  interface: string;
  filter?: string;
  write?: string;
  count?: string;
  duration?: string;
  json?: boolean;
}

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new SipscopeError('E_USAGE', `${name} must be a positive number, not "${v}"`);
  return n;
}

/**
 * Live capture: one line per SIP message as it passes, optionally writing every captured frame
 * to a pcap. Stops after --count SIP messages, --duration seconds, or on SIGINT/SIGTERM.
 */
export async function captureCommand(opts: CaptureOptions): Promise<void> {
  const count = positive('--count', opts.count);
  const duration = positive('--duration', opts.duration);
  const out = new Output();
  let seen = 0;
  let stop: () => void = () => {};
  const done = new Promise<void>((resolve) => (stop = resolve));
  const extractor = new SipExtractor((p) => {
    out.line(opts.json ? JSON.stringify(messageRecord(p)) : messageLine(p));
    void out.flush();
    if (count !== undefined && ++seen >= count) stop();
  });
  let writer: PcapWriter | undefined;
  const session = openLive({ device: opts.interface, filter: opts.filter }, (frame) => {
    writer?.write(frame);
    extractor.frame(frame);
  });
  if (opts.write) {
    try {
      writer = new PcapWriter(opts.write, session.linktype);
    } catch (e) {
      session.close(); // an open capture keeps the process alive: close it before reporting
      throw e;
    }
  }
  process.stderr.write(`sipscope: capturing on ${session.device}${opts.filter ? ` (filter: ${opts.filter})` : ''}; Ctrl-C stops\n`);
  const timer = duration !== undefined ? setTimeout(stop, duration * 1000) : undefined;
  const onSignal = (): void => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await done;
  if (timer) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  session.close();
  extractor.finish();
  await writer?.close();
  await out.flush();
  process.stderr.write(`sipscope: ${extractor.counters.sipMessages} SIP messages in ${extractor.counters.frames} frames${writer ? `; ${writer.count} frames written to ${opts.write}` : ''}\n`);
}
