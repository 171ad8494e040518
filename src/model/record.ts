import { parseNameAddr, uriUser, type SipPacket } from '../sip/index.js';
import type { AuthCheck } from './auth.js';
import { isoMillis } from './iso-time.js';
import { causeFromSipStatus, causeName, NORMAL_CLEARING, ORIGINATOR_CANCEL } from './q850.js';
import type { Session } from './session.js';
import { packetTime, type ResponseNote, type Transaction } from './transaction.js';

export type CallStatus = 'answered' | 'busy' | 'no_answer' | 'cancelled' | 'rejected' | 'failed' | 'in_progress';

/** The columns of `export csv` and the keys of `calls --json`, in order. */
export const RECORD_COLUMNS = [
  'call_id', 'related_call_ids', 'leg', 'kind', 'from_user', 'from_display', 'to_user', 'request_uri',
  'src', 'dst', 'transport', 'start_time', 'ring_time', 'answer_time', 'end_time', 'pdd_ms', 'duration_s',
  'billsec', 'status', 'final_code', 'hangup_by', 'hangup_cause', 'q850_cause', 'auth_user', 'auth_result',
  'auth_reason', 'user_agent', 'callee_user_agent', 'codecs', 'messages', 'retransmissions', 'forks',
  'contact', 'expires', 'leg_confidence', 'leg_evidence',
] as const;

export type RecordColumn = (typeof RECORD_COLUMNS)[number];
export type CallRecord = Record<RecordColumn, string | number | null>;


function endpoint(p: SipPacket, which: 'src' | 'dst'): string {
  const m = p.meta;
  const ip = which === 'src' ? m.src : m.dst;
  const port = which === 'src' ? m.sport : m.dport;
  return m.family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Codecs of the SDP answer (see Transaction#answerCodecs), the latest call attempt first. */
function answerCodecs(invites: readonly Transaction[]): string | null {
  for (let i = invites.length - 1; i >= 0; i--) {
    const codecs = invites[i]!.answerCodecs;
    if (codecs !== null) return codecs;
  }
  return null;
}

interface AuthColumns {
  user: string | null;
  result: string | null;
  reason: string | null;
}

/** Most sessions carry no credentials: they share this. */
const NO_AUTH: Readonly<AuthColumns> = Object.freeze({ user: null, result: null, reason: null });

function authColumns(checks: readonly AuthCheck[]): Readonly<AuthColumns> {
  if (!checks.length) return NO_AUTH;
  const real = checks.filter((c) => !c.copy);
  const last = real[real.length - 1] ?? checks[checks.length - 1];
  if (!last) return NO_AUTH;
  return { user: last.credentials.username, result: last.result, reason: last.explanation.join('; ') || null };
}

function statusOf(inv: Transaction | undefined, cancelled: boolean): CallStatus {
  if (!inv) return 'in_progress';
  const s = inv.finalStatus;
  if (s >= 200 && s < 300) return 'answered';
  if (s === 0) return cancelled ? 'cancelled' : 'in_progress';
  if (s === 487 || cancelled) return 'cancelled';
  if (s === 486 || s === 600) return 'busy';
  if (s === 408 || s === 480) return 'no_answer';
  if (s === 401 || s === 403 || s === 407 || s === 404 || s === 603 || s === 488 || s === 606 || s === 604 || s === 484 || s === 485) return 'rejected';
  return 'failed';
}

/**
 * A record with every column null; a literal keeps one object shape for all records (fast). Its
 * keys are in RECORD_COLUMNS order, which lets the CSV writer take Object.values (it checks).
 */
function empty(): CallRecord {
  return {
    call_id: null, related_call_ids: null, leg: null, kind: null, from_user: null, from_display: null, to_user: null, request_uri: null,
    src: null, dst: null, transport: null, start_time: null, ring_time: null, answer_time: null, end_time: null, pdd_ms: null, duration_s: null,
    billsec: null, status: null, final_code: null, hangup_by: null, hangup_cause: null, q850_cause: null, auth_user: null, auth_result: null,
    auth_reason: null, user_agent: null, callee_user_agent: null, codecs: null, messages: null, retransmissions: null, forks: null,
    contact: null, expires: null, leg_confidence: null, leg_evidence: null,
  };
}

/** The first transaction of a method. */
function firstOf(txs: readonly Transaction[], method: string): Transaction | undefined {
  for (let i = 0; i < txs.length; i++) if (txs[i]!.method === method) return txs[i];
  return undefined;
}

/** The first 18x of the call attempts, in order (§13.3.1.1: the callee is alerting). */
function firstRinging(invites: readonly Transaction[]): ResponseNote | undefined {
  for (const t of invites) if (t.ringing) return t.ringing;
  return undefined;
}

/** The call record of a session (RFC 3261 §13–15 events turned into CDR fields). */
export function buildRecord(s: Session, leg: string | null, related: readonly string[], confidence: number | null, evidence: readonly string[]): CallRecord {
  const r = empty();
  const invites = s.initialInvites;
  const firstInvite = invites[0];
  const lastInvite = invites[invites.length - 1];
  // Session.head: its first request, or its first message when it has none (kept as messages
  // arrive, so records need not keep every message).
  const head = firstInvite?.request ?? s.head;
  const from = head.msg.from;
  r.call_id = s.callId;
  r.related_call_ids = related.join(';') || null;
  r.leg = leg;
  r.kind = s.kind;
  r.from_user = from ? uriUser(from.uri) ?? null : null;
  r.from_display = from?.display || null;
  const to = head.msg.to;
  r.to_user = to ? uriUser(to.uri) ?? null : null;
  r.request_uri = head.msg.isRequest ? head.msg.requestUri : null;
  r.src = endpoint(head, 'src');
  r.dst = endpoint(head, 'dst');
  r.transport = head.transport;
  r.start_time = isoMillis(packetTime(head));
  r.messages = s.messages;
  r.retransmissions = s.retransmissions;
  r.user_agent = head.msg.get('user-agent') ?? null;
  r.leg_confidence = confidence;
  r.leg_evidence = evidence.join('; ') || null;
  const auth = authColumns(s.auth);
  r.auth_user = auth.user;
  r.auth_result = auth.result;
  r.auth_reason = auth.reason;
  // The caller's tag, from the From just parsed (head is the first INVITE when there is one).
  if (s.kind === 'call') fillCall(r, s, invites, firstInvite, lastInvite, firstInvite ? from?.params['tag'] ?? undefined : undefined);
  else fillOther(r, s);
  return r;
}

function fillCall(
  r: CallRecord,
  s: Session,
  invites: readonly Transaction[],
  firstInvite: Transaction | undefined,
  lastInvite: Transaction | undefined,
  callerTag: string | undefined,
): void {
  const start = firstInvite?.requestTime ?? s.firstTime;
  const ring = firstRinging(invites);
  const answer = lastInvite?.answered;
  const cancel = firstOf(s.transactions, 'CANCEL');
  // A BYE ends the call only if there was one to end: after a 2xx, or in the early dialog while the
  // INVITE is still pending (the caller hanging up; §15). A BYE after a failure changes nothing.
  const pending = lastInvite !== undefined && lastInvite.finalStatus === 0;
  const bye = answer || pending ? firstOf(s.transactions, 'BYE') : undefined;
  const ringTime = ring?.time;
  const answerTime = answer?.time;
  const earlyBye = !answer && bye !== undefined;
  const status = earlyBye ? 'cancelled' : statusOf(lastInvite, cancel !== undefined && !answer);
  r.status = status;
  r.final_code = lastInvite?.finalStatus || null;
  r.ring_time = isoMillis(ringTime);
  r.answer_time = isoMillis(answerTime);
  const callee = answer ?? ring ?? lastInvite?.latest;
  r.callee_user_agent = callee ? callee.agent : null;
  const progress = ringTime ?? answerTime ?? lastInvite?.finalTime;
  r.pdd_ms = progress !== undefined ? Math.round((progress - start) * 1000) : null;
  r.forks = lastInvite ? lastInvite.dialogTags.length : 0;
  r.codecs = answerCodecs(invites);
  let end: number | undefined;
  let cause: number | undefined;
  let reasonCause: number | undefined;
  if (bye) {
    end = bye.requestTime;
    r.hangup_by = callerTag && bye.fromTag === callerTag ? 'caller' : 'callee';
    reasonCause = bye.reasonCause;
    cause = reasonCause ?? NORMAL_CLEARING;
  } else if (status === 'cancelled') {
    end = cancel?.requestTime ?? lastInvite?.finalTime;
    r.hangup_by = 'caller';
    reasonCause = cancel?.reasonCause;
    cause = reasonCause ?? ORIGINATOR_CANCEL;
  } else if (lastInvite && lastInvite.finalStatus >= 300) {
    end = lastInvite.finalTime;
    r.hangup_by = 'callee';
    reasonCause = lastInvite.finalCause;
    cause = reasonCause ?? causeFromSipStatus(lastInvite.finalStatus);
  }
  r.end_time = isoMillis(end);
  if (cause !== undefined) {
    r.hangup_cause = causeName(cause);
    r.q850_cause = reasonCause ?? (cause < 128 ? cause : null);
  }
  if (end !== undefined) r.duration_s = round3(end - start);
  if (end !== undefined && answerTime !== undefined) r.billsec = Math.max(0, Math.floor(end - answerTime)); // whole seconds, truncated as FreeSWITCH does
}

function fillOther(r: CallRecord, s: Session): void {
  const txs = s.transactions.filter((t) => t.method !== 'ACK');
  const last = txs[txs.length - 1];
  const first = txs[0];
  r.final_code = last?.finalStatus || null;
  r.end_time = isoMillis(last?.finalTime);
  if (first && last?.finalTime !== undefined) r.duration_s = round3(last.finalTime - first.requestTime);
  const final = last?.finalStatus ?? 0;
  if (s.kind === 'registration' && last?.request) {
    const req = last.request.msg;
    const contact = req.values('contact')[0];
    r.contact = contact ? parseNameAddr(contact).uri : null;
    const ok = last.ok?.msg;
    // The registrar's 200 lists the binding with the expiry it granted (§10.3 step 8).
    const granted = ok?.values('contact').map(parseNameAddr).find((c) => c.uri === r.contact)?.params['expires'];
    const asked = contact ? parseNameAddr(contact).params['expires'] : undefined;
    const expires = granted ?? asked ?? ok?.get('expires') ?? req.get('expires');
    r.expires = expires !== undefined && expires !== null && /^\d+$/.test(expires) ? Number(expires) : null;
    r.status = final === 0 ? 'in_progress' : final < 300 ? (r.expires === 0 || contact === '*' ? 'unregistered' : 'registered') : final === 401 || final === 407 ? 'challenged' : 'failed';
  } else {
    r.status = final === 0 ? 'in_progress' : final < 300 ? 'ok' : 'failed';
  }
}
