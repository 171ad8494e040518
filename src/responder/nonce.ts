import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type NonceState = 'valid' | 'stale' | 'forged';

/**
 * Stateless, time-stamped nonces (RFC 7616 §3.3 suggests "time-stamp H(time-stamp ":" ETag
 * ":" secret)"): the server keeps no table of issued nonces, yet can tell its own from forged
 * ones and old from fresh. Nonce counts are tracked separately to refuse replays.
 */
export class NonceIssuer {
  private readonly secret: Buffer;
  /** Seen nonce counts per nonce, bounded: the oldest nonces are forgotten first. */
  private readonly counts = new Map<string, Set<string>>();
  private salt = randomBytes(4).readUInt32LE(0);

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
    secret?: Buffer,
    private readonly maxTracked = 200_000,
  ) {
    this.secret = secret ?? randomBytes(32);
  }

  private mac(stamp: string, realm: string): string {
    return createHmac('sha256', this.secret).update(`${stamp}:${realm}`).digest('base64url').slice(0, 22);
  }

  /** `stamp-salt.mac`: the salt makes every nonce unique, even many within one millisecond. */
  issue(realm: string): string {
    const stamp = `${this.now().toString(16)}-${(this.salt++ >>> 0).toString(36)}`;
    return `${stamp}.${this.mac(stamp, realm)}`;
  }

  check(nonce: string, realm: string): NonceState {
    const dot = nonce.indexOf('.');
    if (dot <= 0) return 'forged';
    const stamp = nonce.slice(0, dot);
    const want = Buffer.from(this.mac(stamp, realm));
    const got = Buffer.from(nonce.slice(dot + 1));
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'forged';
    const issued = parseInt(stamp.split('-')[0]!, 16);
    if (!Number.isFinite(issued) || this.now() - issued > this.ttlMs) return 'stale';
    return 'valid';
  }

  /** Records a nonce count; false when it was used before with this nonce (a replay). */
  useCount(nonce: string, nc: string): boolean {
    let set = this.counts.get(nonce);
    if (!set) {
      if (this.counts.size >= this.maxTracked) this.counts.delete(this.counts.keys().next().value as string);
      set = new Set();
      this.counts.set(nonce, set);
    }
    if (set.has(nc)) return false;
    set.add(nc);
    return true;
  }
}
