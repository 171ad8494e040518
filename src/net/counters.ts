/**
 * Every frame that does not end as a SIP message is accounted for here, by a typed reason,
 * so `sipscope stats` can show it. Nothing is dropped silently.
 */
export type DropReason =
  | 'unknown-linktype'
  | 'truncated-link'
  | 'non-ip'
  | 'truncated-ip'
  | 'bad-ip-header'
  | 'fragment-overflow'
  | 'fragment-timeout'
  | 'fragment-overlap'
  | 'icmp'
  | 'other-l4'
  | 'truncated-l4'
  | 'tunnel-unsupported'
  | 'sctp-not-data'
  | 'hep-bad'
  | 'not-sip'
  | 'keep-alive'
  | 'tcp-retransmission'
  | 'tcp-out-of-window'
  | 'tcp-gap'
  | 'tcp-buffer-overflow'
  | 'tcp-skipped-bytes'
  | 'tls-encrypted'
  | 'websocket-control'
  | 'websocket-non-sip'
  | 'snaplen-cut';

export class Counters {
  frames = 0;
  bytes = 0;
  sipMessages = 0;
  sipBytes = 0;
  ipv4 = 0;
  ipv6 = 0;
  udp = 0;
  tcp = 0;
  sctp = 0;
  reassembledFragments = 0;
  tcpStreams = 0;
  tlsStreams = 0;
  websocketStreams = 0;
  hepPackets = 0;
  readonly linktypes = new Map<number, number>();
  readonly drops = new Map<DropReason, number>();
  readonly tunnels = new Map<string, number>();
  readonly methods = new Map<string, number>();
  readonly statuses = new Map<number, number>();
  readonly transports = new Map<string, number>();
  readonly malformed = new Map<string, number>();

  drop(reason: DropReason, n = 1): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + n);
  }

  tunnel(kind: string): void {
    this.tunnels.set(kind, (this.tunnels.get(kind) ?? 0) + 1);
  }

  linktype(lt: number): void {
    this.linktypes.set(lt, (this.linktypes.get(lt) ?? 0) + 1);
  }
}

export function bump<K>(map: Map<K, number>, key: K, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}
