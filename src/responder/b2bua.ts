import { causeFromSipStatus, causeName, type Secrets } from '../model/index.js';
import { parseNameAddr, uriUser, token, type Clock, type HeaderList, type SipMessage, type TimerBase } from '../sip/index.js';
import type { ClientUser, ServerInviteTransaction, TransactionLayer } from '../transaction/index.js';
import type { Authenticator } from './authenticator.js';
import type { BindingStore, Binding } from './bindings.js';
import type { RequestContext } from './context.js';
import { ackFor2xx, ackForFailure, cancelFor, contactOf, inDialogRequest, peerOfUri, type Built, type Dialog } from './leg.js';
import { OkRetransmitter } from './retransmit.js';
import type { Peer, Proto } from './transport.js';

export interface B2buaConfig {
  authCalls: boolean;
  /** Add X-CID naming the a-leg's Call-ID to b-leg INVITEs (off by default, as in FreeSWITCH). */
  xcid: boolean;
  ringTimeoutMs: number;
  realmHost: string;
}

/** What the B2BUA needs from the server around it. */
export interface B2buaCore {
  layer: TransactionLayer;
  send(to: Peer, bytes: Buffer): void;
  local(proto: Proto): Peer;
  clock: Clock;
  timers: TimerBase;
  log(line: string): void;
}

type ForkState = 'calling' | 'early' | 'answered' | 'failed' | 'cancelled';

interface Fork {
  dialog: Dialog;
  invite: Built;
  state: ForkState;
  ack: Buffer | undefined;
  finalStatus: number;
  /** A provisional response (100 included) came: only then may a CANCEL be sent (§9.1). */
  provisional: boolean;
  /** The Reason of a CANCEL decided before any provisional response, sent when one comes. */
  pendingCancel: string | undefined;
}

interface Call {
  a: Dialog;
  aInvite: SipMessage;
  aTx: ServerInviteTransaction;
  aCtx: RequestContext;
  forks: Fork[];
  answered: Fork | undefined;
  relayed: Set<string>;
  cancelled: boolean;
  ended: boolean;
  timers: unknown[];
}

const NORMAL_CLEARING = 'Q.850;cause=16;text="NORMAL_CLEARING"';

function reasonFor(status: number): string {
  const c = causeFromSipStatus(status);
  return `Q.850;cause=${c < 128 ? c : 16};text="${causeName(c)}"`;
}

/**
 * A back-to-back user agent that behaves like the seed chapter's FreeSWITCH: the a-leg ends at
 * this server; each registered contact of the callee gets its own b-leg with its own Call-ID,
 * tags and Contact; the caller's identity is carried in From, Remote-Party-ID and
 * P-Asserted-Identity; SDP passes through; the first 2xx wins and the other forks are
 * cancelled; a BYE on one leg ends the other with Reason: Q.850 cause 16.
 */
export class B2bua {
  private readonly byCallId = new Map<string, { call: Call; fork: Fork | undefined }>();
  /** 2xx responses awaiting their ACK, initial and relayed re-INVITEs alike. */
  private readonly oks: OkRetransmitter;

  constructor(
    private readonly core: B2buaCore,
    private readonly cfg: B2buaConfig,
    private readonly auth: Authenticator,
    private readonly store: BindingStore,
    private readonly secrets: Secrets,
  ) {
    this.oks = new OkRetransmitter(core.clock, core.timers, (to, bytes) => core.send(to, bytes));
  }

  get activeCalls(): number {
    return new Set([...this.byCallId.values()].map((x) => x.call)).size;
  }

  /** An INVITE without a To tag: a new call. */
  invite(ctx: RequestContext): void {
    const msg = ctx.msg;
    ctx.reply(100);
    if (this.cfg.authCalls) {
      const v = this.auth.check(msg, true, ctx.peer.ip);
      if (!v.ok) {
        ctx.note(v.why);
        ctx.reply(v.status, { headers: v.headers, toTag: token() });
        return;
      }
    }
    const callee = msg.uri?.user ?? '';
    if (!callee || this.secrets.lookup(callee, '', 'MD5').kind === 'unknown-user') {
      ctx.note(`no user "${callee}"`);
      ctx.reply(404, { toTag: token() });
      return;
    }
    const bindings = this.store.get(callee);
    if (!bindings.length) {
      ctx.note(`"${callee}" is not registered`);
      ctx.reply(480, { toTag: token(), headers: [['Reason', 'Q.850;cause=20;text="SUBSCRIBER_ABSENT"']] });
      return;
    }
    const from = msg.from;
    const aLocal = ctx.local;
    const call: Call = {
      a: {
        callId: msg.callId ?? '',
        localTag: token(),
        remoteTag: msg.fromTag,
        localUri: (msg.get('to') ?? '').replace(/;tag=[^;]*/, ''),
        remoteUri: (msg.get('from') ?? '').replace(/;tag=[^;]*/, ''),
        remoteTarget: parseNameAddr(msg.values('contact')[0] ?? '').uri || msg.requestUri,
        // Requests to the caller go where its messages come from (symmetric, RFC 3581 spirit).
        peer: ctx.peer,
        localCSeq: 100 + Math.floor(Math.random() * 1e6),
      },
      aInvite: msg,
      aTx: ctx.tx as ServerInviteTransaction,
      aCtx: ctx,
      forks: [],
      answered: undefined,
      relayed: new Set(),
      cancelled: false,
      ended: false,
      timers: [],
    };
    this.byCallId.set(call.a.callId, { call, fork: undefined });
    const callerUser = from ? uriUser(from.uri) ?? '' : '';
    const display = from?.display ? `"${from.display}" ` : '';
    const identity = `${display}<sip:${callerUser}@${this.cfg.realmHost}>`;
    for (const b of bindings) this.fork(call, b, identity, aLocal);
    ctx.note(`bridging to ${bindings.length} contact(s) of "${callee}"`);
    call.timers.push(this.core.clock.setTimeout(() => this.noAnswer(call), this.cfg.ringTimeoutMs));
  }

  private fork(call: Call, b: Binding, identity: string, aLocal: Peer): void {
    const target = b.source.proto === 'TCP' ? b.source : peerOfUri(b.contact, b.source);
    const local = this.core.local(target.proto) ?? aLocal;
    const dialog: Dialog = {
      callId: token(12),
      localTag: token(),
      remoteTag: undefined,
      localUri: identity,
      remoteUri: `<${b.contact}>`,
      remoteTarget: b.contact,
      peer: target,
      localCSeq: 1 + Math.floor(Math.random() * 1e8),
    };
    const a = call.aInvite;
    const headers: HeaderList = [
      ['Remote-Party-ID', `${identity};party=calling;screen=yes;privacy=off`],
      ['P-Asserted-Identity', identity],
      ['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO'],
    ];
    if (this.cfg.xcid) headers.push(['X-CID', call.a.callId]);
    const ct = a.contentType;
    if (ct) headers.push(['Content-Type', ct]);
    const maxf = Number(a.get('max-forwards') ?? '70');
    const invite = inDialogRequest(dialog, 'INVITE', local, headers, a.body.length ? a.body : undefined, ++dialog.localCSeq, Math.max(0, (Number.isFinite(maxf) ? maxf : 70) - 1));
    const bytes = invite.bytes;
    const fork: Fork = { dialog, invite, state: 'calling', ack: undefined, finalStatus: 0, provisional: false, pendingCancel: undefined };
    call.forks.push(fork);
    this.byCallId.set(dialog.callId, { call, fork });
    const tu: ClientUser = {
      response: (r) => this.forkResponse(call, fork, r),
      timeout: () => this.forkFailed(call, fork, 408),
    };
    this.core.layer.sendRequest(bytes, invite.msg, (x) => this.core.send(target, x), target.proto === 'TCP', tu, (r) => ackForFailure(invite.msg, r));
  }

  private forkResponse(call: Call, fork: Fork, r: SipMessage): void {
    const s = r.status;
    if (s < 200) {
      fork.provisional = true;
      if (fork.pendingCancel !== undefined) {
        const reason = fork.pendingCancel;
        fork.pendingCancel = undefined;
        this.sendCancel(fork, reason);
      }
    }
    if (s === 100) return;
    if (r.toTag) fork.dialog.remoteTag = r.toTag;
    if (s < 200) {
      if (fork.state === 'calling') fork.state = 'early';
      // Relay ringing once (183 with SDP for early media, else 180), as FreeSWITCH does.
      const kind = r.hasSdp ? '183' : '180';
      if (!call.answered && !call.cancelled && !call.relayed.has(kind)) {
        call.relayed.add(kind);
        call.aCtx.reply(r.hasSdp ? 183 : 180, this.aResponse(call, r));
      }
      return;
    }
    if (s < 300) return this.forkAnswered(call, fork, r);
    this.forkFailed(call, fork, s);
  }

  private aResponse(call: Call, r: SipMessage | undefined, extra: HeaderList = []): { toTag: string; headers: HeaderList; body?: Buffer } {
    const headers: HeaderList = [['Contact', contactOf(call.aCtx.local)], ...extra];
    if (r && r.hasSdp) headers.push(['Content-Type', r.contentType ?? 'application/sdp']);
    return { toTag: call.a.localTag, headers, body: r && r.hasSdp ? r.body : undefined };
  }

  private forkAnswered(call: Call, fork: Fork, r: SipMessage): void {
    const contact = r.values('contact')[0];
    if (contact && !fork.ack) {
      fork.dialog.remoteTarget = parseNameAddr(contact).uri;
      if (fork.dialog.peer.proto === 'UDP') fork.dialog.peer = peerOfUri(fork.dialog.remoteTarget, fork.dialog.peer);
    }
    const inviteCSeq = fork.invite.msg.cseq?.seq ?? 1;
    if (!fork.ack) fork.ack = ackFor2xx(fork.dialog, inviteCSeq, this.core.local(fork.dialog.peer.proto)).bytes;
    this.core.send(fork.dialog.peer, fork.ack); // every 2xx, first or retransmitted, gets the ACK
    if (call.answered === fork) return;
    if (call.answered || call.cancelled || call.ended) {
      // A second fork answered, or the caller gave up meanwhile: release this one at once.
      this.bye(fork.dialog, NORMAL_CLEARING);
      fork.state = 'cancelled';
      return;
    }
    fork.state = 'answered';
    call.answered = fork;
    for (const other of call.forks) if (other !== fork && (other.state === 'calling' || other.state === 'early')) this.cancelFork(other);
    const ok = call.aCtx.reply(200, this.aResponse(call, r));
    // No ACK within 64·T1: the caller is gone, end both legs (§13.3.1.4).
    this.oks.start(call.a.callId, call.aInvite.cseq?.seq ?? 0, call.a.peer, ok, () => {
      this.core.log(`no ACK for the 2xx of ${call.a.callId}: ending the call`);
      this.endCall(call, undefined);
    });
  }

  private forkFailed(call: Call, fork: Fork, status: number): void {
    if (fork.state === 'cancelled' || fork.state === 'failed') return;
    fork.state = 'failed';
    fork.finalStatus = status;
    if (call.answered || call.cancelled) return;
    if (call.forks.some((f) => f.state === 'calling' || f.state === 'early')) return;
    // Every fork failed: answer the caller with the most telling failure (§16.7: 6xx, then busy).
    const codes = call.forks.map((f) => f.finalStatus);
    const pick = codes.find((c) => c >= 600) ?? codes.find((c) => c === 486) ?? (codes.includes(408) ? 480 : codes[codes.length - 1]!);
    call.aCtx.reply(pick, this.aResponse(call, undefined, [['Reason', reasonFor(pick)]]));
    this.finish(call);
  }

  private noAnswer(call: Call): void {
    if (call.answered || call.cancelled || call.ended) return;
    // The callee's phones are told why (a missed call), not "completed elsewhere", as FreeSWITCH does.
    for (const f of call.forks) if (f.state === 'calling' || f.state === 'early') this.cancelFork(f, 'Q.850;cause=19;text="NO_ANSWER"');
    call.aCtx.note('no answer');
    call.aCtx.reply(480, this.aResponse(call, undefined, [['Reason', 'Q.850;cause=19;text="NO_ANSWER"']]));
    this.finish(call);
  }

  private cancelFork(f: Fork, reason = 'SIP;cause=200;text="Call completed elsewhere"'): void {
    f.state = 'cancelled';
    // §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent;
    // rather, the client MUST wait for the arrival of a provisional response". (A CANCEL that
    // overtakes a lost INVITE reaches a phone that knows no such call.)
    if (!f.provisional) {
      f.pendingCancel = reason;
      return;
    }
    this.sendCancel(f, reason);
  }

  private sendCancel(f: Fork, reason: string): void {
    const c = cancelFor(f.invite.msg, reason);
    this.core.layer.sendRequest(c.bytes, c.msg, (x) => this.core.send(f.dialog.peer, x), f.dialog.peer.proto === 'TCP', { response: () => {}, timeout: () => {} });
  }

  /** CANCEL from the caller (§9.2): 200 for the CANCEL, 487 for the INVITE, CANCEL every fork. */
  cancel(ctx: RequestContext, invite: ServerInviteTransaction | undefined): void {
    const entry = this.byCallId.get(ctx.msg.callId ?? '');
    if (!invite || !entry || entry.fork) {
      ctx.reply(481);
      return;
    }
    ctx.reply(200);
    const call = entry.call;
    if (call.answered || call.cancelled) return;
    call.cancelled = true;
    for (const f of call.forks) if (f.state === 'calling' || f.state === 'early') this.cancelFork(f, 'Q.850;cause=487;text="ORIGINATOR_CANCEL"');
    call.aCtx.reply(487, this.aResponse(call, undefined));
    this.finish(call);
  }

  /** ACK for a 2xx (initial or relayed re-INVITE): stop retransmitting that 2xx (§13.3.1.4). */
  ack(msg: SipMessage): void {
    this.oks.ack(msg.callId ?? '', msg.cseq?.seq ?? 0);
  }

  /** A request inside an existing dialog: BYE ends both legs; re-INVITE, UPDATE, INFO… are relayed. */
  inDialog(ctx: RequestContext): boolean {
    const entry = this.byCallId.get(ctx.msg.callId ?? '');
    if (!entry) return false;
    const { call, fork } = entry;
    const method = ctx.msg.method;
    if (method === 'BYE') {
      ctx.reply(200);
      this.oks.forget(call.a.callId);
      this.endCall(call, fork ?? 'a');
      return true;
    }
    // Relay to the other side: from the a-leg to the answered fork, or from a fork to the a-leg.
    const other: Dialog | undefined = fork ? call.a : call.answered?.dialog;
    if (!other || call.ended) {
      ctx.reply(481);
      return true;
    }
    const headers: HeaderList = [];
    if (ctx.msg.contentType) headers.push(['Content-Type', ctx.msg.contentType]);
    const local = this.core.local(other.peer.proto);
    const req = inDialogRequest(other, method, local, headers, ctx.msg.body.length ? ctx.msg.body : undefined);
    const tu: ClientUser = {
      response: (r) => {
        if (r.status === 100) return;
        if (method === 'INVITE' && r.status >= 200 && r.status < 300) this.core.send(other.peer, ackFor2xx(other, req.msg.cseq?.seq ?? 1, local).bytes);
        const h: HeaderList = [['Contact', contactOf(ctx.local)]];
        if (r.hasSdp) h.push(['Content-Type', r.contentType ?? 'application/sdp']);
        const sent = ctx.reply(r.status, { headers: h, body: r.hasSdp ? r.body : undefined, toTag: fork ? fork.dialog.localTag : call.a.localTag });
        if (method === 'INVITE' && r.status >= 200 && r.status < 300) this.oks.start(ctx.msg.callId ?? '', ctx.msg.cseq?.seq ?? 0, ctx.peer, sent);
      },
      timeout: () => ctx.reply(408),
    };
    this.core.layer.sendRequest(req.bytes, req.msg, (x) => this.core.send(other.peer, x), other.peer.proto === 'TCP', tu, (r) => ackForFailure(req.msg, r));
    return true;
  }

  /** BYE received on one side (or no ACK): send BYE with Q.850 cause 16 to the other side(s). */
  private endCall(call: Call, from: Fork | 'a' | undefined): void {
    if (call.ended) return;
    call.ended = true;
    if (from !== 'a') this.bye(call.a, NORMAL_CLEARING);
    for (const f of call.forks) if (f !== from && f.state === 'answered') this.bye(f.dialog, NORMAL_CLEARING);
    this.finish(call);
  }

  private bye(d: Dialog, reason: string): void {
    const local = this.core.local(d.peer.proto);
    const req = inDialogRequest(d, 'BYE', local, [['Reason', reason]]);
    this.core.layer.sendRequest(req.bytes, req.msg, (x) => this.core.send(d.peer, x), d.peer.proto === 'TCP', { response: () => {}, timeout: () => {} });
  }

  /** Forget the call a little later, so late retransmissions still find it (64·T1). */
  private finish(call: Call): void {
    call.ended = true;
    for (const t of call.timers) this.core.clock.clearTimeout(t);
    call.timers = [];
    this.core.clock.setTimeout(() => {
      this.byCallId.delete(call.a.callId);
      for (const f of call.forks) this.byCallId.delete(f.dialog.callId);
    }, 64 * this.core.timers.T1);
  }
}

