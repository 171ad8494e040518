import { COLUMN_BY_ID, type Column, type PlacedColumn } from './columns.js';
import type { Row } from './store.js';
import { esc, fit, type Theme } from './theme.js';
import type { CallView } from './view.js';

/** Selection mark and tree glyph before the columns. */
export const GUTTER = 2;

/**
 * Formats the call list's visible lines, and only those: `formatted` counts every row ever
 * formatted, which the virtualisation test reads (200 000 calls, one screenful of work).
 */
export class ListFormatter {
  formatted = 0;
  /** Widest text each column has shown (only ever grows, so columns do not jump about). */
  readonly seen = new Map<string, number>();

  constructor(private readonly theme: Theme) {}

  header(cols: PlacedColumn[], view: CallView, width: number): string {
    const arrow = view.desc ? 'v' : '^';
    const cells = cols.map(({ column, width: w }) => {
      const sorted = view.sortColumn.id === column.id;
      const title = sorted ? `${column.title}${arrow}` : column.title;
      return fit(title, w, column.right);
    });
    return this.theme.bold(esc(fit(' '.repeat(GUTTER) + cells.join(' '), width)));
  }

  row(r: Row, cols: PlacedColumn[], width: number, cursor: boolean, view: CallView): string {
    this.formatted++;
    const t = this.theme;
    const g = t.glyphs;
    const group = r.group;
    const selected = view.selected.has(group.slot);
    let tree = ' ';
    if (r.leg === 0 && group.rows.length > 1) tree = view.collapsed.has(group.slot) ? g.closed : g.open;
    const mark = selected ? '*' : ' ';
    let plain = `${mark}${tree}`;
    let tagged = esc(plain);
    for (const { column, width: w } of cols) {
      let text = column.text(r);
      if (column.id === 'index' && r.leg > 0) text = `${g.child}${text}`;
      const cell = fit(text, w, column.right, g.ellipsis);
      plain += ` ${cell}`;
      const colour = cursor ? undefined : column.colour?.(r);
      tagged += ` ${colour ? t.fg(colour, esc(cell)) : esc(cell)}`;
    }
    const pad = Math.max(0, width - plain.length);
    tagged += ' '.repeat(pad);
    if (plain.length > width) {
      // Cut at the screen edge (all cells are single-width text).
      tagged = esc(fit(plain, width, false, ''));
    }
    if (cursor) return t.inverse(selected ? t.bold(tagged) : tagged);
    return selected ? t.bold(tagged) : tagged;
  }

  /** Notes the widths of what the rows on screen will show; true when a column got wider. */
  measure(view: CallView, ids: readonly string[], height: number): boolean {
    let grew = false;
    const end = Math.min(view.lineCount, view.top + height);
    const cols = ids.map((id) => COLUMN_BY_ID.get(id)).filter((c): c is Column => c !== undefined);
    for (let i = view.top; i < end; i++) {
      const r = view.rowAt(i)!;
      for (const c of cols) {
        const w = c.text(r).length + (c.id === 'index' && r.leg > 0 ? 1 : 0);
        if (w > (this.seen.get(c.id) ?? 0)) {
          this.seen.set(c.id, w);
          grew = true;
        }
      }
    }
    return grew;
  }

  /** The lines from `view.top`, `height` of them at most. */
  lines(view: CallView, cols: PlacedColumn[], height: number, width: number): string[] {
    const out: string[] = [];
    const end = Math.min(view.lineCount, view.top + height);
    for (let i = view.top; i < end; i++) out.push(this.row(view.rowAt(i)!, cols, width, i === view.cursor, view));
    return out;
  }
}
