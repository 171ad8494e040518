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
  private readonly linktypeTally = new Tally<number>();
  readonly drops = new Map<DropReason, number>();
  readonly tunnels = new Map<string, number>();
  readonly methods = new Map<string, number>();
  readonly statuses = new Map<number, number>();
  private readonly transportTally = new Tally<string>();
  readonly malformed = new Map<string, number>();

  drop(reason: DropReason, n = 1): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + n);
  }

  tunnel(kind: string): void {
    this.tunnels.set(kind, (this.tunnels.get(kind) ?? 0) + 1);
  }

  /** Frames by link type. */
  get linktypes(): ReadonlyMap<number, number> {
    return this.linktypeTally.counts;
  }

  /** SIP messages by transport. */
  get transports(): ReadonlyMap<string, number> {
    return this.transportTally.counts;
  }

  linktype(lt: number): void {
    this.linktypeTally.add(lt);
  }

  transport(t: string): void {
    this.transportTally.add(t);
  }
}

/**
 * Counts by key, keeping a run of one key in hand: nearly every frame of a capture repeats the
 * link type and transport of the one before, and a run costs no map lookups until it ends.
 */
class Tally<K> {
  private readonly map = new Map<K, number>();
  private last: K | undefined;
  private run = 0;

  add(key: K): void {
    if (this.run > 0 && key === this.last) {
      this.run++;
      return;
    }
    this.flush();
    this.last = key;
    this.run = 1;
  }

  /** The counts so far, the run in hand included. */
  get counts(): ReadonlyMap<K, number> {
    this.flush();
    return this.map;
  }

  private flush(): void {
    if (this.run === 0) return;
    const key = this.last as K;
    this.map.set(key, (this.map.get(key) ?? 0) + this.run);
    this.run = 0;
  }
}

export function bump<K>(map: Map<K, number>, key: K, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}
