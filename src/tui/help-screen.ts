import blessed from 'blessed';
import type { App } from './app.js';
import { CALL_LIST_KEYS } from './call-list.js';
import { DIFF_KEYS } from './diff-screen.js';
import { LADDER_KEYS } from './ladder-screen.js';
import { MENU_KEYS } from './menu.js';
import { MESSAGE_KEYS } from './message-screen.js';
import { GLOBAL_KEYS, type Key, type KeyHelp, type MouseEv, type Screen, wheelScroll } from './screen.js';
import { esc } from './theme.js';

const PROMPT_KEYS: KeyHelp[] = [
  { keys: 'Enter', what: 'accept' },
  { keys: 'Esc', what: 'cancel' },
  { keys: 'Backspace Ctrl-U', what: 'delete a character, the whole line' },
];

const SECTIONS: Array<[string, KeyHelp[]]> = [
  ['everywhere', GLOBAL_KEYS],
  ['call list', CALL_LIST_KEYS],
  ['ladder (call flow)', LADDER_KEYS],
  ['message', MESSAGE_KEYS],
  ['diff of two messages', DIFF_KEYS],
  ['menus', MENU_KEYS],
  ['prompts (filter, search, file name)', PROMPT_KEYS],
];

/** Every key of every screen, one section per screen. */
export function helpLines(): string[] {
  const width = Math.max(...SECTIONS.flatMap(([, keys]) => keys.map((k) => k.keys.length))) + 2;
  const out: string[] = [];
  for (const [name, keys] of SECTIONS) {
    out.push(`{bold}${esc(name)}{/bold}`);
    for (const k of keys) out.push(`  ${esc(k.keys.padEnd(width))}${esc(k.what)}`);
    out.push('');
  }
  out.push('Filters: plain text matches case-insensitively; /regex/ (flags after the last /) is a');
  out.push('regular expression over the calls\' fields and every header and body of their messages.');
  out.push('NO_COLOR set in the environment turns colour off.');
  return out;
}

export class HelpScreen implements Screen {
  readonly overlay = false;
  readonly title = 'help';
  private app: App | undefined;
  private box: blessed.Widgets.BoxElement | undefined;

  create(app: App): void {
    this.app = app;
    this.box = blessed.box({ parent: app.screen, top: 1, left: 0, width: '100%', height: app.bodyHeight, tags: true, scrollable: true, alwaysScroll: true, wrap: true });
    this.box.setContent(helpLines().join('\n'));
  }

  resize(): void {
    if (this.box && this.app) this.box.height = this.app.bodyHeight;
  }

  render(): void {}

  handleKey(k: Key): boolean {
    const b = this.box;
    if (!b) return false;
    const page = Math.max(1, (this.app?.bodyHeight ?? 2) - 1);
    if (k.name === 'up' || k.ch === 'k') b.scroll(-1);
    else if (k.name === 'down' || k.ch === 'j') b.scroll(1);
    else if (k.name === 'pageup') b.scroll(-page);
    else if (k.name === 'pagedown' || k.ch === ' ') b.scroll(page);
    else if (k.name === 'home') b.setScroll(0);
    else if (k.name === 'end') b.setScrollPerc(100);
    else return k.ch === '?' || k.name === 'f1'; // help on help: stay
    return true;
  }

  handleMouse(ev: MouseEv): boolean {
    return wheelScroll(this.box, ev);
  }

  help(): KeyHelp[] {
    return [{ keys: 'Up Down PgUp PgDn', what: 'scroll', bar: 'scroll' }];
  }

  refresh(): boolean {
    return false;
  }

  destroy(): void {
    this.box?.destroy();
    this.box = undefined;
  }
}
