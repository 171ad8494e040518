/** Strings by small number, each kept once: addresses, labels and transports of a million messages. */
export class Interner {
  private readonly ids = new Map<string, number>();
  private readonly list: string[] = [];

  id(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.ids.set(s, i);
    }
    return i;
  }

  str(i: number): string {
    return this.list[i] ?? '';
  }

  get size(): number {
    return this.list.length;
  }
}

/** One instance per distinct value: the many rows that say "answered" or "UDP" share it. */
export class StringPool {
  private readonly pool = new Map<string, string>();

  get(s: string): string {
    const have = this.pool.get(s);
    if (have !== undefined) return have;
    if (this.pool.size < 1_000_000) this.pool.set(s, s);
    return s;
  }
}
