import type { SipPacket } from '../sip/index.js';
import { dstOf, isoMicros, srcOf } from './format.js';
import { Output } from './output.js';
import { scanFile } from './scan.js';

/** NDJSON record of one message: the keys scripts rely on. */
export function messageRecord(p: SipPacket): Record<string, unknown> {
  const { msg, meta } = p;
  const cseq = msg.cseq;
  const rec: Record<string, unknown> = {
    time: isoMicros(meta.tsSec, meta.tsNsec),
    frame: meta.frame,
    src: srcOf(meta),
    dst: dstOf(meta),
    transport: p.transport,
  };
  if (msg.isRequest) {
    rec['method'] = msg.method;
    rec['request_uri'] = msg.requestUri;
  } else {
    rec['status'] = msg.status;
    rec['reason'] = msg.reason;
  }
  rec['call_id'] = msg.callId ?? null;
  rec['cseq'] = cseq ? cseq.seq : null;
  rec['cseq_method'] = cseq ? cseq.method : null;
  rec['bytes'] = msg.raw.length;
  if (msg.problems.length) rec['malformed'] = msg.problems;
  return rec;
}

/** One line per message, for people: time, src -> dst, transport, start line, Call-ID. */
export function messageLine(p: SipPacket): string {
  const { msg, meta } = p;
  const flag = msg.problems.length ? `  [malformed: ${msg.problems.join(',')}]` : '';
  return `${isoMicros(meta.tsSec, meta.tsNsec)}  ${srcOf(meta)} -> ${dstOf(meta)}  ${p.transport}  ${msg.startLine}  ${msg.callId ?? '-'}${flag}`;
}

export async function messagesCommand(file: string, opts: { json?: boolean }): Promise<void> {
  const out = new Output();
  const format = opts.json ? (p: SipPacket) => JSON.stringify(messageRecord(p)) : messageLine;
  await scanFile(file, (p) => out.line(format(p)), () => out.flush(), false);
}
