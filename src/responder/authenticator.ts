import type { Secrets } from '../model/index.js';
import {
  computeHa1, credentialsMatch, isDigestAlgorithm, parseCredentials, uriEquals,
  type Credentials, type DigestAlgorithm, type HeaderList, type SipMessage,
} from '../sip/index.js';
import type { NonceIssuer } from './nonce.js';

export type AuthVerdict =
  | { ok: true; user: string }
  | { ok: false; status: 401 | 407 | 403; headers: HeaderList; why: string };

export interface ThrottleConfig {
  /** Failures from one source within `windowMs` before it is blocked. */
  maxFailures: number;
  windowMs: number;
  blockMs: number;
}

/**
 * Digest authentication for the responder (RFC 3261 §22, RFC 7616, RFC 8760), on the same
 * digest code the analyzer verifies captures with. From outside, an unknown user and a wrong
 * password look the same; repeated failures from one source address are throttled.
 */
export class Authenticator {
  private readonly failures = new Map<string, { times: number[]; blockedUntil: number }>();

  constructor(
    private readonly secrets: Secrets,
    private readonly realm: string,
    private readonly nonces: NonceIssuer,
    private readonly algorithms: DigestAlgorithm[],
    private readonly throttle: ThrottleConfig,
    private readonly now: () => number,
  ) {}

  /** The challenge headers: one per algorithm, strongest first (RFC 8760 §2.4). */
  challenge(proxy: boolean, stale = false): HeaderList {
    const name = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    const nonce = this.nonces.issue(this.realm);
    return this.algorithms.map((alg) => [name, `Digest realm="${this.realm}", nonce="${nonce}", algorithm=${alg}, qop="auth,auth-int"${stale ? ', stale=true' : ''}`]);
  }

  private blocked(ip: string): boolean {
    const f = this.failures.get(ip);
    return f !== undefined && f.blockedUntil > this.now();
  }

  private fail(ip: string, why: string): AuthVerdict {
    const t = this.now();
    const f = this.failures.get(ip) ?? { times: [], blockedUntil: 0 };
    f.times = f.times.filter((x) => t - x < this.throttle.windowMs);
    f.times.push(t);
    if (f.times.length >= this.throttle.maxFailures) f.blockedUntil = t + this.throttle.blockMs;
    if (this.failures.size > 100_000) this.failures.delete(this.failures.keys().next().value as string);
    this.failures.set(ip, f);
    return { ok: false, status: 403, headers: [], why };
  }

  /**
   * Checks a request's credentials. `aor` is the user the request acts for (the To user of a
   * REGISTER): credentials of another user are refused.
   */
  check(msg: SipMessage, proxy: boolean, sourceIp: string, aor?: string): AuthVerdict {
    const status = proxy ? 407 : 401;
    const header = msg.get(proxy ? 'proxy-authorization' : 'authorization');
    if (this.blocked(sourceIp)) return { ok: false, status: 403, headers: [], why: `source ${sourceIp} throttled after repeated failures` };
    if (header === undefined) return { ok: false, status, headers: this.challenge(proxy), why: 'challenged' };
    const c = parseCredentials(header);
    if (c.scheme.toLowerCase() !== 'digest' || !isDigestAlgorithm(c.algorithm) || !this.algorithms.includes(c.algorithm.toUpperCase() as DigestAlgorithm)) {
      return { ok: false, status, headers: this.challenge(proxy), why: `unsupported scheme or algorithm ${c.scheme} ${c.algorithm}` };
    }
    const state = this.nonces.check(c.nonce, this.realm);
    if (state === 'forged') return this.fail(sourceIp, 'nonce not issued by this server');
    if (c.realm !== this.realm) return this.fail(sourceIp, `realm "${c.realm}" is not "${this.realm}"`);
    if (!uriEquals(c.uri, msg.requestUri)) return this.fail(sourceIp, `digest uri "${c.uri}" differs from the Request-URI`);
    if (aor !== undefined && c.username !== aor) return this.fail(sourceIp, `credentials of "${c.username}" for the address of "${aor}"`);
    const alg = c.algorithm.toUpperCase() as DigestAlgorithm;
    if (!this.verify(c, alg, msg)) return this.fail(sourceIp, `wrong password or unknown user "${c.username}"`);
    // A correct response to an old nonce: ask again with stale=true (RFC 7616 §3.3), no failure.
    if (state === 'stale') return { ok: false, status, headers: this.challenge(proxy, true), why: 'stale nonce' };
    if (c.qop && c.nc && !this.nonces.useCount(c.nonce, c.nc)) return this.fail(sourceIp, `nonce count ${c.nc} replayed`);
    return { ok: true, user: c.username };
  }

  private verify(c: Credentials, alg: DigestAlgorithm, msg: SipMessage): boolean {
    const found = this.secrets.lookup(c.username, c.realm, alg);
    if (found.kind !== 'ha1') {
      // Same work as for a known user, so timing does not tell users apart.
      credentialsMatch(c, computeHa1(alg, c.username, c.realm, 'x'), msg.method, msg.body);
      return false;
    }
    return found.candidates.some((ha1) => credentialsMatch(c, ha1, msg.method, msg.body));
  }
}
