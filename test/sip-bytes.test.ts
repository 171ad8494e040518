// The byte-level readers (src/sip/bytes.ts) are fast paths: on every input they must give what
// the string parsers give. Differential tests over generated and mutated header values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mediaType, parseCSeq, parseNameAddr, sdpCodecs, sdpCodecsText, SipMessage, transactionKey, TransactionKeyProbe } from '../src/sip/index.js';
import { COMPACT, HOT_HEADERS, hotSlot, hotSlotOf } from '../src/sip/header-names.js';
import { latin1Text, ucs2Text, utf8Text } from '../src/sip/bytes.js';
import { rng } from './helpers/frames.js';

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const WS = ['', ' ', '  ', '\t'];
const NOISE = ['"', '<', '>', ';', ',', '=', ' ', '\t', 'é', '\r\n ', 'tag', 'TAG', 'branch', 'x', '0', ':', '[', ']'];

function mutate(r: () => number, s: string): string {
  let out = s;
  const n = Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (out.length + 1));
    const op = r();
    if (op < 0.4) out = out.slice(0, at) + pick(r, NOISE) + out.slice(at);
    else if (op < 0.7) out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + pick(r, NOISE) + out.slice(at + 1);
  }
  return out;
}

function nameAddr(r: () => number): string {
  const uri = pick(r, ['sip:alice@example.com', 'sip:bob@10.0.0.1:5060;transport=udp', 'tel:+123', 'sip:x@[::1]:5070']);
  const display = pick(r, ['', 'Alice ', '"Bob, Jr." ', '"a<b>;tag=no" ', 'Carol']);
  const params = pick(r, ['', ';tag=abc123', `;${pick(r, WS)}tag${pick(r, WS)}=${pick(r, WS)}Xy-9.z`, ';foo;tag=1;tag=2', ';TAG=up', ';tag', ';tag=', ';x=1;tag="q"', ';epid=1;tag=t1 ']);
  return pick(r, ['angle', 'angle', 'spec']) === 'spec' ? `${uri}${params}` : `${display}<${uri}>${params}`;
}

function via(r: () => number): string {
  const sentBy = pick(r, ['host.example.com', '10.0.0.1:5060', '[2001:db8::1]:5070', 'Host.Example.COM', '[::1]']);
  const branch = pick(r, ['z9hG4bK776asdhds', 'z9hG4bK-1-0', 'old-2543-branch', '']);
  const params = pick(r, [`;branch=${branch}`, `;rport;branch=${branch}`, `${pick(r, WS)};${pick(r, WS)}BRANCH${pick(r, WS)}=${pick(r, WS)}${branch}`, ';received=1.2.3.4', `;branch=;branch=${branch}`]);
  const tail = pick(r, ['', `, SIP/2.0/TCP other:5061;branch=z9hG4bKother`, ',bad']);
  return `${pick(r, WS)}${pick(r, ['SIP', 'sip'])}${pick(r, WS)}/${pick(r, WS)}2.0${pick(r, WS)}/${pick(r, WS)}${pick(r, ['UDP', 'tcp', 'TLS', 'WSS'])} ${pick(r, WS)}${sentBy}${params}${tail}`;
}

function cseq(r: () => number): string {
  return `${pick(r, WS)}${pick(r, ['1', '4711', '4294967295', '4294967296', '12345678901', '0', ''])}${pick(r, [' ', '  ', '\t', ''])}${pick(r, ['INVITE', 'ACK', 'BYE', 'REGISTER', 'FOO-bar', 'invite', ''])}${pick(r, WS)}`;
}

function message(to: string, from: string, v: string, c: string): SipMessage {
  const raw = Buffer.from(`INVITE sip:bob@example.com SIP/2.0\r\nVia: ${v}\r\nFrom: ${from}\r\nTo: ${to}\r\nCall-ID: a@b\r\nCSeq: ${c}\r\nContent-Length: 0\r\n\r\n`);
  const m = SipMessage.parse(raw);
  assert.ok(m);
  return m;
}

/** The top Via's transaction identity as the string parsers see it (the pre-fast-path rule). */
function slowKey(m: SipMessage): string | undefined {
  const cs = m.get('cseq');
  const c = cs === undefined ? undefined : parseCSeq(cs);
  if (!c) return undefined;
  const method = c.method === 'ACK' ? 'INVITE' : c.method;
  const v = m.get('via');
  let sentBy = '';
  let branch: string | undefined;
  if (v !== undefined) {
    const first = v.split(',')[0]!;
    const s = /^\s*SIP\s*\/\s*2\.0\s*\/\s*[^\s;,]+\s+([^;,\s]+)/i.exec(first);
    if (s) {
      const lower = s[1]!.toLowerCase();
      sentBy = lower.includes(':') || lower.startsWith('[') ? lower : `${lower}:`;
      branch = /;\s*branch\s*=\s*([^;,\s]+)/i.exec(first)?.[1];
    }
  }
  const tag = m.get('from') === undefined ? '' : parseNameAddr(m.get('from')!).params['tag'] ?? '';
  if (branch && branch.startsWith('z9hG4bK')) return `${branch}|${sentBy}|${method}`;
  return `2543|${m.get('call-id') ?? ''}|${tag}|${c.seq}|${method}|${sentBy}|${branch ?? ''}`;
}

test('byte readers agree with the string parsers on 20 000 generated and mutated header values', () => {
  const r = rng(20261124);
  let fastTags = 0;
  const probe = new TransactionKeyProbe();
  const recent: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const to = r() < 0.5 ? mutate(r, nameAddr(r)) : nameAddr(r);
    const from = nameAddr(r);
    const v = r() < 0.5 ? mutate(r, via(r)) : via(r);
    const c = r() < 0.3 ? mutate(r, cseq(r)) : cseq(r);
    const m = message(to, from, v, c);
    const toValue = m.get('to');
    const expectedTo = toValue === undefined ? undefined : parseNameAddr(toValue).params['tag'] ?? undefined;
    assert.equal(m.toTag, expectedTo, `To: ${JSON.stringify(to)}`);
    if (expectedTo) fastTags++;
    // hasToTag answers off the bytes (no string): asked first of a fresh message, then toTag.
    const fresh = message(to, from, v, c);
    assert.equal(fresh.hasToTag, !!expectedTo, `hasToTag, To: ${JSON.stringify(to)}`);
    assert.equal(fresh.toTag, expectedTo);
    const cs = m.get('cseq');
    assert.deepEqual(m.cseq, cs === undefined ? undefined : parseCSeq(cs), `CSeq: ${JSON.stringify(c)}`);
    const key = slowKey(m);
    assert.equal(transactionKey(m), key, `Via: ${JSON.stringify(v)} CSeq: ${JSON.stringify(c)}`);
    // The probe compares bytes with a key without making its own: it must say what === says,
    // for this message's key, the keys of earlier messages, and near misses of them.
    assert.equal(probe.read(m), key !== undefined);
    if (key !== undefined) {
      for (const other of [key, ...recent, `${key}x`, key.slice(0, -1), key.toUpperCase()]) {
        assert.equal(probe.matches(other), other === key, `${JSON.stringify(other)} vs Via: ${JSON.stringify(v)}`);
      }
      assert.equal(probe.key, key);
      recent.unshift(key);
      recent.length = Math.min(recent.length, 8);
    }
  }
  assert.ok(fastTags > 5000, 'the generator produces tags');
});

test('SDP found off the Content-Type bytes as the string reader finds it, on 5 000 generated and mutated types', () => {
  const r = rng(20261125);
  const sdp = 'v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 h\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  const multipart = `--b1\r\nContent-Type: application/sdp\r\n\r\n${sdp}\r\n--b1\r\nContent-Type: application/isup\r\n\r\nxx\r\n--b1--\r\n`;
  const TYPES = ['application/sdp', 'Application/SDP', 'application/sdpx', 'application/sd', 'text/plain', 'multipart/mixed;boundary=b1',
    'multipart/mixed; boundary="b1"', 'multipart', 'application/pidf+xml', 'application /sdp', 'message/sipfrag'];
  const TAILS = ['', ';charset=utf-8', ' ;x=1', ' ', '\t', ' x', '\u00a0', ';', ',application/sdp'];
  let sdpFound = 0;
  for (let i = 0; i < 5_000; i++) {
    let type = `${pick(r, WS)}${pick(r, TYPES)}${pick(r, TAILS)}`;
    if (r() < 0.3) type = mutate(r, type);
    const body = r() < 0.1 ? '' : type.toLowerCase().includes('multipart') ? multipart : sdp;
    const header = r() < 0.1 ? '' : `${pick(r, ['Content-Type', 'c', 'content-type'])}: ${type}\r\n`;
    const raw = Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>;tag=2\r\n${header}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const m = SipMessage.parse(raw)!;
    // The rules as the string readers state them.
    const t = mediaType(m.contentType);
    const hasSdp = m.bodyEnd > m.bodyStart && (t === 'application/sdp' || (t.startsWith('multipart/') && m.body.includes('application/sdp')));
    const part = m.parts.find((p) => p.contentType === 'application/sdp');
    assert.equal(m.hasSdp, hasSdp, `Content-Type: ${JSON.stringify(type)}`);
    assert.deepEqual(m.sdpBody, part?.body, `Content-Type: ${JSON.stringify(type)}`);
    if (part) sdpFound++;
  }
  assert.ok(sdpFound > 1000, 'the generator makes SDP bodies');
});

test('known methods are shared strings; others are read as written', () => {
  const a = message('<sip:a@b>', '<sip:c@d>;tag=1', 'SIP/2.0/UDP h;branch=z9hG4bK1', '1 INVITE');
  assert.equal(a.method, 'INVITE');
  assert.equal(a.cseq?.method, 'INVITE');
  const raw = Buffer.from('FOO sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\nCSeq: 7 FOO\r\nCall-ID: x\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\n\r\n');
  const m = SipMessage.parse(raw);
  assert.equal(m?.method, 'FOO');
  assert.deepEqual(m?.cseq, { seq: 7, method: 'FOO' });
});

test('Content-Length read off the bytes as the string rule reads it (§20.14, §18.3)', () => {
  const body = 'v=0\r\n';
  for (const v of ['5', '0005', '', ' 5', '5 ', '5x', '-1', '99', '4', '00000000000000000005', '1e1', '\u0665']) {
    const raw = Buffer.from(`OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\nContent-Length: ${v}\r\n\r\n${body}`);
    const m = SipMessage.parse(raw, true)!;
    const text = m.get('content-length')!;
    const plain = /^\d+$/.test(text);
    assert.equal(m.problems.includes('bad-content-length'), !plain, `Content-Length: ${JSON.stringify(v)}`);
    if (plain) {
      const n = Number(text);
      assert.equal(m.problems.includes('body-truncated'), n > Buffer.byteLength(body), `Content-Length: ${v}`);
      assert.equal(m.body.length, n > Buffer.byteLength(body) ? Buffer.byteLength(body) : n, `Content-Length: ${v}`);
    }
  }
});

test('header table: offsets past 0xFFFF (wide form) and more than 1 000 headers still find every header', () => {
  const big = 'x'.repeat(70_000);
  const many = Array.from({ length: 1100 }, (_, i) => `X-H${i}: v${i}\r\n`).join('');
  // Past 16 383 headers the first Call-ID's table index no longer fits the table's head: found by name.
  const tooMany = 'a:1\r\n'.repeat(17_000);
  for (const filler of [`X-Big: ${big}\r\n`, many, `X-Big: ${big}\r\n${many}`, tooMany]) {
    const raw = Buffer.from(`OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK7\r\n${filler}Call-ID: late@host\r\nCSeq: 9 OPTIONS\r\nFrom: <sip:a>;tag=f1\r\nTo: <sip:b>;tag=t1\r\nContent-Length: 0\r\n\r\n`);
    const m = SipMessage.parse(raw, true)!;
    assert.deepEqual(m.problems, []);
    assert.equal(m.callId, 'late@host');
    assert.deepEqual(m.cseq, { seq: 9, method: 'OPTIONS' });
    assert.equal(m.toTag, 't1');
    assert.equal(m.fromTag, 'f1');
    if (filler.includes('X-Big')) assert.equal(m.get('x-big'), big);
    if (filler.includes('X-H1099')) assert.equal(m.get('x-h1099'), 'v1099');
    assert.equal(m.headers().length, filler.split('\r\n').length - 1 + 6);
  }
});

test('hotSlot finds the hot headers by full or compact name in any case, and nothing else, on 20 000 generated names', () => {
  const r = rng(20261126);
  const names = [...HOT_HEADERS, ...Object.keys(COMPACT), 'contact', 'max-forwards', 'subject', 'allow', 'c-all-id', 'x', '@', '[', 'call-i', 'call-idd', 'Ä', 'proxy-authorizatioN', 'user-agent2', 'servers', 'user_agent'];
  for (let i = 0; i < 20_000; i++) {
    let name = pick(r, names);
    if (r() < 0.5) name = [...name].map((c) => (r() < 0.5 ? c.toUpperCase() : c)).join('');
    if (r() < 0.2) name = mutate(r, name).replace(/[:\r\n]/g, '');
    const buf = Buffer.from(`${name}: v`);
    const lower = name.toLowerCase();
    const full = lower.length === 1 ? COMPACT[lower] ?? lower : lower;
    const expected = HOT_HEADERS.indexOf(full as (typeof HOT_HEADERS)[number]);
    assert.equal(hotSlot(buf, 0, Buffer.byteLength(name)), expected, JSON.stringify(name));
    assert.equal(hotSlotOf(lower), HOT_HEADERS.indexOf(lower as (typeof HOT_HEADERS)[number]), `hotSlotOf(${JSON.stringify(lower)})`);
  }
});

test('sdpCodecsText reads answer codecs off the bytes as sdpCodecs reads them from text, on 20 000 generated and mutated bodies', () => {
  const r = rng(20261127);
  const M = ['m=audio 6000 RTP/AVP 0', 'm=audio 6000 RTP/AVP 0 8 101', 'm=audio 0 RTP/AVP 0', 'm=video 5002 RTP/AVP 96 97', 'm=audio\t7078  RTP/AVP\t0  101 ', 'm=audio 6000 RTP/AVP', 'm=', 'm=audio 00 RTP/AVP 8', 'm=audio 6000 RTP/SAVP 08 8 x 34'];
  const A = ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=rtpmap:96 H264/90000', 'a=rtpmap:97  VP8/90000', 'a=rtpmap:8 PCMA', 'a=rtpmap:08 G729/8000',
    'a=rtpmap:x PCMU/8000', 'a=rtpmap:0PCMU/8000', 'a=rtpmap:0 /8000', 'a=rtpmap:101 opus/48000/2', 'a=sendrecv', 'a=rtpmap:0 Ünï/8000', 'a=ptime:20', 'a=rtpmap:0\tspeex/16000'];
  const OTHER = ['v=0', 'o=- 1 1 IN IP4 h', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'b=AS:64', ''];
  let active = 0;
  let read = 0;
  for (let i = 0; i < 20_000; i++) {
    const lines: string[] = [];
    for (let k = Math.floor(r() * 10); k >= 0; k--) lines.push(pick(r, [pick(r, M), pick(r, A), pick(r, A), pick(r, OTHER)]));
    let text = lines.join(pick(r, ['\r\n', '\n', '\r\n', '\n\r']));
    if (r() < 0.5) text += '\r\n';
    if (r() < 0.3) text = mutate(r, text);
    const body = Buffer.from(text, r() < 0.1 ? 'latin1' : 'utf8');
    const streams = sdpCodecs(body);
    const expected = streams.length ? streams.map((c) => c.join(',')).join(' ') : null;
    const fast = sdpCodecsText(body);
    if (fast !== undefined) {
      assert.equal(fast, expected, JSON.stringify(text));
      read++;
    }
    if (expected !== null) active++;
  }
  assert.ok(active > 5000, 'the generator makes active streams');
  assert.ok(read > 15_000, `the byte reader answers most bodies itself (${read})`);
});

test('latin1Text, ucs2Text and utf8Text decode what Buffer#toString decodes, ranges clamped alike', () => {
  const r = rng(20261126);
  const bytes = Buffer.from([...Buffer.from('Via: SIP/2.0/UDP h;branch=z9hG4bK1 é \u00ff'), 0xc3, 0x28, 0xe2, 0x82, 0xf0, 0x9f, 0x98, 0x80, 0x80, 0x00, 0x7f, 0xff]);
  // A view into a larger buffer, as message bytes are (the decoders must honour its offset).
  const backing = Buffer.concat([Buffer.from('xxxx'), bytes, Buffer.from('yyyy')]);
  const view = backing.subarray(4, 4 + bytes.length);
  const cases: Array<[number, number]> = [[0, view.length], [0, 0], [5, 5], [7, 3], [-4, 6], [3, view.length + 10], [view.length, view.length + 1]];
  for (let i = 0; i < 500; i++) cases.push([Math.floor(r() * (view.length + 4)) - 2, Math.floor(r() * (view.length + 4)) - 2]);
  for (const [start, end] of cases) {
    assert.equal(latin1Text(view, start, end), view.toString('latin1', start, end), `latin1 ${start}..${end}`);
    assert.equal(utf8Text(view, start, end), view.toString('utf8', start, end), `utf8 ${start}..${end}`);
    assert.equal(ucs2Text(view, start, end), view.toString('utf16le', start, end), `utf16le ${start}..${end}`);
  }
});
