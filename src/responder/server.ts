import { randomFillSync } from 'node:crypto';
import type { Secrets } from '../model/index.js';
import { buildResponse, parseVia, SipMessage, type Clock, type DigestAlgorithm, type ResponseOptions, type TimerBase } from '../sip/index.js';
import { TransactionLayer } from '../transaction/index.js';
import { Authenticator, type ThrottleConfig } from './authenticator.js';
import { B2bua } from './b2bua.js';
import { BindingStore } from './bindings.js';
import type { RequestContext } from './context.js';
import { NonceIssuer } from './nonce.js';
import { eventLoopBusy, OverloadGuard, type LoadSource, type OverloadConfig } from './overload.js';
import type { Recorder } from './recorder.js';
import { DEFAULT_REGISTRAR, Registrar, type RegistrarConfig } from './registrar.js';
import { SipTransport, type ListenSpec, type Peer, type Proto } from './transport.js';

export interface ServerOptions {
  listen: ListenSpec[];
  secrets: Secrets;
  realm: string;
  authCalls: boolean;
  xcid: boolean;
  stateDir?: string;
  algorithms: DigestAlgorithm[];
  ringTimeoutMs: number;
  registrar?: RegistrarConfig;
  nonceTtlMs: number;
  throttle: ThrottleConfig;
  timers: TimerBase;
  clock: Clock;
  recorder?: Recorder;
  /** Refuse part of the new calls and registrations with 503 when saturated (off when absent). */
  overload?: OverloadConfig;
  /** How busy the server is (default: the event loop's utilisation); for tests. */
  loadSource?: LoadSource;
  /** Draws for the admission fraction (default Math.random); for tests. */
  random?: () => number;
  /** One line per transaction; undefined to stay quiet. */
  log?: (entry: LogEntry) => void;
}

export interface LogEntry {
  time: string;
  transport: Proto;
  src: string;
  method: string;
  uri: string;
  call_id: string;
  status: number;
  note: string;
}

/**
 * A random To tag (RFC 3261 §19.3: cryptographically random, 64 bits here), cut from a pool
 * refilled 4 KiB at a time: one randomBytes() call per response showed up in profiles.
 */
const tagPool = { buf: Buffer.alloc(4096), off: 4096 };
function freshTag(): string {
  if (tagPool.off + 8 > tagPool.buf.length) {
    randomFillSync(tagPool.buf);
    tagPool.off = 0;
  }
  tagPool.off += 8;
  return tagPool.buf.toString('hex', tagPool.off - 8, tagPool.off);
}

/** A Send for a server transaction that holds the transport and the destination only. */
function sender(transport: SipTransport, dest: Peer): (bytes: Buffer) => void {
  return (bytes) => transport.send(dest, bytes);
}

/** Malformations that leave no way to build a sane response or route it (§8.2.2, §16.3). */
const FATAL = new Set(['missing-call-id', 'missing-cseq', 'bad-cseq', 'missing-from', 'missing-to', 'bad-content-length', 'body-truncated', 'cseq-method-mismatch']);

/**
 * `sipscope serve`: a registrar and B2BUA on the shared SIP core — the analyzer's parser and
 * framing, the transaction machines, and the digest code.
 */
export class SipServer {
  readonly transport: SipTransport;
  readonly layer: TransactionLayer;
  readonly store: BindingStore;
  private readonly registrar: Registrar;
  private readonly b2bua: B2bua;
  readonly counters = { received: 0, notSip: 0, malformed: 0, rejected: 0 };
  /** Load shedding, when configured (see overload.ts). */
  readonly overload: OverloadGuard | undefined;

  constructor(private readonly opts: ServerOptions) {
    const now = (): number => opts.clock.now();
    this.transport = new SipTransport({
      message: (raw, from, local) => this.onMessage(raw, from, local),
      rejected: () => this.counters.rejected++,
    });
    this.layer = new TransactionLayer({ timers: opts.timers, clock: opts.clock });
    this.store = new BindingStore(opts.stateDir, now);
    const nonces = new NonceIssuer(opts.nonceTtlMs, now);
    const auth = new Authenticator(opts.secrets, opts.realm, nonces, opts.algorithms, opts.throttle, now);
    this.registrar = new Registrar(auth, this.store, opts.registrar ?? DEFAULT_REGISTRAR, now);
    this.b2bua = new B2bua(
      {
        layer: this.layer,
        send: (to, bytes) => this.transport.send(to, bytes),
        local: (proto) => this.transport.localFor(proto) ?? this.transport.locals[0]!,
        clock: opts.clock,
        timers: opts.timers,
        log: (line) => opts.log?.({ time: new Date(now()).toISOString(), transport: 'UDP', src: '-', method: '-', uri: '-', call_id: '-', status: 0, note: line }),
      },
      { authCalls: opts.authCalls, xcid: opts.xcid, ringTimeoutMs: opts.ringTimeoutMs, realmHost: opts.realm },
      auth,
      this.store,
      opts.secrets,
    );
    if (opts.overload && opts.overload.maxBusy > 0) this.overload = new OverloadGuard(opts.overload, opts.loadSource ?? eventLoopBusy(), opts.random);
    const rec = opts.recorder;
    if (rec) this.transport.onSent = (bytes, to, from) => rec.message(bytes, SipMessage.parse(bytes, to.proto === 'TCP'), from, to);
  }

  async start(): Promise<Peer[]> {
    await this.transport.listen(this.opts.listen);
    return this.transport.locals;
  }

  async stop(): Promise<void> {
    this.overload?.stop();
    await this.transport.close();
    this.store.flush();
    await this.opts.recorder?.close();
  }

  private onMessage(raw: Buffer, from: Peer, local: Peer): void {
    this.counters.received++;
    const msg = SipMessage.parse(raw, from.proto === 'TCP');
    this.opts.recorder?.message(raw, msg, from, local);
    if (!msg) {
      this.counters.notSip++;
      return;
    }
    if (!msg.isRequest) {
      if (!this.layer.response(msg)) return; // stray response: nothing waits for it
      return;
    }
    const topVia = msg.values('via')[0];
    const via = topVia ? parseVia(topVia) : undefined;
    if (!via) {
      this.counters.malformed++;
      return; // no Via: a response could not be routed (§18.2.2)
    }
    const dest = this.responseDestination(via.params, via.port, from);
    // Made outside this scope: a closure created here would share its context with ctx.reply and
    // keep the whole request (message, buffers, context) alive as long as the transaction, 32 s.
    const send = sender(this.transport, dest);
    const stamped = this.stampVia(topVia!, via.host, from);
    const fatal = msg.problems.filter((p) => FATAL.has(p));
    if (fatal.length) {
      this.counters.malformed++;
      if (msg.method !== 'ACK') send(buildResponse(msg, 400, { reason: `Bad Request (${fatal.join(', ')})` }, stamped));
      this.log(msg, from, 400, fatal.join(','));
      return;
    }
    const reliable = from.proto === 'TCP';
    const incoming = this.layer.request(msg, send, reliable);
    if (!incoming) return;
    const notes: string[] = [];
    let logged = false;
    // §8.2.6.2: a UAS MUST add a To tag to every response but 100; one tag per transaction.
    let tag: string | undefined;
    const ctx: RequestContext = {
      msg,
      peer: from,
      local,
      tx: incoming.tx,
      note: (t) => notes.push(t),
      reply: (status: number, o: ResponseOptions = {}): Buffer => {
        const bytes = buildResponse(msg, status, { ...o, toTag: o.toTag ?? (tag ??= freshTag()) }, stamped);
        if (incoming.tx) incoming.tx.respond(status, bytes);
        else send(bytes);
        if (status >= 200 && !logged) {
          logged = true;
          this.log(msg, from, status, notes.join('; '));
        }
        return bytes;
      },
    };
    this.dispatch(ctx);
  }

  private dispatch(ctx: RequestContext): void {
    const msg = ctx.msg;
    const maxf = msg.get('max-forwards');
    if (maxf !== undefined && Number(maxf) <= 0 && msg.method !== 'ACK') return void ctx.reply(483);
    // Saturated: part of the new work is turned away at once; calls already up go on (BYE, re-INVITE…).
    if ((msg.method === 'REGISTER' || (msg.method === 'INVITE' && !msg.toTag)) && this.overload?.refuse()) {
      ctx.note('overloaded');
      return void ctx.reply(503, { headers: [['Retry-After', String(this.overload.config.retryAfterS)]] });
    }
    switch (msg.method) {
      case 'REGISTER':
        return this.registrar.handle(ctx);
      case 'INVITE':
        if (msg.toTag) {
          if (!this.b2bua.inDialog(ctx)) ctx.reply(481);
          return;
        }
        return this.b2bua.invite(ctx);
      case 'ACK':
        return this.b2bua.ack(msg);
      case 'CANCEL':
        return this.b2bua.cancel(ctx, this.layer.inviteFor(msg));
      case 'OPTIONS':
        if (msg.toTag && this.b2bua.inDialog(ctx)) return;
        ctx.reply(200, { headers: [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, UPDATE, INFO'], ['Accept', 'application/sdp']] });
        return;
      default:
        if (msg.toTag && this.b2bua.inDialog(ctx)) return;
        if (msg.method === 'BYE' || msg.method === 'UPDATE' || msg.method === 'INFO' || msg.method === 'PRACK') return void ctx.reply(481);
        ctx.reply(405, { headers: [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, UPDATE, INFO']] });
    }
  }

  /**
   * §18.2.2 with RFC 3581: over TCP, back on the connection; over UDP, to the source address and
   * port when the client asked for rport, else to the source address and the Via port.
   */
  private responseDestination(params: Record<string, string | null>, viaPort: number | undefined, from: Peer): Peer {
    if (from.proto === 'TCP' || 'rport' in params) return from;
    return { proto: 'UDP', ip: from.ip, port: viaPort ?? 5060 };
  }

  /** §18.2.1: add received when the sent-by host is not the source; fill rport (RFC 3581 §4). */
  private stampVia(topVia: string, host: string, from: Peer): string {
    let v = topVia;
    const hadRport = /;\s*rport(?=\s*(;|$))/i.test(v);
    if (hadRport) v = v.replace(/;\s*rport(?=\s*(;|$))/i, `;rport=${from.port}`);
    if (hadRport || host.replace(/^\[|\]$/g, '') !== from.ip) v += `;received=${from.ip}`;
    return v;
  }

  private log(msg: SipMessage, from: Peer, status: number, note: string): void {
    this.opts.log?.({
      time: new Date(this.opts.clock.now()).toISOString(),
      transport: from.proto,
      src: `${from.ip}:${from.port}`,
      method: msg.method,
      uri: msg.requestUri,
      call_id: msg.callId ?? '',
      status,
      note,
    });
  }
}
