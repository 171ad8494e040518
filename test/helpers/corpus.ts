/**
 * The capture corpus: the licensed copies in captures/corpus (listed in captures/MANIFEST.tsv)
 * and, when present, the shared folder ../shared/captures next to the repository. Also runs
 * sipscope in-process over a file or a buffer and records what it decoded.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { readCapture, type CaptureSummary, type CaptureWarning } from '../../src/capture/index.js';
import type { Counters } from '../../src/net/index.js';
import { SipExtractor, type SipPacket } from '../../src/sip/index.js';

export const repoRoot = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const localCaptureDir = path.join(repoRoot, 'captures');
export const sharedCaptureDir = path.resolve(repoRoot, '../shared/captures');

/** One line of a MANIFEST.tsv (the columns the tests use; `columns` keeps them all). */
export interface ManifestEntry {
  path: string;
  sourceRepo: string;
  license: string;
  format: string;
  transport: string;
  notes: string;
  columns: Record<string, string>;
}

export const MANIFEST_HEADER = [
  'path', 'source_repo', 'source_path', 'source_commit', 'license', 'format', 'linktype', 'packets',
  'sip_messages', 'call_ids', 'methods', 'auth', 'transport', 'ipv6', 'notes',
];

export function readManifest(file: string): { header: string[]; entries: ManifestEntry[] } {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0]!.split('\t');
  const entries = lines.slice(1).map((line) => {
    const cells = line.split('\t');
    const columns: Record<string, string> = {};
    header.forEach((h, i) => (columns[h] = cells[i] ?? ''));
    return {
      path: columns['path']!,
      sourceRepo: columns['source_repo']!,
      license: columns['license']!,
      format: columns['format']!,
      transport: columns['transport']!,
      notes: columns['notes']!,
      columns,
    };
  });
  return { header, entries };
}

/**
 * The tshark options a manifest line says were used ("tshark opts used: …"). Only decode-as
 * (-d) options are returned; an -o tls.keys_list naming a key we do not have is reported as
 * `missingTlsKey` instead.
 */
export function tsharkOptions(notes: string): { args: string[]; missingTlsKey: boolean } {
  const m = /tshark opts used: ([^;\]]*)/.exec(notes);
  const args: string[] = [];
  let missingTlsKey = false;
  if (!m) return { args, missingTlsKey };
  const tokens = m[1]!.trim().split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === '-d' && tokens[i + 1]) args.push('-d', tokens[++i]!);
    else if (tokens[i] === '-o' && /^tls\.keys_list:/.test(tokens[i + 1] ?? '')) {
      missingTlsKey = true;
      i++;
    }
  }
  return { args, missingTlsKey };
}

export interface CorpusFile {
  /** "<source-dir>/<file>": the same for a local copy and its shared original. */
  id: string;
  abs: string;
  origin: 'local' | 'shared';
  sha256: string;
  size: number;
  entry: ManifestEntry | undefined;
  /** Also present in the other folder (same bytes). */
  duplicates: string[];
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

export interface Corpus {
  files: CorpusFile[];
  sharedPresent: boolean;
}

let cached: Corpus | undefined;

/**
 * Every capture: the local copies first, then shared files whose bytes are not already in the
 * list (deduplicated by SHA-256).
 */
export function corpus(): Corpus {
  if (cached) return cached;
  const files: CorpusFile[] = [];
  const byHash = new Map<string, CorpusFile>();
  const add = (abs: string, id: string, origin: 'local' | 'shared', entry: ManifestEntry | undefined): void => {
    const hash = sha256(abs);
    const seen = byHash.get(hash);
    if (seen) {
      seen.duplicates.push(`${origin}:${id}`);
      return;
    }
    const f: CorpusFile = { id, abs, origin, sha256: hash, size: statSync(abs).size, entry, duplicates: [] };
    byHash.set(hash, f);
    files.push(f);
  };
  const localManifest = path.join(localCaptureDir, 'MANIFEST.tsv');
  if (existsSync(localManifest)) {
    for (const e of readManifest(localManifest).entries) {
      add(path.join(localCaptureDir, e.path), e.path.replace(/^corpus\//, ''), 'local', e);
    }
  }
  const sharedPresent = existsSync(path.join(sharedCaptureDir, 'MANIFEST.tsv'));
  if (sharedPresent) {
    const entries = new Map(readManifest(path.join(sharedCaptureDir, 'MANIFEST.tsv')).entries.map((e) => [e.path, e]));
    for (const abs of walk(sharedCaptureDir)) {
      const id = path.relative(sharedCaptureDir, abs).split(path.sep).join('/');
      if (id === 'MANIFEST.tsv' || id.endsWith('.md')) continue;
      add(abs, id, 'shared', entries.get(id));
    }
  }
  cached = { files, sharedPresent };
  return cached;
}

/** One SIP message as sipscope decoded it. */
export interface DecodedMessage {
  frame: number;
  /** Frame being read when the message came out; Infinity when it came out at end of input. */
  emittedAt: number;
  startLine: string;
  callId: string | undefined;
  transport: string;
  bytes: number;
  /** The message's bytes (owned by the message). */
  raw: Buffer;
  problems: string[];
  src: string;
  dst: string;
}

export interface FrameRecord {
  index: number;
  offset: number;
  length: number;
}

export interface SipscopeRun {
  messages: DecodedMessage[];
  frames: FrameRecord[];
  counters: Counters;
  summary: CaptureSummary;
  warnings: CaptureWarning[];
}

/**
 * Runs readCapture + SipExtractor in-process over a file, or over a buffer fed as the given
 * chunks (through the reader's stdin hook, so chunk boundaries can be chosen). `onPacket` also
 * sees every packet (e.g. to run the CLI formatters over it).
 */
export async function runSipscope(input: string | Buffer | Buffer[], onPacket?: (p: SipPacket) => void): Promise<SipscopeRun> {
  const messages: DecodedMessage[] = [];
  const frames: FrameRecord[] = [];
  const warnings: CaptureWarning[] = [];
  let current = 0;
  const extractor = new SipExtractor((p) => {
    messages.push({
      frame: p.meta.frame,
      emittedAt: current,
      startLine: p.msg.startLine,
      callId: p.msg.callId,
      transport: p.transport,
      bytes: p.msg.raw.length,
      raw: p.msg.raw,
      problems: [...p.msg.problems],
      src: `${p.meta.src}:${p.meta.sport}`,
      dst: `${p.meta.dst}:${p.meta.dport}`,
    });
    onPacket?.(p);
  });
  const sink = (f: { index: number; offset: number; data: Buffer }): void => {
    current = f.index;
    frames.push({ index: f.index, offset: f.offset, length: f.data.length });
    extractor.frame(f as Parameters<SipExtractor['frame']>[0]);
  };
  const opts = { onWarning: (w: CaptureWarning) => warnings.push(w) };
  let summary: CaptureSummary;
  if (typeof input === 'string') {
    summary = await readCapture(input, sink, opts);
  } else {
    const chunks = Array.isArray(input) ? input : [input];
    summary = await readCapture('-', sink, { ...opts, stdin: Readable.from(chunks, { objectMode: false }) });
  }
  current = Number.POSITIVE_INFINITY;
  extractor.finish();
  return { messages, frames, counters: extractor.counters, summary, warnings };
}
