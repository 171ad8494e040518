import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SipMessage, findStartLine, frameMessage, FRAME_NOT_SIP, FRAME_PARTIAL, FRAME_OVERSIZE, LineKind, parseChallenge,
  parseCredentials, parseCSeq, parseNameAddr, parseUri, parseVia, splitList, startLineKind, summarizeSdp,
} from '../src/sip/index.js';

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\r?\n/g, '\r\n'));

// RFC 4475 §3.1.1.1 "wsinv": a short tortuous INVITE (abridged to what this parser must survive).
const TORTURE = crlf(`INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.3
s=-
c=IN IP4 192.0.2.4
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
`);

test('RFC 4475 wsinv: folded headers, odd spacing, compact names and mixed case are understood', () => {
  const m = SipMessage.parse(TORTURE, true)!;
  assert.ok(m);
  assert.equal(m.method, 'INVITE');
  assert.equal(m.callId, 'wsinv.ndaksdj@192.0.2.1');
  assert.deepEqual(m.cseq, { seq: 9, method: 'INVITE' });
  assert.equal(m.toTag, '1918181833n');
  assert.equal(m.fromTag, '98asjd8');
  assert.equal(m.get('max-forwards'), '0068');
  assert.equal(m.get('NewFangledHeader'), 'newfangled value continued newfangled value');
  const vias = m.vias;
  assert.equal(vias.length, 3);
  assert.equal(vias[0]!.branch, '390skdjuw');
  assert.equal(vias[1]!.transport, 'TCP');
  assert.equal(vias[1]!.host, 'spindle.example.com');
  assert.equal(vias[2]!.branch, 'z9hG4bK30239');
  assert.equal(m.values('contact').length, 1);
  assert.equal(parseNameAddr(m.get('m')!).display, 'Quoted string ""');
  assert.equal(m.get('s'), '');
  assert.equal(m.body.length, 150);
  assert.deepEqual(m.problems, []);
  const media = summarizeSdp(m.sdp!);
  assert.deepEqual(media.map((x) => [x.type, x.port, x.codecs.join(' ')]), [['audio', 49217, 'PCMU 12'], ['video', 3227, 'LPC']]);
});

test('start lines: requests with any token method, responses with three digits, others not', () => {
  const kind = (s: string): LineKind => startLineKind(Buffer.from(s), 0, s.length);
  assert.equal(kind('INVITE sip:a@b SIP/2.0'), LineKind.Request);
  assert.equal(kind('INVITE1 sip:a@b SIP/2.0\r'), LineKind.Request);
  assert.equal(kind('SIP/2.0 180 Ringing'), LineKind.Response);
  assert.equal(kind('SIP/2.0 200'), LineKind.Response);
  assert.equal(kind('sip/2.0 200 OK'), LineKind.Response);
  assert.equal(kind('HTTP/1.1 200 OK'), LineKind.None);
  assert.equal(kind('GET / HTTP/1.1'), LineKind.None);
  assert.equal(kind('INVITE sip:a@b c SIP/2.0'), LineKind.None);
  assert.equal(kind('SIP/2.0 2000 OK'), LineKind.None);
  assert.equal(kind('SIP/2.0 099 Low'), LineKind.None);
  assert.equal(kind('Via: SIP/2.0/UDP host'), LineKind.None);
});

test('findStartLine skips to the next line that is a start line', () => {
  const b = Buffer.from('garbage SIP/2.0 here\r\nVia: SIP/2.0/UDP x\r\nBYE sip:a@b SIP/2.0\r\n');
  assert.equal(findStartLine(b, 0), b.indexOf('BYE'));
  assert.equal(findStartLine(Buffer.from('no sip here'), 0), -1);
});

test('framing (RFC 3261 §18.3): Content-Length decides the end; partial and oversize are told apart', () => {
  const msg = crlf('MESSAGE sip:a@b SIP/2.0\nl: 5\nCall-ID: x\n\nhello');
  assert.equal(frameMessage(Buffer.concat([msg, Buffer.from('OPTIONS')]), 0), msg.length);
  assert.equal(frameMessage(msg.subarray(0, msg.length - 1), 0), FRAME_PARTIAL);
  assert.equal(frameMessage(msg.subarray(0, 10), 0), FRAME_PARTIAL);
  assert.equal(frameMessage(Buffer.from('hello world\r\n'), 0), FRAME_NOT_SIP);
  assert.equal(frameMessage(crlf('MESSAGE sip:a@b SIP/2.0\nContent-Length: 99999999\n\n'), 0), FRAME_OVERSIZE);
});

test('malformed messages are kept and flagged with the reason', () => {
  const m = SipMessage.parse(crlf('INVITE sip:a@b SIP/2.0\nthis line has no colon\nCSeq: x INVITE\n\n'), true)!;
  assert.ok(m);
  for (const p of ['bad-header-line', 'missing-call-id', 'bad-cseq', 'missing-from', 'missing-to', 'missing-via', 'missing-content-length']) {
    assert.ok(m.problems.includes(p as never), `expected ${p} in ${m.problems.join(',')}`);
  }
  const short = SipMessage.parse(crlf('SIP/2.0 200 OK\nCall-ID: a\nContent-Length: 10\n\nabc'))!;
  assert.ok(short.problems.includes('body-truncated'));
  assert.equal(SipMessage.parse(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), undefined);
});

test('datagram bodies stop at Content-Length (extra bytes are not body, §18.3)', () => {
  const m = SipMessage.parse(crlf('SIP/2.0 200 OK\nCall-ID: a\nContent-Length: 3\n\nabcdef'))!;
  assert.equal(m.body.toString(), 'abc');
  assert.equal(m.status, 200);
  assert.equal(m.reason, 'OK');
});

test('URIs: sip, sips, tel, user with parameters, password, IPv6 host, port, params and headers', () => {
  const u = parseUri('sip:alice;day=tuesday@atlanta.com')!;
  assert.equal(u.user, 'alice;day=tuesday');
  assert.equal(u.host, 'atlanta.com');
  const v = parseUri('sips:bob:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=project%20x&priority=urgent')!;
  assert.deepEqual([v.scheme, v.user, v.password, v.host, v.port], ['sips', 'bob', 'secret', '[2001:db8::10]', 5061]);
  assert.deepEqual(v.params, { transport: 'tcp', lr: null });
  assert.deepEqual(v.headers, { subject: 'project x', priority: 'urgent' });
  const t = parseUri('tel:+1-201-555-0123;phone-context=example.com')!;
  assert.equal(t.user, '+1-201-555-0123');
  assert.equal(t.params['phone-context'], 'example.com');
  const seed = parseUri('sip:alice@192.168.4.4:5090;rinstance=e7d5364c81f2b879;transport=UDP')!;
  assert.deepEqual([seed.user, seed.host, seed.port, seed.params['transport']], ['alice', '192.168.4.4', 5090, 'UDP']);
  assert.equal(parseUri('not a uri'), undefined);
});

test('name-addr and addr-spec with quoted display names and header parameters', () => {
  assert.deepEqual(parseNameAddr('"Bob"<sip:bob@192.168.4.4>;tag=15c8325a'), { display: 'Bob', uri: 'sip:bob@192.168.4.4', params: { tag: '15c8325a' } });
  const a = parseNameAddr('"a <tricky>, name" <sip:x@y>;expires=60');
  assert.equal(a.display, 'a <tricky>, name');
  assert.equal(a.uri, 'sip:x@y');
  assert.equal(a.params['expires'], '60');
  const spec = parseNameAddr('sip:carol@chicago.com;tag=abc');
  assert.deepEqual([spec.uri, spec.params['tag']], ['sip:carol@chicago.com', 'abc']);
  assert.deepEqual(splitList('"x, y" <sip:a@b>, <sip:c@d;p=1,2>;q=0.5, sip:e@f'), ['"x, y" <sip:a@b>', '<sip:c@d;p=1,2>;q=0.5', 'sip:e@f']);
});

test('Via and CSeq', () => {
  const v = parseVia('SIP/2.0/UDP 192.168.4.4:5090;branch=z9hG4bK-d8754z-d9ed3bbae47e568b-1---d8754z-;rport')!;
  assert.deepEqual([v.transport, v.host, v.port, v.branch, v.params['rport']], ['UDP', '192.168.4.4', 5090, 'z9hG4bK-d8754z-d9ed3bbae47e568b-1---d8754z-', null]);
  const v6 = parseVia('SIP/2.0/TCP [2001:db8::1]:5060;received=10.0.0.1')!;
  assert.deepEqual([v6.host, v6.port, v6.params['received']], ['[2001:db8::1]', 5060, '10.0.0.1']);
  assert.deepEqual(parseCSeq('130069214 INVITE'), { seq: 130069214, method: 'INVITE' });
  assert.equal(parseCSeq('99999999999 INVITE'), undefined);
  assert.equal(parseCSeq('INVITE'), undefined);
});

test('digest challenges and folded credentials parse into their parameters', () => {
  const c = parseChallenge('Digest realm="192.168.4.4", nonce="62fb812c-71d2-4a36-93d6-e0008e6a63ee", algorithm=MD5, qop="auth"');
  assert.deepEqual([c.scheme, c.realm, c.nonce, c.algorithm, c.qop], ['Digest', '192.168.4.4', '62fb812c-71d2-4a36-93d6-e0008e6a63ee', 'MD5', ['auth']]);
  const msg = SipMessage.parse(crlf(`REGISTER sip:192.168.4.4;transport=UDP SIP/2.0
Via: SIP/2.0/UDP 192.168.4.4:5090;branch=z9hG4bK-d8754z-dae1693be9f8c10d-1---d8754z-;rport
To: <sip:alice@192.168.4.4;transport=UDP>
From: <sip:alice@192.168.4.4;transport=UDP>;tag=9c709222
Call-ID: NmFjNzA3MWY1MDI3NGViMjY1N2QwZDlmZWQ5ZGY2OGE.
CSeq: 2 REGISTER
Authorization: Digest username="alice",realm="192.168.4.4",
    nonce="62fb812c-71d2-4a36-93d6-e0008e6a63ee",
    uri="sip:192.168.4.4;transport=UDP",response="32b5ddaea8647a3becd25cb84346b1c3",
    cnonce="b4c6ac7e57fc76b85df9440994e2ede8",nc=00000001,qop=auth,algorithm=MD5
Content-Length: 0

`))!;
  const cr = parseCredentials(msg.get('authorization')!);
  assert.deepEqual(
    [cr.username, cr.realm, cr.nonce, cr.uri, cr.response, cr.cnonce, cr.nc, cr.qop, cr.algorithm],
    ['alice', '192.168.4.4', '62fb812c-71d2-4a36-93d6-e0008e6a63ee', 'sip:192.168.4.4;transport=UDP', '32b5ddaea8647a3becd25cb84346b1c3', 'b4c6ac7e57fc76b85df9440994e2ede8', '00000001', 'auth', 'MD5'],
  );
  assert.deepEqual(msg.problems, []);
});

test('multipart bodies (RFC 2046) are split and their SDP found', () => {
  const body = crlf(`--unique-boundary-1
Content-Type: application/sdp

v=0
o=- 1 1 IN IP4 10.0.0.1
s=-
c=IN IP4 10.0.0.1
t=0 0
m=audio 4000 RTP/AVP 8 101
a=rtpmap:101 telephone-event/8000
a=sendonly

--unique-boundary-1
Content-Type: application/isup;version=itu-t92+
Content-Disposition: signal;handling=optional

\x01\x00\x49\x00\x00\x03\x02\x00
--unique-boundary-1--
`);
  const head = crlf(`INVITE sip:b@c SIP/2.0
Via: SIP/2.0/UDP a;branch=z9hG4bK1
From: <sip:a@a>;tag=1
To: <sip:b@c>
Call-ID: mp1
CSeq: 1 INVITE
Content-Type: multipart/mixed;boundary=unique-boundary-1
Content-Length: ${body.length}

`);
  const m = SipMessage.parse(Buffer.concat([head, body]))!;
  assert.deepEqual(m.parts.map((p) => p.contentType), ['application/sdp', 'application/isup']);
  assert.ok(m.hasSdp);
  const media = summarizeSdp(m.sdp!);
  assert.deepEqual(media[0], { type: 'audio', port: 4000, protocol: 'RTP/AVP', address: '10.0.0.1', direction: 'sendonly', codecs: ['PCMA', 'telephone-event/8000'] });
});

test('the parser never throws on arbitrary bytes', () => {
  let seed = 42;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < 3000; i++) {
    const base = Buffer.from(TORTURE);
    const n = Math.floor(rnd() * 20);
    for (let k = 0; k < n; k++) base[Math.floor(rnd() * base.length)] = Math.floor(rnd() * 256);
    const cut = base.subarray(0, Math.floor(rnd() * base.length));
    const m = SipMessage.parse(cut, rnd() < 0.5);
    if (m) {
      // Touch every lazy accessor: none may throw either.
      void [m.callId, m.cseq, m.from, m.to, m.vias, m.topVia, m.uri, m.sdp, m.parts, m.headers(), m.startLine, m.label];
    }
  }
});

test('hasAny: any of several headers, by full or compact name in any case, in one look', () => {
  const m = SipMessage.parse(Buffer.from('INVITE sip:b@h SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK1\r\ni: c1\r\nX-CID: other\r\nCSeq: 1 INVITE\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\n\r\n'))!;
  assert.equal(m.hasAny(['x-call-id', 'x-cid']), true);
  assert.equal(m.hasAny(['x-call-id', 'x-orig-call-id']), false);
  assert.equal(m.hasAny(['subject', 'call-id']), true, 'compact i');
  assert.equal(m.hasAny(['content-type', 'supported']), false, 'c and k are absent');
  assert.equal(m.hasAny([]), false);
});

test('indexOfCallId tells a Call-ID from the bytes as callId reads it, and shares the string it matched', () => {
  const msg = (callId: string): SipMessage => SipMessage.parse(crlf(`OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nCall-ID: ${callId}\nCSeq: 1 OPTIONS\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\n\n`))!;
  const held = ['abc@host', 'x'].join('-'); // made at run time, as the analyzer's are
  const m = msg('abc@host-x');
  assert.equal(m.indexOfCallId([undefined, 'abc@host-y', held, 'abc@host-x']), 2, 'the first that matches');
  assert.equal(m.callId, held);
  assert.equal(m.indexOfCallId(['zzz', held]), 1, 'once cached, the string answers');
  assert.equal(msg('abc@host-x').indexOfCallId(['abc@host-y', 'abc@host-x ', 'abc@host-', undefined]), -1);
  const trailing = msg('abc@host-x ');
  assert.equal(trailing.indexOfCallId(['abc@host-x ']), trailing.callId === 'abc@host-x ' ? 0 : -1);
  const accented = msg('café@h');
  assert.equal(accented.indexOfCallId(['café@h']), -1, 'non-ASCII is left to callId');
  assert.equal(accented.callId, 'café@h');
  assert.equal(accented.indexOfCallId(['x', 'café@h']), 1, 'once made, the string answers');
  const folded = SipMessage.parse(crlf('OPTIONS sip:b@h SIP/2.0\nCall-ID: a\n b\nCSeq: 1 OPTIONS\n\n'))!;
  assert.equal(folded.indexOfCallId(['a b']), -1);
  assert.equal(folded.callId, 'a b');
  const none = SipMessage.parse(crlf('OPTIONS sip:b@h SIP/2.0\nCSeq: 1 OPTIONS\n\n'))!;
  assert.equal(none.indexOfCallId(['']), -1, 'no Call-ID');
  assert.equal(none.callId, undefined);
  assert.equal(none.indexOfCallId(['']), -1, 'no Call-ID, asked again');
});
