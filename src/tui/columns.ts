import { RECORD_COLUMNS, type RecordColumn } from '../model/index.js';
import type { Row, Value } from './store.js';
import type { Colour } from './theme.js';

/**
 * One column of the call list. The same table drives what the list shows, what it sorts and
 * filters on, and (through `field`) the CSV header of a save.
 */
export interface Column {
  id: string;
  title: string;
  /** Preferred and smallest width; the list shrinks columns to fit, then drops the lowest priority. */
  width: number;
  min: number;
  priority: number;
  right: boolean;
  /** The call-record field this column shows; undefined for columns the UI derives. */
  field: RecordColumn | undefined;
  /** Value for sorting and filtering. */
  value(r: Row): Value;
  /** Text shown. */
  text(r: Row): string;
  /** Colour of the text, if any. */
  colour?(r: Row): Colour | undefined;
}

const str = (v: Value): string => (v === null || v === undefined ? '-' : String(v));
const clock = (v: Value): string => (typeof v === 'string' ? v.slice(11, 23) : '-');

const STATUS_COLOUR: Record<string, Colour> = {
  answered: 'green', registered: 'green', ok: 'green', unregistered: 'green',
  busy: 'yellow', no_answer: 'yellow', cancelled: 'yellow', challenged: 'yellow',
  rejected: 'red', failed: 'red', in_progress: 'cyan',
};

interface Spec {
  title: string;
  width: number;
  min?: number;
  priority?: number;
  right?: boolean;
  text?: (r: Row, v: Value) => string;
  colour?: (r: Row) => Colour | undefined;
}

/** Presentation of the record fields; fields not named here get a plain column. */
const SPECS: Partial<Record<RecordColumn, Spec>> = {
  start_time: { title: 'Start', width: 12, min: 12, priority: 9, text: (_r, v) => clock(v) },
  ring_time: { title: 'Ring', width: 12, text: (_r, v) => clock(v) },
  answer_time: { title: 'Answer', width: 12, text: (_r, v) => clock(v) },
  end_time: { title: 'End', width: 12, text: (_r, v) => clock(v) },
  from_user: { title: 'From', width: 14, min: 8, priority: 9, text: (r, v) => (v === null ? str(r.get('from_display')) : String(v)) },
  to_user: { title: 'To', width: 14, min: 8, priority: 9 },
  messages: { title: 'Msgs', width: 4, priority: 5, right: true },
  src: { title: 'Source', width: 21, min: 15, priority: 4 },
  dst: { title: 'Destination', width: 21, min: 15, priority: 4 },
  status: { title: 'State', width: 11, min: 10, priority: 8, colour: (r) => STATUS_COLOUR[String(r.get('status'))] },
  duration_s: { title: 'Dur', width: 8, min: 7, priority: 6, right: true, text: (_r, v) => (v === null ? '-' : `${v}s`) },
  pdd_ms: { title: 'PDD', width: 7, right: true, text: (_r, v) => (v === null ? '-' : `${v}ms`) },
  auth_result: {
    title: 'Auth',
    width: 14,
    min: 10,
    priority: 7,
    text: (r, v) => (v === null ? '-' : `${v}${r.get('auth_user') !== null ? `(${r.get('auth_user')})` : ''}`),
    colour: (r) => (r.get('auth_result') === 'valid' ? 'green' : r.get('auth_result') === 'invalid' ? 'red' : undefined),
  },
  call_id: { title: 'Call-ID', width: 24, min: 10 },
  kind: { title: 'Kind', width: 12, min: 5 },
  leg: { title: 'Leg', width: 3, min: 3 },
  final_code: { title: 'Code', width: 4, right: true },
  hangup_cause: { title: 'Hangup', width: 18, min: 8 },
  user_agent: { title: 'User-Agent', width: 20, min: 8 },
};

function recordColumn(field: RecordColumn, at: number): Column {
  const s = SPECS[field] ?? { title: field, width: Math.max(8, Math.min(field.length, 16)) };
  const text = s.text;
  return {
    id: field,
    title: s.title,
    width: s.width,
    min: s.min ?? Math.min(s.width, 8),
    priority: s.priority ?? 3,
    right: s.right ?? false,
    field,
    value: (r) => r.values[at] ?? null,
    text: text ? (r) => text(r, r.values[at] ?? null) : (r) => str(r.values[at] ?? null),
    colour: s.colour,
  };
}

/** The index (the call's number; a leg's letter) and the method of the first request. */
const DERIVED: Column[] = [
  {
    id: 'index', title: '#', width: 7, min: 4, priority: 10, right: true, field: undefined,
    value: (r) => r.group.ordinal,
    text: (r) => (r.leg === 0 ? String(r.group.ordinal) : `${r.get('leg') ?? ''}`),
  },
  {
    id: 'method', title: 'Method', width: 9, min: 8, priority: 8, right: false, field: undefined,
    value: (r) => r.method,
    text: (r) => r.method || '-',
  },
];

/** Every column the list can show: the derived ones, then one per call-record field. */
export const COLUMNS: readonly Column[] = [...DERIVED, ...RECORD_COLUMNS.map((f, i) => recordColumn(f, i))];

export const COLUMN_BY_ID = new Map(COLUMNS.map((c) => [c.id, c]));

/** What the list shows at first (the issue's list: index, start, method, from, to, … auth). */
export const DEFAULT_COLUMNS: readonly string[] = [
  'index', 'start_time', 'method', 'from_user', 'to_user', 'messages', 'src', 'dst', 'status', 'duration_s', 'auth_result',
];

/** The CSV header of a save: every column backed by a record field, in table order (= RECORD_COLUMNS). */
export const CSV_COLUMNS: readonly RecordColumn[] = COLUMNS.flatMap((c) => (c.field ? [c.field] : []));

export interface PlacedColumn {
  column: Column;
  width: number;
}

/**
 * Fits the chosen columns into `width`. A column wants its preferred width, or less when the
 * text it has shown so far (`seen`, the widest cell per column) is narrower; if that is still
 * too wide, the columns shrink towards their minimum; if still too wide, the lowest-priority
 * columns are left out.
 */
export function layoutColumns(ids: readonly string[], width: number, seen: ReadonlyMap<string, number> = new Map()): PlacedColumn[] {
  let cols = ids.map((id) => COLUMN_BY_ID.get(id)).filter((c): c is Column => c !== undefined);
  const want = (c: Column): number => {
    const s = seen.get(c.id);
    return s === undefined ? c.width : Math.min(c.width, Math.max(c.title.length + 1, s));
  };
  const least = (c: Column): number => Math.min(c.min, want(c));
  const total = (list: Column[], w: (c: Column) => number): number => list.reduce((n, c) => n + w(c) + 1, 0) - 1;
  while (cols.length > 1 && total(cols, least) > width) {
    let low = cols[cols.length - 1]!;
    for (const c of cols) if (c.priority < low.priority) low = c;
    cols = cols.filter((c) => c !== low);
  }
  const widths = cols.map(want);
  let excess = total(cols, want) - width;
  // Shrink the column with the most room to give, one step at a time: fair and simple.
  while (excess > 0) {
    let best = -1;
    for (let i = 0; i < cols.length; i++) {
      const room = widths[i]! - least(cols[i]!);
      if (room > 0 && (best < 0 || room > widths[best]! - least(cols[best]!))) best = i;
    }
    if (best < 0) break;
    widths[best]!--;
    excess--;
  }
  return cols.map((column, i) => ({ column, width: widths[i]! }));
}
