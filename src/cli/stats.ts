import type { CaptureSummary } from '../capture/index.js';
import { LINKTYPE_NAMES, type Counters } from '../net/index.js';
import { grouped } from './format.js';
import { Output } from './output.js';
import { scanFile } from './scan.js';

function sorted<K>(m: ReadonlyMap<K, number>): Array<[K, number]> {
  return [...m.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
}

function list<K>(m: ReadonlyMap<K, number>): string {
  return m.size ? sorted(m).map(([k, v]) => `${k} ${grouped(v)}`).join(', ') : '-';
}

const DROP_TEXT: Record<string, string> = {
  'unknown-linktype': 'frames of an unknown link type',
  'truncated-link': 'frames too short for their link header',
  'non-ip': 'non-IP frames (ARP, LLDP, …)',
  'truncated-ip': 'truncated IP packets',
  'bad-ip-header': 'bad IP headers',
  'fragment-overflow': 'IP fragments dropped (limits)',
  'fragment-timeout': 'IP fragments never completed',
  'fragment-overlap': 'overlapping IP fragments',
  icmp: 'ICMP packets (quoted SIP is not a message)',
  'other-l4': 'other IP protocols',
  'truncated-l4': 'truncated UDP/TCP/SCTP headers',
  'snaplen-cut': 'frames cut by the capture snaplen before their headers ended',
  'tunnel-unsupported': 'unsupported or too deeply nested tunnels',
  'sctp-not-data': 'SCTP packets without DATA chunks',
  'hep-bad': 'damaged HEP packets',
  'not-sip': 'datagrams that are not SIP (RTP, DNS, …)',
  'keep-alive': 'CRLF keep-alives',
  'tcp-retransmission': 'TCP retransmissions (already seen bytes)',
  'tcp-out-of-window': 'TCP segments out of window',
  'tcp-gap': 'TCP gaps (bytes never captured)',
  'tcp-buffer-overflow': 'oversized SIP messages on TCP',
  'tcp-skipped-bytes': 'TCP bytes skipped while resynchronising (bytes)',
  'tls-encrypted': 'TLS-encrypted segments (not decodable)',
  'websocket-control': 'WebSocket control frames',
  'websocket-non-sip': 'broken WebSocket streams',
};

export interface StatsReport {
  file: string;
  format: string | undefined;
  compressed: boolean;
  bytes: number;
  frames: number;
  sip_messages: number;
  sip_bytes: number;
  link_types: Record<string, number>;
  transports: Record<string, number>;
  methods: Record<string, number>;
  statuses: Record<string, number>;
  tcp_streams: number;
  tls_streams: number;
  websocket_streams: number;
  hep_packets: number;
  reassembled_ip_datagrams: number;
  tunnels: Record<string, number>;
  skipped: Record<string, number>;
  malformed: Record<string, number>;
  capture_warnings: Array<{ code: string; offset: number; message: string }>;
}

export function statsReport(file: string, s: CaptureSummary, c: Counters): StatsReport {
  const obj = <K>(m: ReadonlyMap<K, number>): Record<string, number> => Object.fromEntries(sorted(m).map(([k, v]) => [String(k), v]));
  return {
    file,
    format: s.format,
    compressed: s.compressed,
    bytes: s.bytes,
    frames: c.frames,
    sip_messages: c.sipMessages,
    sip_bytes: c.sipBytes,
    link_types: obj(c.linktypes),
    transports: obj(c.transports),
    methods: obj(c.methods),
    statuses: obj(c.statuses),
    tcp_streams: c.tcpStreams,
    tls_streams: c.tlsStreams,
    websocket_streams: c.websocketStreams,
    hep_packets: c.hepPackets,
    reassembled_ip_datagrams: c.reassembledFragments,
    tunnels: obj(c.tunnels),
    skipped: obj(c.drops),
    malformed: obj(c.malformed),
    capture_warnings: s.warnings.map((w) => ({ code: w.code, offset: w.offset, message: w.message })),
  };
}

function textReport(r: StatsReport, c: Counters, out: Output): void {
  const fmt = `${r.format ?? '?'}${r.compressed ? ', gzip' : ''}`;
  out.line(`capture       ${r.file} (${fmt}, ${grouped(r.bytes)} bytes)`);
  out.line(`frames        ${grouped(r.frames)}`);
  out.line(`link types    ${sorted(c.linktypes).map(([lt, n]) => `${LINKTYPE_NAMES[lt] ?? 'unknown'} (${lt}) ${grouped(n)}`).join(', ') || '-'}`);
  out.line(`SIP messages  ${grouped(r.sip_messages)} (${grouped(r.sip_bytes)} bytes)`);
  out.line(`  transports  ${list(c.transports)}`);
  out.line(`  requests    ${list(c.methods)}`);
  out.line(`  responses   ${list(c.statuses)}`);
  const streams = [`TCP connections ${grouped(r.tcp_streams)}`];
  if (r.tls_streams) streams.push(`encrypted (TLS) ${grouped(r.tls_streams)}`);
  if (r.websocket_streams) streams.push(`WebSocket ${grouped(r.websocket_streams)}`);
  if (r.hep_packets) streams.push(`HEP packets ${grouped(r.hep_packets)}`);
  if (r.reassembled_ip_datagrams) streams.push(`reassembled IP datagrams ${grouped(r.reassembled_ip_datagrams)}`);
  out.line(`streams       ${streams.join(', ')}`);
  if (c.tunnels.size) out.line(`tunnels       ${list(c.tunnels)}`);
  out.line(`malformed SIP ${c.malformed.size ? '' : 'none'}`);
  for (const [k, v] of sorted(c.malformed)) out.line(`  ${k.padEnd(24)} ${grouped(v)}`);
  out.line(`skipped       ${c.drops.size ? '' : 'none'}`);
  for (const [k, v] of sorted(c.drops)) out.line(`  ${(DROP_TEXT[k] ?? k).padEnd(48)} ${grouped(v)}`);
  if (r.capture_warnings.length) {
    out.line(`capture file  ${r.capture_warnings.length} problem(s)`);
    for (const w of r.capture_warnings.slice(0, 20)) out.line(`  ${w.message}`);
  }
}

export async function statsCommand(file: string, opts: { json?: boolean }): Promise<void> {
  const out = new Output();
  const { summary, extractor } = await scanFile(file, () => {}, undefined, false);
  const report = statsReport(file, summary, extractor.counters);
  if (opts.json) out.line(JSON.stringify(report));
  else textReport(report, extractor.counters, out);
  await out.flush();
}
