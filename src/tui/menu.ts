import blessed from 'blessed';
import type { App } from './app.js';
import type { Key, KeyHelp, MouseEv, Screen } from './screen.js';
import { esc, fit } from './theme.js';

export interface MenuItem {
  label: string;
  value: string;
  checked?: boolean;
}

export const MENU_KEYS: KeyHelp[] = [
  { keys: 'Up Down', what: 'move' },
  { keys: 'Space', what: 'tick or untick (lists with boxes)', bar: 'tick' },
  { keys: 'a', what: 'tick all, or none (lists with boxes)' },
  { keys: 'Enter', what: 'choose', bar: 'choose' },
  { keys: 'Esc q', what: 'cancel' },
];

/**
 * A popup list over the current screen: one choice (save what, sort by what), or several with
 * tick boxes (columns shown, methods and states to filter on). `done` gets the values chosen,
 * or undefined when cancelled.
 */
export class MenuScreen implements Screen {
  readonly overlay = true;
  private app: App | undefined;
  private box: blessed.Widgets.BoxElement | undefined;
  private cursor = 0;
  private top = 0;

  constructor(
    readonly title: string,
    private readonly items: MenuItem[],
    private readonly multi: boolean,
    private readonly done: (values: string[] | undefined) => void,
  ) {}

  create(app: App): void {
    this.app = app;
    this.box = blessed.box({ parent: app.screen, top: 'center', left: 'center', width: 10, height: 5, border: { type: 'line' }, tags: true, label: ` ${this.title} ` });
    this.resize();
  }

  private get rows(): number {
    return Math.max(1, Math.min(this.items.length, (this.app?.bodyHeight ?? 10) - 4));
  }

  resize(): void {
    if (!this.box || !this.app) return;
    const longest = Math.max(this.title.length + 4, ...this.items.map((i) => i.label.length + (this.multi ? 6 : 2)));
    this.box.width = Math.min(this.app.width - 2, Math.max(24, longest + 2));
    this.box.height = this.rows + 2;
  }

  render(): void {
    if (!this.box) return;
    const w = Number(this.box.width) - 2;
    const h = this.rows;
    if (this.cursor < this.top) this.top = this.cursor;
    if (this.cursor >= this.top + h) this.top = this.cursor - h + 1;
    const t = this.app!.theme;
    const lines = this.items.slice(this.top, this.top + h).map((it, k) => {
      const i = this.top + k;
      const text = fit(`${this.multi ? (it.checked ? '[x] ' : '[ ] ') : ''}${it.label}`, w);
      return i === this.cursor ? t.inverse(esc(text)) : esc(text);
    });
    this.box.setContent(lines.join('\n'));
  }

  private finish(values: string[] | undefined): void {
    this.app!.pop();
    this.done(values);
  }

  handleKey(k: Key): boolean {
    const n = this.items.length;
    if (k.name === 'up' || k.ch === 'k') this.cursor = Math.max(0, this.cursor - 1);
    else if (k.name === 'down' || k.ch === 'j') this.cursor = Math.min(n - 1, this.cursor + 1);
    else if (k.name === 'home') this.cursor = 0;
    else if (k.name === 'end') this.cursor = n - 1;
    else if (k.name === 'pageup') this.cursor = Math.max(0, this.cursor - this.rows);
    else if (k.name === 'pagedown') this.cursor = Math.min(n - 1, this.cursor + this.rows);
    else if (this.multi && k.ch === ' ') {
      const it = this.items[this.cursor];
      if (it) it.checked = !it.checked;
    } else if (this.multi && k.ch === 'a') {
      const all = !this.items.every((i) => i.checked);
      for (const i of this.items) i.checked = all;
    } else if (k.name === 'enter') {
      if (this.multi) this.finish(this.items.filter((i) => i.checked).map((i) => i.value));
      else this.finish(this.items[this.cursor] ? [this.items[this.cursor]!.value] : undefined);
    } else if (k.name === 'escape' || k.ch === 'q') this.finish(undefined);
    else return k.ch !== '?' && k.name !== 'f1'; // a popup swallows every other key
    return true;
  }

  handleMouse(ev: MouseEv): boolean {
    if (!this.box) return false;
    // Item k is on screen row atop + 1 + k (inside the border), body row atop + k.
    const i = this.top + ev.y - Number(this.box.atop);
    if (ev.action === 'wheelup') this.cursor = Math.max(0, this.cursor - 1);
    else if (ev.action === 'wheeldown') this.cursor = Math.min(this.items.length - 1, this.cursor + 1);
    else if ((ev.action === 'mousedown' || ev.action === 'dblclick') && i >= this.top && i < Math.min(this.items.length, this.top + this.rows)) {
      this.cursor = i;
      if (ev.action === 'dblclick') this.handleKey({ name: 'enter', full: 'enter', ch: undefined });
    } else return false;
    return true;
  }

  help(): KeyHelp[] {
    return this.multi ? MENU_KEYS : MENU_KEYS.filter((k) => k.keys !== 'Space' && k.keys !== 'a');
  }

  refresh(): boolean {
    return false;
  }

  destroy(): void {
    this.box?.destroy();
    this.box = undefined;
  }
}
