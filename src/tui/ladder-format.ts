import type { LadderArrow, LadderData } from './ladder-data.js';
import { esc, type Colour, type Theme } from './theme.js';

export type ColourBy = 'kind' | 'leg';

export interface LadderGeometry {
  /** Columns of time and delta before the diagram. */
  gutter: number;
  /** Width of one lifeline's column. */
  col: number;
  compact: boolean;
  /** Width of the whole diagram (may exceed the screen: then it scrolls sideways). */
  diagram: number;
}

const MIN_COL = 18;
const MAX_COL = 44;
const LEG_COLOURS: Colour[] = ['cyan', 'magenta', 'yellow', 'green', 'blue', 'red'];

export function arrowText(a: LadderArrow): string {
  return `${a.label}${a.sdp ? ' (SDP)' : ''}${a.retrans ? ` [retrans ${a.retrans}]` : ''}`;
}

/**
 * Column widths for a ladder in `width` columns: wide enough for the longest label when the
 * lifelines fit that way, else narrower down to a minimum, past which the diagram scrolls.
 */
export function ladderGeometry(l: LadderData, width: number): LadderGeometry {
  const compact = width < 100;
  const gutter = compact ? 21 : 25;
  const n = Math.max(1, l.lifelines.length);
  let longest = 0;
  for (const a of l.arrows) longest = Math.max(longest, arrowText(a).length);
  for (const x of l.lifelines) longest = Math.max(longest, x.address.length - 4);
  const preferred = Math.max(MIN_COL, Math.min(MAX_COL, longest + 8));
  const fit = Math.floor((width - gutter) / n);
  const col = n * preferred <= width - gutter ? preferred : Math.max(MIN_COL, fit);
  return { gutter, col, compact, diagram: n * col };
}

function clock(t: number, compact: boolean): string {
  const d = new Date(Math.floor(t) * 1000);
  if (Number.isNaN(d.getTime())) return String(t);
  const frac = t - Math.floor(t);
  const digits = compact ? 3 : 6;
  const f = String(Math.min(Math.round(frac * 10 ** digits), 10 ** digits - 1)).padStart(digits, '0');
  return `${d.toISOString().slice(11, 19)}.${f}`;
}

function centre(text: string, width: number, fill = ' '): string {
  const t = text.length > width ? text.slice(0, Math.max(0, width - 1)) + (width > 0 ? '~' : '') : text;
  const left = Math.floor((width - t.length) / 2);
  return fill.repeat(left) + t + fill.repeat(Math.max(0, width - t.length - left));
}

/** The two header lines: who each lifeline is, and its address. */
export function ladderHeader(l: LadderData, g: LadderGeometry, scrollX: number, width: number, theme: Theme): string[] {
  const avail = Math.max(0, width - g.gutter);
  const roles = l.lifelines.map((x) => centre(x.role, g.col - 1) + ' ').join('');
  const addrs = l.lifelines.map((x) => centre(x.address, g.col - 1) + ' ').join('');
  const cut = (s: string): string => s.slice(scrollX, scrollX + avail);
  // Sideways scrolling is shown in the gutter: < more on the left, > more on the right.
  const hint = `${scrollX > 0 ? theme.glyphs.left : ' '}${g.diagram - scrollX > avail ? theme.glyphs.right : ' '}`.padEnd(g.gutter);
  return [theme.bold(esc(hint + cut(roles))), esc(' '.repeat(g.gutter) + cut(addrs))];
}

function colourOf(a: LadderArrow, by: ColourBy): Colour {
  if (by === 'leg') return LEG_COLOURS[a.leg % LEG_COLOURS.length]!;
  if (a.request) return 'cyan';
  const code = Number(a.label.slice(0, 3));
  return code < 200 ? 'yellow' : code < 300 ? 'green' : code < 400 ? 'blue' : 'red';
}

/** The plain text of an arrow's line across the whole diagram, and where the arrow is in it. */
export function arrowLine(l: LadderData, a: LadderArrow, g: LadderGeometry): { text: string; from: number; to: number } {
  const n = l.lifelines.length;
  const half = Math.floor((g.col - 1) / 2);
  const chars = new Array<string>(n * g.col).fill(' ');
  for (let c = 0; c < n; c++) chars[c * g.col + half] = '|';
  const label = arrowText(a);
  let from: number;
  let to: number;
  if (a.from === a.to) {
    const self = centre(`<${label}>`, g.col - 1);
    from = a.from * g.col;
    to = from + g.col - 2;
    for (let i = 0; i < self.length; i++) if (self[i] !== ' ') chars[from + i] = self[i]!;
  } else {
    const lo = Math.min(a.from, a.to);
    const hi = Math.max(a.from, a.to);
    from = lo * g.col + half + 1;
    to = hi * g.col + half - 1;
    const span = to - from + 1;
    let body = centre(` ${label.length > span - 4 ? label.slice(0, Math.max(0, span - 5)) + '~' : label} `, span, '-');
    body = a.to > a.from ? body.slice(0, -1) + '>' : '<' + body.slice(1);
    for (let i = 0; i < span; i++) chars[from + i] = body[i]!;
  }
  return { text: chars.join(''), from, to };
}

export interface LadderLineOptions {
  scrollX: number;
  width: number;
  selected: boolean;
  marked: boolean;
  colourBy: ColourBy;
}

/** One arrow's screen line: time, delta, and the visible part of the diagram, coloured. */
export function ladderLine(l: LadderData, a: LadderArrow, g: LadderGeometry, o: LadderLineOptions, theme: Theme): string {
  const time = clock(a.time, g.compact);
  const delta = `+${a.delta.toFixed(3)}`.padStart(g.compact ? 7 : 8);
  const gutter = `${o.marked ? '*' : ' '}${time} ${delta}`.padEnd(g.gutter).slice(0, g.gutter);
  const avail = Math.max(0, o.width - g.gutter);
  const { text, from, to } = arrowLine(l, a, g);
  const x0 = o.scrollX;
  const x1 = x0 + avail;
  const visible = text.slice(x0, x1);
  const a0 = Math.max(from, x0) - x0;
  const a1 = Math.min(to + 1, x1) - x0;
  let body: string;
  if (a1 > a0) {
    const c = colourOf(a, o.colourBy);
    body = esc(visible.slice(0, a0)) + theme.fg(c, esc(visible.slice(a0, a1))) + esc(visible.slice(a1));
  } else body = esc(visible);
  const pad = ' '.repeat(Math.max(0, o.width - g.gutter - visible.length));
  const line = esc(gutter) + body + pad;
  return o.selected ? theme.inverse(line) : line;
}
