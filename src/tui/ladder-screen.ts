import blessed from 'blessed';
import type { App } from './app.js';
import { DiffScreen } from './diff-screen.js';
import { ladderOf, messageInfo, type LadderData } from './ladder-data.js';
import { ladderGeometry, ladderHeader, ladderLine, type ColourBy, type LadderGeometry } from './ladder-format.js';
import { MessageScreen, messageMeta } from './message-screen.js';
import type { Key, KeyHelp, MouseEv, Screen } from './screen.js';
import { sipLines } from './sip-syntax.js';
import type { CallStore, Group } from './store.js';
import { esc, fit } from './theme.js';

export const LADDER_KEYS: KeyHelp[] = [
  { keys: 'Up Down k j', what: 'select the previous or next message' },
  { keys: 'PgUp PgDn Home End', what: 'by a page, to the first or last message' },
  { keys: 'Left Right', what: 'scroll sideways when the endpoints do not fit' },
  { keys: 'Enter', what: 'open the message: raw text, SDP, digest outcome', bar: 'message' },
  { keys: 'Space', what: 'mark the message; Space on another compares the two (diff)', bar: 'mark/diff' },
  { keys: 'd', what: 'compare the marked message with the selected one' },
  { keys: 'c', what: 'colour arrows by request/response or by leg', bar: 'colour' },
  { keys: 'r', what: 'show or hide the raw text of the selected message', bar: 'raw' },
  { keys: 'J K', what: 'scroll the raw text' },
];

/** Raw text beside the ladder needs this many columns, else it goes below. */
const RAW_BESIDE = 50;

/**
 * The call flow: one column per endpoint (a B2BUA between its legs), one line per message with
 * time and delta, the selected message's raw text beside or below. Several calls selected in the
 * list are drawn in one ladder. A live call's ladder grows as it progresses.
 */
export class LadderScreen implements Screen {
  readonly overlay = false;
  private data: LadderData;
  private app: App | undefined;
  private box: blessed.Widgets.BoxElement | undefined;
  private rawBox: blessed.Widgets.BoxElement | undefined;
  private sep: blessed.Widgets.BoxElement | undefined;
  private sel = 0;
  private top = 0;
  private scrollX = 0;
  private mark = -1;
  private colourBy: ColourBy = 'kind';
  private showRaw = true;
  private geometry: LadderGeometry | undefined;
  private ladderHeight = 1;
  private ladderWidth = 80;
  private rawShownFor = -1;
  private readonly live: boolean;
  private seenVersion: number;

  constructor(
    private readonly store: CallStore,
    private readonly groups: Group[],
  ) {
    this.data = ladderOf(store, groups);
    this.live = groups.some((g) => g.live);
    this.seenVersion = store.version;
  }

  get title(): string {
    const ids = this.data.callIds;
    const who = ids.length > 2 ? `${ids.length} calls` : ids.map((c) => (c.length > 16 ? `${c.slice(0, 15)}~` : c)).join(' + ');
    return `ladder ${who}: ${this.data.arrows.length} messages${this.mark >= 0 ? `, #${this.mark + 1} marked` : ''}`;
  }

  create(app: App): void {
    this.app = app;
    this.box = blessed.box({ parent: app.screen, top: 1, left: 0, width: 10, height: 1, tags: true });
    this.sep = blessed.box({ parent: app.screen, top: 1, left: 0, width: 1, height: 1, tags: true });
    this.rawBox = blessed.box({ parent: app.screen, top: 1, left: 0, width: 10, height: 1, tags: true, scrollable: true, alwaysScroll: true, wrap: true });
    this.resize();
  }

  /** Places the ladder and the raw pane: beside when there is room, below when tall enough. */
  resize(): void {
    const app = this.app;
    if (!app || !this.box || !this.rawBox || !this.sep) return;
    const W = app.width;
    const H = app.bodyHeight;
    let g = ladderGeometry(this.data, W);
    const need = g.gutter + g.diagram;
    let mode: 'beside' | 'below' | 'none' = 'none';
    if (this.showRaw && W - need - 1 >= RAW_BESIDE) mode = 'beside';
    else if (this.showRaw && H >= 14) mode = 'below';
    if (mode === 'beside') {
      this.ladderWidth = need;
      this.ladderHeight = H;
      Object.assign(this.box, { left: 0, top: 1, width: need, height: H });
      Object.assign(this.sep, { left: need, top: 1, width: 1, height: H });
      Object.assign(this.rawBox, { left: need + 1, top: 1, width: W - need - 1, height: H });
      this.sep.setContent(Array.from({ length: H }, () => app.theme.glyphs.bar).join('\n'));
      this.sep.show();
      this.rawBox.show();
    } else if (mode === 'below') {
      const lh = Math.max(5, Math.ceil(H * 0.55));
      this.ladderWidth = W;
      this.ladderHeight = lh;
      Object.assign(this.box, { left: 0, top: 1, width: W, height: lh });
      Object.assign(this.rawBox, { left: 0, top: 1 + lh, width: W, height: H - lh });
      this.sep.hide();
      this.rawBox.show();
    } else {
      this.ladderWidth = W;
      this.ladderHeight = H;
      Object.assign(this.box, { left: 0, top: 1, width: W, height: H });
      this.sep.hide();
      this.rawBox.hide();
    }
    g = ladderGeometry(this.data, this.ladderWidth);
    this.geometry = g;
    this.scrollX = Math.max(0, Math.min(this.scrollX, g.diagram - (this.ladderWidth - g.gutter)));
    this.rawShownFor = -1;
  }

  private get rows(): number {
    return Math.max(1, this.ladderHeight - 2);
  }

  render(): void {
    const app = this.app;
    if (!app || !this.box || !this.geometry) return;
    const g = this.geometry;
    const n = this.data.arrows.length;
    this.sel = Math.max(0, Math.min(this.sel, n - 1));
    if (this.sel < this.top) this.top = this.sel;
    if (this.sel >= this.top + this.rows) this.top = this.sel - this.rows + 1;
    this.top = Math.max(0, Math.min(this.top, Math.max(0, n - this.rows)));
    const lines = ladderHeader(this.data, g, this.scrollX, this.ladderWidth, app.theme);
    for (let i = this.top; i < Math.min(n, this.top + this.rows); i++) {
      lines.push(ladderLine(this.data, this.data.arrows[i]!, g, { scrollX: this.scrollX, width: this.ladderWidth, selected: i === this.sel, marked: i === this.mark, colourBy: this.colourBy }, app.theme));
    }
    this.box.setContent(lines.join('\n'));
    this.renderRaw();
  }

  private renderRaw(): void {
    const app = this.app!;
    const raw = this.rawBox!;
    if (!raw.visible || this.rawShownFor === this.sel) return;
    this.rawShownFor = this.sel;
    const a = this.data.arrows[this.sel];
    if (!a) {
      raw.setContent('');
      return;
    }
    const info = messageInfo(this.store, this.data, a);
    const head = app.theme.inverse(esc(fit(` ${this.sel + 1}/${this.data.arrows.length} ${messageMeta(info)}`, Number(raw.width))));
    const body = info.raw ? sipLines(info.raw, app.theme) : ['(the message could not be read again from the capture file)'];
    raw.setContent([head, ...body].join('\n'));
    raw.setScroll(0);
  }

  refresh(): boolean {
    if (!this.live || this.store.version === this.seenVersion) return false;
    this.seenVersion = this.store.version;
    this.data = ladderOf(this.store, this.groups.filter((g) => !g.removed));
    this.rawShownFor = -1;
    this.resize();
    return true;
  }

  handleKey(k: Key): boolean {
    const n = this.data.arrows.length;
    const move = (to: number): void => {
      this.sel = Math.max(0, Math.min(n - 1, to));
    };
    switch (k.name) {
      case 'up': move(this.sel - 1); return true;
      case 'down': move(this.sel + 1); return true;
      case 'pageup': move(this.sel - this.rows); return true;
      case 'pagedown': move(this.sel + this.rows); return true;
      case 'home': move(0); return true;
      case 'end': move(n - 1); return true;
      case 'left': this.scroll(-1); return true;
      case 'right': this.scroll(1); return true;
      case 'enter': this.open(); return true;
    }
    switch (k.ch) {
      case 'k': move(this.sel - 1); return true;
      case 'j': move(this.sel + 1); return true;
      case 'g': move(0); return true;
      case 'G': move(n - 1); return true;
      case ' ': this.markOrDiff(); return true;
      case 'd': this.diff(); return true;
      case 'c': this.colourBy = this.colourBy === 'kind' ? 'leg' : 'kind'; return true;
      case 'r': this.showRaw = !this.showRaw; this.resize(); return true;
      case 'J': this.rawBox?.scroll(3); return true;
      case 'K': this.rawBox?.scroll(-3); return true;
    }
    return false;
  }

  handleMouse(ev: MouseEv): boolean {
    if (!this.box || !this.rawBox) return false;
    const inRaw = this.rawBox.visible && ev.x >= Number(this.rawBox.aleft) && ev.y + 1 >= Number(this.rawBox.atop);
    if (inRaw) {
      if (ev.action === 'wheelup') this.rawBox.scroll(-3);
      else if (ev.action === 'wheeldown') this.rawBox.scroll(3);
      else return false;
      return true;
    }
    const n = this.data.arrows.length;
    if (ev.action === 'wheelup') this.sel = Math.max(0, this.sel - 1);
    else if (ev.action === 'wheeldown') this.sel = Math.min(n - 1, this.sel + 1);
    else if ((ev.action === 'mousedown' || ev.action === 'dblclick') && ev.y >= 2) {
      const i = this.top + ev.y - 2;
      if (i >= n) return false;
      this.sel = i;
      if (ev.action === 'dblclick') this.open();
    } else return false;
    return true;
  }

  private scroll(dir: number): void {
    const g = this.geometry!;
    const max = Math.max(0, g.diagram - (this.ladderWidth - g.gutter));
    this.scrollX = Math.max(0, Math.min(max, this.scrollX + dir * Math.max(4, Math.floor(g.col / 2))));
  }

  private open(): void {
    if (this.data.arrows.length) this.app!.push(new MessageScreen(this.store, this.data, this.sel));
  }

  private markOrDiff(): void {
    if (this.mark === this.sel) this.mark = -1;
    else if (this.mark >= 0) this.diff();
    else this.mark = this.sel;
  }

  private diff(): void {
    if (this.mark < 0 || this.mark === this.sel) return this.app!.say('mark a message with Space first, then select another');
    const a = this.data.arrows[this.mark]!;
    const b = this.data.arrows[this.sel]!;
    this.app!.push(new DiffScreen(messageInfo(this.store, this.data, a), messageInfo(this.store, this.data, b), [this.mark + 1, this.sel + 1]));
    this.mark = -1;
  }

  help(): KeyHelp[] {
    return LADDER_KEYS;
  }

  destroy(): void {
    this.box?.destroy();
    this.rawBox?.destroy();
    this.sep?.destroy();
    this.box = this.rawBox = this.sep = undefined;
  }
}
