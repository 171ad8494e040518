/**
 * Call-IDs of sessions already emitted, each with the capture time until which a late message
 * under it is a straggler (absorbed and counted) rather than a new story. Kept in two
 * generations that are dropped whole, not entry by entry: calls end at the rate they start, and
 * deleting each expired entry from one map (and walking over the holes that leaves) cost more
 * than all the look-ups. An entry lives at least `span` seconds after it is set, so every one is
 * still there until its time is up; after that it may stay a while, and the time decides.
 */
export class Tombstones {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  /** Capture time of the last rotation. */
  private rotated = -Infinity;

  constructor(private readonly span: number) {}

  /** The time until which `callId` is a tombstone, if it is one (expired or not). */
  until(callId: string): number | undefined {
    return this.current.get(callId) ?? this.previous.get(callId);
  }

  set(callId: string, until: number): void {
    this.current.set(callId, until);
  }

  /** Capture time has reached `now`: a generation older than two spans holds nothing due. */
  advance(now: number): void {
    if (now - this.rotated < this.span) return;
    this.previous = this.current;
    this.current = new Map();
    this.rotated = now;
  }
}
