import { timerG, timerH, timerI, timerJ, timerL, type Clock, type TimerBase } from '../sip/timers.js';

/** How a transaction puts bytes on the wire: to where the request came from (§18.2.2). */
export type Send = (bytes: Buffer) => void;

export interface TransactionEnv {
  send: Send;
  reliable: boolean;
  timers: TimerBase;
  clock: Clock;
  /** Called once, when the transaction reaches Terminated. */
  terminated: () => void;
}

export enum ServerInviteState {
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Confirmed = 'Confirmed',
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

/**
 * INVITE server transaction (RFC 3261 §17.2.1, with RFC 6026's Accepted state): absorbs request
 * retransmissions by resending the last response, retransmits a 3xx–6xx final over UDP with
 * timer G until the ACK, then lingers (timer I) for ACK retransmissions.
 */
export class ServerInviteTransaction {
  state = ServerInviteState.Proceeding;
  private last: Buffer | undefined;
  private g = 0;
  private timers: unknown[] = [];

  constructor(private readonly env: TransactionEnv) {}

  private transition(to: ServerInviteState): void {
    const from = this.state;
    const legal: Record<ServerInviteState, ServerInviteState[]> = {
      [ServerInviteState.Proceeding]: [ServerInviteState.Completed, ServerInviteState.Accepted, ServerInviteState.Terminated],
      [ServerInviteState.Completed]: [ServerInviteState.Confirmed, ServerInviteState.Terminated],
      [ServerInviteState.Confirmed]: [ServerInviteState.Terminated],
      [ServerInviteState.Accepted]: [ServerInviteState.Terminated],
      [ServerInviteState.Terminated]: [],
    };
    if (!legal[from].includes(to)) throw new Error(`INVITE server transaction: illegal ${from} → ${to}`);
    this.clearTimers();
    this.state = to;
    if (to === ServerInviteState.Terminated) this.env.terminated();
  }

  private after(ms: number, fn: () => void): void {
    this.timers.push(this.env.clock.setTimeout(fn, ms));
  }

  private clearTimers(): void {
    for (const t of this.timers) this.env.clock.clearTimeout(t);
    this.timers = [];
  }

  /** The TU responds. */
  respond(status: number, bytes: Buffer): void {
    if (this.state !== ServerInviteState.Proceeding) return;
    this.last = bytes;
    this.env.send(bytes);
    if (status < 200) return;
    if (status < 300) {
      // RFC 6026 §7.1: a 2xx moves to Accepted; the TU retransmits the 2xx until the ACK.
      this.transition(ServerInviteState.Accepted);
      this.after(timerL(this.env.timers), () => this.transition(ServerInviteState.Terminated));
      return;
    }
    this.transition(ServerInviteState.Completed);
    // §17.2.1: "If timer G fires, the response is passed to the transport layer once more".
    if (!this.env.reliable) this.scheduleG();
    this.after(timerH(this.env.timers), () => this.transition(ServerInviteState.Terminated));
  }

  private scheduleG(): void {
    this.after(timerG(this.env.timers, this.g++), () => {
      if (this.state !== ServerInviteState.Completed || !this.last) return;
      this.env.send(this.last);
      this.scheduleG();
    });
  }

  /** A retransmitted INVITE: resend the most recent response (§17.2.1). */
  retransmittedRequest(): void {
    if ((this.state === ServerInviteState.Proceeding || this.state === ServerInviteState.Completed) && this.last) this.env.send(this.last);
  }

  /** An ACK matching this transaction (i.e. for a non-2xx final response). */
  ack(): void {
    if (this.state !== ServerInviteState.Completed) return;
    this.transition(ServerInviteState.Confirmed);
    this.after(timerI(this.env.timers, this.env.reliable), () => this.transition(ServerInviteState.Terminated));
  }

  terminate(): void {
    if (this.state !== ServerInviteState.Terminated) this.transition(ServerInviteState.Terminated);
  }
}

export enum ServerNonInviteState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

/** Non-INVITE server transaction (§17.2.2): absorbs retransmissions, lingers for timer J. */
export class ServerNonInviteTransaction {
  state = ServerNonInviteState.Trying;
  private last: Buffer | undefined;
  private timer: unknown;

  constructor(private readonly env: TransactionEnv) {}

  private transition(to: ServerNonInviteState): void {
    if (this.state === ServerNonInviteState.Terminated || (this.state === ServerNonInviteState.Completed && to !== ServerNonInviteState.Terminated)) {
      throw new Error(`non-INVITE server transaction: illegal ${this.state} → ${to}`);
    }
    if (this.timer !== undefined) this.env.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.state = to;
    if (to === ServerNonInviteState.Completed) {
      this.timer = this.env.clock.setTimeout(() => this.transition(ServerNonInviteState.Terminated), timerJ(this.env.timers, this.env.reliable));
    }
    if (to === ServerNonInviteState.Terminated) this.env.terminated();
  }

  respond(status: number, bytes: Buffer): void {
    if (this.state === ServerNonInviteState.Completed || this.state === ServerNonInviteState.Terminated) return;
    this.last = bytes;
    this.env.send(bytes);
    this.transition(status < 200 ? ServerNonInviteState.Proceeding : ServerNonInviteState.Completed);
  }

  /** §17.2.2: in Proceeding or Completed a retransmitted request gets the last response again. */
  retransmittedRequest(): void {
    if (this.last && (this.state === ServerNonInviteState.Proceeding || this.state === ServerNonInviteState.Completed)) this.env.send(this.last);
  }
}
