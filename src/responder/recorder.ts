import { PcapWriter } from '../capture/pcap-writer.js';
import { RecordCsvWriter } from '../export/index.js';
import { Analyzer, groupRecords, type Secrets } from '../model/index.js';
import { encode } from '../net/index.js';
import type { SipMessage, SipPacket } from '../sip/index.js';
import type { Peer } from './transport.js';

/**
 * What the server sent and received, as a capture (--record) and as call records (--cdr): the
 * records come from the same analyzer `sipscope calls` runs on captures, fed live.
 */
export class Recorder {
  private frame = 0;
  private readonly seq = new Map<string, number>();
  private readonly analyzer: Analyzer | undefined;

  private constructor(
    private readonly pcap: PcapWriter | undefined,
    private readonly cdr: RecordCsvWriter | undefined,
    secrets: Secrets | undefined,
    private readonly now: () => number,
  ) {
    if (cdr) this.analyzer = new Analyzer((g) => {
      for (const r of groupRecords(g)) cdr.write(r);
    }, { secrets });
  }

  static async open(opts: { record?: string; cdr?: string; secrets?: Secrets; now: () => number }): Promise<Recorder | undefined> {
    if (!opts.record && !opts.cdr) return undefined;
    const pcap = opts.record ? new PcapWriter(opts.record, 1) : undefined;
    const cdr = opts.cdr ? await RecordCsvWriter.open(opts.cdr) : undefined;
    return new Recorder(pcap, cdr, opts.secrets, opts.now);
  }

  /** One message on the wire, in either direction, with its real addresses. */
  message(bytes: Buffer, msg: SipMessage | undefined, from: Peer, to: Peer): void {
    const t = this.now();
    const tsSec = Math.floor(t / 1000);
    const tsNsec = (t % 1000) * 1e6;
    this.frame++;
    if (this.pcap) {
      let frame: Buffer;
      if (from.proto === 'TCP') {
        const key = `${from.ip}|${from.port}|${to.ip}|${to.port}`;
        const seq = this.seq.get(key) ?? 1;
        this.seq.set(key, (seq + bytes.length) >>> 0);
        frame = encode.tcpFrame(from.ip, to.ip, from.port, to.port, { seq, flags: 0x18 }, bytes);
      } else {
        frame = encode.udpFrame(from.ip, to.ip, from.port, to.port, bytes);
      }
      this.pcap.write({ tsSec, tsNsec, data: frame });
    }
    if (this.analyzer && msg) {
      const p: SipPacket = {
        msg,
        meta: { tsSec, tsNsec, frame: this.frame, offset: -1, src: from.ip, dst: to.ip, sport: from.port, dport: to.port, family: from.ip.includes(':') ? 6 : 4 },
        transport: from.proto,
      };
      this.analyzer.packet(p);
    }
  }

  async close(): Promise<void> {
    this.analyzer?.finish();
    await this.pcap?.close();
    await this.cdr?.close();
  }
}
