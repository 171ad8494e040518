/**
 * Running the real CLI (`node bin/sipscope …`, the built dist/) as a child process, the way a user
 * does. Every child has a deadline: a hung CLI fails the test instead of hanging the run.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const binPath = fileURLToPath(new URL('../../bin/sipscope', import.meta.url));

export interface RunResult {
  /** Exit code, or null when the child was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the deadline passed and the child was killed. */
  timedOut: boolean;
}

export interface RunOptions {
  /** Written to the child's stdin, then stdin is closed. Without it stdin is /dev/null. */
  input?: Buffer | string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default 20 s. */
  timeoutMs?: number;
}

/** Runs any command; resolves when it has exited and its output streams are closed. */
export function run(command: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const spawnOpts: SpawnOptions = {
    cwd: opts.cwd ?? repoRoot,
    env: opts.env ?? process.env,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  };
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, spawnOpts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 20_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    if (opts.input !== undefined) {
      // The CLI may stop reading early (a usage error): ignore EPIPE on our side of the pipe.
      child.stdin!.on('error', () => {});
      child.stdin!.end(opts.input);
    }
  });
}

/** `node bin/sipscope ...args`. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [binPath, ...args], opts);
}

/** A shell pipeline (bash, with pipefail so a failing sipscope is not hidden by `head`). */
export function runShell(script: string, opts: RunOptions = {}): Promise<RunResult> {
  return run('bash', ['-o', 'pipefail', '-c', script], opts);
}

/** Quotes one word for bash. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** What a one-line user-facing error looks like: exactly one line, no stack frames. */
export function isOneLineError(stderr: string): boolean {
  return /^sipscope: [^\n]+\n$/.test(stderr) && !/\n\s+at /.test(stderr);
}

/** Ends a child this test started (by its pid) and waits for it; harmless if already gone. */
export async function killAndWait(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL', waitMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, waitMs).unref())]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}
