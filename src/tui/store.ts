import { RECORD_COLUMNS, type CallRecord, type RecordColumn, type Session } from '../model/index.js';
import type { CaptureFile } from './capture-file.js';
import { StringPool } from './interner.js';
import { MessageIndex } from './message-index.js';

export type Value = string | number | null;

const INDEX = new Map<string, number>(RECORD_COLUMNS.map((c, i) => [c, i]));

/** Position of a record column in a row's values. */
export function columnIndex(c: RecordColumn): number {
  return INDEX.get(c)!;
}

/** Columns whose values repeat from call to call: one string instance each. */
const POOLED = new Set<RecordColumn>([
  'kind', 'from_user', 'from_display', 'to_user', 'src', 'dst', 'transport', 'status', 'hangup_by', 'hangup_cause',
  'auth_user', 'auth_result', 'auth_reason', 'user_agent', 'callee_user_agent', 'codecs', 'leg', 'leg_evidence',
]);
const POOLED_AT = RECORD_COLUMNS.map((c) => POOLED.has(c));

/** One leg of a call (or one registration, one OPTIONS…): its record's values in RECORD_COLUMNS order. */
export class Row {
  constructor(
    readonly group: Group,
    readonly leg: number,
    public values: Value[],
    /** Method of its first request (INVITE, REGISTER, …). */
    public method: string,
  ) {}

  get(c: RecordColumn): Value {
    return this.values[INDEX.get(c)!] ?? null;
  }

  /** The record again, as `export csv` writes it. */
  record(): CallRecord {
    const r = {} as CallRecord;
    RECORD_COLUMNS.forEach((c, i) => (r[c] = this.values[i] ?? null));
    return r;
  }
}

/**
 * A call with its B2BUA legs (one row per leg), or a lone registration or request: what the
 * analyzer emits as one SessionGroup. Its messages are `msgCount` entries of the message index
 * from `msgStart`, in ladder order. A call still in progress (live) holds its sessions instead.
 */
export class Group {
  rows: Row[] = [];
  msgStart = 0;
  msgCount = 0;
  /** Lifelines of its ladder: address, role, address, role… */
  roles: string[] = [];
  /** Live calls not finished yet: the analyzer's open sessions (their messages are still in them). */
  live: Session[] | undefined = undefined;
  removed = false;

  constructor(readonly slot: number) {}

  /** 1-based number shown in the list. */
  get ordinal(): number {
    return this.slot + 1;
  }

  get head(): Row {
    return this.rows[0]!;
  }
}

export interface GroupData {
  records: CallRecord[];
  methods: string[];
  msgStart: number;
  msgCount: number;
  roles: string[];
  live?: Session[];
}

/**
 * Everything the UI knows about the capture: groups of rows, and the message index. Groups are
 * only appended (and, live, replaced in place when an open call finishes); `takeDirty` tells the
 * view which existing ones changed.
 */
export class CallStore {
  readonly groups: Group[] = [];
  readonly messages = new MessageIndex();
  /** Where message bytes are read again; undefined for gzip, stdin and live input. */
  file: CaptureFile | undefined;
  /** Bumped on every change. */
  version = 0;
  private readonly pool = new StringPool();
  private dirty = new Set<number>();
  private rowCount = 0;
  private groupCount = 0;

  /** Rows (legs) of the groups not removed. */
  get rows(): number {
    return this.rowCount;
  }

  /** Groups not removed: the calls the list can show. */
  get calls(): number {
    return this.groupCount;
  }

  private values(r: CallRecord): Value[] {
    return RECORD_COLUMNS.map((c, i) => {
      const v = r[c];
      return typeof v === 'string' && POOLED_AT[i] ? this.pool.get(v) : v;
    });
  }

  private fill(g: Group, d: GroupData): void {
    this.rowCount -= g.rows.length;
    g.rows = d.records.map((r, leg) => new Row(g, leg, this.values(r), this.pool.get(d.methods[leg] ?? '')));
    this.rowCount += g.rows.length;
    g.msgStart = d.msgStart;
    g.msgCount = d.msgCount;
    g.roles = d.roles;
    g.live = d.live;
    this.version++;
  }

  add(d: GroupData): Group {
    const g = new Group(this.groups.length);
    this.groups.push(g);
    this.groupCount++;
    this.fill(g, d);
    return g;
  }

  /** New data for a group already shown (a live call that progressed or finished). */
  update(g: Group, d: GroupData): void {
    this.fill(g, d);
    this.dirty.add(g.slot);
  }

  remove(g: Group): void {
    if (g.removed) return;
    g.removed = true;
    this.groupCount--;
    this.rowCount -= g.rows.length;
    this.dirty.add(g.slot);
    this.version++;
  }

  /** Slots of groups changed or removed since the last call. */
  takeDirty(): number[] {
    if (!this.dirty.size) return [];
    const out = [...this.dirty];
    this.dirty = new Set();
    return out;
  }

  /** The bytes of message `i`: kept, or read again from the capture file. */
  raw(i: number): Buffer | undefined {
    const kept = this.messages.kept.get(i);
    if (kept) return kept;
    return this.file?.message(this.messages.offset[i]!, this.messages.pos[i]!, this.messages.len[i]!);
  }
}
