/**
 * The real terminal UI in a real terminal: tmux runs it in a detached session of a given size;
 * tests type with send-keys and read the screen with capture-pane, polling until what they wait
 * for is there (never a fixed sleep). Every session lives on a private tmux server (its own
 * socket), which `close()` ends, so nothing outlives a test and a user's tmux is never touched.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, shq } from './cli.js';

/** Why tmux cannot be used here, or undefined when it can. */
export function tmuxUnavailable(): string | undefined {
  const r = spawnSync('tmux', ['-V'], { encoding: 'utf8', timeout: 5000 });
  if (r.error) return `tmux not runnable (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install it: apt-get install tmux`;
  if (!/^tmux \d/.test(r.stdout)) return 'tmux -V does not look like tmux';
  return undefined;
}

let counter = 0;
let config: string | undefined;

/** The server's configuration: panes stay (with what they showed) after their command ends. */
function configFile(): string {
  if (!config) {
    config = join(tmpdir(), `sipscope-tmux-${process.pid}.conf`);
    writeFileSync(config, 'set -g remain-on-exit on\nset -g status off\n');
  }
  return config;
}

export interface TmuxOptions {
  cols: number;
  rows: number;
  /** The command and its arguments; run with exec, so the pane's process is the command itself. */
  command: string[];
  env?: Record<string, string>;
  cwd: string;
}

/** True while `pid` is a live process (a zombie, dead but not reaped, is not). */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** CPU time (user + system, in clock ticks) a process has used, from /proc; undefined once gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

export class TmuxSession {
  readonly socket: string;
  readonly name = 'ui';
  /** The pane's process: the command. */
  pid = -1;
  private socketPath = '';

  private constructor() {
    this.socket = `sipscope-test-${process.pid}-${++counter}`;
  }

  private tmux(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return run('tmux', ['-L', this.socket, '-f', configFile(), ...args], { timeoutMs: 10_000 });
  }

  static async start(o: TmuxOptions): Promise<TmuxSession> {
    const s = new TmuxSession();
    const env = Object.entries({ LANG: 'C.UTF-8', ...o.env }).map(([k, v]) => `${k}=${shq(v)}`).join(' ');
    const cmd = `cd ${shq(o.cwd)} && exec env ${env} ${o.command.map(shq).join(' ')}`;
    const r = await s.tmux(['new-session', '-d', '-s', s.name, '-x', String(o.cols), '-y', String(o.rows), cmd]);
    if (r.code !== 0) throw new Error(`tmux new-session failed: ${r.stderr}`);
    const p = await s.tmux(['list-panes', '-t', s.name, '-F', '#{pane_pid} #{socket_path}']);
    const [pid, path] = p.stdout.trim().split(' ');
    s.pid = Number(pid);
    s.socketPath = path ?? '';
    return s;
  }

  /** The screen as text; with escapes: colours and attributes as SGR sequences too. */
  async screen(escapes = false): Promise<string> {
    const r = await this.tmux(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.name]);
    return r.stdout;
  }

  /** Keys by tmux name (Enter, Down, Escape, C-u, …) or literal text with `literal`. */
  async keys(...keys: string[]): Promise<void> {
    await this.tmux(['send-keys', '-t', this.name, ...keys]);
  }

  async type(text: string): Promise<void> {
    await this.tmux(['send-keys', '-t', this.name, '-l', text]);
  }

  /** Polls the screen until `pred` holds; returns that screen. Throws with the last screen on timeout. */
  async waitFor(pred: (screen: string) => boolean, what: string, timeoutMs = 10_000, escapes = false): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = await this.screen(escapes);
      if (pred(last)) return last;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen was:\n${last}`);
      await new Promise((r) => setTimeout(r, 40));
    }
  }

  /** Waits for the text to appear on screen. */
  waitForText(text: string | RegExp, timeoutMs = 10_000): Promise<string> {
    return this.waitFor((s) => (typeof text === 'string' ? s.includes(text) : text.test(s)), JSON.stringify(String(text)), timeoutMs);
  }

  /** Resizes the terminal, as a user resizing their window does (the program gets SIGWINCH). */
  async resize(cols: number, rows: number): Promise<void> {
    await this.tmux(['resize-window', '-t', this.name, '-x', String(cols), '-y', String(rows)]);
  }

  /** Is the pane's command still running? */
  async running(): Promise<boolean> {
    const r = await this.tmux(['list-panes', '-t', this.name, '-F', '#{pane_dead}']);
    return r.code === 0 && r.stdout.trim() === '0';
  }

  /** Ends the session the way a closed terminal does (the pane's process gets SIGHUP). */
  async killSession(): Promise<void> {
    await this.tmux(['kill-session', '-t', this.name]);
  }

  /** Ends this test's tmux server and with it anything still in it, and removes its socket. */
  async close(): Promise<void> {
    await this.tmux(['kill-server']);
    if (this.socketPath.includes('sipscope-test-')) rmSync(this.socketPath, { force: true });
  }
}
