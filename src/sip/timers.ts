/**
 * RFC 3261 timers (§17, Table 4 of Appendix A), in milliseconds, from T1/T2/T4 in one place.
 * Values for unreliable transports; over TCP the retransmission timers do not run and the
 * wait timers D, I, J, K are zero (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).
 */
export interface TimerBase {
  /** RTT estimate, default 500 ms. */
  T1: number;
  /** Longest interval for non-INVITE requests and INVITE responses, default 4 s. */
  T2: number;
  /** Longest time a message stays in the network, default 5 s. */
  T4: number;
}

export const DEFAULT_TIMERS: TimerBase = { T1: 500, T2: 4000, T4: 5000 };

/** Timer A: INVITE request retransmission, doubling from T1 (no cap). n = retransmissions so far. */
export const timerA = (t: TimerBase, n: number): number => t.T1 * 2 ** n;
/** Timer B: INVITE client transaction timeout. */
export const timerB = (t: TimerBase): number => 64 * t.T1;
/** Timer D: wait for response retransmissions, at least 32 s over UDP. */
export const timerD = (t: TimerBase, reliable: boolean): number => (reliable ? 0 : Math.max(32000, 64 * t.T1));
/** Timer E: non-INVITE request retransmission, doubling from T1, capped at T2 (T2 in Proceeding). */
export const timerE = (t: TimerBase, n: number): number => Math.min(t.T1 * 2 ** n, t.T2);
/** Timer F: non-INVITE client transaction timeout. */
export const timerF = (t: TimerBase): number => 64 * t.T1;
/** Timer G: INVITE final response retransmission, doubling from T1, capped at T2. */
export const timerG = (t: TimerBase, n: number): number => Math.min(t.T1 * 2 ** n, t.T2);
/** Timer H: wait for ACK. */
export const timerH = (t: TimerBase): number => 64 * t.T1;
/** Timer I: wait for ACK retransmissions. */
export const timerI = (t: TimerBase, reliable: boolean): number => (reliable ? 0 : t.T4);
/** Timer J: wait for non-INVITE request retransmissions. */
export const timerJ = (t: TimerBase, reliable: boolean): number => (reliable ? 0 : 64 * t.T1);
/** Timer K: wait for non-INVITE response retransmissions. */
export const timerK = (t: TimerBase, reliable: boolean): number => (reliable ? 0 : t.T4);
/** Timer L / M (RFC 6026 §8.7): the Accepted state, absorbing 2xx and ACK retransmissions. */
export const timerL = (t: TimerBase): number => 64 * t.T1;

/** Time as the transaction machines see it: injectable so tests run on a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const h = setTimeout(fn, ms);
    h.unref?.();
    return h;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
