/**
 * The seed chapter (a FreeSWITCH book chapter on SIP, ../shared/seed/sip-chapter.txt) turned
 * into a capture. Every SIP message is parsed out of the chapter text; nothing is copied by hand.
 *
 * The chapter prints each message after a FreeSWITCH trace marker
 *   `recv 584 bytes from udp/[192.168.4.4]:5090 at 12:30:57.916812:`
 * ("recv from X" is X → FreeSWITCH, "send to X" is FreeSWITCH → X; FreeSWITCH is 192.168.4.4:5060).
 * What the printing lost is put back here and listed in captures/seed-chapter.md:
 *  - CRLF line ends; trailing spaces are dropped (the announced byte counts prove they are not SIP);
 *  - the 401 printed flat on one line is split back into header lines;
 *  - the omitted SDP bodies are rebuilt to exactly the announced Content-Length;
 *  - the failed registration, of which only the final 403 is printed, gets its REGISTER → 401 →
 *    REGISTER (wrong password) in front, made from the first registration's messages.
 * Folded headers stay folded as printed (layout 'printed'). The byte counts in the markers show the
 * messages were single-line on the wire; layout 'wire' unfolds them and then every printed message
 * is exactly as long as its marker says.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pcapGlobalHeader, pcapRecordHeader } from '../../src/capture/pcap-writer.js';
import { udpFrame } from '../../src/net/encode.js';

/** The chapter: $SIPSCOPE_SEED_CHAPTER, else ../shared/seed/sip-chapter.txt next to the repository. */
export const SEED_CHAPTER_PATH = process.env['SIPSCOPE_SEED_CHAPTER'] ?? fileURLToPath(new URL('../../../shared/seed/sip-chapter.txt', import.meta.url));

/** FreeSWITCH's own address: the chapter says so in prose; markers name only the peer. */
export const FREESWITCH = { ip: '192.168.4.4', port: 5060 } as const;

const LINKTYPE_ETHERNET = 1;

export interface Endpoint {
  ip: string;
  port: number;
}

export type Layout = 'printed' | 'wire';

export interface SeedMessage {
  /** 1-based frame number in the capture. */
  frame: number;
  /** FreeSWITCH's view: recv = peer → FreeSWITCH, send = FreeSWITCH → peer. */
  direction: 'recv' | 'send';
  src: Endpoint;
  dst: Endpoint;
  tsSec: number;
  tsUsec: number;
  /** The same instant (millisecond precision only). */
  time: Date;
  /** Start line, headers as printed (folds kept), CRLF line ends, empty line, body. */
  text: string;
  /** The same message with folded headers joined as they were on the wire. */
  wireText: string;
  /** The body (reconstructed SDP or empty). */
  body: string;
  startLine: string;
  /** Bytes announced by FreeSWITCH's marker; undefined for synthesized messages. */
  announcedBytes: number | undefined;
  /** Not in the chapter: made up for the failed registration. */
  synthesized: boolean;
  /** The chapter printed this message on one line (the 401). */
  printedFlat: boolean;
}

/** One message as the chapter prints it, before bodies are filled in. */
interface Printed {
  direction: 'recv' | 'send';
  peer: Endpoint;
  announcedBytes: number;
  /** Seconds since midnight and microseconds. */
  daySec: number;
  usec: number;
  /** Header lines (start line first), trailing blanks removed, leading blanks kept. */
  lines: string[];
  flat: boolean;
}

const MARKER = /(recv|send) (\d+) bytes (from|to) udp\/\[([0-9.]+)\]:(\d+) at (\d\d):(\d\d):(\d\d)\.(\d{6}):/g;
/** Where a flattened message starts a new header: " Name: ". */
const FLAT_HEADER_START = / (?=[A-Za-z][A-Za-z0-9-]*: )/;

export function parsePrinted(chapter: string): Printed[] {
  const text = chapter.replace(/\r\n?/g, '\n');
  const out: Printed[] = [];
  for (const m of text.matchAll(MARKER)) {
    const lineEnd = text.indexOf('\n', m.index! + m[0].length);
    const rest = text.slice(m.index! + m[0].length, lineEnd < 0 ? text.length : lineEnd).replace(/^\s*-+\s*/, '').trimEnd();
    let lines: string[];
    if (rest) {
      lines = rest.split(FLAT_HEADER_START);
    } else {
      const after = text.slice(lineEnd + 1).split('\n');
      let i = /^-{10,}\s*$/.test(after[0] ?? '') ? 1 : 0;
      lines = [];
      for (; i < after.length && after[i]!.trim() !== ''; i++) lines.push(after[i]!.replace(/[ \t]+$/, ''));
    }
    out.push({
      direction: m[1] as 'recv' | 'send',
      peer: { ip: m[4]!, port: Number(m[5]) },
      announcedBytes: Number(m[2]),
      daySec: Number(m[6]) * 3600 + Number(m[7]) * 60 + Number(m[8]),
      usec: Number(m[9]),
      lines,
      flat: rest !== '',
    });
  }
  return out;
}

// ---- header access on printed lines ----------------------------------------------------------

/** Value of the first header `name` (folds joined by one space), or undefined. */
export function headerValue(lines: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i]!.indexOf(':');
    if (/^[ \t]/.test(lines[i]!) || colon < 0 || lines[i]!.slice(0, colon).trim().toLowerCase() !== lower) continue;
    let v = lines[i]!.slice(colon + 1).trim();
    for (let j = i + 1; j < lines.length && /^[ \t]/.test(lines[j]!); j++) v += ' ' + lines[j]!.trim();
    return v;
  }
  return undefined;
}

/** Header lines of `text` (a full message) up to the empty line. */
export function headerLines(text: string): string[] {
  return text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
}

/**
 * Joins folded lines as the senders did: the UAs' digest credentials carry no space after the
 * comma, FreeSWITCH's list headers one space (the markers' byte counts confirm both).
 */
export function unfold(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    if (/^[ \t]/.test(l) && out.length) {
      const prev = out[out.length - 1]!;
      const joiner = /^(proxy-)?authorization:/i.test(prev) ? '' : ' ';
      out[out.length - 1] = prev + joiner + l.trim();
    } else out.push(l);
  }
  return out;
}

// ---- digest (RFC 2617, qop=auth) ---------------------------------------------------------------

export function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

export interface DigestInput {
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  nc: string;
  cnonce: string;
  qop: string;
}

export function digestResponse(d: DigestInput): string {
  const ha1 = md5(`${d.username}:${d.realm}:${d.password}`);
  const ha2 = md5(`${d.method}:${d.uri}`);
  return md5(`${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`);
}

/** Parameters of a Digest challenge or credentials header value (names lower-cased, unquoted). */
export function digestParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const body = value.replace(/^\s*Digest\s+/i, '');
  for (const m of body.matchAll(/([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g)) out[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}

// ---- what the chapter does not print -----------------------------------------------------------

/** Invented values: everything the chapter does not give. */
export const SYNTHESIZED = {
  /** Alice's wrong password in the failed registration (hers is 1234). */
  wrongPassword: '4321',
  /** Fresh values for the failed registration. */
  register1Branch: 'z9hG4bK-d8754z-5c1e0a93f2b7d468-1---d8754z-',
  challengeToTag: 'Hg2Nr8vKpQ1cS',
  challengeNonce: '7d4e1b0a-9c3f-4e2d-8b6a-53f1c0e9d2a7',
  cnonce: '0f9e1c7b3a5d42e68b1f7c2a9d4e6b30',
  /** Alice's Contact rinstance in the failed attempt: the one she uses later in the call. */
  rinstance: 'e7d5364c81f2b879',
  /** RTP ports. */
  bobRtpPort: 8000,
  aliceRtpPort: 8002,
  freeswitchALegRtpPort: 23148,
  freeswitchBLegRtpPort: 29554,
  /** A valid attribute that brings an SDP body to its announced length. */
  padAttribute: 'a=x-sipscope-pad:',
} as const;

type Agent = 'X-Lite' | 'Zoiper' | 'FreeSWITCH';

function sdpLines(agent: Agent, offer: boolean, ip: string, origin: string): string[] {
  const s = SYNTHESIZED;
  if (agent === 'X-Lite') {
    return [
      'v=0', `o=- 7 2 IN IP4 ${ip}`, 's=CounterPath X-Lite 3.0', `c=IN IP4 ${ip}`, 't=0 0',
      `m=audio ${s.bobRtpPort} RTP/AVP 107 119 100 106 6 0 105 98 8 3 101`,
      `a=alt:1 1 : xT2UeGkR fHwMnh3s ${ip} ${s.bobRtpPort}`,
      'a=fmtp:101 0-15', 'a=rtpmap:107 BV32/16000', 'a=rtpmap:119 BV32-FEC/16000', 'a=rtpmap:100 SPEEX/16000',
      'a=rtpmap:106 SPEEX-FEC/16000', 'a=rtpmap:6 DVI4/16000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:105 SPEEX-FEC/8000',
      'a=rtpmap:98 iLBC/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:3 GSM/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv',
    ];
  }
  if (agent === 'Zoiper') {
    return [
      'v=0', `o=Zoiper_user 0 0 IN IP4 ${ip}`, 's=Zoiper_session', `c=IN IP4 ${ip}`, 't=0 0',
      `m=audio ${s.aliceRtpPort} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv',
    ];
  }
  const head = ['v=0', `o=FreeSWITCH ${origin} IN IP4 ${ip}`, 's=FreeSWITCH', `c=IN IP4 ${ip}`, 't=0 0'];
  if (offer) {
    return [
      ...head, `m=audio ${s.freeswitchBLegRtpPort} RTP/AVP 9 0 8 3 101 13`, 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000', 'a=rtpmap:3 GSM/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=rtpmap:13 CN/8000',
    ];
  }
  return [
    ...head, `m=audio ${s.freeswitchALegRtpPort} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16', 'a=silenceSupp:off - - - -', 'a=ptime:20',
  ];
}

/** SDP lines as a body of exactly `size` bytes: a pad attribute is appended when short. */
export function fitSdp(lines: string[], size: number): string {
  let body = lines.map((l) => l + '\r\n').join('');
  const short = size - body.length;
  const padMin = SYNTHESIZED.padAttribute.length + 2;
  if (short !== 0 && short < padMin) throw new Error(`SDP is ${body.length} bytes, cannot reach ${size}`);
  if (short > 0) body += SYNTHESIZED.padAttribute + '.'.repeat(short - padMin) + '\r\n';
  return body;
}

// ---- assembling the story ----------------------------------------------------------------------

interface Draft {
  direction: 'recv' | 'send';
  src: Endpoint;
  dst: Endpoint;
  daySec: number;
  usec: number;
  lines: string[];
  announcedBytes: number | undefined;
  synthesized: boolean;
  printedFlat: boolean;
}

function draftOf(p: Printed): Draft {
  const fs = { ...FREESWITCH };
  return {
    direction: p.direction,
    src: p.direction === 'recv' ? p.peer : fs,
    dst: p.direction === 'recv' ? fs : p.peer,
    daySec: p.daySec,
    usec: p.usec,
    lines: p.lines,
    announcedBytes: p.announcedBytes,
    synthesized: false,
    printedFlat: p.flat,
  };
}

function replaceAll(lines: string[], pairs: Array<[string, string]>): string[] {
  return lines.map((l) => pairs.reduce((acc, [from, to]) => acc.split(from).join(to), l));
}

function topBranch(lines: readonly string[]): string {
  const m = /branch=([^;,\s]+)/.exec(headerValue(lines, 'Via') ?? '');
  if (!m) throw new Error(`no Via branch in: ${lines[0]}`);
  return m[1]!;
}

function tagOf(value: string | undefined): string {
  const m = /;tag=([^;>\s]+)/.exec(value ?? '');
  if (!m) throw new Error(`no tag in ${value}`);
  return m[1]!;
}

function rinstanceOf(lines: readonly string[]): string {
  const m = /rinstance=([0-9a-f]+)/.exec(headerValue(lines, 'Contact') ?? '');
  if (!m) throw new Error('no rinstance');
  return m[1]!;
}

/**
 * The failed registration before the chapter's 403: REGISTER (CSeq 1), 401, REGISTER (CSeq 2,
 * wrong password), each made from the matching message of the first registration with the 403's
 * Call-ID, From tag and branch, and timed like the first registration relative to its 200.
 */
function failedRegistration(first: Draft[], forbidden: Draft): Draft[] {
  const [reg1, challenge, reg2, ok] = first as [Draft, Draft, Draft, Draft];
  const s = SYNTHESIZED;
  const common: Array<[string, string]> = [
    [headerValue(reg1.lines, 'Call-ID')!, headerValue(forbidden.lines, 'Call-ID')!],
    [tagOf(headerValue(reg1.lines, 'From')), tagOf(headerValue(forbidden.lines, 'From'))],
    [rinstanceOf(reg1.lines), s.rinstance],
  ];
  const oldNonce = digestParams(headerValue(challenge.lines, 'WWW-Authenticate')!)['nonce']!;
  const cred = digestParams(headerValue(reg2.lines, 'Authorization')!);
  const response = digestResponse({
    username: cred['username']!, realm: cred['realm']!, password: s.wrongPassword, method: 'REGISTER', uri: cred['uri']!,
    nonce: s.challengeNonce, nc: cred['nc']!, cnonce: s.cnonce, qop: cred['qop']!,
  });
  const okTime = ok.daySec * 1e6 + ok.usec;
  const at = (d: Draft): { daySec: number; usec: number } => {
    const t = forbidden.daySec * 1e6 + forbidden.usec - (okTime - (d.daySec * 1e6 + d.usec));
    return { daySec: Math.floor(t / 1e6), usec: t % 1e6 };
  };
  const make = (d: Draft, extra: Array<[string, string]>): Draft => ({
    ...d, ...at(d), lines: replaceAll(d.lines, [...common, ...extra]), announcedBytes: undefined, synthesized: true, printedFlat: false,
  });
  return [
    make(reg1, [[topBranch(reg1.lines), s.register1Branch]]),
    make(challenge, [[topBranch(challenge.lines), s.register1Branch], [tagOf(headerValue(challenge.lines, 'To')), s.challengeToTag], [oldNonce, s.challengeNonce]]),
    make(reg2, [[topBranch(reg2.lines), topBranch(forbidden.lines)], [oldNonce, s.challengeNonce], [cred['cnonce']!, s.cnonce], [cred['response']!, response]]),
  ];
}

/** Midnight (UTC, epoch seconds) of the day in the first Date header (12:30:57 GMT on Tue, 27 Apr 2010). */
function dayStart(drafts: Draft[]): number {
  for (const d of drafts) {
    const date = headerValue(d.lines, 'Date');
    if (date) {
      const t = Date.parse(date);
      if (Number.isNaN(t)) throw new Error(`bad Date header: ${date}`);
      return Math.floor(t / 86_400_000) * 86_400;
    }
  }
  throw new Error('no Date header in the chapter');
}

/** Parses the chapter and builds the whole story, synthesized messages included, in time order. */
export function buildSeedMessages(chapter: string): SeedMessage[] {
  const printed = parsePrinted(chapter).map(draftOf);
  const forbiddenAt = printed.findIndex((d) => d.lines[0]!.startsWith('SIP/2.0 403'));
  if (forbiddenAt < 4) throw new Error('the chapter has no 403 after the first registration');
  const drafts = [...printed.slice(0, forbiddenAt), ...failedRegistration(printed.slice(0, 4), printed[forbiddenAt]!), ...printed.slice(forbiddenAt)];
  const day = dayStart(drafts);

  // Who sends what: the User-Agent seen from each peer port (FreeSWITCH sends from 5060).
  const agents = new Map<number, Agent>([[FREESWITCH.port, 'FreeSWITCH']]);
  for (const d of drafts) {
    const ua = headerValue(d.lines, 'User-Agent') ?? '';
    if (/X-Lite/.test(ua)) agents.set(d.src.port, 'X-Lite');
    else if (/Zoiper/.test(ua)) agents.set(d.src.port, 'Zoiper');
  }
  const fsOrigins = new Map<string, string>();

  const out: SeedMessage[] = [];
  let last = -Infinity;
  for (const d of drafts) {
    const size = Number(headerValue(d.lines, 'Content-Length') ?? '0');
    const tsSec = day + d.daySec;
    let body = '';
    if (size > 0) {
      const type = headerValue(d.lines, 'Content-Type');
      if (type !== 'application/sdp') throw new Error(`body of ${d.lines[0]} is ${type}`);
      const agent = agents.get(d.src.port);
      if (!agent) throw new Error(`unknown sender ${d.src.ip}:${d.src.port}`);
      const callId = headerValue(d.lines, 'Call-ID')!;
      const offer = !d.lines[0]!.startsWith('SIP/2.0');
      // FreeSWITCH's o=: epoch at the first SDP of the call minus the RTP port, version + 1.
      const port = offer ? SYNTHESIZED.freeswitchBLegRtpPort : SYNTHESIZED.freeswitchALegRtpPort;
      if (agent === 'FreeSWITCH' && !fsOrigins.has(callId)) fsOrigins.set(callId, `${tsSec - port} ${tsSec - port + 1}`);
      body = fitSdp(sdpLines(agent, offer, d.src.ip, fsOrigins.get(callId) ?? ''), size);
    }
    const t = tsSec * 1e6 + d.usec;
    if (t < last) throw new Error(`${d.lines[0]} is earlier than the message before it`);
    last = t;
    out.push({
      frame: out.length + 1,
      direction: d.direction,
      src: d.src,
      dst: d.dst,
      tsSec,
      tsUsec: d.usec,
      time: new Date(tsSec * 1000 + Math.floor(d.usec / 1000)),
      text: d.lines.join('\r\n') + '\r\n\r\n' + body,
      wireText: unfold(d.lines).join('\r\n') + '\r\n\r\n' + body,
      body,
      startLine: d.lines[0]!,
      announcedBytes: d.announcedBytes,
      synthesized: d.synthesized,
      printedFlat: d.printedFlat,
    });
  }
  return out;
}

let cached: SeedMessage[] | undefined;

/** The story from the chapter at SEED_CHAPTER_PATH (read once). */
export function seedMessages(): SeedMessage[] {
  cached ??= buildSeedMessages(readFileSync(SEED_CHAPTER_PATH, 'utf8'));
  return cached;
}

/** The pcap (Ethernet, µs) of the story: one UDP frame per message. */
export function buildSeedCapture(layout: Layout = 'printed', messages: SeedMessage[] = seedMessages()): Buffer {
  const parts: Buffer[] = [pcapGlobalHeader(LINKTYPE_ETHERNET)];
  for (const m of messages) {
    const payload = Buffer.from(layout === 'wire' ? m.wireText : m.text, 'utf8');
    const frame = udpFrame(m.src.ip, m.dst.ip, m.src.port, m.dst.port, payload, m.frame);
    parts.push(pcapRecordHeader(m.tsSec, m.tsUsec, frame.length, frame.length), frame);
  }
  return Buffer.concat(parts);
}
