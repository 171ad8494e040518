import { SipMessage, summarizeSdp } from '../sip/index.js';
import type { AuthNote } from './message-index.js';
import { esc, type Colour, type Theme } from './theme.js';

function statusColour(code: number): Colour {
  if (code < 200) return 'yellow';
  if (code < 300) return 'green';
  if (code < 400) return 'cyan';
  return 'red';
}

/**
 * A SIP message as tagged lines with its syntax coloured: method or status on the start line,
 * header names, SDP line types. Plain (no colour tags) when the theme has no colour.
 */
export function sipLines(raw: Buffer, theme: Theme): string[] {
  const lines = raw.toString('utf8').split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const out: string[] = [];
  let inBody = false;
  lines.forEach((line, i) => {
    const text = line.replace(/\t/g, '    ').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '.');
    if (i === 0) {
      const resp = /^(SIP\/2\.0) (\d{3})(.*)$/.exec(text);
      if (resp) out.push(`${esc(resp[1]!)} ${theme.bold(theme.fg(statusColour(Number(resp[2])), esc(`${resp[2]}${resp[3]}`)))}`);
      else {
        const sp = text.indexOf(' ');
        out.push(sp > 0 ? `${theme.bold(theme.fg('cyan', esc(text.slice(0, sp))))}${esc(text.slice(sp))}` : esc(text));
      }
      return;
    }
    if (!inBody && text === '') {
      inBody = true;
      out.push('');
      return;
    }
    if (!inBody) {
      const colon = text.indexOf(':');
      if (colon > 0 && !/^[ \t]/.test(line)) out.push(`${theme.fg('yellow', esc(text.slice(0, colon)))}${esc(text.slice(colon))}`);
      else out.push(esc(text));
      return;
    }
    const sdp = /^([a-z])=(.*)$/.exec(text);
    out.push(sdp ? `${theme.fg('magenta', `${sdp[1]}=`)}${esc(sdp[2]!)}` : esc(text));
  });
  return out;
}

/** What the SDP of a message says, one line per media stream; empty when it carries none. */
export function sdpLines(raw: Buffer): string[] {
  const msg = SipMessage.parse(Buffer.from(raw));
  const sdp = msg?.sdp;
  if (!sdp) return [];
  const out: string[] = [];
  if (sdp.origin) out.push(`origin ${sdp.origin.username} ${sdp.origin.address}, session ${sdp.origin.sessionId} v${sdp.origin.sessionVersion}`);
  for (const m of summarizeSdp(sdp)) {
    out.push(`${m.type} ${m.address ?? '?'}:${m.port} ${m.protocol} ${m.direction}${m.port === 0 ? ' (rejected)' : ''}: ${m.codecs.join(', ') || '-'}`);
  }
  return out;
}

/** The outcome of each digest credential in a message, with its reasons. */
export function authLines(notes: AuthNote[], theme: Theme): string[] {
  const out: string[] = [];
  for (const n of notes) {
    const c: Colour = n.result === 'valid' ? 'green' : n.result === 'invalid' ? 'red' : 'yellow';
    out.push(`${esc(n.header)} user "${esc(n.user)}" realm "${esc(n.realm)}": ${theme.bold(theme.fg(c, n.result.toUpperCase()))}${n.copy ? ' (copy of the INVITE\'s credentials)' : ''}`);
    for (const e of n.explanation) out.push(`  - ${esc(e)}`);
  }
  return out;
}
