import { readFileSync } from 'node:fs';
import { SipscopeError } from '../capture/index.js';
import { isoMillis, type AuthCheck } from '../model/index.js';
import { computeHa1, credentialsMatch, isDigestAlgorithm, type DigestAlgorithm } from '../sip/index.js';
import { analyzeFile, type ModelOptions } from './analyze.js';
import { Output } from './output.js';

export interface AuthOptions extends ModelOptions {
  json?: boolean;
  wordlist?: string;
}

/** The wordlist entry that produces this digest, as sipcrack finds it; undefined when none does. */
export function crack(check: AuthCheck, words: string[]): string | undefined {
  const c = check.credentials;
  if (!isDigestAlgorithm(c.algorithm)) return undefined;
  const alg = c.algorithm.toUpperCase() as DigestAlgorithm;
  const method = check.copy ? 'INVITE' : check.packet.msg.method;
  const body = check.packet.msg.body;
  return words.find((w) => credentialsMatch(c, computeHa1(alg, c.username, c.realm, w), method, body));
}

function record(c: AuthCheck, cracked: string | undefined, audited: boolean): Record<string, unknown> {
  const m = c.packet.msg;
  const rec: Record<string, unknown> = {
    time: isoMillis(c.time),
    call_id: m.callId ?? null,
    method: m.method,
    header: c.header,
    username: c.credentials.username,
    realm: c.credentials.realm,
    algorithm: c.credentials.algorithm,
    qop: c.credentials.qop ?? null,
    nonce: c.credentials.nonce,
    nc: c.credentials.nc ?? null,
    uri: c.credentials.uri,
    challenge: c.challenge ? { status: c.challenge.status, time: isoMillis(c.challenge.time), realm: c.challenge.challenge.realm } : null,
    copy: c.copy,
    result: c.result,
    findings: c.findings,
    explanation: c.explanation,
  };
  if (audited) rec['cracked_password'] = cracked ?? null;
  return rec;
}

/** `auth`: every credential in the capture with its outcome and why. */
export async function authCommand(file: string, opts: AuthOptions): Promise<void> {
  let words: string[] | undefined;
  if (opts.wordlist) {
    try {
      words = readFileSync(opts.wordlist, 'utf8').split(/\r?\n/).filter((w) => w.length > 0);
    } catch (err) {
      throw new SipscopeError('E_INPUT', `cannot read wordlist ${opts.wordlist}: ${(err as Error).message}`);
    }
  }
  const out = new Output();
  let count = 0;
  const line = (l: string): void => {
    count++;
    out.line(l);
  };
  await analyzeFile(file, opts, () => {}, {
    onAuth: (c) => {
      const cracked = words && !c.copy ? crack(c, words) : undefined;
      if (opts.json) line(JSON.stringify(record(c, cracked, words !== undefined)));
      else {
        const when = isoMillis(c.time)?.replace('T', ' ').replace('Z', '') ?? '-';
        const what = `${c.packet.msg.method} ${c.header}`;
        const crackedText = words ? (cracked !== undefined ? `  password found: "${cracked}"` : c.copy ? '' : '  not in wordlist') : '';
        line(`${when}  ${what.padEnd(28)} user=${c.credentials.username} realm=${c.credentials.realm}  ${c.result.toUpperCase()}: ${c.explanation.join('; ')}${crackedText}  [${c.packet.msg.callId ?? '-'}]`);
      }
    },
  }, () => out.flush());
  if (!count && !opts.json) out.line('no Authorization or Proxy-Authorization headers in this capture');
  await out.flush();
}
