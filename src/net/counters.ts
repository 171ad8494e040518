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
  private readonly methodTally = new Tally<string>();
  private readonly statusTally = new Tally<number>();
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

  /** SIP requests by method. */
  get methods(): ReadonlyMap<string, number> {
    return this.methodTally.counts;
  }

  /** SIP responses by status code. */
  get statuses(): ReadonlyMap<number, number> {
    return this.statusTally.counts;
  }

  linktype(lt: number): void {
    this.linktypeTally.add(lt);
  }

  /** One SIP message: how it travelled, and its method or status code. */
  sipMessage(transport: string, method: string | undefined, status: number): void {
    this.transportTally.add(transport);
    if (method !== undefined) this.methodTally.add(method);
    else this.statusTally.add(status);
  }
}

/**
 * Counts by key. A capture has few distinct link types, transports, methods and status codes,
 * and every frame counts one of each: the first keys are kept in a short list scanned with ===
 * (no hashing), the rest in a map.
 */
class Tally<K> {
  private readonly keys: K[] = [];
  private readonly hits: number[] = [];
  private readonly more = new Map<K, number>();

  add(key: K): void {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === key) {
        this.hits[i]!++;
        return;
      }
    }
    if (keys.length < 16) {
      keys.push(key);
      this.hits.push(1);
    } else this.more.set(key, (this.more.get(key) ?? 0) + 1);
  }

  /** The counts so far (a new map: read it again for later counts). */
  get counts(): ReadonlyMap<K, number> {
    const out = new Map<K, number>();
    this.keys.forEach((k, i) => out.set(k, this.hits[i]!));
    for (const [k, n] of this.more) out.set(k, n);
    return out;
  }
}

export function bump<K>(map: Map<K, number>, key: K, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}
