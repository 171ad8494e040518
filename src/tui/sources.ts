import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { readCapture, SipscopeError, type Frame } from '../capture/index.js';
import { openLive, type LiveSession } from '../capture/live.js';
import { Analyzer, type Secrets } from '../model/index.js';
import { SipExtractor } from '../sip/index.js';
import { CaptureFile } from './capture-file.js';
import { Ingest } from './ingest.js';
import type { CallStore } from './store.js';

/** Where the UI's calls come from: a capture read in the background, or live traffic. */
export interface DataSource {
  /** One short line for the header: progress, or what is being captured. */
  status(): string;
  /** Called on every UI tick; true when the store changed in a way the tick must show. */
  tick(): boolean;
  readonly done: boolean;
  /** Problems worth a line on screen (a truncated capture, a read error). */
  readonly warnings: string[];
  /** Set by the UI: asks for a tick now (the first calls are in: show them without waiting). */
  wake: (() => void) | undefined;
  close(): void;
}

export interface ModelSettings {
  secrets?: Secrets;
  correlationHeaders?: string[];
}

class Stopped extends Error {}

/**
 * Checks before the UI starts that `path` can be opened and looks like a capture, so that a
 * wrong name is a one-line error on a normal terminal instead of a message inside the UI.
 */
export function probeCapture(path: string): void {
  if (path === '-') return;
  let fd: number;
  try {
    if (statSync(path).isDirectory()) throw new SipscopeError('E_INPUT', `cannot read ${path}: it is a directory`);
    fd = openSync(path, 'r');
  } catch (err) {
    if (err instanceof SipscopeError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new SipscopeError('E_INPUT', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  const head = Buffer.alloc(4);
  const n = readSync(fd, head, 0, 4, 0);
  closeSync(fd);
  if (n === 0) throw new SipscopeError('E_EMPTY', 'the input is empty: not a capture');
  const magic = head.readUInt32LE(0);
  const known = [0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1, 0x0a0d0d0a];
  if (n === 4 && known.includes(magic)) return;
  if (head[0] === 0x1f && head[1] === 0x8b) return; // gzip: the reader checks what is inside
  throw new SipscopeError('E_NOT_CAPTURE', `not a pcap or pcapng capture (it starts with bytes ${head.subarray(0, n).toString('hex').replace(/(..)/g, '$1 ').trim()})`);
}

/**
 * A capture file read in the background: readCapture hands over a chunk, the pipeline and the
 * analyzer run over it, and the loader yields to the event loop (`afterChunk`) before the next,
 * so keys and repaints are never held up by the reading. Calls appear as soon as they start
 * (in progress) and take their final form when the analyzer lets them go.
 */
export class FileSource implements DataSource {
  done = false;
  readonly warnings: string[] = [];
  private bytes = 0;
  private total = 0;
  private stopped = false;
  private messages = 0;
  private readonly startedAt = Date.now();
  private finishedAt = 0;
  private ingest: Ingest | undefined;
  private woken = false;
  wake: (() => void) | undefined = undefined;

  constructor(
    readonly path: string,
    private readonly store: CallStore,
    private readonly settings: ModelSettings,
  ) {}

  /** Reads the whole capture; resolves at its end (or when closed). */
  async run(): Promise<void> {
    const file = CaptureFile.open(this.path);
    this.store.file = file;
    const ingest = new Ingest(this.store, file !== undefined, 1000, (s) => analyzer.legsOf(s));
    this.ingest = ingest;
    // Calls show from their first message on (in progress), so the first screen comes at once.
    const analyzer = new Analyzer((g) => ingest.group(g), {
      secrets: this.settings.secrets,
      correlationHeaders: this.settings.correlationHeaders,
      onObserved: (_o, s) => ingest.observed(s),
    });
    let current: Frame | undefined;
    const extractor = new SipExtractor((p) => {
      this.messages++;
      ingest.packet(p, current);
      analyzer.packet(p);
    });
    try {
      await readCapture(this.path, (f) => {
        current = f;
        extractor.frame(f);
        current = undefined;
      }, {
        onWarning: (w) => {
          if (this.warnings.length < 20) this.warnings.push(w.message);
        },
        onProgress: (done, total) => {
          this.bytes = done;
          this.total = total;
        },
        afterChunk: () => this.pause(),
      });
      extractor.finish();
      analyzer.finish();
    } catch (err) {
      if (err instanceof Stopped) return;
      this.warnings.push(err instanceof SipscopeError ? err.message : `reading stopped: ${(err as Error).message}`);
      analyzer.finish();
    }
    this.done = true;
    this.finishedAt = Date.now();
  }

  private pause(): Promise<void> {
    if (this.stopped) throw new Stopped();
    if (!this.woken && this.messages > 0) {
      this.woken = true;
      this.wake?.();
    }
    return new Promise((resolve) => setImmediate(resolve));
  }

  status(): string {
    if (this.done) return `${this.messages} messages, read in ${((this.finishedAt - this.startedAt) / 1000).toFixed(1)} s`;
    const pct = this.total > 0 ? `${Math.min(99, Math.floor((this.bytes / this.total) * 100))}%` : `${(this.bytes / 1048576).toFixed(0)} MiB`;
    return `loading ${pct}, ${this.messages} messages`;
  }

  tick(): boolean {
    return (this.ingest?.refreshOpen() ?? 0) > 0;
  }

  close(): void {
    this.stopped = true;
    this.store.file?.close();
  }
}

export interface LiveSettings extends ModelSettings {
  device: string;
  filter?: string;
}

/**
 * Live traffic: frames from openLive through the pipeline into the analyzer. Calls still open
 * show as they progress (the analyzer's onObserved), finished ones as the analyzer emits them;
 * the UI tick also lets capture time pass so calls finish when the traffic stops.
 */
export class LiveSource implements DataSource {
  readonly done = false;
  readonly warnings: string[] = [];
  wake: (() => void) | undefined = undefined;
  private readonly session: LiveSession;
  private readonly ingest: Ingest;
  private readonly analyzer: Analyzer;
  private readonly extractor: SipExtractor;
  private frames = 0;
  private messages = 0;

  /** Opens the device; throws a SipscopeError (permission, no such device, bad filter) before any UI. */
  constructor(
    private readonly settings: LiveSettings,
    store: CallStore,
  ) {
    this.ingest = new Ingest(store, false, 0, (s) => this.analyzer.legsOf(s));
    this.analyzer = new Analyzer((g) => this.ingest.group(g), {
      secrets: settings.secrets,
      correlationHeaders: settings.correlationHeaders,
      onObserved: (_o, s) => this.ingest.observed(s),
    });
    let current: Frame | undefined;
    this.extractor = new SipExtractor((p) => {
      this.messages++;
      this.ingest.packet(p, current);
      this.analyzer.packet(p);
    });
    this.session = openLive({ device: settings.device, filter: settings.filter }, (f) => {
      this.frames++;
      current = f;
      this.extractor.frame(f);
      current = undefined;
    });
  }

  status(): string {
    return `live on ${this.session.device}${this.settings.filter ? ` (${this.settings.filter})` : ''}: ${this.messages} messages, ${this.analyzer.openSessions} open`;
  }

  tick(): boolean {
    this.analyzer.advance(Date.now() / 1000);
    return this.ingest.refreshOpen() > 0;
  }

  close(): void {
    this.session.close();
  }
}
