import {
  credentialsMatch, isDigestAlgorithm, parseChallenge, parseCredentials, uriEquals,
  type Challenge, type Credentials, type DigestAlgorithm, type SipPacket,
} from '../sip/index.js';
import type { Secrets } from './secrets.js';
import { packetTime } from './transaction.js';

/** Why a credential fails, or what makes it suspicious. */
export type AuthFinding =
  | 'wrong-password'
  | 'unknown-user'
  | 'nonce-not-issued'
  | 'nc-reused'
  | 'uri-mismatch'
  | 'realm-mismatch'
  | 'algorithm-mismatch'
  | 'unsupported-algorithm';

export type AuthResult = 'valid' | 'invalid' | 'unverified';

export interface IssuedChallenge {
  status: number;
  time: number;
  callId: string;
  challenge: Challenge;
}

/** One Authorization / Proxy-Authorization header checked. */
export interface AuthCheck {
  packet: SipPacket;
  time: number;
  header: 'Authorization' | 'Proxy-Authorization';
  credentials: Credentials;
  /** The challenge carrying this nonce, when the capture holds it. */
  challenge: IssuedChallenge | undefined;
  /** ACK or CANCEL repeating the INVITE's credentials (RFC 3261 §13.2.2.4, §9.1). */
  copy: boolean;
  result: AuthResult;
  findings: AuthFinding[];
  /** One sentence per finding, for people. */
  explanation: string[];
}

interface NonceUse {
  nc: string;
  txKey: string;
  time: number;
}

const MAX_NONCES = 200_000;

/** What a request without credentials yields (shared: most requests carry none). */
export const NO_CHECKS: readonly AuthCheck[] = Object.freeze([]);

/**
 * Ties every credential to the challenge it answers (by nonce) and checks it: the password when
 * one is known, and always the consistency rules a server applies (RFC 7616 §3.4, RFC 3261 §22).
 */
export class AuthTracker {
  /** nonce → challenge; insertion order bounds it. */
  private readonly issued = new Map<string, IssuedChallenge>();
  private readonly uses = new Map<string, NonceUse[]>();
  /** INVITE credentials by Call-ID, so an ACK/CANCEL copy is recognised. */
  private readonly inviteCredentials = new Map<string, string>();

  constructor(private readonly secrets: Secrets | undefined) {}

  /** A 401/407 response: remember each nonce it offers. */
  response(p: SipPacket): void {
    const m = p.msg;
    if (m.status !== 401 && m.status !== 407) return;
    const name = m.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
    for (const v of m.getAll(name)) {
      const c = parseChallenge(v);
      if (!c.nonce) continue;
      if (this.issued.size >= MAX_NONCES) this.issued.delete(this.issued.keys().next().value as string);
      this.issued.set(c.nonce, { status: m.status, time: packetTime(p), callId: m.callId ?? '', challenge: c });
    }
  }

  /** A request (not a retransmission): check each credential it carries. */
  request(p: SipPacket, txKey: string): readonly AuthCheck[] {
    const m = p.msg;
    if (!m.has('authorization') && !m.has('proxy-authorization')) return NO_CHECKS; // most requests
    const out: AuthCheck[] = [];
    for (const header of ['Authorization', 'Proxy-Authorization'] as const) {
      for (const v of m.getAll(header)) {
        const c = parseCredentials(v);
        if (c.scheme.toLowerCase() !== 'digest') continue;
        out.push(this.check(p, header, c, txKey));
      }
    }
    return out;
  }

  private check(p: SipPacket, header: AuthCheck['header'], c: Credentials, txKey: string): AuthCheck {
    const m = p.msg;
    const time = packetTime(p);
    const findings: AuthFinding[] = [];
    const explanation: string[] = [];
    const callId = m.callId ?? '';
    const fingerprint = `${c.nonce}|${c.response}`;
    let method = m.method;
    let copy = false;
    if ((m.method === 'ACK' || m.method === 'CANCEL') && this.inviteCredentials.get(callId) === fingerprint) {
      copy = true;
      method = 'INVITE';
    }
    if (m.method === 'INVITE') {
      if (this.inviteCredentials.size >= MAX_NONCES) this.inviteCredentials.delete(this.inviteCredentials.keys().next().value as string);
      this.inviteCredentials.set(callId, fingerprint);
    }

    const issued = this.issued.get(c.nonce);
    if (!issued) {
      findings.push('nonce-not-issued');
      explanation.push(`nonce "${c.nonce}" was never issued in a 401/407 of this capture`);
    } else {
      const ch = issued.challenge;
      if (ch.realm !== c.realm) {
        findings.push('realm-mismatch');
        explanation.push(`realm "${c.realm}" differs from the challenge's realm "${ch.realm}"`);
      }
      if (ch.algorithm !== c.algorithm) {
        findings.push('algorithm-mismatch');
        explanation.push(`algorithm ${c.algorithm} differs from the challenge's ${ch.algorithm}`);
      }
    }
    if (!copy && !uriEquals(c.uri, m.requestUri)) {
      findings.push('uri-mismatch');
      explanation.push(`digest uri "${c.uri}" differs from the Request-URI "${m.requestUri}"`);
    }
    if (!copy && c.qop && c.nc) {
      const uses = this.uses.get(c.nonce) ?? [];
      const prior = uses.find((u) => u.nc === c.nc && u.txKey !== txKey);
      if (prior) {
        findings.push('nc-reused');
        explanation.push(`nonce count ${c.nc} for this nonce was already used ${((time - prior.time) * 1000).toFixed(0)} ms earlier (a replay)`);
      } else if (!uses.some((u) => u.txKey === txKey)) {
        uses.push({ nc: c.nc, txKey, time });
        if (!this.uses.has(c.nonce) && this.uses.size >= MAX_NONCES) this.uses.delete(this.uses.keys().next().value as string);
        this.uses.set(c.nonce, uses);
      }
    }
    let result: AuthResult = 'unverified';
    if (!isDigestAlgorithm(c.algorithm)) {
      findings.push('unsupported-algorithm');
      explanation.push(`algorithm ${c.algorithm} is not one sipscope can verify`);
    } else if (this.secrets && !this.secrets.empty) {
      const found = this.secrets.lookup(c.username, c.realm, c.algorithm.toUpperCase() as DigestAlgorithm);
      if (found.kind === 'unknown-user') {
        findings.push('unknown-user');
        explanation.push(`no password is known for user "${c.username}"${c.realm ? ` in realm "${c.realm}"` : ''}`);
      } else if (found.kind === 'ha1') {
        const body = m.body;
        const ok = found.candidates.some((ha1) => credentialsMatch(c, ha1, method, body));
        if (ok) {
          result = 'valid';
          explanation.unshift(`response matches the password of "${c.username}"${copy ? ` (credentials copied from the INVITE, RFC 3261 §13.2.2.4)` : ''}`);
        } else {
          findings.push('wrong-password');
          explanation.unshift(`response does not match the password given for "${c.username}": wrong password`);
        }
      }
    }
    // A nonce missing from the capture may just predate it: reported, but not a failure alone.
    const blocking = findings.filter((f) => f !== 'nonce-not-issued');
    if (result === 'valid' && blocking.length) result = 'invalid';
    if (findings.includes('wrong-password') || findings.includes('unknown-user')) result = 'invalid';
    if (result === 'unverified' && !explanation.length) explanation.push('no password given: consistency checks only');
    return { packet: p, time, header, credentials: c, challenge: issued, copy, result, findings, explanation };
  }
}
