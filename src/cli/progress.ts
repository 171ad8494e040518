import { grouped } from './format.js';

/** A one-line progress indicator on stderr, only when stderr is a terminal. */
export class Progress {
  private last = 0;
  private shown = false;
  private readonly enabled: boolean;

  constructor(private readonly label: string, now: () => number = Date.now) {
    this.enabled = process.stderr.isTTY === true && !process.env['CI'];
    this.now = now;
  }

  private readonly now: () => number;

  update(done: number, total: number, messages: number): void {
    if (!this.enabled) return;
    const t = this.now();
    if (t - this.last < 200) return;
    this.last = t;
    const pct = total > 0 ? ` ${Math.min(100, Math.floor((done / total) * 100))}%` : '';
    process.stderr.write(`\r\x1b[K${this.label}:${pct} ${(done / 1048576).toFixed(1)} MiB, ${grouped(messages)} SIP messages`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
