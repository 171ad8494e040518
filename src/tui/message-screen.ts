import blessed from 'blessed';
import type { App } from './app.js';
import { messageInfo, type LadderData, type MessageInfo } from './ladder-data.js';
import { wheelScroll, type Key, type KeyHelp, type MouseEv, type Screen } from './screen.js';
import { authLines, sdpLines, sipLines } from './sip-syntax.js';
import type { CallStore } from './store.js';
import { esc, fit } from './theme.js';

export const MESSAGE_KEYS: KeyHelp[] = [
  { keys: 'Up Down k j', what: 'scroll' },
  { keys: 'PgUp PgDn Home End', what: 'scroll by a page, to the top or the end' },
  { keys: 'n p', what: 'next or previous message of the ladder', bar: 'next/prev' },
];

function isoMicro(t: number): string {
  const d = new Date(Math.floor(t) * 1000);
  if (Number.isNaN(d.getTime())) return String(t);
  const us = String(Math.min(Math.round((t - Math.floor(t)) * 1e6), 999999)).padStart(6, '0');
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}.${us}`;
}

/** One line about a message: what, when, from where to where, how. */
export function messageMeta(i: MessageInfo): string {
  return `${i.label}  ${isoMicro(i.time)}  ${i.src} -> ${i.dst}  ${i.transport}  frame ${i.frame}${i.retrans ? `  retransmission ${i.retrans}` : ''}`;
}

/**
 * One message: its raw text with SIP syntax colouring, what its SDP says, the outcome of its
 * digest credentials with the reasons, and where its bytes were read from.
 */
export class MessageScreen implements Screen {
  readonly overlay = false;
  private app: App | undefined;
  private box: blessed.Widgets.BoxElement | undefined;
  private shown = -1;

  constructor(
    private readonly store: CallStore,
    private readonly data: LadderData,
    private index: number,
  ) {}

  get title(): string {
    return `message ${this.index + 1} of ${this.data.arrows.length}`;
  }

  create(app: App): void {
    this.app = app;
    this.box = blessed.box({ parent: app.screen, top: 1, left: 0, width: '100%', height: app.bodyHeight, tags: true, scrollable: true, alwaysScroll: true, wrap: true });
    this.shown = -1;
    this.render(); // the text is there at once, for keys typed ahead (End)
  }

  resize(): void {
    if (this.box && this.app) this.box.height = this.app.bodyHeight;
    this.shown = -1;
  }

  /** The screen's text as tagged lines (tests read it without a terminal). */
  lines(width: number): string[] {
    const t = this.app!.theme;
    const info = messageInfo(this.store, this.data, this.data.arrows[this.index]!);
    const section = (name: string): string => t.bold(esc(`-- ${name} ${'-'.repeat(Math.max(0, width - name.length - 5))}`));
    const out = [t.inverse(esc(fit(` ${messageMeta(info)}`, width)))];
    if (!info.raw) {
      out.push('', 'The message could not be read again from the capture file (was it changed?).');
      return out;
    }
    out.push(...sipLines(info.raw, t));
    const sdp = sdpLines(info.raw);
    if (sdp.length) out.push('', section('SDP'), ...sdp.map(esc));
    if (info.auth.length) out.push('', section('digest credentials'), ...authLines(info.auth, t));
    out.push('', section('bytes'), esc(`${info.raw.length} bytes, ${info.origin}`));
    return out;
  }

  render(): void {
    if (!this.box || !this.app || this.shown === this.index) return;
    this.shown = this.index;
    this.box.setContent(this.lines(this.app.width).join('\n'));
    this.box.setScroll(0);
  }

  handleKey(k: Key): boolean {
    const b = this.box;
    if (!b) return false;
    const page = Math.max(1, this.app!.bodyHeight - 1);
    switch (k.name) {
      case 'up': b.scroll(-1); return true;
      case 'down': b.scroll(1); return true;
      case 'pageup': b.scroll(-page); return true;
      case 'pagedown': b.scroll(page); return true;
      case 'home': b.setScroll(0); return true;
      case 'end': b.setScrollPerc(100); return true;
    }
    switch (k.ch) {
      case 'k': b.scroll(-1); return true;
      case 'j': b.scroll(1); return true;
      case 'n': this.index = Math.min(this.data.arrows.length - 1, this.index + 1); return true;
      case 'p': this.index = Math.max(0, this.index - 1); return true;
    }
    return false;
  }

  handleMouse(ev: MouseEv): boolean {
    return wheelScroll(this.box, ev);
  }

  help(): KeyHelp[] {
    return MESSAGE_KEYS;
  }

  refresh(): boolean {
    return false;
  }

  destroy(): void {
    this.box?.destroy();
    this.box = undefined;
  }
}
