import { sdpCodecs, sdpCodecsText, type SipMessage } from '../sip/index.js';
import { q850FromReason } from './q850.js';

/** The software that sent a message: User-Agent, else Server (RFC 3261 §20.41, §20.35). */
export function agentOf(m: SipMessage): string | null {
  return m.get('user-agent') ?? m.get('server') ?? null;
}

/** The Q.850 cause of the message's Reason header, when it has one (RFC 3326). */
export function reasonCauseOf(m: SipMessage): number | undefined {
  return m.has('reason') ? q850FromReason(m.getAll('reason')) : undefined;
}

/**
 * Codec names of the active streams of the message's SDP, streams separated by a space:
 * "PCMU,telephone-event". Null when it carries no SDP part or no active stream.
 */
export function answerCodecsOf(m: SipMessage): string | null {
  const body = m.sdpBody;
  if (!body) return null;
  const text = sdpCodecsText(body);
  if (text !== undefined) return text;
  const streams = sdpCodecs(body);
  return streams.length ? streams.map((c) => c.join(',')).join(' ') : null;
}
