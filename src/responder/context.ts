import type { ResponseOptions, SipMessage } from '../sip/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { Peer } from './transport.js';

/** A request as the responder's TU handles it: where it came from and how to answer it. */
export interface RequestContext {
  msg: SipMessage;
  peer: Peer;
  local: Peer;
  /** Undefined for an ACK to a 2xx (no transaction, §17.1.1.3). */
  tx: ServerTransaction | undefined;
  /** Sends a response through the request's server transaction; returns its bytes. */
  reply(status: number, o?: ResponseOptions): Buffer;
  /** Adds a word to this transaction's log line. */
  note(text: string): void;
}
