import { viaIdsFromBytes, type ViaIds } from './bytes.js';
import type { SipMessage } from './message.js';

/** RFC 3261 §8.1.1.7: branches that begin with this cookie are unique per transaction. */
export const MAGIC_COOKIE = 'z9hG4bK';

/**
 * The key that matches requests and responses of one transaction, shared by the passive
 * analyzer and the responder's transaction machines.
 *
 * RFC 3261 §17.2.3: with a magic-cookie branch, a request matches by top Via branch, sent-by and
 * method, where ACK (for a non-2xx response) belongs to the INVITE transaction; a CANCEL is its
 * own transaction. §17.1.3: a response matches by top Via branch, sent-by and CSeq method.
 * Without the cookie (RFC 2543 peers), Call-ID, From tag, CSeq and the whole top Via decide.
 */
const SENT_BY = /^\s*SIP\s*\/\s*2\.0\s*\/\s*[^\s;,]+\s+([^;,\s]+)/i;
const BRANCH = /;\s*branch\s*=\s*([^;,\s]+)/i;

/** sent-by and branch of the top Via, off the header bytes when plain (this runs per message). */
function topViaIds(msg: SipMessage): ViaIds | undefined {
  const fast = msg.readValue('via', viaIdsFromBytes);
  if (fast !== undefined) return fast ?? undefined;
  const v = msg.get('via');
  if (v === undefined) return undefined;
  const comma = v.indexOf(',');
  const first = comma < 0 ? v : v.slice(0, comma);
  const s = SENT_BY.exec(first);
  if (!s) return undefined;
  const sentBy = s[1]!.toLowerCase();
  return { sentBy: sentBy.includes(':') || sentBy.startsWith('[') ? sentBy : `${sentBy}:`, branch: BRANCH.exec(first)?.[1] };
}

export function transactionKey(msg: SipMessage): string | undefined {
  const cseq = msg.cseq;
  if (!cseq) return undefined;
  const method = cseq.method === 'ACK' ? 'INVITE' : cseq.method;
  const via = topViaIds(msg);
  const sentBy = via ? via.sentBy : '';
  const branch = via?.branch;
  if (branch && branch.startsWith(MAGIC_COOKIE)) return `${branch}|${sentBy}|${method}`;
  return `2543|${msg.callId ?? ''}|${msg.fromTag ?? ''}|${cseq.seq}|${method}|${sentBy}|${branch ?? ''}`;
}
