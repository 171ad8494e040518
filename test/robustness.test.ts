/**
 * Robustness: thousands of damaged captures and SIP messages, generated from a seeded RNG.
 *
 *   - corpus files with bytes flipped anywhere / only inside SIP payloads, cut short, with
 *     garbage between records, fed in random chunk sizes, gzip-compressed and cut;
 *   - captures built with src/net/encode.ts + src/capture/pcap-writer.ts holding garbage SIP
 *     over UDP and TCP (random header lines, huge Content-Length, missing CRLF, NUL bytes,
 *     100 000 headers, a 1 MB header line), TCP chaos, IP fragments, tunnels, HEP, WebSocket;
 *   - SipMessage.parse on generated, defective and mutated messages.
 *
 * What must hold: nothing but a SipscopeError (for an unreadable input) escapes readCapture /
 * SipExtractor / the CLI formatters; with damage at a known offset, every message that was
 * complete before the damaged record is decoded identically (frame, start line, Call-ID, bytes,
 * problems); the parser never throws and flags what is malformed; every variant finishes within
 * its time budget.
 *
 * Each kind of variant runs in a worker thread watched from here, so that even a synchronous
 * infinite loop is caught (the worker is terminated and the variant named). Failures print the
 * seed and the mutation; SIPSCOPE_FUZZ_SEED=<n> changes the seed, SIPSCOPE_FUZZ_SCALE=<x>
 * multiplies the variant counts, SIPSCOPE_FUZZ_ONLY=<kind>:<index> reruns one variant.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { SipscopeError } from '../src/capture/errors.js';
import { pcapGlobalHeader, pcapRecordHeader } from '../src/capture/pcap-writer.js';
import { messageLine, messageRecord } from '../src/cli/messages.js';
import { statsReport } from '../src/cli/stats.js';
import {
  ETHERTYPE_IPV4, ETHERTYPE_IPV6, ethernetHeader, ipv4Header, ipv6Header, tcpFrame, udpFrame, udpSegment,
} from '../src/net/encode.js';
import { LineKind, SipMessage, startLineKind, type Malformation, type SipPacket } from '../src/sip/index.js';
import { corpus, runSipscope, type SipscopeRun } from './helpers/corpus.js';

// ---------------------------------------------------------------------------------------------
// Seeded randomness

function parseSeed(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const n = s.startsWith('0x') ? parseInt(s, 16) : Number(s);
  return Number.isFinite(n) ? n >>> 0 : undefined;
}

const SEED = parseSeed(process.env['SIPSCOPE_FUZZ_SEED']) ?? 0x5eed2024;
const SCALE = Number(process.env['SIPSCOPE_FUZZ_SCALE'] ?? '1') || 1;
const ONLY = process.env['SIPSCOPE_FUZZ_ONLY'];

const hex = (n: number, w = 8): string => '0x' + (n >>> 0).toString(16).padStart(w, '0');

/** mulberry32: small, fast, good enough for fuzzing, and the same everywhere. */
class Rng {
  private a: number;
  constructor(readonly seed: number) {
    this.a = seed >>> 0;
  }
  u32(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  /** 0 ≤ n < max */
  int(max: number): number {
    return Math.floor(this.float() * max);
  }
  /** lo ≤ n ≤ hi */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  bool(p = 0.5): boolean {
    return this.float() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}

/** FNV-1a over the parts: one independent seed per (run seed, kind, variant). */
function mix(...parts: Array<number | string>): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('/')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Worker protocol

type Kind =
  | 'flip-any' | 'flip-sip' | 'truncate' | 'garbage' | 'chunking' | 'synthetic' | 'parser'
  | 'bug-parser-no-colon' | 'bug-ws-fragments' | 'bug-resync-quadratic' | 'bug-gzip-damage' | 'bug-gzip-chunks' | 'bug-tcp-gap-resync';

interface Job {
  kind: Kind;
  seed: number;
  count: number;
  only: number | undefined;
  /** A variant slower than this fails (ms). */
  budgetMs: number;
  /** A variant whose promise has not settled after this long is an async hang (ms). */
  settleMs: number;
}

interface JobResult {
  variants: number;
  failCount: number;
  failures: string[];
  stats: Record<string, number>;
  maxMs: number;
  maxDesc: string;
}

type ToMain = { t: 'start'; desc: string } | { t: 'done'; result: JobResult };

class Timeout extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Timeout(`did not settle within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Runs variants in the worker: times them, catches what escapes, posts progress. */
class Runner {
  variants = 0;
  failCount = 0;
  failures: string[] = [];
  stats: Record<string, number> = {};
  maxMs = 0;
  maxDesc = '';
  constructor(readonly job: Job) {}

  rng(i: number): Rng {
    return new Rng(mix(this.job.seed, this.job.kind, i));
  }
  wanted(i: number): boolean {
    return this.job.only === undefined || this.job.only === i;
  }
  stat(k: string, n = 1): void {
    this.stats[k] = (this.stats[k] ?? 0) + n;
  }

  async variant(i: number, desc: string, fn: () => Promise<string | undefined> | string | undefined, budgetMs = this.job.budgetMs): Promise<void> {
    const full = `[seed ${hex(this.job.seed)} variant ${this.job.kind}:${i}] ${desc}`;
    parentPort!.postMessage({ t: 'start', desc: full } satisfies ToMain);
    this.variants++;
    const t0 = performance.now();
    let problem: string | undefined;
    try {
      problem = await withTimeout(Promise.resolve().then(fn), this.job.settleMs);
    } catch (e) {
      problem = e instanceof Timeout ? `${e.message} (async hang)` : `exception escaped: ${e instanceof Error ? e.stack : String(e)}`;
    }
    const ms = performance.now() - t0;
    if (ms > this.maxMs) {
      this.maxMs = ms;
      this.maxDesc = full;
    }
    if (!problem && ms > budgetMs) problem = `took ${ms.toFixed(0)} ms (budget ${budgetMs} ms)`;
    if (problem) {
      this.failCount++;
      if (this.failures.length < 12) this.failures.push(`${full}\n      → ${problem}`);
    }
  }

  result(): JobResult {
    return { variants: this.variants, failCount: this.failCount, failures: this.failures, stats: this.stats, maxMs: this.maxMs, maxDesc: this.maxDesc };
  }
}

// ---------------------------------------------------------------------------------------------
// Captures: layout, baselines, the checked run

interface Layout {
  format: 'pcap' | 'pcapng';
  /** Offsets where a record/block starts or the file ends. */
  boundaries: number[];
  blockEnd: Map<number, number>;
}

function layoutOf(buf: Buffer): Layout {
  const boundaries: number[] = [];
  const blockEnd = new Map<number, number>();
  if (buf.readUInt32LE(0) === 0x0a0d0d0a) {
    let le = true;
    let off = 0;
    while (off + 12 <= buf.length) {
      if (buf.readUInt32LE(off) === 0x0a0d0d0a) le = buf.readUInt32LE(off + 8) === 0x1a2b3c4d;
      const len = le ? buf.readUInt32LE(off + 4) : buf.readUInt32BE(off + 4);
      if (len < 12 || off + len > buf.length) break;
      boundaries.push(off);
      blockEnd.set(off, off + len);
      off += len;
    }
    boundaries.push(off);
    return { format: 'pcapng', boundaries, blockEnd };
  }
  const m = buf.readUInt32LE(0);
  const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
  let off = 24;
  boundaries.push(0);
  while (off + 16 <= buf.length) {
    const caplen = le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8);
    if (off + 16 + caplen > buf.length) break;
    boundaries.push(off);
    blockEnd.set(off, off + 16 + caplen);
    off += 16 + caplen;
  }
  boundaries.push(off);
  return { format: 'pcap', boundaries, blockEnd };
}

interface Base {
  id: string;
  buf: Buffer;
  run: SipscopeRun;
  layout: Layout;
  /** Per frame (index - 1): byte offset where its record ends. */
  recEnd: number[];
  /** Byte ranges of the capture holding SIP message bytes (start line onwards, within one record). */
  sipRegions: Array<[number, number]>;
}

function touchPacket(p: SipPacket): void {
  JSON.stringify(messageRecord(p));
  messageLine(p);
}

/** The pipeline plus the CLI's formatters over every packet and the stats report. */
async function checkedRun(input: Buffer | Buffer[]): Promise<SipscopeRun> {
  const run = await runSipscope(input, touchPacket);
  JSON.stringify(statsReport('fuzz', run.summary, run.counters));
  return run;
}

async function loadBases(): Promise<Base[]> {
  const out: Base[] = [];
  for (const f of corpus().files.filter((x) => x.origin === 'local')) {
    const buf = readFileSync(f.abs);
    const run = await runSipscope(buf);
    const layout = layoutOf(buf);
    const recEnd = run.frames.map((fr, i) => layout.blockEnd.get(fr.offset) ?? run.frames[i + 1]?.offset ?? buf.length);
    const sipRegions: Array<[number, number]> = [];
    for (const m of run.messages) {
      const fr = run.frames[m.frame - 1];
      if (!fr) continue;
      const end = recEnd[m.frame - 1]!;
      const pos = buf.subarray(fr.offset, end).indexOf(m.raw.subarray(0, Math.min(m.raw.length, 48)));
      if (pos >= 0) sipRegions.push([fr.offset + pos, Math.min(fr.offset + pos + m.raw.length, end)]);
    }
    out.push({ id: f.id, buf, run, layout, recEnd, sipRegions });
  }
  return out;
}

/** Frames whose record lies wholly before `damage`. */
function safeFrames(base: Base, damage: number): number {
  let n = 0;
  while (n < base.recEnd.length && base.recEnd[n]! <= damage) n++;
  return n;
}

function msgKey(m: SipscopeRun['messages'][number]): string {
  return `frame ${m.frame} ${m.transport} ${m.src}>${m.dst} "${m.startLine}" Call-ID ${m.callId ?? '-'} ${m.bytes} bytes [${m.problems.join(',')}]`;
}

/**
 * The damage-at-a-known-offset rule: every message the undamaged run had emitted by the time
 * it finished reading the last record lying wholly before `damage` comes out identically, and
 * no other message comes out of those records. ("Emitted by then" rather than "its frame is
 * before the damage": a TCP message can be completed by a later segment that fills a hole, and
 * one held until the end of the capture is emitted at the end; neither is in the corpus.)
 */
function prefixProblem(base: Base, v: SipscopeRun, damage: number): string | undefined {
  const safe = safeFrames(base, damage);
  for (let i = 0; i < safe; i++) {
    const a = base.run.frames[i]!;
    const b = v.frames[i];
    if (!b || a.offset !== b.offset || a.length !== b.length) {
      return `frame ${i + 1} lies before the damage at byte ${damage} but was read differently: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
    }
  }
  const want = base.run.messages.filter((m) => m.emittedAt <= safe);
  const got = v.messages.filter((m) => m.emittedAt <= safe);
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    const w = want[i];
    const g = got[i];
    if (!w || !g || msgKey(w) !== msgKey(g) || !w.raw.equals(g.raw)) {
      return `damage at byte ${damage} (frames 1..${safe} intact): message ${i + 1} of ${want.length} before it differs:\n        undamaged: ${w ? msgKey(w) : '(none)'}\n        damaged:   ${g ? msgKey(g) : '(none)'}`;
    }
  }
  return undefined;
}

/** Messages whose frame lies before the damage but that came out later (TCP holes, end of input): not compared. */
function lateMessages(base: Base, damage: number): number {
  const safe = safeFrames(base, damage);
  return base.run.messages.filter((m) => m.frame <= safe && m.emittedAt > safe).length;
}

const SPECIAL_BYTES = [0x00, 0x0a, 0x0d, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x3c, 0x3e, 0x22, 0xff, 0x30, 0x39, 0x80];

function mutateByte(rng: Rng, old: number): number {
  const op = rng.int(3);
  let b = op === 0 ? old ^ (1 << rng.int(8)) : op === 1 ? rng.int(256) : rng.pick(SPECIAL_BYTES);
  if (b === old) b = old ^ 0x80;
  return b;
}

/** Splits a buffer into chunks of random sizes (at most ~3000 chunks). */
function chunkify(rng: Rng, buf: Buffer, always = false): Buffer[] {
  if (!always && rng.bool(0.5)) return [buf];
  const minSize = Math.max(1, Math.ceil(buf.length / 3000));
  const out: Buffer[] = [];
  for (let off = 0; off < buf.length; ) {
    const r = rng.float();
    const size = Math.max(minSize, r < 0.2 ? rng.range(1, 16) : r < 0.6 ? rng.range(1, 1024) : rng.range(1, 1 << 17));
    out.push(buf.subarray(off, off + size));
    off += size;
  }
  return out.length ? out : [buf];
}

function describeEdits(edits: string[]): string {
  return edits.length > 10 ? `${edits.slice(0, 10).join(' ')} … (${edits.length})` : edits.join(' ');
}

// ---------------------------------------------------------------------------------------------
// Jobs over the corpus

async function flipAny(r: Runner): Promise<void> {
  const bases = await loadBases();
  for (let i = 0; i < r.job.count; i++) {
    if (!r.wanted(i)) continue;
    const rng = r.rng(i);
    const base = rng.pick(bases);
    const buf = Buffer.from(base.buf);
    const edits: string[] = [];
    let damage = Infinity;
    for (let k = rng.range(1, 8); k > 0; k--) {
      // Some flips land in the first 64 bytes (file header, first record or block headers).
      const off = rng.bool(0.15) ? rng.int(Math.min(64, buf.length)) : rng.int(buf.length);
      const old = buf[off]!;
      buf[off] = mutateByte(rng, old);
      edits.push(`@${off}:${hex(old, 2)}>${hex(buf[off]!, 2)}`);
      damage = Math.min(damage, off);
    }
    const chunks = chunkify(rng, buf);
    await r.variant(i, `${base.id} flipped ${describeEdits(edits)} in ${chunks.length} chunk(s)`, async () => {
      let v: SipscopeRun;
      try {
        v = await checkedRun(chunks);
      } catch (e) {
        if (e instanceof SipscopeError && damage < 4) {
          r.stat('unreadable (magic damaged)');
          return undefined;
        }
        throw e;
      }
      r.stat('messages kept before the damage', v.messages.filter((m) => m.emittedAt <= safeFrames(base, damage)).length);
      r.stat('messages framed before the damage but emitted after it (not compared)', lateMessages(base, damage));
      return prefixProblem(base, v, damage);
    });
  }
}

async function flipSip(r: Runner): Promise<void> {
  const bases = (await loadBases()).filter((b) => b.sipRegions.length > 0);
  for (let i = 0; i < r.job.count; i++) {
    if (!r.wanted(i)) continue;
    const rng = r.rng(i);
    const base = rng.pick(bases);
    const buf = Buffer.from(base.buf);
    const edits: string[] = [];
    let damage = Infinity;
    for (let k = rng.range(1, 3); k > 0; k--) {
      const [s, e] = rng.pick(base.sipRegions);
      for (let j = rng.range(1, 3); j > 0; j--) {
        const off = s + rng.int(e - s);
        const old = buf[off]!;
        buf[off] = mutateByte(rng, old);
        edits.push(`@${off}:${hex(old, 2)}>${hex(buf[off]!, 2)}`);
        damage = Math.min(damage, off);
      }
    }
    const chunks = chunkify(rng, buf);
    await r.variant(i, `${base.id} SIP bytes flipped ${describeEdits(edits)} in ${chunks.length} chunk(s)`, async () => {
      const v = await checkedRun(chunks);
      if (v.frames.length !== base.run.frames.length) return `records untouched but ${v.frames.length} frames read instead of ${base.run.frames.length}`;
      r.stat('messages', v.messages.length);
      r.stat('malformed messages', v.messages.filter((m) => m.problems.length > 0).length);
      return prefixProblem(base, v, damage);
    });
  }
}

async function truncate(r: Runner): Promise<void> {
  const bases = await loadBases();
  const gz = new Map<string, Buffer>();
  for (let i = 0; i < r.job.count; i++) {
    if (!r.wanted(i)) continue;
    const rng = r.rng(i);
    const base = rng.pick(bases);
    if (rng.bool(0.1)) {
      // gzip-compressed capture cut short: what was decompressed is read, the rest is a warning.
      let z = gz.get(base.id);
      if (!z) gz.set(base.id, (z = gzipSync(base.buf)));
      const cut = rng.int(z.length);
      // One chunk: fed in several back-to-back chunks a cut gzip loses output (bug-gzip-chunks).
      const chunks = [z.subarray(0, cut)];
      await r.variant(i, `${base.id}.gz cut at byte ${cut} of ${z.length}`, async () => {
        let v: SipscopeRun;
        try {
          v = await checkedRun(chunks);
        } catch (e) {
          if (e instanceof SipscopeError && (e.code === 'E_EMPTY' || e.code === 'E_NOT_CAPTURE') && cut < 1024) {
            r.stat('gzip cut too early to hold a capture header');
            return undefined;
          }
          throw e;
        }
        r.stat('gzip cuts read');
        if (cut < z.length && !v.warnings.some((w) => w.code === 'truncated-record')) return 'no warning for a gzip stream cut short';
        return prefixProblem(base, v, v.summary.bytes);
      });
      continue;
    }
    const b = base.layout.boundaries;
    const cut = rng.bool(0.5) ? rng.int(base.buf.length) : Math.max(0, Math.min(base.buf.length - 1, rng.pick(b) + rng.range(-20, 20)));
    const chunks = chunkify(rng, base.buf.subarray(0, cut));
    await r.variant(i, `${base.id} cut at byte ${cut} of ${base.buf.length} (${chunks.length} chunk(s))`, async () => {
      const minimum = base.layout.format === 'pcap' ? 24 : 4;
      let v: SipscopeRun;
      try {
        v = await checkedRun(cut === 0 ? [Buffer.alloc(0)] : chunks);
      } catch (e) {
        if (e instanceof SipscopeError && cut < minimum) {
          const want = cut === 0 ? 'E_EMPTY' : 'E_NOT_CAPTURE';
          return e.code === want ? undefined : `expected ${want}, got ${e.code}: ${e.message}`;
        }
        throw e;
      }
      if (cut < minimum) return `a ${cut}-byte ${base.layout.format} prefix was read as a capture`;
      const onBoundary = b.includes(cut);
      const warned = v.warnings.some((w) => w.code === 'truncated-record');
      if (onBoundary && warned) return `cut on a record boundary yet warned: ${v.warnings.map((w) => w.message).join('; ')}`;
      if (!onBoundary && !warned) return 'cut inside a record but no truncated-record warning';
      r.stat('messages kept', v.messages.length);
      r.stat('messages framed before the cut but emitted after it (not compared)', lateMessages(base, cut));
      return prefixProblem(base, v, cut);
    });
  }
}

async function garbage(r: Runner): Promise<void> {
  const bases = await loadBases();
  const KINDS = ['random', 'zeros', 'ones', 'record-header', 'copy', 'sip-text'] as const;
  for (let i = 0; i < r.job.count; i++) {
    if (!r.wanted(i)) continue;
    const rng = r.rng(i);
    const base = rng.pick(bases);
    const candidates = base.layout.boundaries.filter((o) => o >= (base.layout.format === 'pcap' ? 24 : 1));
    const at = rng.pick(candidates);
    const kind = rng.pick(KINDS);
    let g: Buffer;
    switch (kind) {
      case 'random': g = rng.bytes(rng.range(1, 300)); break;
      case 'zeros': g = Buffer.alloc(rng.range(1, 64)); break;
      case 'ones': g = Buffer.alloc(rng.range(1, 64), 0xff); break;
      case 'record-header': {
        // Looks like a record or block header with an absurd or misleading length.
        g = Buffer.alloc(base.layout.format === 'pcap' ? 16 : 12);
        const len = rng.pick([0, 1, 11, 13, 0x7fffffff, 0xffffffff, 65536, 262145 * 4, rng.u32()]);
        if (base.layout.format === 'pcap') {
          g.writeUInt32LE(len >>> 0, 8);
          g.writeUInt32LE(rng.bool() ? len >>> 0 : rng.u32(), 12);
        } else {
          g.writeUInt32LE(rng.pick([6, 3, 1, 0x0a0d0d0a, rng.u32()]), 0);
          g.writeUInt32LE(len >>> 0, 4);
        }
        break;
      }
      case 'copy': {
        const s = rng.int(base.buf.length);
        g = Buffer.from(base.buf.subarray(s, s + rng.range(1, 400)));
        break;
      }
      default:
        g = Buffer.from(`INVITE sip:x@y SIP/2.0\r\nCall-ID: garbage-${i}\r\nContent-Length: 0\r\n\r\n`);
    }
    const buf = Buffer.concat([base.buf.subarray(0, at), g, base.buf.subarray(at)]);
    const chunks = chunkify(rng, buf);
    await r.variant(i, `${base.id} ${g.length} bytes of ${kind} garbage inserted at byte ${at} (${chunks.length} chunk(s))`, async () => {
      const v = await checkedRun(chunks);
      // How much of what follows the garbage is found again (reported, not asserted).
      const safe = safeFrames(base, at);
      const after = base.run.messages.filter((m) => m.emittedAt > safe);
      const found = new Set(v.messages.map((m) => `${m.startLine}|${m.callId}|${m.raw.length}`));
      r.stat(`${base.layout.format} messages after garbage`, after.length);
      r.stat(`${base.layout.format} messages after garbage found again`, after.filter((m) => found.has(`${m.startLine}|${m.callId}|${m.raw.length}`)).length);
      return prefixProblem(base, v, at);
    });
  }
}

async function chunking(r: Runner): Promise<void> {
  const bases = await loadBases();
  for (let i = 0; i < r.job.count; i++) {
    if (!r.wanted(i)) continue;
    const rng = r.rng(i);
    const base = rng.pick(bases);
    const zipped = rng.bool(0.15);
    const input = zipped ? gzipSync(base.buf) : base.buf;
    const chunks = chunkify(rng, input, true);
    await r.variant(i, `${base.id}${zipped ? '.gz' : ''} in ${chunks.length} chunks of random sizes`, async () => {
      const v = await checkedRun(chunks);
      const a = base.run;
      if (v.frames.length !== a.frames.length) return `${v.frames.length} frames instead of ${a.frames.length}`;
      if (v.messages.length !== a.messages.length) return `${v.messages.length} messages instead of ${a.messages.length}`;
      for (let k = 0; k < a.messages.length; k++) {
        const x = a.messages[k]!;
        const y = v.messages[k]!;
        if (msgKey(x) !== msgKey(y) || x.emittedAt !== y.emittedAt || !x.raw.equals(y.raw)) return `message ${k + 1} differs: ${msgKey(x)} vs ${msgKey(y)}`;
      }
      const w = (s: SipscopeRun): string => JSON.stringify(s.warnings);
      if (w(v) !== w(a)) return `warnings differ: ${w(a)} vs ${w(v)}`;
      const d = (s: SipscopeRun): string => JSON.stringify([...s.counters.drops].sort());
      if (d(v) !== d(a)) return `drop counters differ: ${d(a)} vs ${d(v)}`;
      return undefined;
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Synthetic captures built with encode.ts and pcap-writer.ts

const A = '10.0.0.1';
const B = '10.0.0.2';

function capture(frames: Buffer[], linktype = 1): Buffer {
  const parts = [pcapGlobalHeader(linktype)];
  frames.forEach((f, i) => parts.push(pcapRecordHeader(1_700_000_000 + (i >> 10), (i & 1023) * 100, f.length, f.length), f));
  return Buffer.concat(parts);
}

function sipText(callId: string, opts: { method?: string; headers?: string[]; body?: string; eol?: string } = {}): string {
  const eol = opts.eol ?? '\r\n';
  const method = opts.method ?? 'OPTIONS';
  const body = opts.body ?? '';
  return [
    `${method} sip:bob@example.com SIP/2.0`,
    `Via: SIP/2.0/TCP 10.0.0.1:40000;branch=z9hG4bK-${callId}`,
    'From: <sip:alice@example.com>;tag=1',
    'To: <sip:bob@example.com>',
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    ...(opts.headers ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join(eol);
}

/** TCP frames for one direction: a SYN, then the payload cut into segments. */
function tcpFrames(payload: Buffer, opts: { seg?: number; seq?: number; sport?: number; dport?: number } = {}): Buffer[] {
  const seg = opts.seg ?? 1460;
  const sport = opts.sport ?? 40000;
  const dport = opts.dport ?? 5060;
  let seq = opts.seq ?? 1000;
  const frames = [tcpFrame(A, B, sport, dport, { seq: seq - 1, flags: 0x02 }, Buffer.alloc(0))];
  for (let off = 0; off < payload.length; off += seg) {
    const p = payload.subarray(off, off + seg);
    frames.push(tcpFrame(A, B, sport, dport, { seq, flags: 0x18 }, p));
    seq += p.length;
  }
  return frames;
}

function randomToken(rng: Rng, min: number, max: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._';
  let s = '';
  for (let n = rng.range(min, max); n > 0; n--) s += chars[rng.int(chars.length)];
  return s;
}

/** Printable ASCII value without CR/LF; sometimes with odd bytes (NUL, controls, quotes). */
function randomValue(rng: Rng, max = 80): string {
  let s = '';
  for (let n = rng.range(1, max); n > 0; n--) {
    const r = rng.float();
    s += r < 0.85 ? String.fromCharCode(rng.range(0x21, 0x7e)) : r < 0.93 ? ' ' : rng.pick(['\0', '\x01', '\x7f', '"', '\\', ':', ';', ',']);
  }
  return s;
}

interface Expect {
  messages?: number;
  /** Call-IDs that must be among the messages. */
  callIds?: string[];
  problems?: Malformation[];
  drops?: string[];
}

function expectProblem(v: SipscopeRun, e: Expect): string | undefined {
  if (e.messages !== undefined && v.messages.length !== e.messages) {
    return `expected ${e.messages} SIP message(s), got ${v.messages.length}: ${v.messages.map(msgKey).join(' / ').slice(0, 600)}`;
  }
  for (const id of e.callIds ?? []) if (!v.messages.some((m) => m.callId === id)) return `no message with Call-ID ${id} (got ${v.messages.map((m) => m.callId).join(', ')})`;
  for (const p of e.problems ?? []) if (!v.messages.some((m) => m.problems.includes(p))) return `no message flagged ${p} (got ${v.messages.map((m) => `[${m.problems.join(',')}]`).join(' ')})`;
  for (const d of e.drops ?? []) if (!v.counters.drops.get(d as never)) return `nothing counted as ${d} (drops: ${JSON.stringify([...v.counters.drops])})`;
  return undefined;
}

interface Case {
  name: string;
  count: number;
  budgetMs?: number;
  build: (rng: Rng) => { desc: string; input: Buffer; expect?: Expect; check?: (v: SipscopeRun) => string | undefined };
  /** The `check` fails today because of a known sipscope bug: it runs in that bug's todo test instead. */
  checkIsKnownBug?: Kind;
}

const FOLLOW_ID = 'valid-after-garbage';
const follow = (): string => sipText(FOLLOW_ID);

const SYNTHETIC: Case[] = [
  {
    name: 'udp-random-header-lines',
    count: 60,
    build: (rng) => {
      const extra: string[] = [];
      let bad = false;
      for (let n = rng.range(1, 60); n > 0; n--) {
        const r = rng.float();
        if (r < 0.6) {
          extra.push(`X-${randomToken(rng, 2, 20)}${rng.pick(['', ' ', '\t'])}:${rng.pick(['', ' ', '  '])}${randomValue(rng)}`);
          if (rng.bool(0.2)) extra.push(` ${randomValue(rng)}`); // folded continuation
        } else if (r < 0.8) {
          extra.push(`X${randomToken(rng, 1, 30).replace(/^[\s]/, 'y')}`); // no colon
          bad = true;
        } else {
          extra.push(`X-${randomToken(rng, 2, 10)}: ${'v'.repeat(rng.range(100, 3000))}`);
        }
      }
      const text = sipText(`udp-${rng.u32()}`, { headers: rng.shuffle(extra) });
      return {
        desc: `${extra.length} random header lines${bad ? ' (some without a colon)' : ''}`,
        input: capture([udpFrame(A, B, 5060, 5060, Buffer.from(text, 'latin1'))]),
        expect: { messages: 1, problems: bad ? ['bad-header-line'] : [] },
      };
    },
  },
  {
    name: 'tcp-random-header-lines-then-valid',
    count: 30,
    build: (rng) => {
      const extra: string[] = [];
      for (let n = rng.range(1, 40); n > 0; n--) extra.push(rng.bool(0.7) ? `X-${randomToken(rng, 2, 12)}: ${randomValue(rng)}` : `Junk${randomToken(rng, 1, 20)}`);
      const payload = Buffer.from(sipText('first', { headers: extra }) + follow(), 'latin1');
      return { desc: `${extra.length} random header lines, then a valid message`, input: capture(tcpFrames(payload, { seg: rng.range(1, 1460) })), expect: { messages: 2, callIds: [FOLLOW_ID] } };
    },
  },
  {
    name: 'huge-content-length',
    count: 12,
    build: (rng) => {
      const cl = rng.pick(['99999999999999999999999', '9'.repeat(400), '4294967296', '2000000', '1048577']);
      const text = sipText('huge-cl').replace(/Content-Length: 0/, `Content-Length: ${cl}`);
      if (rng.bool()) {
        return { desc: `UDP, Content-Length ${cl.slice(0, 30)}`, input: capture([udpFrame(A, B, 5060, 5060, Buffer.from(text))]), expect: { messages: 1, problems: ['body-truncated'] } };
      }
      const payload = Buffer.from(text + follow());
      return { desc: `TCP, Content-Length ${cl.slice(0, 30)}, then a valid message`, input: capture(tcpFrames(payload)), expect: { callIds: [FOLLOW_ID], drops: ['tcp-buffer-overflow'] } };
    },
  },
  {
    name: 'missing-crlf',
    count: 12,
    build: (rng) => {
      const v = rng.int(4);
      if (v === 0) return { desc: 'UDP, LF-only line ends', input: capture([udpFrame(A, B, 5060, 5060, Buffer.from(sipText('lf-only', { eol: '\n' })))]), expect: { messages: 1, problems: [] } };
      if (v === 1) {
        const text = sipText('no-end').replace(/\r\n\r\n$/, '\r\n');
        return { desc: 'UDP, no empty line after the headers', input: capture([udpFrame(A, B, 5060, 5060, Buffer.from(text))]), expect: { messages: 1, problems: ['no-header-end'] } };
      }
      if (v === 2) return { desc: 'UDP, CR-only line ends (one long line: not SIP)', input: capture([udpFrame(A, B, 5060, 5060, Buffer.from(sipText('cr-only', { eol: '\r' })))]), expect: { messages: 0 } };
      const payload = Buffer.from(sipText('lf-tcp', { eol: '\n' }) + follow());
      return { desc: 'TCP, LF-only message then a valid one', input: capture(tcpFrames(payload, { seg: rng.range(1, 200) })), expect: { messages: 2, callIds: ['lf-tcp', FOLLOW_ID] } };
    },
  },
  {
    name: 'nul-bytes',
    count: 60,
    build: (rng) => {
      const base = Buffer.from(sipText(`nul-${rng.u32()}`, { body: 'v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n' }));
      const firstLine = base.indexOf('\r\n') + 2;
      const parts: Buffer[] = [];
      let last = 0;
      const at = Array.from({ length: rng.range(1, 20) }, () => rng.range(firstLine, base.length)).sort((x, y) => x - y);
      for (const p of at) {
        parts.push(base.subarray(last, p), Buffer.alloc(rng.range(1, 4)));
        last = p;
      }
      parts.push(base.subarray(last));
      const msg = Buffer.concat(parts);
      const tcp = rng.bool(0.3);
      return {
        desc: `${at.length} NUL run(s) at ${at.join(',')} over ${tcp ? 'TCP' : 'UDP'}`,
        input: capture(tcp ? tcpFrames(Buffer.concat([msg, Buffer.from(follow())])) : [udpFrame(A, B, 5060, 5060, msg)]),
        expect: tcp ? {} : { messages: 1 },
      };
    },
  },
  {
    name: 'many-headers',
    count: 2,
    budgetMs: 15_000,
    build: (rng) => {
      if (rng.bool()) {
        const headers = Array.from({ length: 100_000 }, (_, n) => `X-H-${n}: v${n}`);
        const payload = Buffer.from(sipText('100k-headers', { headers }) + follow());
        return { desc: 'TCP, 100 000 header lines, then a valid message', input: capture(tcpFrames(payload)), expect: { messages: 1, callIds: [FOLLOW_ID], drops: ['tcp-buffer-overflow'] } };
      }
      const headers = Array.from({ length: 3500 }, (_, n) => `X-H-${n}: v${n}`);
      return { desc: 'UDP, 3500 header lines in one 57 KB datagram', input: capture([udpFrame(A, B, 5060, 5060, Buffer.from(sipText('3500-headers', { headers })))]), expect: { messages: 1, problems: [] } };
    },
  },
  {
    name: 'long-header-line',
    count: 2,
    budgetMs: 15_000,
    build: (rng) => {
      if (rng.bool()) {
        const payload = Buffer.from(sipText('1mb-line', { headers: [`X-Long: ${'a'.repeat(1 << 20)}`] }) + follow());
        return { desc: 'TCP, a 1 MB header line, then a valid message', input: capture(tcpFrames(payload)), expect: { messages: 1, callIds: [FOLLOW_ID], drops: ['tcp-buffer-overflow'] } };
      }
      return { desc: 'UDP, a 60 000-byte header line', input: capture([udpFrame(A, B, 5060, 5060, Buffer.from(sipText('60k-line', { headers: [`X-Long: ${'a'.repeat(60000)}`] })))]), expect: { messages: 1, problems: [] } };
    },
  },
  {
    name: 'random-datagrams',
    count: 150,
    build: (rng) => {
      const frames: Buffer[] = [];
      for (let n = rng.range(1, 20); n > 0; n--) {
        const head = rng.bool(0.3) ? Buffer.from(rng.pick(['INVITE sip:a@b SIP/2.0\r\n', 'SIP/2.0 200 OK\r\n', 'HEP3', '\r\n\r\n', 'SIP/2.0 999\r\n'])) : Buffer.alloc(0);
        frames.push(udpFrame(A, B, rng.pick([5060, 9060, 5080, rng.range(1, 65535)]), rng.pick([5060, 9060, rng.range(1, 65535)]), Buffer.concat([head, rng.bytes(rng.range(0, 1400))])));
      }
      return { desc: `${frames.length} UDP datagrams of random bytes`, input: capture(frames) };
    },
  },
  {
    name: 'tcp-reorder-and-duplicates',
    count: 60,
    build: (rng) => {
      const n = rng.range(1, 8);
      const ids = Array.from({ length: n }, (_, k) => `tcp-${k}-${rng.u32()}`);
      const payload = Buffer.from(ids.map((id) => sipText(id, { body: rng.bool() ? randomValue(rng, 300) : '' })).join(''), 'latin1');
      const frames = tcpFrames(payload, { seg: rng.range(20, 700), seq: rng.u32() });
      const [syn, ...data] = frames;
      const dups = data.filter(() => rng.bool(0.2));
      // Out of order within a window (held segments are bounded), plus retransmissions.
      const shuffled: Buffer[] = [];
      const pool = [...data, ...dups];
      while (pool.length) shuffled.push(pool.splice(rng.int(Math.min(pool.length, 8)), 1)[0]!);
      return {
        desc: `${n} messages in ${data.length} segments, reordered, ${dups.length} duplicated (seq wraps maybe)`,
        input: capture([syn!, ...shuffled]),
        expect: { messages: n, callIds: ids },
      };
    },
  },
  {
    name: 'tcp-loss',
    count: 60,
    checkIsKnownBug: 'bug-tcp-gap-resync',
    build: (rng) => {
      const n = rng.range(2, 10);
      const texts = Array.from({ length: n }, (_, k) => sipText(`loss-${k}`, { body: rng.bool() ? 'x'.repeat(rng.range(1, 500)) : '' }));
      const frames = tcpFrames(Buffer.from(texts.join('')), { seg: rng.range(30, 600) });
      const kept = frames.filter((_, k) => k === 0 || !rng.bool(0.15));
      const originals = new Set(texts);
      return {
        desc: `${n} messages, ${frames.length - kept.length} of ${frames.length - 1} segments lost`,
        input: capture(kept),
        // Lost bytes lose messages, but never make up one: whatever comes out is an original.
        check: (v) => {
          const odd = v.messages.find((m) => !originals.has(m.raw.toString('latin1')));
          return odd ? `a message that was never sent came out: ${msgKey(odd)}` : undefined;
        },
      };
    },
  },
  {
    name: 'ip-fragments',
    count: 60,
    build: (rng) => {
      const text = sipText(`frag-${rng.u32()}`, { body: 'x'.repeat(rng.range(0, 4000)) });
      const udp = udpSegment(A, B, 5060, 5060, Buffer.from(text));
      const size = rng.range(1, 60) * 8;
      const pieces: Buffer[] = [];
      const id = rng.range(0, 65535);
      for (let off = 0; off < udp.length; off += size) {
        const p = udp.subarray(off, off + size);
        pieces.push(Buffer.concat([ethernetHeader(ETHERTYPE_IPV4), ipv4Header({ src: A, dst: B, proto: 17, id, more: off + size < udp.length, fragOffset: off }, p.length), p]));
      }
      const lose = rng.bool(0.2) && pieces.length > 1;
      const lostAt = lose ? rng.int(pieces.length) : -1;
      const kept = pieces.filter((_, k) => k !== lostAt);
      // (A datagram that fits one piece is not fragmented: a copy of it would be a second message.)
      const dup = pieces.length > 1 ? kept.filter(() => rng.bool(0.1)) : [];
      const all = rng.shuffle([...kept, ...dup]);
      if (rng.bool(0.15)) {
        // An overlapping fragment with different bytes.
        const p = Buffer.alloc(size * 2, 0x41);
        all.splice(rng.int(all.length), 0, Buffer.concat([ethernetHeader(ETHERTYPE_IPV4), ipv4Header({ src: A, dst: B, proto: 17, id, more: true, fragOffset: size }, p.length), p]));
        return { desc: `${pieces.length} fragments of ${size} bytes, shuffled, plus an overlapping one`, input: capture(all) };
      }
      return {
        desc: `${pieces.length} fragments of ${size} bytes, shuffled, ${dup.length} duplicated${lose ? ', one lost' : ''}`,
        input: capture(all),
        expect: lose ? { messages: 0 } : { messages: 1 },
      };
    },
  },
  {
    name: 'truncated-frames',
    count: 6,
    build: (rng) => {
      const text = Buffer.from(sipText('cut-frame', { body: 'v=0\r\n' }));
      const full = rng.pick([
        udpFrame(A, B, 5060, 5060, text),
        tcpFrame(A, B, 40000, 5060, { seq: 1 }, text),
        udpFrame('2001:db8::1', '2001:db8::2', 5060, 5060, text),
      ]);
      const frames = Array.from({ length: full.length + 1 }, (_, n) => full.subarray(0, n));
      return { desc: `one frame cut at every length 0..${full.length}`, input: capture(frames) };
    },
  },
  {
    name: 'random-frames',
    count: 100,
    build: (rng) => {
      const lt = rng.pick([0, 1, 9, 12, 101, 108, 113, 228, 229, 276, rng.range(0, 300)]);
      const frames = Array.from({ length: rng.range(1, 30) }, () => {
        if (rng.bool(0.5)) return rng.bytes(rng.range(0, 200));
        // A real frame with a few bytes of its headers changed.
        const f = Buffer.from(rng.bool() ? udpFrame(A, B, 5060, 5060, Buffer.from(sipText('rf'))) : tcpFrame(A, B, 1, 5060, { seq: rng.u32() }, Buffer.from(sipText('rf'))));
        for (let k = rng.range(1, 4); k > 0; k--) f[rng.int(Math.min(f.length, 60))] = rng.int(256);
        return f;
      });
      return { desc: `${frames.length} random or damaged frames, linktype ${lt}`, input: capture(frames, lt) };
    },
  },
  {
    name: 'ipv6-extension-headers',
    count: 60,
    build: (rng) => {
      const udp = udpSegment('2001:db8::1', '2001:db8::2', 5060, 5060, Buffer.from(sipText('v6ext')));
      let next = 17;
      let payload = udp;
      const chain: number[] = [];
      for (let n = rng.range(0, 12); n > 0; n--) {
        const t = rng.pick([0, 43, 60, 51, 44, rng.int(256)]);
        const len = rng.range(0, 3);
        const h = Buffer.alloc(t === 51 ? (len + 2) * 4 : (len + 1) * 8);
        h[0] = next;
        h[1] = rng.bool(0.9) ? len : rng.int(256);
        if (t === 44) h.writeUInt16BE(rng.bool(0.8) ? 0 : rng.int(65536), 2);
        payload = Buffer.concat([h, payload]);
        next = t;
        chain.push(t);
      }
      const frame = Buffer.concat([ethernetHeader(ETHERTYPE_IPV6), ipv6Header('2001:db8::1', '2001:db8::2', next, payload.length), payload]);
      return { desc: `IPv6 extension chain [${chain.reverse().join(',')}]`, input: capture([frame]) };
    },
  },
  {
    name: 'hep',
    count: 60,
    build: (rng) => {
      const sip = Buffer.from(sipText(`hep-${rng.u32()}`));
      const chunks: Buffer[] = [];
      const chunk = (type: number, value: Buffer): void => {
        const c = Buffer.alloc(6);
        c.writeUInt16BE(0, 0);
        c.writeUInt16BE(type, 2);
        c.writeUInt16BE(6 + value.length, 4);
        chunks.push(c, value);
      };
      chunk(1, Buffer.from([2]));
      chunk(2, Buffer.from([17]));
      chunk(3, Buffer.from([10, 0, 0, 9]));
      chunk(4, Buffer.from([10, 0, 0, 10]));
      chunk(7, Buffer.from([0x13, 0xc4]));
      chunk(8, Buffer.from([0x13, 0xc4]));
      chunk(9, Buffer.from([0x65, 0, 0, 0]));
      chunk(11, Buffer.from([1]));
      chunk(15, sip);
      const body = Buffer.concat(chunks);
      const hep = Buffer.concat([Buffer.from('HEP3'), Buffer.from([0, 0]), body]);
      hep.writeUInt16BE(hep.length, 4);
      const damaged = rng.bool(0.7);
      if (damaged) for (let k = rng.range(1, 6); k > 0; k--) hep[rng.int(hep.length)] = rng.int(256);
      return { desc: `HEP3 on UDP/9060${damaged ? ', damaged' : ''}`, input: capture([udpFrame(A, B, 9060, 9060, hep)]), expect: damaged ? {} : { messages: 1 } };
    },
  },
  {
    name: 'websocket',
    count: 40,
    build: (rng) => {
      const ids = Array.from({ length: rng.range(1, 4) }, (_, k) => `ws-${k}-${rng.u32()}`);
      const frames: Buffer[] = [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n')];
      const wsFrame = (opcode: number, fin: boolean, payload: Buffer, mask: boolean): Buffer => {
        const len = payload.length;
        const h = len < 126 ? Buffer.from([0, len]) : Buffer.from([0, 126, len >> 8, len & 255]);
        h[0] = (fin ? 0x80 : 0) | opcode;
        if (!mask) return Buffer.concat([h, payload]);
        h[1] = h[1]! | 0x80;
        const key = rng.bytes(4);
        const p = Buffer.from(payload);
        for (let i = 0; i < p.length; i++) p[i] = p[i]! ^ key[i & 3]!;
        return Buffer.concat([h, key, p]);
      };
      for (const id of ids) {
        const msg = Buffer.from(sipText(id));
        const mask = rng.bool();
        if (rng.bool(0.3)) frames.push(wsFrame(9, true, Buffer.from('ping'), mask));
        if (rng.bool(0.4)) {
          const cut = rng.range(1, msg.length - 1);
          frames.push(wsFrame(1, false, msg.subarray(0, cut), mask), wsFrame(0, true, msg.subarray(cut), mask));
        } else frames.push(wsFrame(1, true, msg, mask));
      }
      const stream = Buffer.concat(frames);
      const damaged = rng.bool(0.4);
      if (damaged) for (let k = rng.range(1, 5); k > 0; k--) stream[rng.range(90, stream.length - 1)] = rng.int(256);
      return {
        desc: `${ids.length} SIP messages over WebSocket${damaged ? ', damaged' : ''}`,
        input: capture(tcpFrames(stream, { seg: rng.range(10, 1460) })),
        expect: damaged ? {} : { messages: ids.length, callIds: ids },
      };
    },
  },
  {
    name: 'nested-tunnels',
    count: 30,
    build: (rng) => {
      const depth = rng.range(1, 14);
      const udp = udpSegment(A, B, 5060, 5060, Buffer.from(sipText('tunnel')));
      let ip = Buffer.concat([ipv4Header({ src: A, dst: B, proto: 17 }, udp.length), udp]);
      for (let k = 0; k < depth; k++) {
        if (rng.bool()) ip = Buffer.concat([ipv4Header({ src: '192.0.2.1', dst: '192.0.2.2', proto: 4 }, ip.length), ip]);
        else {
          const gre = Buffer.from([0, 0, 0x08, 0x00]);
          ip = Buffer.concat([ipv4Header({ src: '192.0.2.1', dst: '192.0.2.2', proto: 47 }, gre.length + ip.length), gre, ip]);
        }
      }
      return { desc: `SIP under ${depth} nested IP-in-IP/GRE tunnels`, input: capture([Buffer.concat([ethernetHeader(ETHERTYPE_IPV4), ip])]), expect: depth <= 8 ? { messages: 1 } : { messages: 0, drops: ['tunnel-unsupported'] } };
    },
  },
];

async function synthetic(r: Runner, bug?: Kind): Promise<void> {
  let i = 0;
  for (const c of SYNTHETIC) {
    if (bug && c.checkIsKnownBug !== bug) continue;
    const n = Math.max(1, Math.round(c.count * r.job.count));
    for (let k = 0; k < n; k++, i++) {
      if (!r.wanted(i)) continue;
      const rng = r.rng(i);
      let built: ReturnType<Case['build']>;
      try {
        built = c.build(rng);
      } catch (e) {
        await r.variant(i, `${c.name}: building the capture`, () => `the test's builder threw: ${e instanceof Error ? e.stack : String(e)}`);
        continue;
      }
      const chunks = chunkify(rng, built.input);
      const { expect } = built;
      const check = c.checkIsKnownBug === bug ? built.check : undefined;
      await r.variant(i, `${c.name}: ${built.desc}`, async () => {
        const v = await checkedRun(chunks);
        r.stat(c.name);
        return (expect ? expectProblem(v, expect) : undefined) ?? check?.(v);
      }, c.budgetMs ?? r.job.budgetMs);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// SipMessage.parse

const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE'];
const COMPACT: Record<string, string> = { via: 'v', from: 'f', to: 't', 'call-id': 'i', 'content-length': 'l', contact: 'm' };

interface Generated {
  raw: Buffer;
  stream: boolean;
  expected: Set<Malformation>;
  defects: string[];
  /** Where the empty line after the headers ends (-1 without one), and the body's length. */
  headerEnd: number;
  bodyLength: number;
  contentLength: number | undefined;
  startLineEnd: number;
}

/** A message with chosen defects, and exactly the problems the parser must report for it. */
function generate(rng: Rng): Generated {
  const isReq = rng.bool(0.6);
  const method = rng.bool(0.9) ? rng.pick(METHODS) : randomToken(rng, 1, 10).replace(/[^A-Za-z0-9-.]/g, 'X');
  const user = randomToken(rng, 1, 12);
  const startLine = isReq ? `${method} sip:${user}@example.com${rng.bool(0.2) ? ';transport=tcp' : ''} SIP/2.0` : `SIP/2.0 ${rng.range(100, 699)}${rng.bool(0.9) ? ' ' + rng.pick(['OK', 'Trying', 'Ringing', 'Not Found', 'Busy Here', 'Séance', '']) : ''}`;
  const cseqMethod = isReq ? method : rng.pick(METHODS);
  const headers: Array<[string, string]> = [
    ['via', `SIP/2.0/UDP 192.0.2.${rng.range(1, 254)}:5060;branch=z9hG4bK${randomToken(rng, 4, 16)}`],
    ['from', `"A" <sip:alice@example.com>;tag=${randomToken(rng, 1, 10)}`],
    ['to', `<sip:${user}@example.com>`],
    ['call-id', `${randomToken(rng, 4, 30)}@${randomToken(rng, 1, 10)}`],
    ['cseq', `${rng.range(0, 4294967295)} ${cseqMethod}`],
  ];
  for (let n = rng.range(0, 8); n > 0; n--) headers.push([rng.pick(['contact', 'max-forwards', 'user-agent', 'x-' + randomToken(rng, 1, 12).toLowerCase()]), randomValue(rng).trim() || 'v']);
  const defects: string[] = [];
  const del = (name: string): void => {
    for (let k = headers.length - 1; k >= 0; k--) if (headers[k]![0] === name) headers.splice(k, 1);
  };
  const set = (name: string, value: string): void => {
    for (const h of headers) if (h[0] === name) h[1] = value;
  };
  let cseqState: 'ok' | 'missing' | 'bad' | 'mismatch' = 'ok';
  let badLine = false;
  let noEnd = false;
  let clState: 'ok' | 'missing' | 'bad' | 'short' = 'ok';
  const stream = rng.bool(0.4);
  if (rng.bool(0.5)) {
    for (let n = rng.range(1, 3); n > 0; n--) {
      const d = rng.pick(['call-id', 'cseq', 'bad-cseq', 'mismatch', 'from', 'to', 'via', 'bad-line', 'no-end', 'cl-missing', 'cl-bad', 'cl-short']);
      defects.push(d);
      if (d === 'call-id' || d === 'from' || d === 'to' || d === 'via') del(d);
      else if (d === 'cseq') {
        del('cseq');
        cseqState = 'missing';
      } else if (d === 'bad-cseq' && cseqState !== 'missing') {
        set('cseq', rng.pick(['', 'abc', '1', 'INVITE', '12345678901 INVITE', '1 IN VITE', '-1 INVITE', '4294967296 INVITE']));
        cseqState = 'bad';
      } else if (d === 'mismatch' && isReq && cseqState === 'ok' && method !== 'ACK' && method !== 'CANCEL') {
        set('cseq', `1 ${method === 'BYE' ? 'INVITE' : 'BYE'}`);
        cseqState = 'mismatch';
      } else if (d === 'bad-line') badLine = true;
      else if (d === 'no-end') noEnd = true;
      else if (d.startsWith('cl-') && clState === 'ok') clState = d === 'cl-missing' ? 'missing' : d === 'cl-bad' ? 'bad' : 'short';
    }
  }
  let body = !noEnd && rng.bool(0.4) ? `v=0\r\no=- ${rng.u32()} 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio ${rng.range(1024, 65535)} RTP/AVP 0\r\n` : '';
  if (!noEnd && rng.bool(0.05)) body = rng.bytes(rng.range(1, 200)).toString('latin1');
  const bodyLength = Buffer.byteLength(body, 'latin1');
  let contentLength: number | undefined;
  if (clState === 'ok') {
    contentLength = bodyLength;
    headers.push(['content-length', String(bodyLength)]);
  } else if (clState === 'bad') headers.push(['content-length', rng.pick(['abc', '-1', '1.5', '0x10', '', '1 2', '١٢'])]);
  else if (clState === 'short') {
    contentLength = bodyLength + rng.range(1, 5000);
    headers.push(['content-length', String(contentLength)]);
  }
  rng.shuffle(headers);
  const eol = rng.bool(0.85) ? '\r\n' : '\n';
  const lines = [startLine];
  for (const [name, value] of headers) {
    const shown = COMPACT[name] && rng.bool(0.25) ? COMPACT[name]! : rng.pick([name, name.toUpperCase(), name.replace(/(^|-)([a-z])/g, (_, a: string, b: string) => a + b.toUpperCase())]);
    const sep = `${rng.pick(['', '', ' ', '\t'])}:${rng.pick([' ', '', '  ', '\t'])}`;
    if (name.startsWith('x-') && rng.bool(0.2)) lines.push(`${shown}${sep}${value}${eol} folded ${randomToken(rng, 1, 10)}`);
    else lines.push(`${shown}${sep}${value}`);
  }
  if (badLine) lines.splice(rng.range(1, lines.length), 0, rng.pick(['NoColonHere', 'Garbage line without colon', 'X', '@@@', 'INVITE sip SIP']));
  let text = lines.join(eol) + eol;
  const headerEnd = noEnd ? -1 : Buffer.byteLength(text, 'latin1') + eol.length;
  if (!noEnd) text += eol + body;
  const raw = Buffer.from(text, 'latin1');
  const expected = new Set<Malformation>();
  if (badLine) expected.add('bad-header-line');
  if (noEnd) expected.add('no-header-end');
  const present = new Set(headers.map((h) => h[0]));
  if (!present.has('call-id')) expected.add('missing-call-id');
  if (cseqState === 'missing') expected.add('missing-cseq');
  if (cseqState === 'bad') expected.add('bad-cseq');
  if (cseqState === 'mismatch') expected.add('cseq-method-mismatch');
  for (const h of ['from', 'to', 'via'] as const) if (!present.has(h)) expected.add(`missing-${h}`);
  if (clState === 'missing' && stream) expected.add('missing-content-length');
  if (clState === 'bad') expected.add('bad-content-length');
  if (clState === 'short') expected.add('body-truncated');
  return { raw, stream, expected, defects, headerEnd, bodyLength, contentLength, startLineEnd: startLine.length };
}

/** Every accessor the CLI and the dialog model use: none may throw. */
function touchMessage(m: SipMessage): void {
  void [m.startLine, m.requestUri, m.reason, m.label, m.method, m.status, m.callId, m.cseq, m.from, m.to, m.fromTag, m.toTag];
  void [m.vias, m.topVia, m.contentType, m.body, m.headers(), m.getAll('via'), m.values('contact'), m.has('route'), m.malformed];
  void [m.uri, m.parts, m.sdp, m.hasSdp];
}

/** Structural invariants of any parse; a string when one is broken. */
function parseInvariants(raw: Buffer, stream: boolean): { msg: SipMessage | undefined; problem?: string } {
  let msg: SipMessage | undefined;
  try {
    msg = SipMessage.parse(raw, stream);
  } catch (e) {
    return { msg: undefined, problem: `SipMessage.parse threw: ${e instanceof Error ? e.stack : String(e)}` };
  }
  let le = raw.indexOf(0x0a);
  if (le < 0) le = raw.length;
  const isStart = startLineKind(raw, 0, le) !== LineKind.None;
  if (isStart !== (msg !== undefined)) return { msg, problem: `parse returned ${msg ? 'a message' : 'undefined'} but startLineKind says ${isStart ? 'start line' : 'none'}` };
  if (!msg) return { msg };
  if (!(msg.bodyStart >= 0 && msg.bodyStart <= msg.bodyEnd && msg.bodyEnd <= raw.length)) return { msg, problem: `body bounds ${msg.bodyStart}..${msg.bodyEnd} of ${raw.length}` };
  try {
    touchMessage(msg);
  } catch (e) {
    return { msg, problem: `an accessor threw: ${e instanceof Error ? e.stack : String(e)}` };
  }
  return { msg };
}

const show = (b: Buffer): string => JSON.stringify(b.toString('latin1').slice(0, 300)) + (b.length > 300 ? `… (${b.length} bytes)` : '');

async function parser(r: Runner): Promise<void> {
  const bases = await loadBases();
  const corpusMsgs = [...new Map(bases.flatMap((b) => b.run.messages.map((m) => [m.raw.toString('latin1'), m.raw] as const))).values()];
  const n = r.job.count;
  let i = 0;

  // 1. Generated messages with known defects: exactly the expected problems.
  for (let k = 0; k < n; k++, i++) {
    if (!r.wanted(i)) continue;
    const rng = r.rng(i);
    const g = generate(rng);
    await r.variant(i, `generated [${g.defects.join(',') || 'well-formed'}] stream=${g.stream}: ${show(g.raw)}`, () => {
      const { msg, problem } = parseInvariants(g.raw, g.stream);
      if (problem) return problem;
      if (!msg) return 'not recognised as SIP';
      const got = [...new Set(msg.problems)].sort();
      const want = [...g.expected].sort();
      r.stat(want.length ? 'generated with defects' : 'generated well-formed');
      return got.join(',') === want.join(',') ? undefined : `problems [${got.join(', ')}], expected [${want.join(', ')}]`;
    });
  }

  // 2. Cut short at a known offset: inside the headers → no-header-end; inside the body → body-truncated.
  for (let k = 0; k < n / 4; k++, i++) {
    if (!r.wanted(i)) continue;
    const rng = r.rng(i);
    let g = generate(rng);
    for (let t = 0; t < 20 && (g.defects.length || g.headerEnd < 0); t++) g = generate(rng);
    if (g.defects.length || g.headerEnd < 0) continue;
    const inBody = g.bodyLength > 0 && rng.bool();
    const cut = inBody ? rng.range(g.headerEnd, g.raw.length - 1) : rng.range(g.startLineEnd + 2, g.headerEnd - 3);
    const raw = g.raw.subarray(0, cut);
    await r.variant(i, `well-formed message cut at byte ${cut} of ${g.raw.length} (${inBody ? 'body' : 'headers'}): ${show(raw)}`, () => {
      const { msg, problem } = parseInvariants(raw, g.stream);
      if (problem) return problem;
      if (!msg) return 'not recognised as SIP';
      const want: Malformation = inBody ? 'body-truncated' : 'no-header-end';
      r.stat(`cut in ${inBody ? 'body' : 'headers'}`);
      return msg.problems.includes(want) ? undefined : `problems [${msg.problems.join(', ')}] lack ${want}`;
    });
  }

  // 3. Chaos: random edits of generated and real messages, and pure noise.
  const edit = (rng: Rng, src: Buffer): { raw: Buffer; edits: string[] } => {
    let b = Buffer.from(src);
    const edits: string[] = [];
    for (let e = rng.range(1, 6); e > 0; e--) {
      const at = rng.int(b.length + 1);
      switch (rng.int(8)) {
        case 0:
          if (b.length) {
            const o = Math.min(at, b.length - 1);
            b[o] = mutateByte(rng, b[o]!);
            edits.push(`flip@${o}`);
          }
          break;
        case 1: {
          const ins = Buffer.from([rng.pick(SPECIAL_BYTES)]);
          b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
          edits.push(`ins${hex(ins[0]!, 2)}@${at}`);
          break;
        }
        case 2: {
          const len = rng.range(1, 40);
          b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
          edits.push(`del${len}@${at}`);
          break;
        }
        case 3: {
          b = b.subarray(0, at);
          edits.push(`cut@${at}`);
          break;
        }
        case 4: {
          const run = Buffer.alloc(rng.pick([10, 1000, 20000]), rng.pick([0x61, 0x0a, 0x3a, 0x20, 0x00, 0x0d]));
          b = Buffer.concat([b.subarray(0, at), run, b.subarray(at)]);
          edits.push(`run${run.length}x${hex(run[0]!, 2)}@${at}`);
          break;
        }
        case 5: {
          const ls = b.lastIndexOf(0x0a, Math.max(0, at - 1)) + 1;
          let le2 = b.indexOf(0x0a, at);
          if (le2 < 0) le2 = b.length;
          b = Buffer.concat([b.subarray(0, le2 + 1), b.subarray(ls, le2 + 1), b.subarray(le2 + 1)]);
          edits.push(`dupline@${ls}`);
          break;
        }
        case 6: {
          b = Buffer.from(b.toString('latin1').replace(/\r\n/g, rng.pick(['\n', '\r', '\r\r\n', '\n\r'])), 'latin1');
          edits.push('eol');
          break;
        }
        default: {
          const ins = Buffer.from(rng.pick(['\r\n', '\r\n\r\n', ':', ' ', '\t', 'Content-Length: 99999\r\n', 'l:-1\r\n', 'i:\r\n', 'CSeq: 1\r\n', '\r\n ']), 'latin1');
          b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
          edits.push(`ins${JSON.stringify(ins.toString())}@${at}`);
        }
      }
    }
    return { raw: b, edits };
  };
  for (let k = 0; k < n; k++, i++) {
    if (!r.wanted(i)) continue;
    const rng = r.rng(i);
    const src = rng.float() < 0.5 && corpusMsgs.length ? rng.pick(corpusMsgs) : rng.bool(0.9) ? generate(rng).raw : rng.bytes(rng.range(0, 300));
    const { raw, edits } = edit(rng, src);
    const stream = rng.bool();
    await r.variant(i, `edited [${edits.join(' ')}] stream=${stream}: ${show(raw)}`, () => {
      const { msg, problem } = parseInvariants(raw, stream);
      r.stat(msg ? (msg.problems.length ? 'chaos: malformed' : 'chaos: clean') : 'chaos: not SIP');
      return problem;
    });
  }

  // 4. The big ones.
  const big: Array<[string, () => Buffer, (m: SipMessage) => string | undefined]> = [
    ['100 000 headers', () => Buffer.from(sipText('100k', { headers: Array.from({ length: 100_000 }, (_, k) => `X-H-${k}: ${k}`) })), (m) => (m.problems.length ? `problems ${m.problems.join(',')}` : m.headers().length < 100_000 ? 'headers lost' : undefined)],
    ['a 1 MB header line', () => Buffer.from(sipText('1mb', { headers: [`X-Long: ${'a'.repeat(1 << 20)}`] })), (m) => (m.problems.length ? `problems ${m.problems.join(',')}` : m.get('x-long')?.length !== 1 << 20 ? 'value lost' : undefined)],
    ['a 1 MB body', () => Buffer.from(sipText('1mb-body', { body: 'b'.repeat(1 << 20) })), (m) => (m.problems.length ? `problems ${m.problems.join(',')}` : m.body.length !== 1 << 20 ? 'body lost' : undefined)],
    ['NUL bytes in Call-ID, header names and body', () => Buffer.from(sipText('nul\0id\0', { headers: ['X-\0Odd\0: \0v\0'], body: '\0\0\0' }), 'latin1'), (m) => (m.problems.length ? `problems ${m.problems.join(',')}` : m.callId !== 'nul\0id\0' ? `Call-ID ${JSON.stringify(m.callId)}` : undefined)],
    ['a 400-digit Content-Length', () => Buffer.from(sipText('cl400').replace('Content-Length: 0', `Content-Length: ${'9'.repeat(400)}`)), (m) => (m.problems.includes('body-truncated') ? undefined : `problems ${m.problems.join(',')}`)],
    ['a start line alone without LF', () => Buffer.from('INVITE sip:a@b SIP/2.0'), (m) => (m.problems.includes('no-header-end') ? undefined : `problems ${m.problems.join(',')}`)],
    ['10 000 empty folded lines', () => Buffer.from(sipText('folds', { headers: ['X-F: a' + '\r\n '.repeat(10000)] })), (m) => (m.callId === 'folds' ? undefined : 'Call-ID lost')],
  ];
  for (const [name, make, check] of big) {
    if (!r.wanted(i)) {
      i++;
      continue;
    }
    const raw = make();
    await r.variant(i++, name, () => {
      const { msg, problem } = parseInvariants(raw, true);
      if (problem) return problem;
      return msg ? check(msg) : 'not recognised as SIP';
    }, 10_000);
  }
}

// ---------------------------------------------------------------------------------------------
// Regressions: product bugs found by these tests, now fixed; each must finish within budget.

async function bugParserNoColon(r: Runner): Promise<void> {
  const raw = Buffer.from('INVITE sip:a@b SIP/2.0\r\n' + 'X-Header-Without-Colon\r\n'.repeat(100_000) + '\r\n');
  await r.variant(0, 'SipMessage.parse of 100 000 header lines without a colon', () => parseInvariants(raw, false).problem);
}

async function bugWsFragments(r: Runner): Promise<void> {
  const parts: Buffer[] = [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')];
  const ws = (opcode: number, fin: boolean, p: Buffer): Buffer => {
    const h = Buffer.from([(fin ? 0x80 : 0) | opcode, 126, p.length >> 8, p.length & 255]);
    return Buffer.concat([h, p]);
  };
  parts.push(ws(1, false, Buffer.from('INVITE sip:a@b SIP/2.0\r\n'.padEnd(200, 'x'))));
  const chunk = Buffer.from('a\n'.repeat(30000));
  for (let n = 0; n < 12; n++) parts.push(ws(0, false, chunk));
  parts.push(ws(0, true, Buffer.from('\r\n\r\n')));
  const input = capture(tcpFrames(Buffer.concat(parts), { seg: 60000 }));
  await r.variant(0, 'one 720 KB WebSocket message in 14 fragments, lines without colons', async () => expectProblem(await checkedRun(input), { messages: 1 }));
}

async function bugResync(r: Runner): Promise<void> {
  const seg = Buffer.from('SIP/2.0'.repeat(9000));
  const input = capture(tcpFrames(Buffer.concat([seg, seg, seg]), { seg: seg.length }));
  await r.variant(0, 'TCP: 3 segments of 63 KB, each "SIP/2.0" repeated without a line end', async () => expectProblem(await checkedRun(input), { messages: 0 }));
}

async function bugGzipDamage(r: Runner): Promise<void> {
  const bases = (await loadBases()).filter((b) => b.buf.length > 40_000);
  for (let i = 0; i < r.job.count; i++) {
    if (!r.wanted(i)) continue;
    const rng = r.rng(i);
    const base = rng.pick(bases);
    const z = Buffer.from(gzipSync(base.buf));
    const at = rng.range(Math.floor(z.length / 4), z.length - 1);
    // What the intact compressed bytes before the damage decompress to: the damaged stream
    // yields the same bytes up to there, so at least those must be read.
    let intact = 0;
    try {
      intact = gunzipSync(z.subarray(0, at), { finishFlush: zlibConstants.Z_SYNC_FLUSH }).length;
    } catch {
      intact = 0;
    }
    z[at] = mutateByte(rng, z[at]!);
    await r.variant(i, `${base.id}.gz (${z.length} bytes) with byte ${at} changed (${intact} bytes decompress before it)`, async () => {
      const v = await checkedRun([z]);
      if (!v.warnings.some((w) => /gzip/.test(w.message))) return 'no warning about the damaged gzip stream';
      return prefixProblem(base, v, intact);
    });
  }
}

async function bugGzipChunks(r: Runner): Promise<void> {
  const base = (await loadBases()).find((b) => b.id === 'ntop__nDPI/sip_hello.pcapng')!;
  const z = gzipSync(base.buf).subarray(0, -60);
  const whole = await checkedRun([z]);
  for (const first of [10, 600]) {
    await r.variant(first, `${base.id}.gz cut 60 bytes short, fed as ${first} + ${z.length - first} bytes`, async () => {
      let v: SipscopeRun;
      try {
        v = await checkedRun([z.subarray(0, first), z.subarray(first)]);
      } catch (e) {
        return `threw ${e instanceof Error ? e.message : String(e)}; in one chunk it yields ${whole.frames.length} frames`;
      }
      return v.summary.bytes === whole.summary.bytes ? undefined : `${v.summary.bytes} bytes decompressed instead of ${whole.summary.bytes} (${v.frames.length} frames instead of ${whole.frames.length})`;
    });
  }
}

const JOBS: Record<Kind, (r: Runner) => Promise<void>> = {
  'flip-any': flipAny,
  'flip-sip': flipSip,
  truncate,
  garbage,
  chunking,
  synthetic,
  parser,
  'bug-parser-no-colon': bugParserNoColon,
  'bug-ws-fragments': bugWsFragments,
  'bug-resync-quadratic': bugResync,
  'bug-gzip-damage': bugGzipDamage,
  'bug-gzip-chunks': bugGzipChunks,
  'bug-tcp-gap-resync': (r) => synthetic(r, 'bug-tcp-gap-resync'),
};

// ---------------------------------------------------------------------------------------------
// Main thread: one worker per kind, watched.

/** No progress message for this long means a synchronous hang: the worker is terminated. */
const STALL_MS = 30_000;

function runJob(job: Job): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const api = import.meta.resolve('tsx/esm/api');
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); });`;
    const w = new Worker(code, { eval: true, workerData: { sipscopeFuzzJob: job } });
    let last = 'worker start-up';
    let settled = false;
    let timer: NodeJS.Timeout;
    const stalled = (): void => {
      settled = true;
      void w.terminate();
      reject(new Error(`no progress for ${STALL_MS} ms, hung in: ${last}`));
    };
    timer = setTimeout(stalled, STALL_MS);
    w.on('message', (m: ToMain) => {
      clearTimeout(timer);
      if (m.t === 'start') {
        last = m.desc;
        timer = setTimeout(stalled, STALL_MS);
      } else {
        settled = true;
        resolve(m.result);
        void w.terminate();
      }
    });
    w.on('error', (e) => {
      clearTimeout(timer);
      if (!settled) reject(new Error(`worker crashed during ${last}: ${e.stack ?? String(e)}`));
      settled = true;
    });
    w.on('exit', (exit) => {
      clearTimeout(timer);
      if (!settled) reject(new Error(`worker exited (${exit}) during ${last}`));
      settled = true;
    });
  });
}

function only(kind: Kind): number | undefined {
  if (!ONLY) return undefined;
  const [k, n] = ONLY.split(':');
  return k === kind ? Number(n) : -1;
}

interface Plan {
  kind: Kind;
  count: number;
  title: string;
  budgetMs?: number;
  settleMs?: number;
  todo?: string;
}

const PLANS: Plan[] = [
  { kind: 'flip-any', count: 2500, title: 'bytes flipped anywhere in corpus files' },
  { kind: 'flip-sip', count: 2500, title: 'bytes flipped inside SIP payloads of corpus files' },
  { kind: 'truncate', count: 1500, title: 'corpus files (and gzip copies) cut at random points' },
  { kind: 'garbage', count: 1500, title: 'garbage inserted between records of corpus files' },
  { kind: 'chunking', count: 300, title: 'corpus files read in random chunk sizes give identical results' },
  { kind: 'synthetic', count: 1, title: 'captures built with garbage SIP over UDP/TCP, TCP chaos, fragments, tunnels, HEP, WebSocket' },
  { kind: 'parser', count: 12000, title: 'SipMessage.parse never throws and flags what is malformed' },
];

const BUG_PLANS: Plan[] = [
  {
    kind: 'bug-parser-no-colon', count: 1, budgetMs: 500, title: 'SipMessage.parse is linear in header lines without a colon',
  },
  {
    kind: 'bug-ws-fragments', count: 1, budgetMs: 500, settleMs: 60_000, title: 'a fragmented WebSocket message is bounded and parsed in linear time',
  },
  {
    kind: 'bug-resync-quadratic', count: 1, budgetMs: 500, title: 'resynchronising a TCP stream is linear',
  },
  {
    kind: 'bug-gzip-damage', count: 3, budgetMs: 1000, settleMs: 1500, title: 'a damaged gzip capture yields the frames decompressed before the damage, with a warning',
  },
  {
    kind: 'bug-gzip-chunks', count: 2, title: 'a gzip capture cut short yields everything decompressed whatever the input chunks',
  },
  {
    kind: 'bug-tcp-gap-resync', count: 1, title: 'TCP segments lost: messages are lost but none is made up',
  },
];

if (!isMainThread && (workerData as { sipscopeFuzzJob?: Job } | null)?.sipscopeFuzzJob) {
  const job = (workerData as { sipscopeFuzzJob: Job }).sipscopeFuzzJob;
  const r = new Runner(job);
  await JOBS[job.kind](r);
  parentPort!.postMessage({ t: 'done', result: r.result() } satisfies ToMain);
}

function planTest(p: Plan): void {
  const count = p.kind.startsWith('bug-') ? p.count : Math.max(1, Math.round(p.count * SCALE));
  const o = only(p.kind);
  const label =
    p.kind === 'synthetic' ? `synthetic: ${SYNTHETIC.reduce((n, c) => n + Math.max(1, Math.round(c.count * SCALE)), 0)} ${p.title}`
    : p.kind === 'parser' ? `parser: ${count} generated + ${Math.ceil(count / 4)} cut + ${count} edited + 7 huge messages: ${p.title}`
    : `${p.kind}: ${count} variant(s), ${p.title}`;
  test(label, { ...(p.todo ? { todo: p.todo } : {}), ...(o === -1 ? { skip: `SIPSCOPE_FUZZ_ONLY=${ONLY}` } : {}) }, async (t) => {
    const job: Job = { kind: p.kind, seed: SEED, count: p.kind === 'synthetic' ? SCALE : count, only: o, budgetMs: p.budgetMs ?? 5000, settleMs: p.settleMs ?? 20_000 };
    const t0 = Date.now();
    const r = await runJob(job);
    t.diagnostic(`seed ${hex(SEED)}: ${r.variants} variants in ${Date.now() - t0} ms; slowest ${r.maxMs.toFixed(0)} ms (${r.maxDesc.slice(0, 160)})`);
    for (const [k, v] of Object.entries(r.stats)) t.diagnostic(`${k}: ${v}`);
    assert.ok(r.variants > 0 || o !== undefined, 'no variant ran');
    assert.equal(r.failCount, 0, `${r.failCount} of ${r.variants} variants failed (seed ${hex(SEED)}; rerun one with SIPSCOPE_FUZZ_SEED=${hex(SEED)} SIPSCOPE_FUZZ_ONLY=<kind>:<index>):\n  ${r.failures.join('\n  ')}`);
  });
}

if (isMainThread) {
  describe('robustness', { concurrency: 2 }, () => {
    for (const p of PLANS) planTest(p);
  });
  describe('robustness: regressions of fixed sipscope bugs', () => {
    for (const p of BUG_PLANS) planTest(p);
  });
}
