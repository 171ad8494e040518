import { createHash } from 'node:crypto';
import type { Credentials } from './auth-params.js';

/**
 * HTTP Digest computation for SIP (RFC 3261 §22.4, RFC 2617, RFC 7616, RFC 8760): one
 * implementation for the analyzer (verifying captured credentials), the responder (checking
 * what clients send) and password audits.
 */
export type DigestAlgorithm = 'MD5' | 'MD5-SESS' | 'SHA-256' | 'SHA-256-SESS' | 'SHA-512-256' | 'SHA-512-256-SESS';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'MD5-SESS', 'SHA-256', 'SHA-256-SESS', 'SHA-512-256', 'SHA-512-256-SESS'];

export function isDigestAlgorithm(a: string): a is DigestAlgorithm {
  return (DIGEST_ALGORITHMS as readonly string[]).includes(a.toUpperCase());
}

function hashName(alg: DigestAlgorithm): string {
  if (alg.startsWith('SHA-512-256')) return 'sha512-256';
  if (alg.startsWith('SHA-256')) return 'sha256';
  return 'md5';
}

export function digestHash(alg: DigestAlgorithm, data: string | Buffer): string {
  return createHash(hashName(alg)).update(data).digest('hex');
}

/** H(username:realm:password), the stored secret (what an HA1 file holds). */
export function computeHa1(alg: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(alg, `${username}:${realm}:${password}`);
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  /** H(username:realm:password), before any -sess step. */
  ha1: string;
  nonce: string;
  cnonce?: string;
  nc?: string;
  /** 'auth', 'auth-int', or undefined for RFC 2069 digests. */
  qop?: string;
  method: string;
  uri: string;
  /** Message body, hashed for qop=auth-int. */
  body?: Buffer;
}

/** The request-digest ("response" parameter) for the given inputs. */
export function computeResponse(d: DigestInput): string {
  const alg = d.algorithm;
  const ha1 = alg.endsWith('-SESS') ? digestHash(alg, `${d.ha1}:${d.nonce}:${d.cnonce ?? ''}`) : d.ha1;
  const qop = d.qop?.toLowerCase();
  const a2 = qop === 'auth-int' ? `${d.method}:${d.uri}:${digestHash(alg, d.body ?? Buffer.alloc(0))}` : `${d.method}:${d.uri}`;
  const ha2 = digestHash(alg, a2);
  if (qop === 'auth' || qop === 'auth-int') return digestHash(alg, `${ha1}:${d.nonce}:${d.nc ?? ''}:${d.cnonce ?? ''}:${qop}:${ha2}`);
  return digestHash(alg, `${ha1}:${d.nonce}:${ha2}`);
}

/** Recomputes captured credentials with a candidate HA1; true when the response matches. */
export function credentialsMatch(c: Credentials, ha1: string, method: string, body?: Buffer): boolean {
  if (!isDigestAlgorithm(c.algorithm)) return false;
  const expected = computeResponse({
    algorithm: c.algorithm.toUpperCase() as DigestAlgorithm,
    ha1,
    nonce: c.nonce,
    cnonce: c.cnonce,
    nc: c.nc,
    qop: c.qop,
    method,
    uri: c.uri,
    body,
  });
  return expected === c.response.toLowerCase();
}
