import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Peer } from './transport.js';

/** One registered contact of an address of record (RFC 3261 §10.3). */
export interface Binding {
  contact: string;
  /** Absolute expiry, ms since the epoch. */
  expiresAt: number;
  q: number;
  callId: string;
  cseq: number;
  /** Where the REGISTER came from: used to reach the contact over its TCP connection. */
  source: Peer;
}

/** Registered contacts by user, with expiry, persisted to a JSON file when a state dir is given. */
export class BindingStore {
  private readonly byUser = new Map<string, Binding[]>();
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly file: string | undefined;

  constructor(
    stateDir: string | undefined,
    private readonly now: () => number,
  ) {
    if (stateDir) {
      mkdirSync(stateDir, { recursive: true });
      this.file = join(stateDir, 'bindings.json');
      this.load();
    }
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.file!, 'utf8');
    } catch {
      return; // first start
    }
    const data = JSON.parse(text) as Record<string, Binding[]>;
    const t = this.now();
    for (const [user, list] of Object.entries(data)) {
      const live = list.filter((b) => b.expiresAt > t);
      if (live.length) this.byUser.set(user, live);
    }
  }

  /** Writes soon after a change, atomically (write, then rename), so a crash never leaves half a file. */
  private scheduleSave(): void {
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.flush(), 100);
  }

  flush(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    if (!this.file) return;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.byUser)));
    renameSync(tmp, this.file);
  }

  /** Current (unexpired) bindings of a user, highest q first (§16.6 order for parallel forking). */
  get(user: string): Binding[] {
    const t = this.now();
    const list = (this.byUser.get(user) ?? []).filter((b) => b.expiresAt > t);
    if (list.length) this.byUser.set(user, list);
    else this.byUser.delete(user);
    return list.sort((a, b) => b.q - a.q);
  }

  set(user: string, list: Binding[]): void {
    if (list.length) this.byUser.set(user, list);
    else this.byUser.delete(user);
    this.scheduleSave();
  }

  get users(): number {
    return this.byUser.size;
  }
}
