/**
 * `sipscope serve` as a real process, and what its peers need around it: SIPp runs of the
 * scenarios in sipp-responder/ (optionally inside a network namespace), SIPp's message logs read
 * back, network namespaces with packet loss, and a tiny UDP SIP client with its own digest code
 * (deliberately not the server's) for the checks no stock peer can make.
 *
 * Everything started here is registered in a `Processes` set and every namespace in a
 * `Namespaces` set: the test's `after` hook ends them, whatever failed.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binPath } from './cli.js';
import { Proc, freeUdpPorts, waitFor, type Processes, type SippRun } from './sipp.js';

export const SCENARIOS = fileURLToPath(new URL('./sipp-responder/', import.meta.url));

/** A command line, run inside `netns` when given (`ip netns exec` execs in place: same pid). */
function inNetns(netns: string | undefined, command: string, args: string[]): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, command, ...args]] : [command, args];
}

/** Resolves when `re` shows up in the process's stderr; rejects if it exits first or time runs out. */
export async function waitForOutput(p: Proc, re: RegExp, what: string, timeoutMs = 10_000, stream: 'stdout' | 'stderr' = 'stderr'): Promise<void> {
  let exited = false;
  void p.exited.then(() => (exited = true), () => (exited = true));
  await waitFor(() => re.test(p[stream]) || exited, what, timeoutMs);
  if (!re.test(p[stream])) throw new Error(`${what}: the process exited first (stderr: ${p.stderr.trim().slice(-2000)})`);
}

/** A port free for both UDP and TCP on 127.0.0.1 (the server listens on both with one number). */
export async function freeUdpTcpPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const [port] = await freeUdpPorts(1);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port!;
  }
  throw new Error('no port free for both UDP and TCP');
}

export interface ResponderOptions {
  dir: string;
  procs: Processes;
  /** username,password lines; written to DIR/users.csv unless `usersFile` is given. */
  users?: Array<[string, string]>;
  usersFile?: string;
  /** Extra `serve` options (--auth-calls, --record F, --state D, …). */
  args?: string[];
  /** Default: a free port (UDP and TCP); inside a namespace, required. */
  port?: number;
  netns?: string;
  /** Kill deadline. Default 120 s. */
  timeoutMs?: number;
}

export interface Responder {
  proc: Proc;
  port: number;
  /** host:port to point peers at. */
  addr: string;
  usersFile: string;
  /** SIGTERM, then the exit: `serve` must stop cleanly (code 0, "stopped"). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts `sipscope serve` and waits for "serving on". */
export async function startResponder(o: ResponderOptions): Promise<Responder> {
  const port = o.port ?? (await freeUdpTcpPort());
  const usersFile = o.usersFile ?? join(o.dir, 'users.csv');
  if (o.users) writeFileSync(usersFile, o.users.map(([u, p]) => `${u},${p}\n`).join(''));
  const [cmd, args] = inNetns(o.netns, process.execPath, [
    binPath, 'serve', '--listen', `udp:127.0.0.1:${port},tcp:127.0.0.1:${port}`, '--users', usersFile, ...(o.args ?? []),
  ]);
  const proc = new Proc(cmd, args, { cwd: o.dir, procs: o.procs, timeoutMs: o.timeoutMs ?? 120_000 });
  await waitForOutput(proc, /sipscope: serving on/, 'sipscope serve to listen', 15_000);
  return {
    proc,
    port,
    addr: `127.0.0.1:${port}`,
    usersFile,
    async stop() {
      if (proc.running) proc.child.kill('SIGTERM');
      const r = await proc.exited;
      return { ...r, stderr: proc.stderr };
    },
  };
}

export interface ScenarioOptions {
  /** A file in sipp-responder/ (without .xml), or a built-in: 'sn:uac' / 'sn:uas'. */
  scenario: string;
  dir: string;
  procs: Processes;
  /** Local SIP port. */
  port: number;
  remote?: string;
  /** Calls to make or take (-m). */
  calls: number;
  rate?: number;
  /** An injection file (-inf), with its first line (SEQUENTIAL…). */
  inf?: string;
  /** -key NAME VALUE pairs ([NAME] in the scenario). */
  keys?: Record<string, string>;
  /** -s: the Request-URI user. */
  service?: string;
  extra?: string[];
  netns?: string;
  /** A name for the trace files (several runs of one scenario in one dir). Default: scenario. */
  tag?: string;
  timeoutMs?: number;
}

export interface ScenarioRun extends SippRun {
  messageFile: string;
  logFile: string;
}

/**
 * Starts SIPp on a scenario of sipp-responder/, with its statistics (-trace_stat, for
 * `readSippCalls`), its short and full message logs and its <log> actions.
 */
export function startScenario(o: ScenarioOptions): ScenarioRun {
  const tag = o.tag ?? o.scenario.replace(/^sn:/, '');
  const timeoutMs = o.timeoutMs ?? 30_000;
  const files = {
    shortMessageFile: join(o.dir, `${tag}-short.log`),
    statFile: join(o.dir, `${tag}-stat.csv`),
    screenFile: join(o.dir, `${tag}-screen.log`),
    messageFile: join(o.dir, `${tag}-msg.log`),
    logFile: join(o.dir, `${tag}-logs.log`),
  };
  const args = o.scenario.startsWith('sn:') ? ['-sn', o.scenario.slice(3)] : ['-sf', join(SCENARIOS, `${o.scenario}.xml`)];
  if (o.remote) args.push(o.remote);
  if (o.inf) {
    const inf = join(o.dir, `${tag}-inf.csv`);
    writeFileSync(inf, o.inf);
    args.push('-inf', inf);
  }
  for (const [k, v] of Object.entries(o.keys ?? {})) args.push('-key', k, v);
  if (o.service) args.push('-s', o.service);
  if (o.rate !== undefined) args.push('-r', String(o.rate));
  args.push(
    '-i', '127.0.0.1', '-p', String(o.port), '-m', String(o.calls), '-nostdin',
    '-timeout', `${Math.max(1, Math.floor(timeoutMs / 1000) - 2)}s`,
    '-trace_shortmsg', '-shortmessage_file', files.shortMessageFile,
    '-trace_msg', '-message_file', files.messageFile,
    '-trace_logs', '-log_file', files.logFile,
    '-trace_stat', '-stf', files.statFile, '-fd', '1',
    '-trace_screen', '-screen_file', files.screenFile,
    ...(o.extra ?? []),
  );
  const [cmd, full] = inNetns(o.netns, 'sipp', args);
  const p = new Proc(cmd, full, { cwd: o.dir, procs: o.procs, timeoutMs }) as ScenarioRun;
  Object.assign(p, files, { role: 'uac', dir: o.dir });
  return p;
}

/** Waits for a SIPp run and returns its exit code (0: every call succeeded), with its output on failure. */
export async function sippDone(run: Proc): Promise<{ code: number | null; why: string }> {
  const r = await run.exited;
  return { code: r.code, why: `sipp exited ${r.code}/${r.signal}: ${run.stderr.slice(-1500)} ${run.stdout.slice(-500)}` };
}

/** One message out of SIPp's -trace_msg log. */
export interface LoggedMessage {
  dir: 'sent' | 'received';
  text: string;
  startLine: string;
  /** Lower-case header name → values in order. */
  headers: Map<string, string[]>;
  body: string;
}

const COMPACT: Record<string, string> = { i: 'call-id', f: 'from', t: 'to', m: 'contact', v: 'via', l: 'content-length', c: 'content-type', k: 'supported' };

/** A SIP message's text split into start line, headers (by lower-case name) and body. */
export function parseSipText(text: string): Omit<LoggedMessage, 'dir'> {
  const norm = text.replace(/\r\n/g, '\n');
  const cut = norm.indexOf('\n\n');
  const head = cut < 0 ? norm : norm.slice(0, cut);
  const body = cut < 0 ? '' : norm.slice(cut + 2);
  const lines = head.split('\n');
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    let name = line.slice(0, i).trim().toLowerCase();
    name = COMPACT[name] ?? name;
    headers.set(name, [...(headers.get(name) ?? []), line.slice(i + 1).trim()]);
  }
  return { text, startLine: lines[0]!.trim(), headers, body };
}

/** SIPp's -trace_msg file: "----- date\nUDP message sent (N bytes):\n\n<message>". */
export function readMessageLog(file: string): LoggedMessage[] {
  if (!existsSync(file)) return [];
  const out: LoggedMessage[] = [];
  for (const block of readFileSync(file, 'utf8').split(/^-{20,} [^\n]*\n/m)) {
    const m = /^(?:UDP|TCP) message (sent|received)[^\n]*\n\n([\s\S]*)$/.exec(block);
    if (!m) continue;
    const text = m[2]!.replace(/\n+$/, '\n');
    if (!/^(SIP\/2\.0 \d{3}|[A-Z]+ \S+ SIP\/2\.0)/.test(text)) continue;
    out.push({ dir: m[1] as 'sent' | 'received', ...parseSipText(text) });
  }
  return out;
}

export const header = (m: Pick<LoggedMessage, 'headers'>, name: string): string | undefined => m.headers.get(name.toLowerCase())?.[0];
export const tagOf = (v: string | undefined): string | undefined => (v ? /;\s*tag=([^;>\s]+)/i.exec(v)?.[1] : undefined);
export const isRequest = (m: { startLine: string }, method: string): boolean => m.startLine.startsWith(`${method} `);
export const statusOf = (m: { startLine: string }): number => Number(/^SIP\/2\.0 (\d{3})/.exec(m.startLine)?.[1] ?? 0);

// ---------------------------------------------------------------------------------------------
// Network namespaces

/** Why `ip netns` cannot be used here, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  const name = `ssprobe${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8', timeout: 10_000 });
  if (add.error || add.status !== 0) return `ip netns add is not permitted here (${add.error?.message ?? add.stderr.trim()})`;
  spawnSync('ip', ['netns', 'del', name], { timeout: 10_000 });
  return undefined;
}

function ipx(args: string[], netns?: string): void {
  const [cmd, full] = netns ? ['ip', ['netns', 'exec', netns, ...args]] : [args[0]!, args.slice(1)];
  const r = spawnSync(cmd, full, { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) throw new Error(`${args.join(' ')}${netns ? ` (in ${netns})` : ''}: ${r.error?.message ?? r.stderr.trim()}`);
}

export interface Netns {
  name: string;
  /** How the loss was made: 'netem', 'nftables', or undefined for none. */
  loss: string | undefined;
  /** Packets the nftables rule dropped so far (undefined with netem or no loss). */
  dropped(): number | undefined;
}

/** Namespaces a test made; destroyAll() deletes them (and so everything bound inside). */
export class Namespaces {
  private readonly names = new Set<string>();

  /**
   * A fresh namespace with `lo` up, optionally a veth pair carrying `vethAddr` (for peers that
   * ignore loopback for media) and `lossPercent` random loss on everything inside: tc netem
   * when the kernel has it, else an nftables rule dropping that share of UDP datagrams.
   */
  create(prefix: string, o: { vethAddr?: string; lossPercent?: number } = {}): Netns {
    const name = `${prefix}${process.pid}${this.names.size}`;
    ipx(['ip', 'netns', 'add', name]);
    this.names.add(name);
    ipx(['ip', 'link', 'set', 'lo', 'up'], name);
    if (o.vethAddr) {
      ipx(['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'], name);
      ipx(['ip', 'addr', 'add', o.vethAddr, 'dev', 'v0'], name);
      ipx(['ip', 'link', 'set', 'v0', 'up'], name);
      ipx(['ip', 'link', 'set', 'v1', 'up'], name);
    }
    let loss: string | undefined;
    if (o.lossPercent) {
      const pct = String(o.lossPercent);
      try {
        ipx(['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'loss', `${pct}%`], name);
        loss = 'netem';
      } catch {
        // This kernel has no sch_netem: drop the same share of UDP datagrams with nftables, on
        // input (a drop on output makes sendto() fail with EPERM, which is not a lost packet).
        ipx(['nft', 'add', 'table', 'inet', 'loss'], name);
        ipx(['nft', 'add', 'chain', 'inet', 'loss', 'in', '{ type filter hook input priority 0; policy accept; }'], name);
        ipx(['nft', 'add', 'rule', 'inet', 'loss', 'in', 'meta', 'l4proto', 'udp', 'numgen', 'random', 'mod', '100', '<', pct, 'counter', 'drop'], name);
        loss = 'nftables';
      }
    }
    return {
      name,
      loss,
      dropped: () => {
        if (loss !== 'nftables') return undefined;
        const r = spawnSync('ip', ['netns', 'exec', name, 'nft', 'list', 'chain', 'inet', 'loss', 'in'], { encoding: 'utf8', timeout: 10_000 });
        const m = /counter packets (\d+)/.exec(r.stdout);
        return m ? Number(m[1]) : undefined;
      },
    };
  }

  destroyAll(): void {
    for (const n of this.names) spawnSync('ip', ['netns', 'del', n], { timeout: 10_000 });
    this.names.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// A tiny UDP SIP client

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

export interface DigestInput {
  user: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  uri: string;
  nc?: string;
  cnonce?: string;
  /** The username put in the header (default `user`): to send one user's hash under another name. */
  headerUser?: string;
}

/** An RFC 2617 MD5 qop=auth Authorization value, computed here independently of the server. */
export function digestAuthorization(d: DigestInput): string {
  const nc = d.nc ?? '00000001';
  const cnonce = d.cnonce ?? randomBytes(6).toString('hex');
  const ha1 = md5(`${d.user}:${d.realm}:${d.password}`);
  const ha2 = md5(`${d.method}:${d.uri}`);
  const response = md5(`${ha1}:${d.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${d.headerUser ?? d.user}", realm="${d.realm}", nonce="${d.nonce}", uri="${d.uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

/** The parameters of a Digest challenge. */
export function challengeParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of value.replace(/^\s*Digest\s+/i, '').matchAll(/([a-zA-Z-]+)\s*=\s*("([^"]*)"|[^,\s]+)/g)) out[m[1]!.toLowerCase()] = m[3] ?? m[2]!;
  return out;
}

export type Received = ReturnType<typeof parseSipText> & { from: string; at: number };

/** A UDP socket on 127.0.0.1 that sends SIP text and collects what comes back. */
export class UdpSipClient {
  readonly received: Received[] = [];
  private seq = 0;

  private constructor(private readonly sock: dgram.Socket, readonly port: number, private readonly server: number) {
    sock.on('message', (b, r) => this.received.push({ ...parseSipText(b.toString('latin1')), from: `${r.address}:${r.port}`, at: Date.now() }));
  }

  static async open(serverPort: number): Promise<UdpSipClient> {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(0, '127.0.0.1', () => resolve());
    });
    sock.on('error', () => {});
    return new UdpSipClient(sock, sock.address().port, serverPort);
  }

  send(data: string | Buffer, port = this.server): void {
    this.sock.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, port, '127.0.0.1');
  }

  /** A new branch and Call-ID, for building requests. */
  fresh(): { branch: string; callId: string; tag: string } {
    const r = randomBytes(6).toString('hex');
    return { branch: `z9hG4bK${r}${++this.seq}`, callId: `${r}-${this.seq}@client`, tag: `t${r}` };
  }

  /** Waits for a message matching `pred` that arrived after index `since`. */
  async waitFor(pred: (m: Received) => boolean, timeoutMs = 3000, since = 0): Promise<Received> {
    let found: Received | undefined;
    await waitFor(() => (found = this.received.slice(since).find(pred)) !== undefined, 'a SIP message', timeoutMs, 5);
    return found!;
  }

  /** Sends `text` and resolves with the first final response (or a given status) carrying its branch. */
  async request(text: string, timeoutMs = 3000): Promise<Received> {
    const branch = /branch=([^;\s\r\n]+)/.exec(text)?.[1];
    const since = this.received.length;
    this.send(text);
    return this.waitFor((m) => m.startLine.startsWith('SIP/2.0 ') && !m.startLine.startsWith('SIP/2.0 1') && (branch === undefined || (header(m, 'via') ?? '').includes(branch)), timeoutMs, since);
  }

  /** Everything received after `since` within `ms`. */
  async quiet(ms: number, since = this.received.length): Promise<Received[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.received.slice(since);
  }

  close(): void {
    this.sock.close();
  }
}

export interface RegisterOptions {
  user: string;
  /** The To/From user when it should differ from the credentials' user. */
  aor?: string;
  serverPort: number;
  contacts?: string[];
  expires?: number;
  callId?: string;
  cseq?: number;
  branch?: string;
  authorization?: string;
  extra?: string[];
}

/** A REGISTER as a phone sends it. */
export function registerText(c: UdpSipClient, o: RegisterOptions): string {
  const f = c.fresh();
  const aor = o.aor ?? o.user;
  const lines = [
    `REGISTER sip:127.0.0.1:${o.serverPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${c.port};rport;branch=${o.branch ?? f.branch}`,
    'Max-Forwards: 70',
    `From: <sip:${aor}@127.0.0.1:${o.serverPort}>;tag=${f.tag}`,
    `To: <sip:${aor}@127.0.0.1:${o.serverPort}>`,
    `Call-ID: ${o.callId ?? f.callId}`,
    `CSeq: ${o.cseq ?? 1} REGISTER`,
    ...(o.contacts ?? []).map((x) => `Contact: ${x}`),
    ...(o.expires !== undefined ? [`Expires: ${o.expires}`] : []),
    ...(o.authorization ? [`Authorization: ${o.authorization}`] : []),
    ...(o.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  return lines.join('\r\n');
}

/**
 * REGISTER → 401 → REGISTER with credentials (same Call-ID, CSeq + 1): the second response.
 * `tamper` may change the digest input of the answer (another uri, another user's name…).
 */
export async function registerWithAuth(c: UdpSipClient, o: RegisterOptions & { password: string; tamper?: (d: DigestInput) => DigestInput }): Promise<{ challenge: Received; response: Received; sent: string }> {
  const callId = o.callId ?? c.fresh().callId;
  const cseq = o.cseq ?? 1;
  const challenge = await c.request(registerText(c, { ...o, callId, cseq, authorization: undefined }));
  if (!challenge.startLine.startsWith('SIP/2.0 401')) return { challenge, response: challenge, sent: '' };
  const p = challengeParams(header(challenge, 'www-authenticate') ?? '');
  let d: DigestInput = { user: o.user, password: o.password, realm: p['realm']!, nonce: p['nonce']!, method: 'REGISTER', uri: `sip:127.0.0.1:${o.serverPort}` };
  if (o.tamper) d = o.tamper(d);
  const sent = registerText(c, { ...o, callId, cseq: cseq + 1, authorization: digestAuthorization(d) });
  const response = await c.request(sent);
  return { challenge, response, sent };
}

/** VmRSS of a process in KiB, from /proc (undefined when unknown). */
export function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A child with its standard input kept open (baresip's stdio module reads menu commands there). */
export class Softphone extends Proc {
  constructor(command: string, args: string[], opts: { cwd: string; procs: Processes; timeoutMs: number }) {
    super(command, args, { ...opts, stdin: true });
  }

  /** Types a menu command and Enter. */
  command(c: string): void {
    if (this.child.stdin!.writable) this.child.stdin!.write(`${c}\n`);
  }
}

/** baresip's output without its per-second status line, colours and the echo of typed commands. */
export function clean(s: string): string {
  return s
    .replace(/\[\d+:\d\d:\d\d\] audio=[^\n]*?bit\/s\)\s*/g, '')
    .replace(/\x1b\[[0-9;]*m/g, '')
    .split('\n')
    .filter((l) => !l.startsWith('/'))
    .join('\n');
}
