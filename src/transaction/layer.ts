import type { SipMessage } from '../sip/message.js';
import { transactionKey } from '../sip/transaction-key.js';
import type { Clock, TimerBase } from '../sip/timers.js';
import { ClientInviteTransaction, ClientNonInviteTransaction, type ClientUser } from './client.js';
import { ServerInviteTransaction, ServerNonInviteTransaction, type Send } from './server.js';

export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;
type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;

export interface LayerConfig {
  timers: TimerBase;
  clock: Clock;
}

/** A request handed to the TU with the server transaction that will carry its responses. */
export interface IncomingRequest {
  msg: SipMessage;
  /** Undefined for an ACK to a 2xx, which has no transaction (§17.1.1.3). */
  tx: ServerTransaction | undefined;
  key: string;
}

/**
 * The transaction layer (RFC 3261 §17): matches incoming messages to transactions with the same
 * key the passive analyzer uses, absorbs retransmissions, and hands new requests (and responses
 * no client transaction claims, such as a retransmitted 2xx) to the transaction user.
 */
export class TransactionLayer {
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly clients = new Map<string, ClientTransaction>();

  constructor(private readonly cfg: LayerConfig) {}

  get size(): { servers: number; clients: number } {
    return { servers: this.servers.size, clients: this.clients.size };
  }

  /**
   * An incoming request. Returns what the TU must handle, or undefined when the layer absorbed
   * it (a retransmission, or an ACK for a non-2xx final response).
   */
  request(msg: SipMessage, send: Send, reliable: boolean): IncomingRequest | undefined {
    const key = transactionKey(msg);
    if (!key) return undefined;
    const existing = this.servers.get(key);
    if (msg.method === 'ACK') {
      if (existing instanceof ServerInviteTransaction && existing.state !== 'Accepted') {
        existing.ack();
        return undefined;
      }
      return { msg, tx: undefined, key };
    }
    if (existing) {
      existing.retransmittedRequest();
      return undefined;
    }
    const env = { send, reliable, timers: this.cfg.timers, clock: this.cfg.clock, terminated: () => this.servers.delete(key) };
    const tx = msg.method === 'INVITE' ? new ServerInviteTransaction(env) : new ServerNonInviteTransaction(env);
    this.servers.set(key, tx);
    return { msg, tx, key };
  }

  /** The INVITE server transaction a CANCEL refers to (same branch, §9.2). */
  inviteFor(cancel: SipMessage): ServerInviteTransaction | undefined {
    const key = transactionKey(cancel);
    if (!key) return undefined;
    const tx = this.servers.get(key.replace(/\|CANCEL$/, '|INVITE'));
    return tx instanceof ServerInviteTransaction ? tx : undefined;
  }

  /** Sends a request in a new client transaction. `request` must parse (the key comes from it). */
  sendRequest(request: Buffer, parsed: SipMessage, send: Send, reliable: boolean, tu: ClientUser, buildAck?: (r: SipMessage) => Buffer): void {
    const key = transactionKey(parsed);
    if (!key) throw new Error('request without Via/CSeq');
    const env = { send, reliable, timers: this.cfg.timers, clock: this.cfg.clock, terminated: () => this.clients.delete(key) };
    const tx = parsed.method === 'INVITE'
      ? new ClientInviteTransaction(env, request, buildAck ?? (() => Buffer.alloc(0)), tu)
      : new ClientNonInviteTransaction(env, request, tu);
    this.clients.set(key, tx);
    tx.start();
  }

  /** An incoming response: true when a client transaction took it. */
  response(msg: SipMessage): boolean {
    const key = transactionKey(msg);
    const tx = key ? this.clients.get(key) : undefined;
    if (!tx) return false;
    tx.response(msg);
    return true;
  }
}
