import { COLUMN_BY_ID, type Column } from './columns.js';
import type { CallStore, Group, Row, Value } from './store.js';

/** What the list is narrowed to. */
export interface FilterSpec {
  /** Matched against the rows' values and every header and body of the call's messages. */
  pattern?: RegExp;
  /** As typed, for the header line. */
  text?: string;
  methods?: Set<string>;
  states?: Set<string>;
}

const NO = 0;
const YES = 1;
const MAYBE = 2;

/** Packed line: group slot and leg. */
const LEG_BITS = 256;

/**
 * Text or /regex/flags as typed into the filter prompt: plain text matches case-insensitively;
 * /…/ is a regular expression, multi-line so that ^ and $ anchor header lines.
 */
export function parsePattern(text: string): RegExp {
  const m = /^\/(.*)\/([a-z]*)$/s.exec(text);
  if (m) return new RegExp(m[1]!, `${m[2]!.replace(/[gym]/g, '')}m`);
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
}

function compare(a: Value, b: Value): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The call list as shown: which groups pass the filter, in which order, which are expanded,
 * where the cursor is, which are selected. Work is proportional to what changed: new groups are
 * merged in, and only the lines on screen are ever formatted (by ListFormatter). A text filter
 * that has to look into message bytes runs in slices (`step`) so the UI stays responsive.
 */
export class CallView {
  order: number[] = [];
  readonly selected = new Set<number>();
  readonly collapsed = new Set<number>();
  sortColumn: Column;
  desc = false;
  filter: FilterSpec = {};
  cursor = 0;
  top = 0;
  private seen = 0;
  private pending: number[] = [];
  private pendingAt = 0;
  private lines = new Float64Array(0);
  private count = 0;
  private linesDirty = true;
  /** Messages whose bytes were read for a filter (tests). */
  payloadReads = 0;

  constructor(private readonly store: CallStore) {
    this.sortColumn = COLUMN_BY_ID.get('index')!;
  }

  // --- groups in and out -------------------------------------------------------------------

  /** Takes in groups added or changed in the store since the last call; true if anything did. */
  sync(): boolean {
    const anchor = this.count && !this.linesDirty ? this.lines[this.cursor]! : -1;
    const fresh: number[] = [];
    const dirty = this.store.takeDirty().filter((s) => s < this.seen);
    if (dirty.length) {
      const set = new Set(dirty);
      this.order = this.order.filter((s) => !set.has(s));
      if (this.pending.length) this.pending = this.pending.slice(this.pendingAt).filter((s) => !set.has(s));
      this.pendingAt = 0;
      for (const s of set) if (!this.store.groups[s]!.removed) fresh.push(s);
      for (const s of set) if (this.store.groups[s]!.removed) this.selected.delete(s);
    }
    const groups = this.store.groups;
    for (let s = this.seen; s < groups.length; s++) if (!groups[s]!.removed) fresh.push(s);
    this.seen = groups.length;
    if (!fresh.length && !dirty.length) return false;
    this.admit(fresh);
    this.linesDirty = true;
    this.restore(anchor);
    return true;
  }

  private admit(slots: number[]): void {
    const ok: number[] = [];
    for (const s of slots) {
      const m = this.quickMatch(this.store.groups[s]!);
      if (m === YES) ok.push(s);
      else if (m === MAYBE) this.pending.push(s);
    }
    this.merge(ok);
  }

  /** Matches decided by the rows alone; MAYBE when the messages must be looked at. */
  private quickMatch(g: Group): number {
    const f = this.filter;
    if (f.methods && !g.rows.some((r) => f.methods!.has(r.method))) return NO;
    if (f.states && !g.rows.some((r) => f.states!.has(String(r.get('status'))))) return NO;
    const p = f.pattern;
    if (!p) return YES;
    for (const r of g.rows) for (const v of r.values) if (v !== null && p.test(String(v))) return YES;
    return MAYBE;
  }

  private payloadMatch(g: Group): boolean {
    const p = this.filter.pattern!;
    if (g.live) {
      for (const s of g.live) for (const o of s.observed) if (p.test(o.packet.msg.raw.toString('latin1'))) return true;
      return false;
    }
    for (let i = g.msgStart; i < g.msgStart + g.msgCount; i++) {
      this.payloadReads++;
      const raw = this.store.raw(i);
      if (raw && p.test(raw.toString('latin1'))) return true;
    }
    return false;
  }

  /** Runs the message part of a filter until `deadline` (performance.now()); true if the list changed. */
  step(deadline: number): boolean {
    if (this.pendingAt >= this.pending.length) return false;
    const ok: number[] = [];
    let n = 0;
    while (this.pendingAt < this.pending.length) {
      const s = this.pending[this.pendingAt++]!;
      const g = this.store.groups[s]!;
      if (!g.removed && this.payloadMatch(g)) ok.push(s);
      if ((++n & 31) === 0 && performance.now() > deadline) break;
    }
    if (this.pendingAt >= this.pending.length) {
      this.pending = [];
      this.pendingAt = 0;
    }
    if (ok.length) {
      this.merge(ok);
      this.linesDirty = true;
    }
    return ok.length > 0;
  }

  /** Share of the message filter still to do, 0..1 (0 when none is running). */
  get filtering(): number {
    return this.pending.length ? 1 - this.pendingAt / this.pending.length : 0;
  }

  // --- order -------------------------------------------------------------------------------

  private key(s: number): Value {
    return this.sortColumn.value(this.store.groups[s]!.head);
  }

  private cmp(a: number, b: number, ka: Value, kb: Value): number {
    const c = compare(ka, kb);
    return (this.desc ? -c : c) || a - b;
  }

  private sorted(slots: number[]): number[] {
    if (this.sortColumn.id === 'index') return this.desc ? slots.sort((a, b) => b - a) : slots.sort((a, b) => a - b);
    const keys = slots.map((s) => this.key(s));
    const idx = slots.map((_, i) => i);
    idx.sort((i, j) => this.cmp(slots[i]!, slots[j]!, keys[i]!, keys[j]!));
    return idx.map((i) => slots[i]!);
  }

  /** Merges sorted new slots into the order: O(n + k log k), O(k) when they all go at the end. */
  private merge(slots: number[]): void {
    if (!slots.length) return;
    const add = this.sorted(slots);
    const o = this.order;
    const last = o[o.length - 1];
    if (last === undefined || this.cmp(last, add[0]!, this.key(last), this.key(add[0]!)) < 0) {
      for (const s of add) o.push(s);
      return;
    }
    const out: number[] = new Array<number>(o.length + add.length);
    let i = 0;
    let j = 0;
    let k = 0;
    let ki = i < o.length ? this.key(o[i]!) : null;
    const kj = add.map((s) => this.key(s));
    while (i < o.length && j < add.length) {
      if (this.cmp(o[i]!, add[j]!, ki, kj[j]!) <= 0) {
        out[k++] = o[i++]!;
        ki = i < o.length ? this.key(o[i]!) : null;
      } else out[k++] = add[j++]!;
    }
    while (i < o.length) out[k++] = o[i++]!;
    while (j < add.length) out[k++] = add[j++]!;
    this.order = out;
  }

  setSort(column: Column, desc: boolean): void {
    const anchor = this.anchor();
    this.sortColumn = column;
    this.desc = desc;
    this.order = this.sorted(this.order.slice());
    this.linesDirty = true;
    this.restore(anchor);
  }

  setFilter(f: FilterSpec): void {
    const anchor = this.anchor();
    this.filter = f;
    this.order = [];
    this.pending = [];
    this.pendingAt = 0;
    const all: number[] = [];
    for (let s = 0; s < this.seen; s++) if (!this.store.groups[s]!.removed) all.push(s);
    this.admit(all);
    this.linesDirty = true;
    this.restore(anchor);
  }

  // --- lines -------------------------------------------------------------------------------

  private layout(): void {
    if (!this.linesDirty) return;
    const groups = this.store.groups;
    let n = 0;
    for (const s of this.order) n += this.collapsed.has(s) ? 1 : groups[s]!.rows.length;
    if (this.lines.length < n) this.lines = new Float64Array(Math.max(n, this.lines.length * 2));
    let k = 0;
    for (const s of this.order) {
      const legs = this.collapsed.has(s) ? 1 : groups[s]!.rows.length;
      for (let leg = 0; leg < legs; leg++) this.lines[k++] = s * LEG_BITS + leg;
    }
    this.count = n;
    this.linesDirty = false;
    if (this.cursor >= n) this.cursor = Math.max(0, n - 1);
  }

  get lineCount(): number {
    this.layout();
    return this.count;
  }

  /** The row on line `i`. */
  rowAt(i: number): Row | undefined {
    this.layout();
    if (i < 0 || i >= this.count) return undefined;
    const v = this.lines[i]!;
    const slot = Math.floor(v / LEG_BITS);
    return this.store.groups[slot]!.rows[v - slot * LEG_BITS];
  }

  get current(): Row | undefined {
    return this.rowAt(this.cursor);
  }

  /** The cursor's line as a stable identity, found again after the lines change. */
  private anchor(): number {
    this.layout();
    return this.count ? this.lines[this.cursor]! : -1;
  }

  private restore(anchor: number): void {
    this.layout();
    if (anchor < 0) return;
    const at = this.lines.subarray(0, this.count).indexOf(anchor);
    if (at >= 0) this.cursor = at;
    else {
      const group = this.lines.subarray(0, this.count).indexOf(Math.floor(anchor / LEG_BITS) * LEG_BITS);
      this.cursor = group >= 0 ? group : Math.min(this.cursor, Math.max(0, this.count - 1));
    }
  }

  /** Lays the lines out again if they changed (the cursor stays on its row: see sync). */
  relayout(): void {
    this.layout();
  }

  // --- cursor, scrolling, tree, selection --------------------------------------------------

  move(delta: number): void {
    this.layout();
    this.cursor = Math.max(0, Math.min(this.count - 1, this.cursor + delta));
    if (this.cursor < 0) this.cursor = 0;
  }

  moveTo(line: number): void {
    this.layout();
    this.cursor = Math.max(0, Math.min(this.count - 1, line));
  }

  /** Scrolls so the cursor is on screen, `height` lines tall. */
  scrollInto(height: number): void {
    this.layout();
    if (this.cursor < this.top) this.top = this.cursor;
    if (this.cursor >= this.top + height) this.top = this.cursor - height + 1;
    this.top = Math.max(0, Math.min(this.top, Math.max(0, this.count - height)));
  }

  setExpanded(slot: number, open: boolean): void {
    if (open) this.collapsed.delete(slot);
    else this.collapsed.add(slot);
    const anchor = slot * LEG_BITS;
    this.linesDirty = true;
    this.restore(anchor);
  }

  /** Collapses every group with legs, or expands them all. */
  setAllExpanded(open: boolean): void {
    const anchor = this.anchor();
    const slot = Math.floor(anchor / LEG_BITS);
    if (open) this.collapsed.clear();
    else for (const s of this.order) if (this.store.groups[s]!.rows.length > 1) this.collapsed.add(s);
    this.linesDirty = true;
    this.restore(anchor >= 0 ? slot * LEG_BITS : -1);
  }

  toggleSelected(slot: number): void {
    if (!this.selected.delete(slot)) this.selected.add(slot);
  }

  selectAll(): void {
    for (const s of this.order) this.selected.add(s);
  }

  /** The next line after (or before) the cursor whose row matches, wrapping; -1 if none. */
  find(p: RegExp, backwards = false): number {
    this.layout();
    const n = this.count;
    for (let k = 1; k <= n; k++) {
      const i = (((this.cursor + (backwards ? -k : k)) % n) + n) % n;
      const r = this.rowAt(i)!;
      if (r.values.some((v) => v !== null && p.test(String(v))) || p.test(r.method)) return i;
    }
    return -1;
  }

  /** Groups a save or a ladder works on: the selected ones, else those passing the filter. */
  chosen(selectedOnly: boolean): Group[] {
    const slots = selectedOnly ? this.order.filter((s) => this.selected.has(s)) : this.order;
    return slots.map((s) => this.store.groups[s]!);
  }
}
