import blessed from 'blessed';
import { basename } from 'node:path';
import type { App } from './app.js';
import { COLUMN_BY_ID, COLUMNS, DEFAULT_COLUMNS, layoutColumns, type PlacedColumn } from './columns.js';
import { LadderScreen } from './ladder-screen.js';
import { ListFormatter, GUTTER } from './list-format.js';
import { MenuScreen, type MenuItem } from './menu.js';
import { saveCsv, savePcap } from './save.js';
import type { Key, KeyHelp, MouseEv, Screen } from './screen.js';
import type { CallStore, Group } from './store.js';
import { CallView, parsePattern } from './view.js';

export const CALL_LIST_KEYS: KeyHelp[] = [
  { keys: 'Up Down k j', what: 'move' },
  { keys: 'PgUp PgDn Home End', what: 'move by a page, to the first or last call' },
  { keys: 'Enter', what: 'ladder of the call (of the selected calls, if any)', bar: 'flow' },
  { keys: 'Space', what: 'select or unselect the call', bar: 'select' },
  { keys: 'a x', what: 'select every call shown; clear the selection' },
  { keys: 'Right + Left -', what: 'expand or collapse the B2BUA legs of a call' },
  { keys: 'e', what: 'expand or collapse every call' },
  { keys: '< > r', what: 'sort by the column to the left or right; reverse the order' },
  { keys: 'o', what: 'sort by any column (menu)' },
  { keys: 'c', what: 'choose the columns shown', bar: 'columns' },
  { keys: 'f F7', what: 'filter: text, or /regex/, over the calls and every header and body of their messages', bar: 'filter' },
  { keys: 'm t', what: 'filter by method, by state (menus)' },
  { keys: 'F', what: 'clear every filter' },
  { keys: '/ n N', what: 'search the list; next and previous match', bar: 'search' },
  { keys: 'w F2', what: 'save the selected or shown calls to pcap or CSV', bar: 'save' },
];

/**
 * The call list: one line per call (legs as a tree under it), virtualised, with sorting,
 * columns, filters, search, selection and saving. The first screen of the stack.
 */
export class CallListScreen implements Screen {
  readonly overlay = false;
  readonly view: CallView;
  columns: string[] = [...DEFAULT_COLUMNS];
  private readonly formatter: ListFormatter;
  private app: App | undefined;
  private box: blessed.Widgets.BoxElement | undefined;
  private placed: PlacedColumn[] = [];
  private lastSearch: RegExp | undefined;
  private seenVersion = -1;

  constructor(
    private readonly store: CallStore,
    app: App,
    /** Base name for saved files. */
    private readonly name: string,
  ) {
    this.view = new CallView(store);
    this.formatter = new ListFormatter(app.theme);
  }

  get title(): string {
    const v = this.view;
    const parts = [`calls ${v.order.length}${v.order.length !== this.countAll() ? ` of ${this.countAll()}` : ''}`];
    if (v.selected.size) parts.push(`${v.selected.size} selected`);
    const f = v.filter;
    if (f.text) parts.push(`filter "${f.text}"`);
    if (f.methods) parts.push(`method ${[...f.methods].join(',')}`);
    if (f.states) parts.push(`state ${[...f.states].join(',')}`);
    if (v.filtering > 0) parts.push(`filtering ${Math.round((1 - v.filtering) * 100)}%`);
    return parts.join(', ');
  }

  private countAll(): number {
    return this.store.calls;
  }

  create(app: App): void {
    this.app = app;
    this.box = blessed.box({ parent: app.screen, top: 1, left: 0, width: '100%', height: app.bodyHeight, tags: true });
    this.resize();
  }

  resize(): void {
    if (!this.box || !this.app) return;
    this.box.height = this.app.bodyHeight;
    this.placed = layoutColumns(this.columns, this.app.width - GUTTER - 1, this.formatter.seen);
  }

  private get rows(): number {
    return Math.max(1, (this.app?.bodyHeight ?? 2) - 1);
  }

  render(): void {
    if (!this.box || !this.app) return;
    const w = this.app.width;
    this.view.relayout();
    this.view.scrollInto(this.rows);
    if (this.formatter.measure(this.view, this.columns, this.rows)) this.resize();
    const lines = [this.formatter.header(this.placed, this.view, w), ...this.formatter.lines(this.view, this.placed, this.rows, w)];
    if (this.view.lineCount === 0) lines.push(this.store.groups.length ? '  no call matches the filter' : '  no calls yet');
    this.box.setContent(lines.join('\n'));
  }

  refresh(): boolean {
    let changed = this.view.sync();
    if (this.view.step(performance.now() + 30)) changed = true;
    if (this.view.filtering > 0) changed = true;
    if (this.store.version !== this.seenVersion) {
      this.seenVersion = this.store.version;
      changed = true;
    }
    return changed;
  }

  handleKey(k: Key): boolean {
    const v = this.view;
    const row = v.current;
    switch (k.name) {
      case 'up': v.move(-1); return true;
      case 'down': v.move(1); return true;
      case 'pageup': v.move(-this.rows); return true;
      case 'pagedown': v.move(this.rows); return true;
      case 'home': v.moveTo(0); return true;
      case 'end': v.moveTo(v.lineCount - 1); return true;
      case 'enter': this.openLadder(); return true;
      case 'right': if (row) v.setExpanded(row.group.slot, true); return true;
      case 'left': if (row) v.setExpanded(row.group.slot, false); return true;
      case 'f7': this.askFilter(); return true;
      case 'f2': this.saveMenu(); return true;
    }
    switch (k.ch) {
      case 'k': v.move(-1); return true;
      case 'j': v.move(1); return true;
      case 'g': v.moveTo(0); return true;
      case 'G': v.moveTo(v.lineCount - 1); return true;
      case ' ': if (row) v.toggleSelected(row.group.slot); v.move(1); return true;
      case 'a': v.selectAll(); return true;
      case 'x': v.selected.clear(); return true;
      case '+': if (row) v.setExpanded(row.group.slot, true); return true;
      case '-': if (row) v.setExpanded(row.group.slot, false); return true;
      case 'e': v.setAllExpanded(v.collapsed.size > 0); return true;
      case '<': this.sortStep(-1); return true;
      case '>': this.sortStep(1); return true;
      case 'r': v.setSort(v.sortColumn, !v.desc); return true;
      case 'o': this.sortMenu(); return true;
      case 'c': this.columnsMenu(); return true;
      case 'f': this.askFilter(); return true;
      case 'F': v.setFilter({}); return true;
      case 'm': this.choiceFilter('method'); return true;
      case 't': this.choiceFilter('state'); return true;
      case '/': this.askSearch(); return true;
      case 'n': this.searchNext(false); return true;
      case 'N': this.searchNext(true); return true;
      case 'w': this.saveMenu(); return true;
    }
    return false;
  }

  handleMouse(ev: MouseEv): boolean {
    const v = this.view;
    if (ev.action === 'wheelup') v.move(-3);
    else if (ev.action === 'wheeldown') v.move(3);
    else if (ev.action === 'mousedown' && ev.y === 0) {
      // A click on a column title sorts by it (again: reverses).
      let x = GUTTER + 1;
      for (const p of this.placed) {
        if (ev.x >= x && ev.x < x + p.width) v.setSort(p.column, v.sortColumn === p.column ? !v.desc : false);
        x += p.width + 1;
      }
    } else if ((ev.action === 'mousedown' || ev.action === 'dblclick') && ev.y >= 1) {
      const line = v.top + ev.y - 1;
      if (line >= v.lineCount) return false;
      v.moveTo(line);
      if (ev.action === 'dblclick') this.openLadder();
    } else return false;
    return true;
  }

  help(): KeyHelp[] {
    return CALL_LIST_KEYS;
  }

  destroy(): void {
    this.box?.destroy();
    this.box = undefined;
  }

  // --- actions -----------------------------------------------------------------------------

  private openLadder(): void {
    const v = this.view;
    const groups = v.selected.size ? v.chosen(true) : v.current ? [v.current.group] : [];
    if (groups.length) this.app!.push(new LadderScreen(this.store, groups));
  }

  private sortStep(dir: number): void {
    const v = this.view;
    const ids = this.placed.map((p) => p.column.id);
    const at = ids.indexOf(v.sortColumn.id);
    const next = ids[Math.max(0, Math.min(ids.length - 1, at < 0 ? 0 : at + dir))]!;
    v.setSort(COLUMN_BY_ID.get(next)!, v.desc);
  }

  private sortMenu(): void {
    const items = COLUMNS.map((c) => ({ label: `${c.title}${c.field && c.title !== c.field ? ` (${c.field})` : ''}`, value: c.id }));
    this.app!.push(new MenuScreen('sort by', items, false, (vals) => {
      const c = vals?.[0] ? COLUMN_BY_ID.get(vals[0]) : undefined;
      if (c) this.view.setSort(c, false);
    }));
  }

  private columnsMenu(): void {
    const shown = new Set(this.columns);
    const items = COLUMNS.map((c) => ({ label: `${c.title}${c.field && c.title !== c.field ? ` (${c.field})` : ''}`, value: c.id, checked: shown.has(c.id) }));
    this.app!.push(new MenuScreen('columns', items, true, (vals) => {
      if (!vals?.length) return;
      this.columns = COLUMNS.filter((c) => vals.includes(c.id)).map((c) => c.id);
      this.resize();
    }));
  }

  private askFilter(): void {
    this.app!.ask('filter (text or /regex/)', this.view.filter.text ?? '', (text) => {
      if (text === undefined) return;
      const f = { ...this.view.filter };
      if (!text) {
        delete f.pattern;
        delete f.text;
      } else {
        try {
          f.pattern = parsePattern(text);
          f.text = text;
        } catch (err) {
          this.app!.say(`bad regular expression: ${(err as Error).message}`);
          return;
        }
      }
      this.view.setFilter(f);
    });
  }

  private choiceFilter(what: 'method' | 'state'): void {
    const counts = new Map<string, number>();
    for (const g of this.store.groups) {
      if (g.removed) continue;
      for (const r of g.rows) {
        const v = what === 'method' ? r.method : String(r.get('status') ?? '-');
        counts.set(v, (counts.get(v) ?? 0) + 1);
      }
    }
    const current = what === 'method' ? this.view.filter.methods : this.view.filter.states;
    const items: MenuItem[] = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([v, n]) => ({ label: `${v} (${n})`, value: v, checked: current ? current.has(v) : false }));
    this.app!.push(new MenuScreen(`${what}s to show (none ticked: all)`, items, true, (vals) => {
      if (vals === undefined) return;
      const f = { ...this.view.filter };
      const set = vals.length && vals.length < items.length ? new Set(vals) : undefined;
      if (what === 'method') f.methods = set;
      else f.states = set;
      if (!f.methods) delete f.methods;
      if (!f.states) delete f.states;
      this.view.setFilter(f);
    }));
  }

  private askSearch(): void {
    this.app!.ask('search (text or /regex/)', '', (text) => {
      if (!text) return;
      try {
        this.lastSearch = parsePattern(text);
      } catch (err) {
        this.app!.say(`bad regular expression: ${(err as Error).message}`);
        return;
      }
      this.searchNext(false);
    });
  }

  private searchNext(backwards: boolean): void {
    if (!this.lastSearch) return this.app!.say('nothing to search for: / first');
    const i = this.view.find(this.lastSearch, backwards);
    if (i < 0) this.app!.say('no match');
    else this.view.moveTo(i);
  }

  private saveMenu(): void {
    const v = this.view;
    const sel = v.selected.size;
    const shown = v.order.length;
    const items = [
      { label: `pcap: selected calls (${sel})`, value: 'pcap-selected' },
      { label: `pcap: calls shown (${shown})`, value: 'pcap-shown' },
      { label: `CSV: selected calls (${sel})`, value: 'csv-selected' },
      { label: `CSV: calls shown (${shown})`, value: 'csv-shown' },
    ];
    this.app!.push(new MenuScreen('save', items, false, (vals) => {
      const choice = vals?.[0];
      if (!choice) return;
      const [format, which] = choice.split('-') as ['pcap' | 'csv', 'selected' | 'shown'];
      const groups = v.chosen(which === 'selected');
      if (!groups.length) return this.app!.say(which === 'selected' ? 'no call selected: Space selects' : 'no calls to save');
      const stem = basename(this.name).replace(/\.(pcapng|pcap|cap)(\.gz)?$/i, '') || 'sipscope';
      this.app!.ask(`save ${groups.length} call(s) as ${format === 'csv' ? 'CSV' : 'pcap'} to`, `${stem}-calls.${format}`, (path) => {
        if (path) void this.save(format, groups, path);
      });
    }));
  }

  private async save(format: 'pcap' | 'csv', groups: Group[], path: string): Promise<void> {
    const app = this.app!;
    app.say(`saving ${groups.length} call(s) to ${path}`, 60);
    try {
      if (format === 'csv') {
        const n = await saveCsv(groups, path);
        app.say(`saved ${n} rows of ${groups.length} call(s) to ${path}`);
      } else {
        const r = await savePcap(this.store, groups, path);
        app.say(`saved ${r.frames} frames of ${groups.length} call(s) to ${path}${r.encoded ? ` (${r.encoded} rebuilt from their messages)` : ''}`);
      }
    } catch (err) {
      app.say(`cannot save: ${(err as Error).message}`, 8);
    }
  }
}
