import { randomBytes } from 'node:crypto';
import type { SipMessage } from './message.js';

/** Headers in order, as [name, value]. */
export type HeaderList = Array<[string, string]>;

const REASONS: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 413: 'Request Entity Too Large',
  415: 'Unsupported Media Type', 420: 'Bad Extension', 423: 'Interval Too Brief', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops', 486: 'Busy Here',
  487: 'Request Terminated', 488: 'Not Acceptable Here', 491: 'Request Pending', 500: 'Server Internal Error',
  501: 'Not Implemented', 503: 'Service Unavailable', 513: 'Message Too Large', 600: 'Busy Everywhere',
  603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? (status < 200 ? 'Progress' : status < 300 ? 'OK' : 'Failure');
}

/** A random token for tags, branches and Call-IDs (RFC 3261 §19.3: at least 32 bits of randomness). */
export function token(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

/** A branch with the RFC 3261 magic cookie (§8.1.1.7). */
export function newBranch(): string {
  return `z9hG4bK${token(8)}`;
}

/** Serialises a message; Content-Length is always computed here, never trusted from the caller. */
export function serialize(startLine: string, headers: HeaderList, body: Buffer = Buffer.alloc(0)): Buffer {
  let head = `${startLine}\r\n`;
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'content-length' || name.toLowerCase() === 'l') continue;
    head += `${name}: ${value}\r\n`;
  }
  head += `Content-Length: ${body.length}\r\n\r\n`;
  return body.length ? Buffer.concat([Buffer.from(head, 'utf8'), body]) : Buffer.from(head, 'utf8');
}

export interface ResponseOptions {
  /** To tag to add when the request's To has none (§8.2.6.2); ignored for 100. */
  toTag?: string;
  headers?: HeaderList;
  body?: Buffer;
  reason?: string;
}

/**
 * A response to `req` (§8.2.6): Via headers copied in order, From, Call-ID and CSeq copied, To
 * copied with a tag added when it had none. `topVia` replaces the first Via (the transport adds
 * received/rport there, RFC 3581 §4).
 */
export function buildResponse(req: SipMessage, status: number, o: ResponseOptions = {}, topVia?: string): Buffer {
  const h: HeaderList = [];
  const vias = req.values('via');
  vias.forEach((v, i) => h.push(['Via', i === 0 && topVia !== undefined ? topVia : v]));
  h.push(['From', req.get('from') ?? '']);
  let to = req.get('to') ?? '';
  if (status > 100 && o.toTag && !req.toTag) to = `${to};tag=${o.toTag}`;
  h.push(['To', to]);
  h.push(['Call-ID', req.callId ?? '']);
  h.push(['CSeq', req.get('cseq') ?? '']);
  for (const x of o.headers ?? []) h.push(x);
  return serialize(`SIP/2.0 ${status} ${o.reason ?? reasonPhrase(status)}`, h, o.body);
}
