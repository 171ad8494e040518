import blessed from 'blessed';
import { basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { HelpScreen } from './help-screen.js';
import type { Key, MouseEv, Screen } from './screen.js';
import type { DataSource } from './sources.js';
import type { CallStore } from './store.js';
import { esc, fit, type Theme } from './theme.js';

export interface AppOptions {
  store: CallStore;
  source: DataSource;
  /** What is being looked at: the file name, or "live on eth0". */
  title: string;
  theme: Theme;
  input?: Readable;
  output?: Writable;
  /** Ticks per second at most: the repaint rate whatever the packet rate. Default 10. */
  fps?: number;
}

interface Prompt {
  label: string;
  text: string;
  done: (text: string | undefined) => void;
}

/** A key and a double-click are the same gesture when this close in time (ms). */
const DOUBLE_CLICK = 400;

/**
 * The terminal UI: a header line, the screen stack in between, and a help bar at the bottom that
 * doubles as the prompt line. A tick (10 per second) takes in new data and repaints only when
 * something changed; keys repaint at once. blessed then writes only the cells that differ, so
 * neither the packet rate nor the key rate drives how much goes to the terminal.
 */
export class App {
  readonly screen: blessed.Widgets.Screen;
  readonly store: CallStore;
  readonly source: DataSource;
  readonly theme: Theme;
  private readonly header: blessed.Widgets.BoxElement;
  private readonly footer: blessed.Widgets.BoxElement;
  private readonly stack: Screen[] = [];
  private prompt: Prompt | undefined;
  private note = '';
  private noteUntil = 0;
  private scheduled = false;
  private readonly timer: NodeJS.Timeout;
  private exiting = false;
  private quitting = false;
  private lastClick = { at: 0, y: -1 };
  private resolveDone: () => void = () => {};
  /** Resolves when the user quits. */
  readonly done: Promise<void>;
  /** Full repaints done (the bench and tests read it). */
  paints = 0;

  constructor(private readonly opts: AppOptions) {
    this.store = opts.store;
    this.source = opts.source;
    this.theme = opts.theme;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    const io = { input: opts.input ?? process.stdin, output: opts.output ?? process.stdout };
    this.screen = blessed.screen({
      ...(io as unknown as { input: Writable; output: Readable }), // @types/blessed has the two swapped
      smartCSR: true,
      fullUnicode: false,
      forceUnicode: opts.theme.unicode,
      warnings: false,
      autoPadding: false,
      title: `sipscope: ${opts.title}`,
    });
    // Box-drawing glyphs as UTF-8, not the terminal's alternate character set.
    (this.screen.tput as unknown as { brokenACS: boolean }).brokenACS = true;
    this.header = blessed.box({ parent: this.screen, top: 0, left: 0, width: '100%', height: 1, tags: true });
    this.footer = blessed.box({ parent: this.screen, bottom: 0, left: 0, width: '100%', height: 1, tags: true });
    this.screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      this.key({ name: key?.name ?? '', full: key?.full ?? '', ch: ch && ch.length === 1 && ch >= ' ' ? ch : undefined });
    });
    this.screen.on('resize', () => {
      for (const s of this.stack) s.resize();
      this.paint();
    });
    this.screen.enableMouse();
    this.screen.on('mouse', (m: blessed.Widgets.Events.IMouseEventArg) => this.mouse(m));
    this.watchTerminal(io.input, io.output);
    this.timer = setInterval(() => this.tick(), Math.round(1000 / (opts.fps ?? 10)));
    this.source.wake = () => this.tick();
  }

  // --- geometry ----------------------------------------------------------------------------

  get width(): number {
    return Math.max(20, this.screen.cols || 80);
  }

  /** Rows between the header line and the help bar. */
  get bodyHeight(): number {
    return Math.max(1, (this.screen.rows || 24) - 2);
  }

  // --- the stack ---------------------------------------------------------------------------

  push(s: Screen): void {
    const below = this.stack[this.stack.length - 1];
    if (below && !s.overlay) this.hideAll();
    this.stack.push(s);
    s.create(this);
    this.paint();
  }

  pop(): void {
    const s = this.stack.pop();
    s?.destroy();
    if (!this.stack.length) return this.quit();
    // Show again what the popped screen covered, from the last full screen up.
    let from = this.stack.length - 1;
    while (from > 0 && this.stack[from]!.overlay) from--;
    for (let i = from; i < this.stack.length; i++) {
      this.stack[i]!.destroy();
      this.stack[i]!.create(this);
    }
    this.paint();
  }

  get top(): Screen | undefined {
    return this.stack[this.stack.length - 1];
  }

  private hideAll(): void {
    for (const s of this.stack) s.destroy();
  }

  // --- painting ----------------------------------------------------------------------------

  /** Repaint soon (coalesced): after a key, or when a screen's state changed. */
  paint(): void {
    if (this.scheduled || this.exiting) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.draw();
    });
  }

  private draw(): void {
    if (this.exiting) return;
    let from = this.stack.length - 1;
    while (from > 0 && this.stack[from]!.overlay) from--;
    for (let i = Math.max(0, from); i < this.stack.length; i++) this.stack[i]!.render();
    this.drawHeader();
    this.drawFooter();
    this.paints++;
    this.screen.render();
  }

  private drawHeader(): void {
    const left = ` sipscope ${this.theme.glyphs.bar} ${basename(this.opts.title)} ${this.theme.glyphs.bar} ${this.top?.title ?? ''}`;
    const warn = this.source.warnings.length ? ` ${this.theme.glyphs.bar} ${this.source.warnings[this.source.warnings.length - 1]}` : '';
    const right = `${this.source.status()}${warn} `;
    const w = this.width;
    const line = right.length + left.length < w ? left + ' '.repeat(w - left.length - right.length) + right : fit(left + '  ' + right, w);
    this.header.setContent(this.theme.inverse(esc(line)));
  }

  private drawFooter(): void {
    const w = this.width;
    if (this.prompt) {
      const p = `${this.prompt.label}: ${this.prompt.text}`;
      const shown = p.length + 1 > w ? p.slice(p.length + 1 - w) : p;
      this.footer.setContent(`${esc(shown)}{inverse} {/inverse}`);
      return;
    }
    if (this.note && Date.now() < this.noteUntil) {
      this.footer.setContent(this.theme.bold(esc(fit(this.note, w))));
      return;
    }
    const keys = (this.top?.help() ?? []).filter((k) => k.bar).map((k) => [k.keys.split(' ')[0]!, k.bar!] as const);
    keys.push(['?', 'help'], ['q', this.stack.length > 1 ? 'back' : 'quit']);
    let line = '';
    let plain = 0;
    for (const [k, what] of keys) {
      const cell = ` ${k} ${what} `;
      if (plain + cell.length > w) break;
      plain += cell.length;
      line += `${this.theme.inverse(esc(` ${k} `))}${esc(` ${what}`)} `;
    }
    this.footer.setContent(line);
  }

  /** A line in the help bar for a few seconds (a save done, a search with no match…). */
  say(text: string, seconds = 4): void {
    this.note = text;
    this.noteUntil = Date.now() + seconds * 1000;
    this.paint();
  }

  /**
   * Asks for a line of text in the help bar; `done` gets it on Enter, undefined on Esc. It is
   * called at once, before any key typed after the Enter, so typing ahead works.
   */
  ask(label: string, initial: string, done: (text: string | undefined) => void): void {
    this.prompt = { label, text: initial, done };
    this.paint();
  }

  // --- input -------------------------------------------------------------------------------

  private key(k: Key): void {
    // blessed reports a carriage return twice, as "enter" and as "return": act on "enter" only.
    if (this.exiting || k.name === 'return') return;
    if (k.full === 'C-c') return this.quit();
    if (this.prompt) return this.promptKey(k);
    this.note = '';
    const top = this.top;
    if (top?.handleKey(k)) return this.paint();
    if (k.ch === '?' || k.name === 'f1' || k.ch === 'h') {
      return this.push(new HelpScreen());
    }
    if (k.ch === 'q' || k.name === 'escape') return this.pop();
  }

  private promptKey(k: Key): void {
    const p = this.prompt!;
    if (k.name === 'enter') {
      this.prompt = undefined;
      p.done(p.text);
    } else if (k.name === 'escape') {
      this.prompt = undefined;
      p.done(undefined);
    } else if (k.name === 'backspace') {
      p.text = p.text.slice(0, -1);
    } else if (k.full === 'C-u') {
      p.text = '';
    } else if (k.ch !== undefined) {
      p.text += k.ch;
    }
    this.paint();
  }

  private mouse(m: blessed.Widgets.Events.IMouseEventArg): void {
    if (this.exiting || this.prompt) return;
    const y = m.y - 1;
    if (y < 0 || y >= this.bodyHeight) return;
    let action: string = m.action;
    if (action === 'mousedown') {
      const now = Date.now();
      if (now - this.lastClick.at < DOUBLE_CLICK && this.lastClick.y === y) action = 'dblclick';
      this.lastClick = { at: now, y };
    }
    const ev: MouseEv = { action, x: m.x, y };
    if (this.top?.handleMouse(ev)) this.paint();
  }

  // --- time --------------------------------------------------------------------------------

  private tick(): void {
    if (this.exiting) return;
    let changed = this.source.tick();
    for (const s of this.stack) if (s.refresh()) changed = true;
    // The header's progress and the help bar's note change with time too.
    if (changed || !this.source.done || (this.note && Date.now() >= this.noteUntil)) this.paint();
  }

  // --- the end -----------------------------------------------------------------------------

  /** Leaves the UI: restores the terminal and resolves `done`. */
  quit(): void {
    if (this.exiting) return;
    this.exiting = true;
    this.quitting = true;
    clearInterval(this.timer);
    this.source.close();
    for (const s of this.stack.splice(0)) s.destroy();
    this.screen.destroy();
    this.resolveDone();
  }

  /**
   * The terminal went away (SIGHUP, a closed tmux pane or ssh session, the input at EOF or in
   * error): stop everything and exit now, writing nothing more to it. This is what keeps
   * sipscope from staying behind spinning on a dead terminal, as sngrep is known to.
   */
  private gone(output: Writable): void {
    if (this.quitting) return; // our own quit closing the input
    if (!this.exiting) {
      this.exiting = true;
      clearInterval(this.timer);
      try {
        this.source.close();
      } catch {
        // ending anyway
      }
      try {
        output.destroy(); // blessed then writes nothing more (its output is no longer writable)
      } catch {
        // nothing to do
      }
    }
    // End by the hangup signal's default action: node's own exit path would try to restore the
    // terminal's modes on a terminal that no longer exists, and abort (node's ResetStdio).
    process.removeAllListeners('SIGHUP');
    process.kill(process.pid, 'SIGHUP');
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), 500).unref();
  }

  private watchTerminal(input: Readable, output: Writable): void {
    process.once('SIGHUP', () => this.gone(output));
    process.once('SIGTERM', () => {
      this.quit(); // the terminal is still there: restore it
      process.exit(143);
    });
    input.once('end', () => this.gone(output));
    input.once('close', () => this.gone(output));
    input.on('error', () => this.gone(output));
    output.on('error', () => this.gone(output));
    // Last resort: the process that started us (the shell, tmux) is gone and we were adopted.
    const parent = process.ppid;
    const orphan = setInterval(() => {
      if (process.ppid !== parent) this.gone(output);
    }, 1000);
    orphan.unref();
  }
}
