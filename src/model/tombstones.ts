/**
 * Call-IDs of sessions already emitted, each with the capture time until which a late message
 * under it is a straggler (absorbed and counted) rather than a new story.
 *
 * Every emitted session leaves one, and few are ever asked for (an INVITE outside a dialog is
 * not: it always starts a story), so a tombstone is only appended to a list; the lists are
 * indexed when a question comes, from where the last question left off. They are kept in two
 * generations dropped whole: an entry lives at least `span` seconds after it is set, so every
 * one is still there until its time is up; after that it may stay a while, and the time decides.
 */
export class Tombstones {
  private current = new Generation();
  private previous = new Generation();
  /** Capture time of the last rotation. */
  private rotated = -Infinity;

  constructor(private readonly span: number) {}

  /** The time until which `callId` is a tombstone, if it is one (expired or not). */
  until(callId: string): number | undefined {
    return this.current.until(callId) ?? this.previous.until(callId);
  }

  set(callId: string, until: number): void {
    this.current.ids.push(callId);
    this.current.untils.push(until);
  }

  /** Capture time has reached `now`: a generation older than two spans holds nothing due. */
  advance(now: number): void {
    if (now - this.rotated < this.span) return;
    this.previous = this.current;
    this.current = new Generation();
    this.rotated = now;
  }
}

class Generation {
  readonly ids: string[] = [];
  readonly untils: number[] = [];
  private readonly index = new Map<string, number>();
  private indexed = 0;

  until(callId: string): number | undefined {
    // Later entries for one Call-ID replace earlier ones, as they were set.
    for (; this.indexed < this.ids.length; this.indexed++) this.index.set(this.ids[this.indexed]!, this.untils[this.indexed]!);
    return this.index.get(callId);
  }
}
