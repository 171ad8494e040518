import { TransactionKeyProbe, type SipPacket } from '../sip/index.js';
import type { AuthCheck } from './auth.js';
import { Transaction, packetTime } from './transaction.js';

export type SessionKind = 'call' | 'registration' | 'subscription' | 'message' | 'options' | 'publish' | 'refer' | 'info' | 'other';

const KIND_OF_METHOD: Record<string, SessionKind> = {
  INVITE: 'call',
  ACK: 'call',
  BYE: 'call',
  CANCEL: 'call',
  PRACK: 'call',
  UPDATE: 'call',
  REGISTER: 'registration',
  SUBSCRIBE: 'subscription',
  NOTIFY: 'subscription',
  MESSAGE: 'message',
  OPTIONS: 'options',
  PUBLISH: 'publish',
  REFER: 'refer',
  INFO: 'info',
};

/**
 * Sessions are keyed by Call-ID and by what they are: some UAs (SIPp's branch scenarios, some
 * phones) REGISTER and then call under one Call-ID, and those are two stories. In-dialog
 * requests (INFO, REFER, NOTIFY, MESSAGE…) join the call they belong to.
 */
export type Story = 'call' | 'reg' | 'other';

/** One message as the model sees it. */
export interface Observed {
  packet: SipPacket;
  /** A copy of a request or response already seen (§17: absorbed by the transaction layer). */
  retransmission: boolean;
  transaction: Transaction | undefined;
}

/** Reads each message's transaction key (one message at a time: add() is synchronous). */
const probe = new TransactionKeyProbe();

/** Lists of a session start empty and mostly stay short: they share this until they grow. */
const NONE: readonly never[] = Object.freeze([]);

/**
 * Appends to a short list by copying it into an exact-size array (push and spread reserve room
 * for 16 more); long lists grow in place. Sessions hold a few lists of one to three items each
 * for as long as the call lingers: their size is what the garbage collector copies. Up to four
 * items the copy is an array literal: Array#concat took five times as long.
 */
function append<T>(list: readonly T[], x: T): readonly T[] {
  switch (list.length) {
    case 0:
      return [x];
    case 1:
      return [list[0]!, x];
    case 2:
      return [list[0]!, list[1]!, x];
    case 3:
      return [list[0]!, list[1]!, list[2]!, x];
  }
  if (list.length < 8) return list.concat([x]);
  (list as T[]).push(x);
  return list;
}

/**
 * Everything seen under one Call-ID while it is open: its messages in capture order, its
 * transactions, and whether its story has ended (so the analyzer can emit it after a linger).
 */
export class Session {
  /** Every message in capture order, when the analyzer keeps messages (ladders, the UI). */
  observed: readonly Observed[] = NONE;
  /** Messages seen, retransmissions included. */
  messages = 0;
  /** The first request seen, else the first message: what a record describes. */
  head: SipPacket;
  transactions: readonly Transaction[] = NONE;
  /** Transactions by key, made once a session has many (a scan of a few beats a map per call). */
  private byKey: Map<string, Transaction> | undefined;
  readonly firstTime: number;
  lastTime: number;
  kind: SessionKind;
  retransmissions = 0;
  finished = false;
  /** Credentials checked, in order. */
  auth: readonly AuthCheck[] = NONE;
  /** INVITE transactions that start a dialog (no To tag): the call attempts, in order. */
  initialInvites: readonly Transaction[] = NONE;
  /** Whether a BYE transaction was seen (kept as it happens: checked on every message). */
  private sawBye = false;

  constructor(
    readonly callId: string,
    first: SipPacket,
    /** Which of the analyzer's stories under this Call-ID it is (see Analyzer). */
    readonly story: Story = 'call',
    /** Keep every message in `observed`; records alone need only counts and transactions. */
    private readonly keepMessages = true,
  ) {
    first.msg.own();
    this.head = first;
    this.firstTime = packetTime(first);
    this.lastTime = this.firstTime;
    this.kind = KIND_OF_METHOD[first.msg.isRequest ? first.msg.method : first.msg.cseq?.method ?? ''] ?? 'other';
  }

  add(p: SipPacket): Observed {
    const msg = p.msg;
    this.lastTime = Math.max(this.lastTime, packetTime(p));
    const keyed = probe.read(msg);
    let tx = keyed ? this.transaction() : undefined;
    let retransmission = false;
    if (msg.isRequest) {
      if (tx && msg.method === 'ACK' && tx.method === 'INVITE') {
        // The ACK for a non-2xx final response is part of the INVITE transaction (§17.1.1.3).
        retransmission = tx.acknowledge(p);
      } else if (tx) {
        retransmission = true;
        tx.retransmissions++;
      } else if (keyed) {
        const key = probe.key;
        tx = new Transaction(key, p);
        this.transactions = append(this.transactions, tx);
        if (this.byKey) this.byKey.set(key, tx);
        else if (this.transactions.length > 8) this.byKey = new Map(this.transactions.map((t) => [t.key, t]));
        if (tx.method === 'INVITE' && tx.initial) this.initialInvites = append(this.initialInvites, tx);
        else if (tx.method === 'BYE') this.sawBye = true;
      }
    } else if (tx) {
      retransmission = tx.response(p);
    }
    if (retransmission) this.retransmissions++;
    const o: Observed = { packet: p, retransmission, transaction: tx };
    if (this.keepMessages) {
      msg.own();
      this.observed = append(this.observed, o);
    }
    if (this.messages++ === 0 || (msg.isRequest && !this.head.msg.isRequest)) {
      msg.own();
      this.head = p;
    }
    if (!retransmission) this.finished = this.isFinished();
    return o;
  }

  /** A credential checked in one of this session's requests (see AuthTracker). */
  addAuth(c: AuthCheck): void {
    this.auth = append(this.auth, c);
  }

  /** The transaction of the message the probe has read. */
  private transaction(): Transaction | undefined {
    if (this.byKey) return this.byKey.get(probe.key);
    const txs = this.transactions;
    for (let i = 0; i < txs.length; i++) if (probe.matches(txs[i]!.key)) return txs[i];
    return undefined;
  }

  private isFinished(): boolean {
    const last = this.transactions[this.transactions.length - 1];
    switch (this.kind) {
      case 'call': {
        if (this.sawBye) return true;
        const invites = this.initialInvites;
        const lastInvite = invites[invites.length - 1];
        return lastInvite !== undefined && lastInvite.finalStatus >= 300;
      }
      case 'registration':
        return last !== undefined && last.finalStatus >= 200 && last.finalStatus !== 401 && last.finalStatus !== 407;
      default:
        return last !== undefined && last.finalStatus >= 200 && last.finalStatus !== 401 && last.finalStatus !== 407;
    }
  }
}
