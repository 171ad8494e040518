import * as sdpTransform from 'sdp-transform';
import type { SessionDescription } from 'sdp-transform';
import { parseParams } from './headers.js';
import { STATIC_PT } from './sdp-codecs.js';

/** One part of a message body (the whole body when it is not multipart). */
export interface BodyPart {
  contentType: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

/** media type/subtype lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Splits a multipart body (RFC 2046 §5.1): parts between "--boundary" delimiter lines, each with
 * its own headers. Nested multiparts are split recursively. Never throws.
 */
export function splitBody(contentType: string | undefined, body: Buffer, depth = 0): BodyPart[] {
  const type = mediaType(contentType);
  if (!type.startsWith('multipart/') || depth > 4) return body.length ? [{ contentType: type, headers: [], body }] : [];
  const semi = (contentType ?? '').indexOf(';');
  const boundary = semi < 0 ? null : parseParams((contentType ?? '').slice(semi))['boundary'];
  if (!boundary) return [{ contentType: type, headers: [], body }];
  const delim = Buffer.from(`--${boundary}`);
  const parts: BodyPart[] = [];
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    let start = pos + delim.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing delimiter
    while (start < body.length && body[start] !== 0x0a) start++;
    start++;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    // The CRLF before the next delimiter belongs to the delimiter.
    let end = next;
    if (body[end - 1] === 0x0a) end--;
    if (body[end - 1] === 0x0d) end--;
    parts.push(...splitPart(body.subarray(start, Math.max(start, end)), depth));
    pos = next;
  }
  return parts;
}

function splitPart(part: Buffer, depth: number): BodyPart[] {
  let headerEnd = part.indexOf('\r\n\r\n');
  let skip = 4;
  if (headerEnd < 0) {
    headerEnd = part.indexOf('\n\n');
    skip = 2;
  }
  const head = headerEnd < 0 ? '' : part.toString('utf8', 0, headerEnd);
  const body = headerEnd < 0 ? part : part.subarray(headerEnd + skip);
  const headers: Array<[string, string]> = [];
  for (const line of head.split(/\r?\n(?![ \t])/)) {
    const c = line.indexOf(':');
    if (c > 0) headers.push([line.slice(0, c).trim(), line.slice(c + 1).replace(/\r?\n[ \t]+/g, ' ').trim()]);
  }
  const ct = headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1];
  if (mediaType(ct).startsWith('multipart/')) return splitBody(ct, body, depth + 1);
  return [{ contentType: mediaType(ct) || 'text/plain', headers, body }];
}

/** Parses SDP (RFC 8866) with sdp-transform; undefined when it is not SDP at all. */
export function parseSdp(body: Buffer | string): SessionDescription | undefined {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (!/^v=/m.test(text)) return undefined;
  try {
    return sdpTransform.parse(text);
  } catch {
    return undefined;
  }
}


export interface MediaSummary {
  type: string;
  port: number;
  protocol: string;
  /** Connection address of this stream (media-level c= or session-level). */
  address: string | undefined;
  direction: string;
  /** Codec names in preference order, e.g. ["PCMU/8000", "telephone-event/8000"]. */
  codecs: string[];
}

/** What a VoIP engineer reads off an SDP: per stream, address:port, codecs and direction. */
export function summarizeSdp(sdp: SessionDescription): MediaSummary[] {
  return (sdp.media ?? []).map((m) => {
    const rtp = new Map((m.rtp ?? []).map((r) => [r.payload, `${r.codec}/${r.rate ?? ''}`.replace(/\/$/, '')]));
    const pts = String(m.payloads ?? '').split(/\s+/).filter(Boolean).map(Number);
    return {
      type: m.type,
      port: m.port,
      protocol: m.protocol,
      address: m.connection?.ip ?? sdp.connection?.ip,
      direction: m.direction ?? sdp.direction ?? 'sendrecv',
      codecs: pts.map((pt) => rtp.get(pt) ?? STATIC_PT[pt] ?? String(pt)),
    };
  });
}

/**
 * Codec names per active media stream, read straight off the m= and a=rtpmap lines. The call
 * records need only this, once per call; a full sdp-transform parse cost 6 % of `export csv`.
 */
export function sdpCodecs(body: Buffer): string[][] {
  const text = body.toString('latin1');
  const streams: string[][] = [];
  let pts: string[] = [];
  let names = new Map<string, string>();
  let active = false;
  const close = (): void => {
    if (active) streams.push(pts.map((pt) => names.get(pt) ?? STATIC_PT[Number(pt)] ?? pt));
  };
  // Lines as split(/\r?\n/) makes them, but only the m= and a= ones are made into strings.
  for (let at = 0; at <= text.length; ) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const start = at;
    at = nl + 1;
    const c = text.charCodeAt(start);
    if ((c !== 0x6d && c !== 0x61) || text.charCodeAt(start + 1) !== 0x3d) continue; // "m=" or "a="
    const line = text.slice(start, nl < text.length && nl > start && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl);
    if (line.startsWith('m=')) {
      close();
      const f = line.slice(2).trim().split(/\s+/);
      active = f.length >= 4 && f[1] !== '0';
      pts = f.slice(3);
      names = new Map();
    } else if (line.startsWith('a=rtpmap:')) {
      const m = /^a=rtpmap:(\d+)\s+([^/\s]+)/.exec(line);
      if (m) names.set(m[1]!, m[2]!);
    }
  }
  close();
  return streams;
}
