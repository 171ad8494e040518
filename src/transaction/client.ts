import type { SipMessage } from '../sip/message.js';
import { timerA, timerB, timerD, timerE, timerF, timerK, timerL } from '../sip/timers.js';
import type { TransactionEnv } from './server.js';

/** What the transaction user hears from a client transaction. */
export interface ClientUser {
  response(msg: SipMessage): void;
  /** Timer B or F fired, or the transport failed: treat as a 408 (§8.1.3.1). */
  timeout(): void;
}

export enum ClientInviteState {
  Calling = 'Calling',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

/**
 * INVITE client transaction (§17.1.1, RFC 6026): retransmits the INVITE over UDP with timer A
 * until a response, gives up at timer B, ACKs a 3xx–6xx final itself and absorbs its
 * retransmissions for timer D; every 2xx goes to the TU, which ACKs it (§13.2.2.4).
 */
export class ClientInviteTransaction {
  state = ClientInviteState.Calling;
  private timers: unknown[] = [];
  private a = 0;
  private ackBytes: Buffer | undefined;

  constructor(
    private readonly env: TransactionEnv,
    private readonly request: Buffer,
    /** Builds the ACK for a non-2xx final response (§17.1.1.3). */
    private readonly buildAck: (response: SipMessage) => Buffer,
    private readonly tu: ClientUser,
  ) {}

  private after(ms: number, fn: () => void): void {
    this.timers.push(this.env.clock.setTimeout(fn, ms));
  }

  private transition(to: ClientInviteState): void {
    const allowed: Record<ClientInviteState, ClientInviteState[]> = {
      [ClientInviteState.Calling]: [ClientInviteState.Proceeding, ClientInviteState.Completed, ClientInviteState.Accepted, ClientInviteState.Terminated],
      [ClientInviteState.Proceeding]: [ClientInviteState.Completed, ClientInviteState.Accepted, ClientInviteState.Terminated],
      [ClientInviteState.Completed]: [ClientInviteState.Terminated],
      [ClientInviteState.Accepted]: [ClientInviteState.Terminated],
      [ClientInviteState.Terminated]: [],
    };
    if (!allowed[this.state].includes(to)) throw new Error(`INVITE client transaction: illegal ${this.state} → ${to}`);
    for (const t of this.timers) this.env.clock.clearTimeout(t);
    this.timers = [];
    this.state = to;
    if (to === ClientInviteState.Terminated) this.env.terminated();
  }

  start(): void {
    this.env.send(this.request);
    if (!this.env.reliable) this.scheduleA();
    // §17.1.1.2: "If the client transaction is still in the Calling state when timer B fires".
    this.after(timerB(this.env.timers), () => {
      if (this.state === ClientInviteState.Calling || this.state === ClientInviteState.Proceeding) {
        this.transition(ClientInviteState.Terminated);
        this.tu.timeout();
      }
    });
  }

  private scheduleA(): void {
    this.after(timerA(this.env.timers, this.a++), () => {
      if (this.state !== ClientInviteState.Calling) return;
      this.env.send(this.request);
      this.scheduleA();
    });
  }

  response(msg: SipMessage): void {
    const s = msg.status;
    switch (this.state) {
      case ClientInviteState.Calling:
      case ClientInviteState.Proceeding:
        if (s < 200) {
          if (this.state === ClientInviteState.Calling) {
            // Leaving Calling stops timer A; timer B keeps running for the whole transaction.
            this.state = ClientInviteState.Proceeding;
          }
          this.tu.response(msg);
        } else if (s < 300) {
          this.transition(ClientInviteState.Accepted);
          this.after(timerL(this.env.timers), () => this.transition(ClientInviteState.Terminated));
          this.tu.response(msg);
        } else {
          this.ackBytes = this.buildAck(msg);
          this.env.send(this.ackBytes);
          this.transition(ClientInviteState.Completed);
          this.after(timerD(this.env.timers, this.env.reliable), () => this.transition(ClientInviteState.Terminated));
          this.tu.response(msg);
        }
        return;
      case ClientInviteState.Completed:
        // A retransmitted final response: ACK again, do not tell the TU (§17.1.1.2).
        if (s >= 300 && this.ackBytes) this.env.send(this.ackBytes);
        return;
      case ClientInviteState.Accepted:
        if (s >= 200 && s < 300) this.tu.response(msg); // retransmitted or forked 2xx: the TU ACKs each
        return;
      default:
        return;
    }
  }

  terminate(): void {
    if (this.state !== ClientInviteState.Terminated) this.transition(ClientInviteState.Terminated);
  }
}

export enum ClientNonInviteState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

/** Non-INVITE client transaction (§17.1.2): timer E retransmits, F times out, K lingers. */
export class ClientNonInviteTransaction {
  state = ClientNonInviteState.Trying;
  private timers: unknown[] = [];
  private e = 0;

  constructor(
    private readonly env: TransactionEnv,
    private readonly request: Buffer,
    private readonly tu: ClientUser,
  ) {}

  private after(ms: number, fn: () => void): void {
    this.timers.push(this.env.clock.setTimeout(fn, ms));
  }

  private transition(to: ClientNonInviteState): void {
    if (this.state === ClientNonInviteState.Terminated || (this.state === ClientNonInviteState.Completed && to !== ClientNonInviteState.Terminated)) {
      throw new Error(`non-INVITE client transaction: illegal ${this.state} → ${to}`);
    }
    if (to !== ClientNonInviteState.Proceeding) {
      for (const t of this.timers) this.env.clock.clearTimeout(t);
      this.timers = [];
    }
    this.state = to;
    if (to === ClientNonInviteState.Terminated) this.env.terminated();
  }

  start(): void {
    this.env.send(this.request);
    if (!this.env.reliable) this.scheduleE();
    this.after(timerF(this.env.timers), () => {
      if (this.state === ClientNonInviteState.Trying || this.state === ClientNonInviteState.Proceeding) {
        this.transition(ClientNonInviteState.Terminated);
        this.tu.timeout();
      }
    });
  }

  private scheduleE(): void {
    // §17.1.2.2: in Proceeding the retransmission interval is T2.
    const ms = this.state === ClientNonInviteState.Proceeding ? this.env.timers.T2 : timerE(this.env.timers, this.e++);
    this.after(ms, () => {
      if (this.state !== ClientNonInviteState.Trying && this.state !== ClientNonInviteState.Proceeding) return;
      this.env.send(this.request);
      this.scheduleE();
    });
  }

  response(msg: SipMessage): void {
    if (this.state === ClientNonInviteState.Completed || this.state === ClientNonInviteState.Terminated) return;
    if (msg.status < 200) {
      if (this.state === ClientNonInviteState.Trying) this.transition(ClientNonInviteState.Proceeding);
      this.tu.response(msg);
      return;
    }
    this.transition(ClientNonInviteState.Completed);
    this.after(timerK(this.env.timers, this.env.reliable), () => this.transition(ClientNonInviteState.Terminated));
    this.tu.response(msg);
  }
}
