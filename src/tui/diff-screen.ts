import blessed from 'blessed';
import type { App } from './app.js';
import type { MessageInfo } from './ladder-data.js';
import { messageMeta } from './message-screen.js';
import type { Key, KeyHelp, MouseEv, Screen } from './screen.js';
import { esc, fit } from './theme.js';

export const DIFF_KEYS: KeyHelp[] = [
  { keys: 'Up Down k j', what: 'scroll' },
  { keys: 'PgUp PgDn Home End', what: 'scroll by a page, to the top or the end' },
  { keys: 'Left Right', what: 'scroll sideways' },
];

export interface DiffRow {
  left: string | undefined;
  right: string | undefined;
  same: boolean;
}

const MAX_LINES = 3000;

/**
 * Lines of two texts side by side, aligned by their longest common subsequence: equal lines
 * face each other; a run of removed lines faces the run of added lines that replaced it.
 */
export function diffLines(a: string[], b: string[]): DiffRow[] {
  a = a.slice(0, MAX_LINES);
  b = b.slice(0, MAX_LINES);
  const n = a.length;
  const m = b.length;
  const w = m + 1;
  const lcs = new Uint16Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const rows: DiffRow[] = [];
  let dels: string[] = [];
  let adds: string[] = [];
  const flush = (): void => {
    for (let k = 0; k < Math.max(dels.length, adds.length); k++) rows.push({ left: dels[k], right: adds[k], same: false });
    dels = [];
    adds = [];
  };
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      flush();
      rows.push({ left: a[i], right: b[j], same: true });
      i++;
      j++;
    } else if (j >= m || (i < n && lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) dels.push(a[i++]!);
    else adds.push(b[j++]!);
  }
  flush();
  return rows;
}

/** Two messages side by side, the lines that differ marked (- and red, + and green). */
export class DiffScreen implements Screen {
  readonly overlay = false;
  private app: App | undefined;
  private box: blessed.Widgets.BoxElement | undefined;
  private readonly rows: DiffRow[];
  private top = 0;
  private x = 0;

  constructor(
    private readonly a: MessageInfo,
    private readonly b: MessageInfo,
    private readonly numbers: [number, number],
  ) {
    const text = (i: MessageInfo): string[] => (i.raw ? i.raw.toString('utf8').split(/\r?\n/) : ['(unreadable)']);
    this.rows = diffLines(text(a), text(b));
  }

  get title(): string {
    const changed = this.rows.filter((r) => !r.same).length;
    return `diff of messages ${this.numbers[0]} and ${this.numbers[1]}: ${changed} line(s) differ`;
  }

  create(app: App): void {
    this.app = app;
    this.box = blessed.box({ parent: app.screen, top: 1, left: 0, width: '100%', height: app.bodyHeight, tags: true });
  }

  resize(): void {
    if (this.box && this.app) this.box.height = this.app.bodyHeight;
  }

  private get page(): number {
    return Math.max(1, (this.app?.bodyHeight ?? 3) - 1);
  }

  render(): void {
    if (!this.box || !this.app) return;
    const t = this.app.theme;
    const W = this.app.width;
    const half = Math.max(10, Math.floor((W - 3) / 2));
    const bar = ` ${t.glyphs.bar} `;
    this.top = Math.max(0, Math.min(this.top, Math.max(0, this.rows.length - this.page)));
    const cell = (s: string | undefined, mark: string): string => fit(`${mark} ${(s ?? '').slice(this.x)}`, half, false, t.glyphs.ellipsis);
    const lines = [t.inverse(esc(fit(`${this.numbers[0]}: ${messageMeta(this.a)}`, half) + bar + fit(`${this.numbers[1]}: ${messageMeta(this.b)}`, half)))];
    for (const r of this.rows.slice(this.top, this.top + this.page)) {
      if (r.same) lines.push(esc(cell(r.left, ' ') + bar + cell(r.right, ' ')));
      else {
        const left = r.left === undefined ? esc(cell('', ' ')) : t.fg('red', esc(cell(r.left, '-')));
        const right = r.right === undefined ? esc(cell('', ' ')) : t.fg('green', esc(cell(r.right, '+')));
        lines.push(left + esc(bar) + right);
      }
    }
    this.box.setContent(lines.join('\n'));
  }

  handleKey(k: Key): boolean {
    switch (k.name) {
      case 'up': this.top--; return true;
      case 'down': this.top++; return true;
      case 'pageup': this.top -= this.page; return true;
      case 'pagedown': this.top += this.page; return true;
      case 'home': this.top = 0; return true;
      case 'end': this.top = this.rows.length; return true;
      case 'left': this.x = Math.max(0, this.x - 8); return true;
      case 'right': this.x += 8; return true;
    }
    if (k.ch === 'k') this.top--;
    else if (k.ch === 'j') this.top++;
    else return false;
    return true;
  }

  handleMouse(ev: MouseEv): boolean {
    if (ev.action === 'wheelup') this.top -= 3;
    else if (ev.action === 'wheeldown') this.top += 3;
    else return false;
    return true;
  }

  help(): KeyHelp[] {
    return DIFF_KEYS;
  }

  refresh(): boolean {
    return false;
  }

  destroy(): void {
    this.box?.destroy();
    this.box = undefined;
  }
}
