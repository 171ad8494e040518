import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame } from '../src/capture/types.js';
import { Counters } from '../src/net/counters.js';
import type { TcpSegment } from '../src/net/packet.js';
import { TcpReassembler, type StreamFactory } from '../src/net/tcp.js';
import { SipExtractor, type SipPacket } from '../src/sip/extractor.js';
import {
  T0, TcpDir, extract, mkFrame, mkFrames, randInt, randomSplit, rng, sdpBody, sipInvite, sipOk, sipRequest, sipResponse,
  tlsClientHello, tlsRecord, wsFrame, wsUpgradeRequest, wsUpgradeResponse, type Extracted,
} from './helpers/frames.js';

const C = '198.51.100.7';
const S = '198.51.100.8';

/** Client → server and server → client directions of one connection, SYN/SYN-ACK included. */
function connection(o: { isnC?: number; isnS?: number; cport?: number; sport?: number; client?: string; server?: string } = {}): { c: TcpDir; s: TcpDir; open: Buffer[] } {
  const c = new TcpDir(o.client ?? C, o.server ?? S, o.cport ?? 40123, o.sport ?? 5060, o.isnC ?? 1000);
  const s = new TcpDir(o.server ?? S, o.client ?? C, o.sport ?? 5060, o.cport ?? 40123, o.isnS ?? 900_000);
  return { c, s, open: [c.syn(), s.syn()] };
}

function run(datas: Buffer[]): Extracted {
  return extract(mkFrames(datas));
}

const tcpTransport = (r: Extracted): boolean => r.packets.every((p) => p.transport === 'TCP');

function msgs(prefix: string, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) out.push(i % 2 ? sipOk(`${prefix}-${i}`) : sipInvite(`${prefix}-${i}`, { transport: 'TCP' }));
  return out;
}

function labelsOf(list: Buffer[]): string[] {
  return list.map((b) => {
    const text = b.toString('latin1');
    const id = /\r\nCall-ID: ([^\r]+)/.exec(text)![1];
    const first = text.slice(0, text.indexOf('\r\n'));
    return first.startsWith('SIP/2.0') ? `${first.split(' ')[1]} ${id}` : `${first.split(' ')[0]} ${id}`;
  });
}

// ---------------------------------------------------------------------------------------------
// Basics

test('TCP in order, both directions: INVITE and 200 OK with addresses and the completing frame', () => {
  const { c, s, open } = connection();
  const inv = sipInvite('basic@test', { transport: 'TCP' });
  const ok = sipOk('basic@test', 'INVITE', { transport: 'TCP' });
  const r = run([...open, c.data(inv), s.data(ok), c.fin(), s.fin()]);
  assert.deepEqual(r.labels, ['INVITE basic@test', '200 basic@test']);
  assert.ok(tcpTransport(r));
  const [a, b] = r.packets;
  assert.deepEqual([a!.meta.src, a!.meta.sport, a!.meta.dst, a!.meta.dport, a!.meta.frame], [C, 40123, S, 5060, 3]);
  assert.deepEqual([b!.meta.src, b!.meta.sport, b!.meta.frame], [S, 5060, 4]);
  assert.ok(a!.msg.raw.equals(inv));
  assert.equal(r.counters.tcpStreams, 2, 'one per direction');
});

test('TCP out-of-order segments are put back in order', () => {
  const { c, open } = connection();
  const stream = Buffer.concat(msgs('ooo', 4));
  const segs = c.segments(stream, [250, 250, 250, 250, 250]);
  assert.ok(segs.length >= 5);
  const order = [segs[0]!, segs[2]!, segs[1]!, segs[4]!, segs[3]!, ...segs.slice(5)];
  const r = run([...open, ...order]);
  assert.deepEqual(r.labels, labelsOf(msgs('ooo', 4)));
  assert.equal(r.drop('tcp-gap'), 0);
});

test('TCP exact retransmissions deliver nothing twice', () => {
  const { c, open } = connection();
  const [m1, m2] = msgs('rtx', 2);
  const s1 = c.data(m1!);
  const s2 = c.data(m2!);
  const r = run([...open, s1, s1, s2, s1, s2, s2]);
  assert.deepEqual(r.labels, labelsOf([m1!, m2!]));
  assert.equal(r.drop('tcp-retransmission'), 4);
});

test('TCP overlapping retransmission carrying extra bytes: only the new bytes are used', () => {
  const { c, open } = connection();
  const stream = Buffer.concat(msgs('ovl', 3));
  const base = c.next;
  const first = c.data(stream.subarray(0, 400), { seq: base });
  // Retransmission of bytes 200..400 plus 500 new ones, then the rest.
  const overlap = c.data(stream.subarray(200, 900), { seq: base + 200 });
  const rest = c.data(stream.subarray(900), { seq: base + 900 });
  const r = run([...open, first, overlap, rest]);
  assert.deepEqual(r.labels, labelsOf(msgs('ovl', 3)));
  // And an overlap that arrives out of order (held, then trimmed when drained).
  const late = run([...open, first, rest, overlap]);
  assert.deepEqual(late.labels, labelsOf(msgs('ovl', 3)));
});

test('TCP: several SIP messages in one segment', () => {
  const { c, open } = connection();
  const list = [...msgs('many', 3), sipRequest('ACK', 'many-0'), sipRequest('BYE', 'many-0', { cseq: 2 })];
  const r = run([...open, c.data(Buffer.concat(list))]);
  assert.deepEqual(r.labels, labelsOf(list));
  assert.equal(r.packets[4]!.meta.frame, 3);
});

test('TCP: one message (with a body) across many segments, framed by Content-Length', () => {
  const { c, open } = connection();
  const body = sdpBody(3000);
  const inv = sipInvite('long@test', { body, transport: 'TCP' });
  const segs = c.segments(inv, Array.from({ length: 40 }, () => 97));
  const r = run([...open, ...segs]);
  const p = r.packets;
  assert.equal(p.length, 1);
  assert.equal(p[0]!.msg.body.toString(), body);
  assert.equal(p[0]!.meta.frame, 2 + segs.length, 'reported at the frame that completed it');
});

test('TCP: a body holding text that looks like a start line is not split (Content-Length decides)', () => {
  const { c, open } = connection();
  const body = 'INVITE sip:fake@example.com SIP/2.0\r\nCall-ID: fake\r\n\r\n';
  const inv = sipRequest('MESSAGE', 'body@test', { body, transport: 'TCP' });
  const r = run([...open, ...c.segments(Buffer.concat([inv, sipOk('after@test', 'MESSAGE')]), [60, 60, 60])]);
  assert.deepEqual(r.labels, ['MESSAGE body@test', '200 after@test']);
});

test('TCP: CRLF keep-alives (RFC 5626 ping and pong) between messages', () => {
  const { c, s, open } = connection();
  const [m1, m2] = msgs('ka', 2);
  const r = run([
    ...open,
    c.data(Buffer.from('\r\n\r\n')),
    s.data(Buffer.from('\r\n')),
    c.data(Buffer.concat([m1!, Buffer.from('\r\n\r\n')])),
    c.data(Buffer.from('\r\n')),
    c.data(Buffer.concat([Buffer.from('\r\n'), m2!])),
  ]);
  assert.deepEqual(r.labels, labelsOf([m1!, m2!]));
  assert.equal(r.counters.malformed.size, 0);
});

test('TCP: compact Content-Length "l:" frames the body', () => {
  const { c, open } = connection();
  const body = sdpBody(300);
  const a = sipInvite('compact@test', { body, compactLength: true, transport: 'TCP' });
  const b = sipOk('compact2@test', 'INVITE', { body: 'v=0\r\n', compactLength: true });
  const r = run([...open, ...c.segments(Buffer.concat([a, b]), [100, 100, 100, 100, 100])]);
  assert.deepEqual(r.labels, ['INVITE compact@test', '200 compact2@test']);
  assert.equal(r.packets[0]!.msg.body.toString(), body);
});

test('TCP: sequence numbers wrapping past 2^32', () => {
  const { c, open } = connection({ isnC: 0xffffff00 });
  const stream = Buffer.concat(msgs('wrap', 3));
  const segs = c.segments(stream, [100, 100, 100, 400]);
  const r = run([...open, segs[1]!, segs[0]!, ...segs.slice(2)]);
  assert.deepEqual(r.labels, labelsOf(msgs('wrap', 3)));
});

test('TCP over IPv6', () => {
  const { c, open } = connection({ client: '2001:db8::7', server: '2001:db8::8' });
  const r = run([...open, ...c.segments(Buffer.concat(msgs('v6', 2)), [250])]);
  assert.deepEqual(r.labels, labelsOf(msgs('v6', 2)));
  assert.equal(r.packets[0]!.meta.family, 6);
});

test('TCP: interleaved connections are kept apart', () => {
  const one = connection({ cport: 40001 });
  const two = connection({ cport: 40002 });
  const a = one.c.segments(Buffer.concat(msgs('one', 2)), [150, 150, 150]);
  const b = two.c.segments(Buffer.concat(msgs('two', 2)), [170, 170, 170]);
  const mixed: Buffer[] = [...one.open, ...two.open];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (b[i]) mixed.push(b[i]!);
    if (a[i]) mixed.push(a[i]!);
  }
  const r = run(mixed);
  assert.deepEqual(r.labels.filter((l) => l.includes('one-')), labelsOf(msgs('one', 2)));
  assert.deepEqual(r.labels.filter((l) => l.includes('two-')), labelsOf(msgs('two', 2)));
});

// ---------------------------------------------------------------------------------------------
// Gaps, joining, closing

test('TCP gap inside a message: the broken message is not invented, the next one is found', () => {
  const list = msgs('gap', 4);
  const stream = Buffer.concat(list);
  const offs = [0];
  for (const m of list) offs.push(offs[offs.length - 1]! + m.length);
  // Lose bytes in the middle of message 1 (headers), then of message 2 (body-less 200: its tail).
  for (const [from, to] of [[offs[1]! + 40, offs[1]! + 120], [offs[2]! - 30, offs[2]! - 10], [offs[1]! + 5, offs[2]! + 3]]) {
    const { c, open } = connection();
    const base = c.next;
    const before = c.data(stream.subarray(0, from!), { seq: base });
    const after = c.data(stream.subarray(to!), { seq: base + to! });
    c.next = base + stream.length;
    const r = run([...open, before, after, c.fin()]);
    const want = labelsOf(list).filter((_, i) => !(offs[i]! < to! && offs[i + 1]! > from!));
    assert.deepEqual(r.labels, want, `lost ${from}..${to}`);
    assert.equal(r.drop('tcp-gap'), 1);
  }
});

test('TCP gap exactly at a message boundary loses nothing else', () => {
  const list = msgs('edge', 4);
  const { c, open } = connection();
  const base = c.next;
  const lens = list.map((m) => m.length);
  const seg = (i: number): Buffer => c.data(list[i]!, { seq: base + lens.slice(0, i).reduce((x, y) => x + y, 0) });
  c.next = base + lens.reduce((x, y) => x + y, 0);
  const r = run([...open, seg(0), seg(2), seg(3), c.fin()]);
  assert.deepEqual(r.labels, labelsOf([list[0]!, list[2]!, list[3]!]));
});

test('TCP gap: once 256 segments are held, the gap is declared without waiting for the end', () => {
  const { c, open } = connection();
  const base = c.next;
  const first = sipInvite('held-0', { transport: 'TCP' });
  const later: Buffer[] = [];
  let seq = base + first.length + 500; // 500 bytes never captured
  const frames: Frame[] = mkFrames([...open, c.data(first, { seq: base })]);
  for (let i = 1; i <= 260; i++) {
    const m = sipOk(`held-${i}`);
    later.push(m);
    frames.push(mkFrame(c.data(m, { seq }), 1, frames.length + 1, T0 + 1));
    seq += m.length;
  }
  const got: SipPacket[] = [];
  const x = new SipExtractor((p) => got.push(p));
  for (const f of frames) x.frame(f);
  assert.ok(got.length > 250, `${got.length} messages before the end of the capture`);
  x.finish();
  assert.deepEqual(got.map((p) => p.msg.callId), ['held-0', ...later.map((_, i) => `held-${i + 1}`)]);
  assert.equal(x.counters.drops.get('tcp-gap'), 1);
});

test('TCP joined mid-stream: bytes before the first start line are skipped, the rest is found', () => {
  const list = msgs('mid', 3);
  const stream = Buffer.concat(list);
  for (const start of [17, list[0]!.length - 10, list[0]!.length + 50]) {
    const c = new TcpDir(C, S, 40999, 5060, 5000);
    const r = run(c.segments(stream.subarray(start), [333, 333]));
    const want = labelsOf(list).slice(start < list[0]!.length ? 1 : 2);
    assert.deepEqual(r.labels, want, `joined at byte ${start}`);
    assert.ok(r.drop('tcp-skipped-bytes') > 0);
  }
});

test('TCP joined mid-stream inside a body whose text looks like SIP: later messages are still found', () => {
  const body = 'SIP/2.0 999 bogus\r\nCall-ID: phantom\r\n\r\n';
  const list = [sipRequest('MESSAGE', 'carrier', { body }), ...msgs('midbody', 2)];
  const stream = Buffer.concat(list);
  const start = list[0]!.indexOf('\r\n\r\n') + 4; // the body
  const c = new TcpDir(C, S, 41000, 5060, 5000);
  const r = run([c.data(stream.subarray(start))]);
  assert.deepEqual(r.labels.filter((l) => !l.includes('phantom')), labelsOf(list.slice(1)));
});

test('TCP FIN then late retransmission: no duplicate message', () => {
  const { c, s, open } = connection();
  const [m1, m2] = msgs('fin', 2);
  const s1 = c.data(m1!);
  const s2 = c.data(m2!);
  const fin = c.fin();
  const r = run([...open, s1, s2, fin, s.fin(), s2, s1, fin]);
  assert.deepEqual(r.labels, labelsOf([m1!, m2!]));
  assert.equal(r.drop('tcp-retransmission'), 2);
});

test('TCP FIN with data: the data is delivered', () => {
  const { c, open } = connection();
  const [m1] = msgs('findata', 1);
  assert.deepEqual(run([...open, c.fin(m1!)]).labels, labelsOf([m1!]));
});

test('TCP FIN captured before the last data segment (reordered): that segment is still delivered', () => {
  const { c, open } = connection();
  const list = msgs('finooo', 3);
  const segs = c.segments(Buffer.concat(list), [list[0]!.length + 30, list[1]!.length]);
  assert.equal(segs.length, 3);
  const fin = c.fin();
  const r = run([...open, segs[0]!, segs[1]!, fin, segs[2]!]);
  assert.deepEqual(r.labels, labelsOf(list));
  const r2 = run([...open, segs[0]!, fin, segs[2]!, segs[1]!]);
  assert.deepEqual(r2.labels, labelsOf(list));
  assert.equal(r2.drop('tcp-out-of-window'), 0);
});

test('TCP RST ends the direction; a partial message at the end is not emitted', () => {
  const { c, open } = connection();
  const [m1, m2] = msgs('rst', 2);
  const rst = c.frame(Buffer.alloc(0), { seq: c.next + m1!.length + 40, flags: 0x04 });
  const r = run([...open, c.data(m1!), c.data(m2!.subarray(0, 40)), rst]);
  assert.deepEqual(r.labels, labelsOf([m1!]));
  assert.ok(r.drop('tcp-skipped-bytes') >= 40);
});

test('TCP port reuse: a SYN after the close starts a new connection', () => {
  const first = connection({ cport: 40555 });
  const [m1] = msgs('reuse-a', 1);
  const a = [...first.open, first.c.data(m1!), first.c.fin(), first.s.fin()];
  const second = connection({ cport: 40555, isnC: 77_000, isnS: 5_000_000 });
  const [m2] = msgs('reuse-b', 1);
  const b = [...second.open, second.c.data(m2!)];
  const r = run([...a, ...b]);
  assert.deepEqual(r.labels, [...labelsOf([m1!]), ...labelsOf([m2!])]);
});

test('TCP without Content-Length: the message ends at its header (stream framing rule)', () => {
  const { c, open } = connection();
  const bare = sipRequest('OPTIONS', 'nocl@test', { noContentLength: true });
  const r = run([...open, c.data(Buffer.concat([bare, sipOk('nocl2@test', 'OPTIONS')]))]);
  assert.deepEqual(r.labels, ['OPTIONS nocl@test', '200 nocl2@test']);
});

// ---------------------------------------------------------------------------------------------
// WebSocket, TLS, HTTP

/** A response short enough for the 7-bit WebSocket length form. */
const SHORT_100 = Buffer.from('SIP/2.0 100 Trying\r\nv: SIP/2.0/WSS h;branch=z9hG4bKw\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\ni: ws@t\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n');

test('SIP over WebSocket after an HTTP upgrade: masked client frames, unmasked server frames, 7/16/64-bit lengths, fragments, control frames', () => {
  assert.ok(SHORT_100.length < 126);
  const { c, s, open } = connection({ sport: 443 });
  const invite = sipInvite('ws@t', { transport: 'WSS' });
  const bigOk = sipOk('ws@t', 'INVITE', { transport: 'WSS', body: sdpBody(70_000) });
  assert.ok(bigOk.length > 65535);
  const ack = sipRequest('ACK', 'ws@t', { transport: 'WSS' });
  const bye = sipRequest('BYE', 'ws@t', { transport: 'WSS', cseq: 2 });
  const serverBytes = Buffer.concat([wsFrame(SHORT_100), wsFrame(bigOk)]);
  const frames = [
    ...open,
    c.data(wsUpgradeRequest()),
    s.data(wsUpgradeResponse()),
    // 16-bit length, masked; one frame split over two segments.
    ...c.segments(wsFrame(invite, { mask: true }), [100]),
    // 7-bit then 64-bit length, unmasked, split into MTU-sized segments.
    ...s.segments(serverBytes, Array.from({ length: 60 }, () => 1400)),
    // A fragmented message with a ping between its fragments, all in one segment.
    c.data(Buffer.concat([
      wsFrame(ack.subarray(0, 50), { mask: true, fin: false }),
      wsFrame(Buffer.from('ping'), { mask: true, opcode: 9 }),
      wsFrame(ack.subarray(50, 120), { mask: Buffer.from([1, 2, 3, 4]), fin: false, opcode: 0 }),
      wsFrame(ack.subarray(120), { mask: true, opcode: 0 }),
    ])),
    s.data(wsFrame(Buffer.from('ping'), { opcode: 10 })),
    // A non-minimal 64-bit length on a small message is still read.
    c.data(wsFrame(bye, { mask: true, lengthForm: 64 })),
    c.data(wsFrame(Buffer.from([0x03, 0xe8]), { mask: true, opcode: 8 })),
    s.data(wsFrame(Buffer.from([0x03, 0xe8]), { opcode: 8 })),
  ];
  const r = run(frames);
  assert.deepEqual(r.labels, ['INVITE ws@t', '100 ws@t', '200 ws@t', 'ACK ws@t', 'BYE ws@t']);
  assert.ok(r.packets.every((p) => p.transport === 'WS'));
  assert.equal(r.packets[2]!.msg.body.length, Buffer.byteLength(sdpBody(70_000)));
  assert.ok(r.packets[3]!.msg.raw.equals(ack));
  assert.deepEqual([r.packets[0]!.meta.src, r.packets[1]!.meta.src], [C, S]);
  assert.equal(r.counters.websocketStreams, 1);
  assert.equal(r.drop('websocket-control'), 4);
});

test('SIP over WebSocket: frames cut at many points across two segments still give the messages', () => {
  const msgsWs = [sipInvite('wscut@t', { transport: 'WS' }), sipRequest('ACK', 'wscut@t', { transport: 'WS' })];
  const bytes = Buffer.concat(msgsWs.map((m) => wsFrame(m, { mask: true })));
  for (let cut = 1; cut < bytes.length; cut += 7) {
    const { c, s, open } = connection({ sport: 80 });
    const r = run([...open, c.data(wsUpgradeRequest()), s.data(wsUpgradeResponse()), c.data(bytes.subarray(0, cut)), c.data(bytes.subarray(cut))]);
    assert.deepEqual(r.labels, ['INVITE wscut@t', 'ACK wscut@t'], `cut at ${cut}`);
  }
});

test('SIP over WebSocket: an upgrade whose first segment is a few bytes ("G", "HTTP/1.") is still recognised', () => {
  const msgsWs = [sipInvite('wstiny@t', { transport: 'WS' }), sipRequest('ACK', 'wstiny@t', { transport: 'WS' })];
  const bytes = Buffer.concat(msgsWs.map((m) => wsFrame(m, { mask: true })));
  const reply = wsFrame(SHORT_100);
  const request = wsUpgradeRequest();
  const response = wsUpgradeResponse();
  for (let cut = 1; cut <= 12; cut++) {
    const { c, s, open } = connection({ sport: 80 });
    const r = run([
      ...open,
      c.data(request.subarray(0, Math.min(cut, 3))), c.data(request.subarray(Math.min(cut, 3))),
      s.data(response.subarray(0, cut)), s.data(response.subarray(cut)),
      c.data(bytes), s.data(reply),
    ]);
    assert.deepEqual(r.labels, ['INVITE wstiny@t', 'ACK wstiny@t', '100 ws@t'], `first segments of ${cut} bytes`);
    assert.equal(r.counters.websocketStreams, 1);
  }
  // A stream that ends while still undecided has its bytes counted as skipped, not lost silently.
  const { c, open } = connection({ sport: 80 });
  const r = run([...open, c.data(Buffer.from('GE')), c.fin()]);
  assert.equal(r.packets.length, 0);
  assert.equal(r.drop('tcp-skipped-bytes'), 2);
});

test('TLS on a SIP connection is counted as encrypted (tlsStreams) and yields no messages', () => {
  const { c, s, open } = connection({ sport: 5061 });
  const serverHello = tlsRecord(0x16, Buffer.alloc(80, 2));
  const appC = tlsRecord(0x17, Buffer.from(sipInvite('secret@test')).fill(0x99, 0));
  const appS = tlsRecord(0x17, Buffer.alloc(300, 0x42));
  const r = run([...open, c.data(tlsClientHello()), s.data(serverHello), c.data(appC), s.data(appS), c.fin(), s.fin()]);
  assert.equal(r.packets.length, 0);
  assert.equal(r.counters.tlsStreams, 1, 'one connection, counted once');
  assert.ok(r.drop('tls-encrypted') >= 4);
});

test('HTTP on port 5060 yields no SIP messages', () => {
  const { c, s, open } = connection({ sport: 5060 });
  const req = Buffer.from('GET / HTTP/1.1\r\nHost: 198.51.100.8:5060\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n');
  const html = '<html><body>SIP/2.0 is not here</body></html>';
  const res = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${html.length}\r\n\r\n${html}`);
  const post = Buffer.from('POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
  const r = run([...open, c.data(req), s.data(res), c.data(post), c.fin(), s.fin()]);
  assert.equal(r.packets.length, 0);
  assert.equal(r.counters.sipMessages, 0);
});

// ---------------------------------------------------------------------------------------------
// Random re-segmentation

/** ~50 SIP messages of assorted shapes with keep-alives between some of them. */
function conversation(n = 50): { stream: Buffer; labels: string[] } {
  const parts: Buffer[] = [];
  const labels: string[] = [];
  const rnd = rng(4242);
  for (let i = 0; i < n; i++) {
    const id = `rs-${i}@test`;
    let m: Buffer;
    switch (i % 5) {
      case 0:
        m = sipInvite(id, { body: sdpBody(randInt(rnd, 100, 2500)), transport: 'TCP' });
        break;
      case 1:
        m = sipResponse(180, 'Ringing', id);
        break;
      case 2:
        m = sipOk(id, 'INVITE', { body: sdpBody(randInt(rnd, 50, 600)), compactLength: i % 2 === 0 });
        break;
      case 3:
        m = sipRequest('ACK', id, { cseq: 1 });
        break;
      default:
        m = sipRequest('MESSAGE', id, { body: 'INVITE sip:x@y SIP/2.0\r\n'.repeat(randInt(rnd, 1, 5)) });
    }
    parts.push(m);
    labels.push(...labelsOf([m]));
    if (rnd() < 0.3) parts.push(Buffer.from(rnd() < 0.5 ? '\r\n\r\n' : '\r\n'));
  }
  return { stream: Buffer.concat(parts), labels };
}

test('random re-segmentation: 50 messages cut at random points always come out whole and in order', () => {
  const { stream, labels } = conversation(50);
  assert.equal(labels.length, 50);
  for (let seed = 1; seed <= 40; seed++) {
    const rnd = rng(seed);
    const { c, open } = connection({ isnC: Math.floor(rnd() * 0xffffffff) });
    const pieces = randomSplit(stream, rnd, [20, 200, 1460, 4000][seed % 4]!);
    const r = run([...open, ...pieces.map((p) => c.data(p)), c.fin()]);
    assert.deepEqual(r.labels, labels, `seed ${seed} (${pieces.length} segments)`);
    assert.ok(tcpTransport(r));
    assert.equal(r.counters.malformed.size, 0, `seed ${seed}: ${[...r.counters.malformed.keys()]}`);
  }
});

test('random re-segmentation with reordering, duplicates and overlapping retransmissions', () => {
  const { stream, labels } = conversation(50);
  for (let seed = 100; seed < 130; seed++) {
    const rnd = rng(seed);
    const { c, open } = connection({ isnC: Math.floor(rnd() * 0xffffffff) });
    const base = c.next;
    const pieces = randomSplit(stream, rnd, 900);
    const segs: Array<{ seq: number; bytes: Buffer }> = [];
    let off = 0;
    for (const p of pieces) {
      segs.push({ seq: base + off, bytes: p });
      off += p.length;
    }
    const out: Array<{ seq: number; bytes: Buffer }> = [];
    for (let i = 0; i < segs.length; i++) {
      const sg = segs[i]!;
      // Swap with the next one now and then (reordering within a small window).
      if (i + 1 < segs.length && rnd() < 0.25) {
        out.push(segs[i + 1]!, sg);
        i++;
      } else out.push(sg);
      if (rnd() < 0.1) out.push(sg); // exact duplicate
      if (rnd() < 0.1 && i + 1 < segs.length) {
        // Overlapping retransmission: the tail of this one plus the head of the next.
        const from = Math.floor(sg.bytes.length / 2);
        const startOff = sg.seq - base + from;
        out.push({ seq: sg.seq + from, bytes: stream.subarray(startOff, startOff + from + Math.min(50, segs[i + 1]!.bytes.length)) });
      }
    }
    c.next = (base + stream.length) >>> 0;
    const r = run([...open, ...out.map((sg) => c.data(sg.bytes, { seq: sg.seq >>> 0 })), c.fin()]);
    assert.deepEqual(r.labels, labels, `seed ${seed}`);
    assert.equal(r.drop('tcp-gap'), 0, `seed ${seed}`);
  }
});

// ---------------------------------------------------------------------------------------------
// The reassembler on its own

function recorder(): { events: string[]; factory: StreamFactory; connections: string[] } {
  const events: string[] = [];
  const connections: string[] = [];
  const factory: StreamFactory = (meta, connection) => {
    const id = `${meta.src}:${meta.sport}`;
    connections.push(connection);
    return {
      data: (_m, b) => events.push(`${id} ${b.toString('latin1')}`),
      gap: () => events.push(`${id} GAP`),
      end: () => events.push(`${id} END`),
    };
  };
  return { events, factory, connections };
}

function seg(seq: number, payload: string, o: { flags?: number; tsSec?: number; src?: string; sport?: number } = {}): TcpSegment {
  const src = o.src ?? C;
  const sport = o.sport ?? 40000;
  return {
    tsSec: o.tsSec ?? T0, tsNsec: 0, frame: 0, offset: -1, src, dst: src === C ? S : C, sport, dport: sport === 40000 ? 5060 : 40000, family: 4,
    seq: seq >>> 0, flags: o.flags ?? 0x18, payload: Buffer.from(payload, 'latin1'),
  };
}

test('TcpReassembler: in-order data, held data after a hole, the gap reported before it, end once', () => {
  const { events, factory, connections } = recorder();
  const counters = new Counters();
  const t = new TcpReassembler(factory, counters);
  t.segment(seg(99, '', { flags: 0x02 }));
  t.segment(seg(100, 'aaaa'));
  t.segment(seg(108, 'cccc')); // 104..107 missing
  t.segment(seg(112, 'dd'));
  t.segment(seg(114, '', { flags: 0x11 })); // FIN after everything
  t.segment(seg(100, 'aaaa')); // late retransmission
  t.finish();
  assert.deepEqual(events, [`${C}:40000 aaaa`, `${C}:40000 GAP`, `${C}:40000 cccc`, `${C}:40000 dd`, `${C}:40000 END`]);
  assert.deepEqual(connections, [`${C}|40000|${S}|5060`]);
  assert.equal(counters.drops.get('tcp-gap'), 1);
  assert.equal(counters.drops.get('tcp-retransmission'), 1);
  assert.equal(t.openFlows, 0);
});

test('TcpReassembler: an early FIN waits for the bytes before it; end is reported once', () => {
  const { events, factory } = recorder();
  const t = new TcpReassembler(factory, new Counters());
  t.segment(seg(100, 'aaaa'));
  t.segment(seg(108, '', { flags: 0x11 })); // FIN at 108, bytes 104..107 not here yet
  t.segment(seg(104, 'bbbb'));
  t.segment(seg(104, 'bbbb')); // retransmitted after the close
  t.finish();
  assert.deepEqual(events, [`${C}:40000 aaaa`, `${C}:40000 bbbb`, `${C}:40000 END`]);
  // The missing bytes never come: the end of capture closes it, once.
  const r = recorder();
  const t2 = new TcpReassembler(r.factory, new Counters());
  t2.segment(seg(100, 'aaaa'));
  t2.segment(seg(110, 'cc', { flags: 0x11 }));
  t2.finish();
  assert.deepEqual(r.events, [`${C}:40000 aaaa`, `${C}:40000 GAP`, `${C}:40000 cc`, `${C}:40000 END`]);
});

test('TcpReassembler: RST closes at once, even with bytes missing', () => {
  const { events, factory } = recorder();
  const t = new TcpReassembler(factory, new Counters());
  t.segment(seg(100, 'aaaa'));
  t.segment(seg(200, '', { flags: 0x04 }));
  t.segment(seg(104, 'late'));
  assert.deepEqual(events, [`${C}:40000 aaaa`, `${C}:40000 END`]);
});

test('TcpReassembler: limits on held bytes and segments declare a gap; idle and closed directions expire', () => {
  const limits = { maxHeldBytes: 10, maxHeldSegments: 3, idleSec: 60, lingerSec: 20 };
  const r1 = recorder();
  const t1 = new TcpReassembler(r1.factory, new Counters(), limits);
  t1.segment(seg(0, 'ab'));
  t1.segment(seg(10, '123456'));
  t1.segment(seg(16, '7890X')); // 11 bytes held > 10
  assert.deepEqual(r1.events, [`${C}:40000 ab`, `${C}:40000 GAP`, `${C}:40000 123456`, `${C}:40000 7890X`]);

  const r2 = recorder();
  const t2 = new TcpReassembler(r2.factory, new Counters(), limits);
  t2.segment(seg(0, 'ab'));
  for (const [i, x] of ['c', 'd', 'e', 'f'].entries()) t2.segment(seg(10 + i, x)); // 4 held segments > 3
  assert.deepEqual(r2.events, [`${C}:40000 ab`, `${C}:40000 GAP`, `${C}:40000 c`, `${C}:40000 d`, `${C}:40000 e`, `${C}:40000 f`]);

  const r3 = recorder();
  const c3 = new Counters();
  const t3 = new TcpReassembler(r3.factory, c3, limits);
  t3.segment(seg(0, 'old', { tsSec: T0 }));
  t3.segment(seg(0, 'other', { tsSec: T0 + 50, src: S, sport: 5060 }));
  assert.equal(t3.openFlows, 2);
  t3.segment(seg(0, 'x', { tsSec: T0 + 100, src: '203.0.113.1', sport: 1 }));
  assert.deepEqual(r3.events, [`${C}:40000 old`, `${S}:5060 other`, `${C}:40000 END`, '203.0.113.1:1 x'], 'the idle one ended');
  assert.equal(t3.openFlows, 2);
  t3.segment(seg(3, 'new', { tsSec: T0 + 101 }));
  assert.equal(r3.events[r3.events.length - 1], `${C}:40000 new`, 'a segment after expiry starts afresh (joined mid-stream)');
  // Closed directions linger so late retransmissions are recognised, then are forgotten.
  t3.segment(seg(6, 'fin', { tsSec: T0 + 102, flags: 0x11 }));
  t3.segment(seg(6, 'fin', { tsSec: T0 + 115, flags: 0x11 }));
  assert.equal(c3.drops.get('tcp-retransmission'), 1);
  t3.segment(seg(6, 'fin', { tsSec: T0 + 140, flags: 0x11 }));
  assert.equal(r3.events[r3.events.length - 1], `${C}:40000 END`);
  assert.equal(r3.events.filter((e) => e === `${C}:40000 fin`).length, 2, 'after the linger time the same bytes are new again');
});
