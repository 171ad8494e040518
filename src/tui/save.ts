import { PcapWriter } from '../capture/pcap-writer.js';
import { RecordCsvWriter } from '../export/index.js';
import { encode, hostPort } from '../net/index.js';
import { CSV_COLUMNS } from './columns.js';
import type { CallStore, Group } from './store.js';

const LINKTYPE_ETHERNET = 1;

interface Out {
  sec: number;
  nsec: number;
  frame: number;
  /** Record offset of the frame in the capture, -1 when no single frame holds the message. */
  offset: number;
  linktype: number;
  /** Index of the message, -1 for a live call's packet (then `raw` is set). */
  msg: number;
  raw: Buffer | undefined;
  src: string;
  dst: string;
  transport: string;
}

function isStream(transport: string): boolean {
  return transport !== 'UDP' && transport !== 'SCTP';
}

function splitAddress(a: string): [string, number] {
  const m = /^\[(.*)\]:(\d+)$/.exec(a) ?? /^(.*):(\d+)$/.exec(a);
  return m ? [m[1]!, Number(m[2])] : [a, 0];
}

/**
 * Builds a frame for a message that no single frame of the file holds (reassembled from TCP
 * segments or IP fragments, read from gzip or stdin, captured live): Ethernet, IP and UDP or
 * TCP around the message bytes, sequence numbers running per TCP direction.
 */
class Rebuilder {
  private readonly seq = new Map<string, number>();

  frame(o: Out): Buffer {
    const [sip, sport] = splitAddress(o.src);
    const [dip, dport] = splitAddress(o.dst);
    const raw = o.raw!;
    if (!isStream(o.transport)) return encode.udpFrame(sip, dip, sport, dport, raw);
    const key = `${o.src}>${o.dst}`;
    const seq = this.seq.get(key) ?? 1;
    this.seq.set(key, (seq + raw.length) >>> 0);
    return encode.tcpFrame(sip, dip, sport, dport, { seq, flags: 0x18 }, raw);
  }
}

/**
 * Saves the groups' messages to a pcap: the original frames read again from the capture (so
 * nothing is re-encoded), each frame once, in capture order. Messages that no single frame
 * holds are rebuilt into frames (with the rest of their TCP direction); if those have to be
 * mixed with frames of a link type other than Ethernet, every frame is rebuilt so that the file
 * has one link type.
 */
export async function savePcap(store: CallStore, groups: Group[], path: string): Promise<{ frames: number; encoded: number }> {
  const m = store.messages;
  const outs: Out[] = [];
  for (const g of groups) {
    if (g.live) {
      for (const s of g.live) {
        for (const { packet: p } of s.observed) {
          const src = hostPort(p.meta.src, p.meta.sport, p.meta.family);
          const dst = hostPort(p.meta.dst, p.meta.dport, p.meta.family);
          outs.push({ sec: p.meta.tsSec, nsec: p.meta.tsNsec, frame: p.meta.frame, offset: -1, linktype: LINKTYPE_ETHERNET, msg: -1, raw: p.msg.raw, src, dst, transport: p.transport });
        }
      }
      continue;
    }
    for (let i = g.msgStart; i < g.msgStart + g.msgCount; i++) {
      const offset = m.kept.has(i) || !store.file ? -1 : m.offset[i]!;
      const [sec, nsec] = m.frameTime.get(i) ?? [m.tsSec[i]!, m.tsNsec[i]!];
      outs.push({ sec, nsec, frame: m.frame[i]!, offset, linktype: m.linktypeOf(i), msg: i, raw: undefined, src: m.srcOf(i), dst: m.dstOf(i), transport: m.transportOf(i) });
    }
  }
  outs.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec || a.frame - b.frame);
  // A TCP direction with a rebuilt message is rebuilt whole: original segments and rebuilt ones
  // would not agree on sequence numbers, and a reader could not put the stream together again.
  const rebuiltStreams = new Set(outs.filter((o) => o.offset < 0 && isStream(o.transport)).map((o) => `${o.src}>${o.dst}`));
  for (const o of outs) if (o.offset >= 0 && isStream(o.transport) && rebuiltStreams.has(`${o.src}>${o.dst}`)) o.offset = -1;
  const fileLinktypes = new Set(outs.filter((o) => o.offset >= 0).map((o) => o.linktype));
  const [only] = fileLinktypes;
  const someRebuilt = outs.some((o) => o.offset < 0);
  const rebuildAll = fileLinktypes.size > 1 || (someRebuilt && only !== undefined && only !== LINKTYPE_ETHERNET);
  const linktype = rebuildAll || only === undefined ? LINKTYPE_ETHERNET : only;
  const writer = new PcapWriter(path, linktype);
  const rebuilder = new Rebuilder();
  const written = new Set<number>();
  let encoded = 0;
  try {
    for (const o of outs) {
      let data: Buffer | undefined;
      let origLen: number | undefined;
      if (o.offset >= 0 && !rebuildAll) {
        if (written.has(o.offset)) continue; // several messages in one TCP segment: the frame once
        written.add(o.offset);
        const f = store.file!.frame(o.offset);
        if (f) {
          data = f.data;
          origLen = f.origLen;
        }
      }
      if (!data) {
        o.raw ??= o.msg >= 0 ? store.raw(o.msg) : undefined;
        if (!o.raw) continue; // the file changed under us: nothing left to write
        data = rebuilder.frame(o);
        encoded++;
      }
      if (!writer.write({ tsSec: o.sec, tsNsec: o.nsec, data, origLen })) await writer.drained();
    }
  } finally {
    await writer.close();
  }
  return { frames: writer.count, encoded };
}

/** Saves the groups' rows (every leg) as CSV, with the columns and format of `export csv`. */
export async function saveCsv(groups: Group[], path: string): Promise<number> {
  const csv = await RecordCsvWriter.open(path, CSV_COLUMNS);
  let n = 0;
  for (const g of groups) {
    for (const r of g.rows) {
      csv.write(r.record());
      if (++n % 1000 === 0) await csv.drained();
    }
  }
  await csv.close();
  return n;
}
