import { computeHa1, type DigestAlgorithm } from '../sip/index.js';

interface Entry {
  username: string;
  /** Undefined: valid for any realm. */
  realm: string | undefined;
  password: string | undefined;
  /** Precomputed H(user:realm:password), hex; its length tells MD5 (32) from SHA-256 (64). */
  ha1: string | undefined;
}

export type SecretLookup = { kind: 'none' } | { kind: 'unknown-user' } | { kind: 'ha1'; candidates: string[] };

/**
 * The passwords the user gave: one for everybody (--password), a users file
 * (`username,password[,realm]`), or an HA1 file (`username,realm,ha1`).
 */
export class Secrets {
  private readonly users = new Map<string, Entry[]>();
  private globalPassword: string | undefined;

  static fromPassword(pw: string): Secrets {
    const s = new Secrets();
    s.globalPassword = pw;
    return s;
  }

  get empty(): boolean {
    return this.globalPassword === undefined && this.users.size === 0;
  }

  /**
   * Reads CSV lines: `username,password[,realm]`, or `username,realm,ha1` where the third field
   * is 32 or 64 hex digits (then it is an HA1). A header line naming "username" is skipped.
   */
  addCsv(text: string): number {
    let n = 0;
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const f = line.split(',').map((x) => x.trim().replace(/^"(.*)"$/, '$1'));
      if (f[0]!.toLowerCase() === 'username') continue;
      const [username, second, third] = f;
      if (!username) continue;
      let e: Entry;
      if (third !== undefined && /^[0-9a-f]{32}$|^[0-9a-f]{64}$/i.test(third)) e = { username, realm: second, password: undefined, ha1: third.toLowerCase() };
      else e = { username, realm: third || undefined, password: second ?? '', ha1: undefined };
      const list = this.users.get(username) ?? [];
      list.push(e);
      this.users.set(username, list);
      n++;
    }
    return n;
  }

  lookup(username: string, realm: string, alg: DigestAlgorithm): SecretLookup {
    const list = this.users.get(username);
    if (!list) {
      if (this.globalPassword !== undefined) return { kind: 'ha1', candidates: [computeHa1(alg, username, realm, this.globalPassword)] };
      return this.users.size ? { kind: 'unknown-user' } : { kind: 'none' };
    }
    const want = alg.startsWith('MD5') ? 32 : 64;
    const candidates: string[] = [];
    for (const e of list) {
      if (e.realm !== undefined && e.realm !== realm) continue;
      if (e.password !== undefined) candidates.push(computeHa1(alg, username, realm, e.password));
      else if (e.ha1 && e.ha1.length === want) candidates.push(e.ha1);
    }
    return candidates.length ? { kind: 'ha1', candidates } : { kind: 'unknown-user' };
  }
}
