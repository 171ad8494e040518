import { SipscopeError } from '../capture/index.js';
import { DEFAULT_TIMERS, isDigestAlgorithm, realClock, type DigestAlgorithm } from '../sip/index.js';
import { Recorder, SipServer, parseListen, type LogEntry } from '../responder/index.js';
import { loadSecrets } from './analyze.js';

export interface ServeOptions {
  listen: string;
  users?: string;
  password?: string;
  realm?: string;
  authCalls?: boolean;
  record?: string;
  cdr?: string;
  state?: string;
  xcid?: boolean;
  json?: boolean;
  quiet?: boolean;
  algorithms?: string;
  ringTimeout?: string;
  minExpires?: string;
  maxExpires?: string;
  shedBusy?: string;
  retryAfter?: string;
}

function count(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new SipscopeError('E_USAGE', `${name} must be a whole number, got "${v}"`);
  return Number(v);
}

function fraction(name: string, v: string | undefined): number {
  if (v === undefined) return 0;
  if (!/^(0(\.\d+)?|1(\.0*)?|\.\d+)$/.test(v)) throw new SipscopeError('E_USAGE', `${name} must be a fraction between 0 and 1, got "${v}"`);
  return Number(v);
}

/** `serve`: run the registrar and B2BUA until SIGINT/SIGTERM. */
export async function serveCommand(o: ServeOptions): Promise<void> {
  let listen;
  try {
    listen = parseListen(o.listen);
  } catch (err) {
    throw new SipscopeError('E_USAGE', (err as Error).message);
  }
  const secrets = loadSecrets({ users: o.users, password: o.password });
  if (!secrets) throw new SipscopeError('E_USAGE', 'serve needs --users FILE (username,password[,realm] lines)');
  const algorithms = (o.algorithms ?? 'MD5').split(',').map((a) => a.trim().toUpperCase());
  const bad = algorithms.find((a) => !isDigestAlgorithm(a));
  if (bad) throw new SipscopeError('E_USAGE', `unknown digest algorithm "${bad}" (MD5, SHA-256, SHA-512-256, and -sess variants)`);
  const overload = { maxBusy: fraction('--shed-busy', o.shedBusy), retryAfterS: count('--retry-after', o.retryAfter, 5) };
  const realm = o.realm ?? listen[0]!.host;
  const recorder = await Recorder.open({ record: o.record, cdr: o.cdr, secrets, now: realClock.now });
  const log = o.quiet
    ? undefined
    : o.json
      ? (e: LogEntry) => process.stdout.write(`${JSON.stringify(e)}\n`)
      : (e: LogEntry) => process.stdout.write(`${e.time}  ${e.transport} ${e.src.padEnd(21)} ${e.method.padEnd(8)} ${e.uri}  -> ${e.status || ''}${e.note ? `  (${e.note})` : ''}\n`);
  const server = new SipServer({
    listen,
    secrets,
    realm,
    authCalls: o.authCalls === true,
    xcid: o.xcid === true,
    stateDir: o.state,
    algorithms: algorithms as DigestAlgorithm[],
    ringTimeoutMs: (Number(o.ringTimeout ?? '60') || 60) * 1000,
    registrar: { defaultExpires: 3600, minExpires: Number(o.minExpires ?? '60') || 0, maxExpires: Number(o.maxExpires ?? '7200') || 7200 },
    nonceTtlMs: 300_000,
    throttle: { maxFailures: 10, windowMs: 60_000, blockMs: 60_000 },
    timers: DEFAULT_TIMERS,
    clock: realClock,
    recorder,
    overload,
    log,
  });
  let locals;
  try {
    locals = await server.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new SipscopeError('E_LISTEN', `cannot listen: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EACCES' ? 'permission denied' : e.message} (${o.listen})`);
  }
  const shedding = server.overload ? `, new calls shed (503) when more than ${Math.round(server.overload.config.maxBusy * 100)} % busy` : '';
  process.stderr.write(`sipscope: serving on ${locals.map((l) => `${l.proto.toLowerCase()}:${l.ip}:${l.port}`).join(', ')} realm "${realm}"${o.authCalls ? ', calls authenticated' : ''}${shedding}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  process.stderr.write(`sipscope: stopped${server.overload?.shed ? ` (${server.overload.shed} requests refused with 503 while busy)` : ''}\n`);
}
