import type { App } from './app.js';

/** A key as screens see it: blessed's name (up, enter, C-c, S-g…) and the character typed. */
export interface Key {
  name: string;
  full: string;
  ch: string | undefined;
}

export interface MouseEv {
  action: 'mousedown' | 'mouseup' | 'wheelup' | 'wheeldown' | 'mousemove' | string;
  /** Column and row inside the body (below the header line). */
  x: number;
  y: number;
}

/** One key binding, for the help screen; `bar` is its short form for the help bar. */
export interface KeyHelp {
  keys: string;
  what: string;
  bar?: string;
}

/**
 * One screen of the UI (call list, ladder, message, diff, help, a menu), all with the same small
 * interface; the App keeps them in a stack and only the top one gets keys and paints.
 */
export interface Screen {
  readonly title: string;
  /** Popups leave the screen under them visible. */
  readonly overlay: boolean;
  /** Builds its widgets inside the app's body. */
  create(app: App): void;
  /** Puts its current state into its widgets (the App then lets blessed draw what changed). */
  render(): void;
  /** The terminal changed size. */
  resize(): void;
  /** True when the key was for this screen. */
  handleKey(k: Key): boolean;
  handleMouse(ev: MouseEv): boolean;
  help(): KeyHelp[];
  /** On every tick: true when data this screen shows has changed. */
  refresh(): boolean;
  destroy(): void;
}

/** Keys every screen shares (the help screen lists them once). */
export const GLOBAL_KEYS: KeyHelp[] = [
  { keys: '? F1', what: 'this help', bar: 'help' },
  { keys: 'q Esc', what: 'back; on the call list: quit', bar: 'back' },
  { keys: 'Ctrl-C', what: 'quit at once' },
  { keys: 'mouse', what: 'click selects, double-click opens, wheel scrolls' },
];

/** The mouse wheel scrolls a text box three lines at a time; false when `ev` is not a wheel turn. */
export function wheelScroll(box: { scroll(n: number): unknown } | undefined, ev: MouseEv): boolean {
  if (ev.action === 'wheelup') box?.scroll(-3);
  else if (ev.action === 'wheeldown') box?.scroll(3);
  else return false;
  return true;
}
