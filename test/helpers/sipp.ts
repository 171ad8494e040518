/**
 * SIPp (package sip-tester) as a real peer on 127.0.0.1: free ports, start/stop of the built-in
 * uac and uas scenarios with deadlines, and SIPp's own account of what it sent and received.
 *
 * Every process started here is registered in a `Processes` set; call `killAll()` from an
 * `after` hook so nothing outlives the test, whatever failed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAndWait } from './cli.js';

/** Why SIPp cannot be used here, or undefined when it can. */
export function sippUnavailable(): string | undefined {
  const r = spawnSync('sipp', ['-v'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return `sipp not runnable (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install it: apt-get install sip-tester`;
  if (!/SIPp v\d/.test(`${r.stdout}${r.stderr}`)) return 'sipp -v does not look like SIPp';
  return undefined;
}

/** True when `cmd` can be run (checked with its version flag). */
export function haveCommand(cmd: string, versionArgs: string[] = ['--version']): boolean {
  const r = spawnSync(cmd, versionArgs, { stdio: 'ignore', timeout: 10_000 });
  return !r.error;
}

/**
 * `n` distinct UDP ports that are free on 127.0.0.1 right now: all are bound at once by the
 * kernel (port 0), then released. A tiny window remains before SIPp takes them.
 */
export async function freeUdpPorts(n: number): Promise<number[]> {
  const sockets: dgram.Socket[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = dgram.createSocket('udp4');
      sockets.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, '127.0.0.1', () => resolve());
      });
    }
    return sockets.map((s) => s.address().port);
  } finally {
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/**
 * A port free on 127.0.0.1 for both UDP and TCP (a client that binds its TCP source port, as
 * sipsak -E tcp -l does, needs it free there too: a UDP-free port may be a TCP connection's).
 */
export async function freeTcpUdpPort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const [port] = await freeUdpPorts(1);
    const ok = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok || attempt >= 20) return port!;
  }
}

/** Is something bound to UDP 127.0.0.1:port (or 0.0.0.0:port)? From /proc/net/udp; undefined if unknown. */
export function udpPortBound(port: number): boolean | undefined {
  if (!existsSync('/proc/net/udp')) return undefined;
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .slice(1)
    .some((l) => {
      const local = l.trim().split(/\s+/)[1];
      return local === `0100007F:${hex}` || local === `00000000:${hex}`;
    });
}

/** Polls `cond` every `everyMs` until it is true; throws `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Processes a test started; killAll() ends every one still running (by its own pid). */
export class Processes {
  private readonly children = new Set<ChildProcess>();

  add<T extends ChildProcess>(child: T): T {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  get running(): number {
    return this.children.size;
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.children].map((c) => killAndWait(c, 'SIGTERM', 2000)));
    this.children.clear();
  }
}

/**
 * A running child with its output gathered (the last 256 KiB of each stream, and of both
 * interleaved in `output`). With `stdin`, its standard input stays open for writing.
 */
export class Proc {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(command: string, args: string[], opts: { cwd: string; procs: Processes; timeoutMs: number; stdin?: boolean }) {
    this.child = opts.procs.add(spawn(command, args, { cwd: opts.cwd, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] }));
    const keep = (s: string): string => (s.length > 262_144 ? s.slice(-262_144) : s);
    this.child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      this.stdout = keep(this.stdout + c);
      this.output = keep(this.output + c);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      this.stderr = keep(this.stderr + c);
      this.output = keep(this.output + c);
    });
    this.child.stdin?.on('error', () => {});
    const timer = setTimeout(() => this.child.kill('SIGKILL'), opts.timeoutMs);
    timer.unref();
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      // 'close': the exit and the end of both output streams.
      this.child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });
    // A spawn failure is reported through `exited`; never leave it unhandled.
    this.exited.catch(() => {});
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

export interface SippOptions {
  role: 'uac' | 'uas';
  /** Local SIP port on 127.0.0.1. */
  port: number;
  /** uac only: where to call, host:port. */
  remote?: string;
  /** -m: calls to process before exiting. */
  calls: number;
  /** uac only: calls per second (-r). */
  rate?: number;
  /** Directory for SIPp's trace files (also its working directory). */
  dir: string;
  procs: Processes;
  /** Our kill deadline; SIPp's own -timeout is set a little below it. Default 20 s. */
  timeoutMs?: number;
}

export interface SippRun extends Proc {
  role: 'uac' | 'uas';
  dir: string;
  shortMessageFile: string;
  statFile: string;
  screenFile: string;
}

/**
 * Starts the built-in uac or uas scenario in the foreground (`-nostdin`, so no terminal is needed),
 * with every trace SIPp can give about the messages it handled:
 * - `-trace_shortmsg`: one line per message sent (S) or received (R), retransmissions included;
 * - `-trace_counts`: per scenario step Sent/Recv, Retrans, Timeout, Unexp counters;
 * - `-trace_stat -stf`: successful and failed calls;
 * - `-trace_screen`: the final screen, with the messages it discarded as out of any call.
 */
export function startSipp(o: SippOptions): SippRun {
  const timeoutMs = o.timeoutMs ?? 20_000;
  const shortMessageFile = join(o.dir, `${o.role}-short.log`);
  const statFile = join(o.dir, `${o.role}-stat.csv`);
  const screenFile = join(o.dir, `${o.role}-screen.log`);
  const args = ['-sn', o.role];
  if (o.role === 'uac') {
    if (!o.remote) throw new Error('uac needs a remote');
    args.push(o.remote, '-r', String(o.rate ?? 10));
  }
  args.push(
    '-i', '127.0.0.1',
    '-p', String(o.port),
    '-m', String(o.calls),
    '-nostdin',
    '-timeout', `${Math.max(1, Math.floor(timeoutMs / 1000) - 2)}s`,
    '-trace_shortmsg', '-shortmessage_file', shortMessageFile,
    '-trace_counts',
    '-trace_stat', '-stf', statFile, '-fd', '1',
    '-trace_screen', '-screen_file', screenFile,
  );
  const p = new Proc('sipp', args, { cwd: o.dir, procs: o.procs, timeoutMs }) as SippRun;
  p.role = o.role;
  p.dir = o.dir;
  p.shortMessageFile = shortMessageFile;
  p.statFile = statFile;
  p.screenFile = screenFile;
  return p;
}

export interface ShortMessage {
  dir: 'S' | 'R';
  callId: string;
  cseq: string;
  startLine: string;
}

/** SIPp's -trace_shortmsg log: `date\ttime\tepoch\tS|R\tCall-ID\tCSeq:n METHOD\tstart line`. */
export function readShortMessages(file: string): ShortMessage[] {
  const out: ShortMessage[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const f = line.split('\t');
    const dir = f[3];
    if ((dir !== 'S' && dir !== 'R') || f.length < 7) throw new Error(`unexpected SIPp short message line: ${JSON.stringify(line)}`);
    out.push({ dir, callId: f[4]!, cseq: f[5]!.replace(/^CSeq:/, ''), startLine: f.slice(6).join('\t').trim() });
  }
  return out;
}

export interface SippCounts {
  /** Scenario messages sent, first transmissions. */
  sent: number;
  /** Scenario messages received, first receptions. */
  received: number;
  retransSent: number;
  retransReceived: number;
  /** Messages received that the scenario did not expect. */
  unexpected: number;
  /** Messages received for calls already gone (final screen: "dead call msg (discarded)"). */
  deadCall: number;
  /** Messages received outside any call (final screen: "out-of-call msg (discarded)"). */
  outOfCall: number;
  /** Everything SIPp put on or took off the wire, by its own counters. */
  total: number;
  /** The last row of the -trace_counts file, by column. */
  columns: Record<string, number>;
}

/**
 * SIPp's counters at exit, from `<scenario>_<pid>_counts.csv` (the last row is the final one)
 * and the final screen. Columns are `<step>_<what>_Sent|Recv|Retrans|Timeout|Unexp`; a Retrans
 * column belongs to a send step (retransmissions sent) or a recv step (retransmissions received).
 */
export function readSippCounts(run: SippRun): SippCounts {
  const name = readdirSync(run.dir).find((f) => f === `${run.role}_${run.pid}_counts.csv`);
  if (!name) throw new Error(`SIPp ${run.role} (pid ${run.pid}) wrote no counts file in ${run.dir}`);
  const lines = readFileSync(join(run.dir, name), 'utf8').split('\n').filter((l) => l.trim());
  const header = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const columns: Record<string, number> = {};
  header.forEach((h, i) => {
    if (/^\d+_/.test(h)) columns[h] = Number(last[i]);
  });
  const c: SippCounts = { sent: 0, received: 0, retransSent: 0, retransReceived: 0, unexpected: 0, deadCall: 0, outOfCall: 0, total: 0, columns };
  const stepKind = new Map<string, 'send' | 'recv'>();
  for (const h of Object.keys(columns)) {
    const m = /^(\d+)_.*_(Sent|Recv)$/.exec(h);
    if (m) stepKind.set(m[1]!, m[2] === 'Sent' ? 'send' : 'recv');
  }
  for (const [h, v] of Object.entries(columns)) {
    if (!Number.isFinite(v)) throw new Error(`SIPp counts column ${h} is not a number`);
    const step = h.split('_')[0]!;
    if (h.endsWith('_Sent')) c.sent += v;
    else if (h.endsWith('_Recv')) c.received += v;
    else if (h.endsWith('_Unexp')) c.unexpected += v;
    else if (h.endsWith('_Retrans')) {
      if (stepKind.get(step) === 'send') c.retransSent += v;
      else c.retransReceived += v;
    }
  }
  const screen = existsSync(run.screenFile) ? readFileSync(run.screenFile, 'utf8') : '';
  c.deadCall = Number(/(\d+) dead call msg/.exec(screen)?.[1] ?? 0);
  c.outOfCall = Number(/(\d+) out-of-call msg/.exec(screen)?.[1] ?? 0);
  c.total = c.sent + c.received + c.retransSent + c.retransReceived + c.unexpected + c.deadCall + c.outOfCall;
  return c;
}

/** SuccessfulCall(C) and FailedCall(C) from the last row of the -stf statistics file. */
export function readSippCalls(run: SippRun): { successful: number; failed: number } {
  const lines = readFileSync(run.statFile, 'utf8').split('\n').filter((l) => l.trim());
  const header = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`no ${name} column in ${run.statFile}`);
    return Number(last[i]);
  };
  return { successful: col('SuccessfulCall(C)'), failed: col('FailedCall(C)') };
}
