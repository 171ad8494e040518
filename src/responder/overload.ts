import { performance } from 'node:perf_hooks';

/**
 * Load shedding for the responder. Past its capacity a UDP server that keeps accepting new
 * calls answers them late, the clients retransmit (RFC 3261 §17.1.1.2, from 500 ms), the
 * retransmissions cost as much as the calls, and the calls that were accepted time out too.
 * Turning part of the new calls and registrations away at once with 503 and Retry-After
 * (§21.5.4) keeps the accepted ones going: the loss-based control of RFC 7339 §5, where the
 * server itself decides the fraction it admits.
 *
 * "Busy" is the event loop's utilisation: under a flood of datagrams it stays near 1 while
 * timers still fire on time (the event-loop delay says nothing there; measured).
 */
export interface OverloadConfig {
  /** Busy fraction (0–1) of the event loop past which new work is shed; 0 never sheds. */
  maxBusy: number;
  /** Seconds the 503 asks the client to wait (Retry-After). */
  retryAfterS: number;
}

/** How busy the server has been lately, one value per sampling window (injectable for tests). */
export interface LoadSource {
  /** Fraction of the last window the event loop was busy (0–1). */
  busy(): number;
  /** Number of the current window: a new value of busy() comes with a new number. */
  window(): number;
  stop(): void;
}

const WINDOW_MS = 250;

/** The event loop's utilisation over windows of a quarter second (perf_hooks). */
export function eventLoopBusy(): LoadSource {
  let prev = performance.eventLoopUtilization();
  let last = 0;
  let n = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    last = performance.eventLoopUtilization(now, prev).utilization;
    prev = now;
    n++;
  }, WINDOW_MS);
  timer.unref();
  return { busy: () => last, window: () => n, stop: () => clearInterval(timer) };
}

/** Admitted fraction: cut by a quarter per window over the limit, raised by a tenth per window under it. */
const DECREASE = 0.75;
const INCREASE = 0.1;
const MIN_ADMIT = 0.05;

export class OverloadGuard {
  /** Requests turned away. */
  shed = 0;
  /** Fraction of new calls and registrations admitted now. */
  admit = 1;
  private seenWindow = -1;

  constructor(
    readonly config: OverloadConfig,
    private readonly source: LoadSource,
    private readonly random: () => number = Math.random,
  ) {}

  /** True when this new call or registration should get 503 (and counts it). */
  refuse(): boolean {
    if (this.config.maxBusy <= 0) return false;
    const w = this.source.window();
    if (w !== this.seenWindow) {
      // Windows without a request passed quiet: each counts as one under the limit.
      const quiet = this.seenWindow < 0 ? 0 : Math.max(0, w - this.seenWindow - 1);
      this.seenWindow = w;
      const over = this.source.busy() > this.config.maxBusy;
      this.admit = Math.min(1, this.admit + INCREASE * quiet);
      this.admit = over ? Math.max(MIN_ADMIT, this.admit * DECREASE) : Math.min(1, this.admit + INCREASE);
    }
    if (this.admit >= 1 || this.random() < this.admit) return false;
    this.shed++;
    return true;
  }

  stop(): void {
    this.source.stop();
  }
}
