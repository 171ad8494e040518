import { newBranch, parseUri, serialize, SipMessage, type HeaderList } from '../sip/index.js';
import type { Peer, Proto } from './transport.js';

/** One side of a bridged call, seen as a dialog (RFC 3261 §12) the B2BUA is a party to. */
export interface Dialog {
  callId: string;
  localTag: string;
  remoteTag: string | undefined;
  /** Our URI in this dialog (From of our requests) and theirs (To of our requests). */
  localUri: string;
  remoteUri: string;
  /** Remote target: the Contact URI of the other party (§12.1.1). */
  remoteTarget: string;
  /** Where in-dialog requests go. */
  peer: Peer;
  localCSeq: number;
}

/** Where to send requests for a URI: its host and port, over the transport it names. */
export function peerOfUri(uri: string, fallback: Peer): Peer {
  const u = parseUri(uri);
  if (!u || !u.host) return fallback;
  const proto: Proto = (u.params['transport'] ?? '').toLowerCase() === 'tcp' ? 'TCP' : fallback.proto;
  const host = u.host.replace(/^\[|\]$/g, '');
  return { proto, ip: host, port: u.port ?? 5060 };
}

export function via(local: Peer, branch = newBranch()): string {
  const host = local.ip.includes(':') ? `[${local.ip}]` : local.ip;
  return `SIP/2.0/${local.proto} ${host}:${local.port};rport;branch=${branch}`;
}

export function contactOf(local: Peer, user = 'sipscope'): string {
  const host = local.ip.includes(':') ? `[${local.ip}]` : local.ip;
  return `<sip:${user}@${host}:${local.port}${local.proto === 'TCP' ? ';transport=tcp' : ''}>`;
}

export interface Built {
  bytes: Buffer;
  msg: SipMessage;
}

function built(bytes: Buffer): Built {
  const msg = SipMessage.parse(bytes);
  if (!msg) throw new Error('built an unparseable request');
  return { bytes, msg };
}

/** A request within a dialog (§12.2.1.1): our tag in From, theirs in To, the next CSeq. */
export function inDialogRequest(d: Dialog, method: string, local: Peer, headers: HeaderList = [], body?: Buffer, cseq = ++d.localCSeq, maxForwards = 70): Built {
  const h: HeaderList = [
    ['Via', via(local)],
    ['Max-Forwards', String(maxForwards)],
    ['From', `${d.localUri};tag=${d.localTag}`],
    ['To', d.remoteTag ? `${d.remoteUri};tag=${d.remoteTag}` : d.remoteUri],
    ['Call-ID', d.callId],
    ['CSeq', `${cseq} ${method}`],
    ['Contact', contactOf(local)],
    ...headers,
  ];
  return built(serialize(`${method} ${d.remoteTarget} SIP/2.0`, h, body));
}

/** The ACK for a 2xx (§13.2.2.4): a new branch, the INVITE's CSeq number. */
export function ackFor2xx(d: Dialog, inviteCSeq: number, local: Peer): Built {
  return inDialogRequest(d, 'ACK', local, [], undefined, inviteCSeq);
}

/** The ACK for a non-2xx final (§17.1.1.3): the INVITE's top Via (same branch), To from the response. */
export function ackForFailure(invite: SipMessage, response: SipMessage): Buffer {
  const h: HeaderList = [
    ['Via', invite.values('via')[0] ?? ''],
    ['Max-Forwards', '70'],
    ['From', invite.get('from') ?? ''],
    ['To', response.get('to') ?? ''],
    ['Call-ID', invite.callId ?? ''],
    ['CSeq', `${invite.cseq?.seq ?? 1} ACK`],
  ];
  for (const r of invite.getAll('route')) h.push(['Route', r]);
  return serialize(`ACK ${invite.requestUri} SIP/2.0`, h);
}

/** CANCEL for a pending INVITE (§9.1): same Request-URI, Call-ID, From, To, top Via and CSeq number. */
export function cancelFor(invite: SipMessage, reason?: string): Built {
  const h: HeaderList = [
    ['Via', invite.values('via')[0] ?? ''],
    ['Max-Forwards', '70'],
    ['From', invite.get('from') ?? ''],
    ['To', invite.get('to') ?? ''],
    ['Call-ID', invite.callId ?? ''],
    ['CSeq', `${invite.cseq?.seq ?? 1} CANCEL`],
  ];
  if (reason) h.push(['Reason', reason]);
  return built(serialize(`CANCEL ${invite.requestUri} SIP/2.0`, h));
}
