import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../src/capture/reader.js';
import { pcapGlobalHeader, pcapRecordHeader } from '../src/capture/pcap-writer.js';
import { udpFrame } from '../src/net/encode.js';
import { SipExtractor, type SipPacket } from '../src/sip/extractor.js';
import {
  SEED_CHAPTER_PATH,
  buildSeedCapture,
  digestParams,
  digestResponse,
  headerLines,
  headerValue,
  seedMessages,
  type SeedMessage,
} from './helpers/seed-chapter.js';

const shipped = fileURLToPath(new URL('../captures/seed-chapter.pcap', import.meta.url));
/** The chapter lives in ../shared/seed; without it the tests that read it are skipped. */
const haveChapter = existsSync(SEED_CHAPTER_PATH);
const SKIP = { skip: !haveChapter && `the seed chapter is absent (${SEED_CHAPTER_PATH})` };
const messages = haveChapter ? seedMessages() : [];

const ALICE_REG_CALL_ID = 'NmFjNzA3MWY1MDI3NGViMjY1N2QwZDlmZWQ5ZGY2OGE.';
const ALICE_FAILED_CALL_ID = 'ZjkxMGJmMjE4Y2ZiNjU5MzM5NDZkMTE5NzMzMzM0Mjc.';
const A_LEG = 'YWEwYjNlZTZjOWZjNDg3ZjU3MjQ3MTA1ZmQ1MDM5YmQ.';
const B_LEG = '0d74ac35-cca4-122d-81a2-2990e5b2bd3e';

/** Frame by frame: method or status, Call-ID. Frames 5–7 are synthesized. */
const STORY: Array<[string, string]> = [
  ['REGISTER', ALICE_REG_CALL_ID], ['401', ALICE_REG_CALL_ID], ['REGISTER', ALICE_REG_CALL_ID], ['200', ALICE_REG_CALL_ID],
  ['REGISTER', ALICE_FAILED_CALL_ID], ['401', ALICE_FAILED_CALL_ID], ['REGISTER', ALICE_FAILED_CALL_ID], ['403', ALICE_FAILED_CALL_ID],
  ['INVITE', A_LEG], ['100', A_LEG], ['407', A_LEG], ['ACK', A_LEG], ['INVITE', A_LEG], ['100', A_LEG],
  ['INVITE', B_LEG], ['100', B_LEG], ['180', B_LEG], ['183', A_LEG], ['200', B_LEG], ['ACK', B_LEG], ['200', A_LEG], ['ACK', A_LEG],
  ['BYE', B_LEG], ['200', B_LEG], ['BYE', A_LEG], ['200', A_LEG],
];
const STATUSES = STORY.filter(([k]) => /^\d+$/.test(k)).map(([k]) => Number(k));

function kindOf(m: SeedMessage): string {
  return m.startLine.startsWith('SIP/2.0 ') ? m.startLine.slice(8, 11) : m.startLine.split(' ')[0]!;
}

function header(m: SeedMessage, name: string): string {
  const v = headerValue(headerLines(m.text), name);
  assert.ok(v !== undefined, `frame ${m.frame} has no ${name}`);
  return v;
}

function hasTshark(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

function tshark(file: string, args: string[]): string {
  const r = spawnSync('tshark', ['-r', file, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tshark ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function extract(file: string): Promise<SipPacket[]> {
  const out: SipPacket[] = [];
  const ex = new SipExtractor((p) => out.push(p));
  await readCapture(file, (f) => ex.frame(f));
  ex.finish();
  return out;
}

test('every message of the chapter is parsed, plus the three synthesized ones, in time order', SKIP, () => {
  const chapter = readFileSync(SEED_CHAPTER_PATH, 'utf8');
  const markers = chapter.match(/(?:recv|send) \d+ bytes (?:from|to) udp\//g) ?? [];
  assert.equal(markers.length, 23);
  assert.equal(messages.filter((m) => !m.synthesized).length, markers.length);
  assert.deepEqual(messages.filter((m) => m.synthesized).map((m) => m.frame), [5, 6, 7]);
  assert.deepEqual(messages.map((m) => [kindOf(m), header(m, 'Call-ID')]), STORY);
  assert.deepEqual(messages.map((m) => m.frame), messages.map((_, i) => i + 1));
  for (let i = 1; i < messages.length; i++) {
    const [a, b] = [messages[i - 1]!, messages[i]!];
    assert.ok(a.tsSec * 1e6 + a.tsUsec < b.tsSec * 1e6 + b.tsUsec, `frame ${b.frame} is not later than ${a.frame}`);
  }
  // First and last as the markers print them, on the day of the 200 OK's Date header.
  assert.equal(messages[0]!.tsSec, Date.UTC(2010, 3, 27, 12, 30, 57) / 1000);
  assert.equal(messages[0]!.tsUsec, 916812);
  assert.equal(messages.at(-1)!.tsSec, Date.UTC(2010, 3, 27, 13, 31, 50) / 1000);
  assert.equal(messages.at(-1)!.tsUsec, 111765);
  assert.equal(header(messages[3]!, 'Date'), 'Tue, 27 Apr 2010 12:30:57 GMT');
  assert.equal(messages[3]!.time.toISOString(), '2010-04-27T12:30:57.936Z');
  // The synthesized flow sits a few ms before the 403 at 13:22:49.195554.
  const forbidden = messages[7]!;
  assert.equal(forbidden.tsSec, Date.UTC(2010, 3, 27, 13, 22, 49) / 1000);
  assert.equal(forbidden.tsUsec, 195554);
  for (const m of messages.slice(4, 7)) {
    const ahead = forbidden.tsSec * 1e6 + forbidden.tsUsec - (m.tsSec * 1e6 + m.tsUsec);
    assert.ok(ahead > 0 && ahead < 50_000, `frame ${m.frame} is ${ahead} µs before the 403`);
  }
});

test('addresses follow the markers: recv is peer → FreeSWITCH, send is FreeSWITCH → peer', SKIP, () => {
  const ports = messages.map((m) => `${m.src.port}>${m.dst.port}`);
  assert.deepEqual(ports, [
    '5090>5060', '5060>5090', '5090>5060', '5060>5090', '5090>5060', '5060>5090', '5090>5060', '5060>5090',
    '26000>5060', '5060>26000', '5060>26000', '26000>5060', '26000>5060', '5060>26000',
    '5060>5090', '5090>5060', '5090>5060', '5060>26000', '5090>5060', '5060>5090', '5060>26000', '26000>5060',
    '5090>5060', '5060>5090', '5060>26000', '26000>5060',
  ]);
  for (const m of messages) {
    assert.equal(m.src.ip, '192.168.4.4');
    assert.equal(m.dst.ip, '192.168.4.4');
    assert.equal(m.direction, m.dst.port === 5060 ? 'recv' : 'send');
  }
});

test('text: CRLF lines, no trailing blanks, folds kept as printed, Content-Length equals the body', SKIP, () => {
  for (const m of messages) {
    assert.ok(!/[^\r]\n/.test(m.text), `bare LF in frame ${m.frame}`);
    assert.ok(!/[ \t]\r\n/.test(m.text), `trailing blank in frame ${m.frame}`);
    const cut = m.text.indexOf('\r\n\r\n') + 4;
    assert.equal(Buffer.byteLength(m.text.slice(cut)), Number(header(m, 'Content-Length')), `frame ${m.frame}`);
    assert.equal(m.text.slice(cut), m.body);
  }
  const folds = (m: SeedMessage): number => headerLines(m.text).filter((l) => /^ {4}\S/.test(l)).length;
  // REGISTER with Authorization (3 continuations), 200 OK (Allow), 403, 407 (Allow, Allow-Events,
  // Proxy-Authenticate), INVITE with Proxy-Authorization (4), the b-leg INVITE, 183, 200, ACK, BYE's 200, BYE.
  assert.deepEqual(messages.map(folds), [0, 0, 3, 1, 0, 0, 3, 1, 0, 0, 3, 0, 4, 0, 2, 0, 0, 2, 0, 0, 2, 4, 0, 1, 1, 0]);
  // The 401 was printed on one line: split back into its 11 lines.
  assert.ok(messages[1]!.printedFlat);
  assert.equal(headerLines(messages[1]!.text).length, 11);
  assert.equal(header(messages[1]!, 'WWW-Authenticate'), 'Digest realm="192.168.4.4", nonce="62fb812c-71d2-4a36-93d6-e0008e6a63ee", algorithm=MD5, qop="auth"');
  assert.deepEqual(messages.filter((m) => m.body).map((m) => [m.frame, m.body.length]), [[9, 594], [13, 594], [15, 313], [18, 267], [19, 226], [21, 267]]);
  for (const m of messages.filter((x) => x.body)) assert.match(m.body, /^v=0\r\no=.*\r\ns=.*\r\nc=IN IP4 192\.168\.4\.4\r\nt=0 0\r\nm=audio \d+ RTP\/AVP [\d ]+\r\n(a=.*\r\n)+$/);
  assert.equal(messages[17]!.body, messages[20]!.body, '183 and 200 to bob carry the same answer');
});

test('joined as on the wire, every printed message is exactly as long as FreeSWITCH says', SKIP, () => {
  for (const m of messages.filter((x) => !x.synthesized)) {
    assert.equal(Buffer.byteLength(m.wireText), m.announcedBytes, `frame ${m.frame}: ${m.startLine}`);
  }
});

test('the chapter\'s digests verify with password 1234', SKIP, () => {
  const verify = (m: SeedMessage, name: string, method: string, password: string): boolean => {
    const p = digestParams(header(m, name));
    return digestResponse({ username: p['username']!, realm: p['realm']!, password, method, uri: p['uri']!, nonce: p['nonce']!, nc: p['nc']!, cnonce: p['cnonce']!, qop: p['qop']! }) === p['response'];
  };
  const [register, invite, ack] = [messages[2]!, messages[12]!, messages[21]!];
  const reg = digestParams(header(register, 'Authorization'));
  assert.equal(reg['response'], '32b5ddaea8647a3becd25cb84346b1c3');
  assert.equal(reg['nonce'], digestParams(header(messages[1]!, 'WWW-Authenticate'))['nonce']);
  assert.equal(reg['uri'], 'sip:192.168.4.4;transport=UDP');
  assert.ok(verify(register, 'Authorization', 'REGISTER', '1234'));
  assert.ok(!verify(register, 'Authorization', 'REGISTER', '4321'));

  const inv = digestParams(header(invite, 'Proxy-Authorization'));
  assert.equal(inv['response'], '327887635344405bcd545da06763c466');
  assert.equal(inv['nonce'], digestParams(header(messages[10]!, 'Proxy-Authenticate'))['nonce']);
  assert.ok(verify(invite, 'Proxy-Authorization', 'INVITE', '1234'));
  // X-Lite's ACK for the 200 repeats the INVITE's credentials unchanged (same cnonce, nc=00000001):
  // they verify with method INVITE, not ACK.
  assert.equal(header(ack, 'Proxy-Authorization'), header(invite, 'Proxy-Authorization'));
  assert.ok(verify(ack, 'Proxy-Authorization', 'INVITE', '1234'));
  assert.ok(!verify(ack, 'Proxy-Authorization', 'ACK', '1234'));

  // The synthesized REGISTER answers the synthesized 401 with the wrong password.
  const bad = digestParams(header(messages[6]!, 'Authorization'));
  assert.equal(bad['nonce'], digestParams(header(messages[5]!, 'WWW-Authenticate'))['nonce']);
  assert.ok(verify(messages[6]!, 'Authorization', 'REGISTER', '4321'));
  assert.ok(!verify(messages[6]!, 'Authorization', 'REGISTER', '1234'));
});

test('the synthesized registration leads into the chapter\'s 403', SKIP, () => {
  const [reg1, challenge, reg2, forbidden] = messages.slice(4, 8) as [SeedMessage, SeedMessage, SeedMessage, SeedMessage];
  assert.equal(forbidden.synthesized, false);
  assert.deepEqual([reg1, challenge, reg2, forbidden].map((m) => header(m, 'CSeq')), ['1 REGISTER', '1 REGISTER', '2 REGISTER', '2 REGISTER']);
  assert.match(header(reg2, 'Via'), /branch=z9hG4bK-d8754z-d447f43b66912a1b-1---d8754z-;rport$/);
  assert.match(header(forbidden, 'Via'), /branch=z9hG4bK-d8754z-d447f43b66912a1b-1---d8754z-;rport=5090$/);
  assert.equal(header(reg1, 'Via').replace(/rport$/, 'rport=5090'), header(challenge, 'Via'));
  assert.notEqual(header(reg1, 'Via'), header(reg2, 'Via'));
  for (const m of [reg1, challenge, reg2]) assert.match(header(m, 'From'), /;tag=c097e17f$/);
  assert.equal(headerValue(headerLines(reg1.text), 'Authorization'), undefined);
  assert.notEqual(header(challenge, 'WWW-Authenticate'), header(messages[1]!, 'WWW-Authenticate'), 'a fresh nonce');
});

test('the shipped captures/seed-chapter.pcap is what the generator builds', SKIP, () => {
  assert.ok(readFileSync(shipped).equals(buildSeedCapture()), 'run: npx tsx scripts/make-seed-capture.ts');
});

test('sipscope reads the capture: the same messages, addresses and times, no problems', SKIP, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seed-'));
  try {
    const wire = join(dir, 'wire.pcap');
    writeFileSync(wire, buildSeedCapture('wire'));
    for (const [file, layout] of [[shipped, 'printed'], [wire, 'wire']] as const) {
      const got = await extract(file);
      assert.equal(got.length, messages.length, layout);
      got.forEach((p, i) => {
        const m = messages[i]!;
        assert.deepEqual(p.msg.problems, [], `${layout} frame ${m.frame}`);
        assert.equal(p.msg.raw.toString('utf8'), layout === 'wire' ? m.wireText : m.text);
        assert.equal(p.transport, 'UDP');
        assert.deepEqual([p.meta.frame, p.meta.src, p.meta.sport, p.meta.dst, p.meta.dport], [m.frame, m.src.ip, m.src.port, m.dst.ip, m.dst.port]);
        assert.deepEqual([p.meta.tsSec, p.meta.tsNsec], [m.tsSec, m.tsUsec * 1000]);
        assert.equal(p.msg.callId, STORY[i]![1]);
        assert.equal(p.msg.isRequest ? p.msg.method : String(p.msg.status), STORY[i]![0]);
        assert.equal(p.msg.raw.length - p.msg.bodyStart, m.body.length);
        if (layout === 'wire' && m.announcedBytes !== undefined) assert.equal(p.msg.raw.length, m.announcedBytes);
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tshark reads the capture: messages, Call-IDs, status codes, nothing malformed', { skip: (!haveChapter && 'the seed chapter is absent') || (!hasTshark() && 'tshark not installed') }, () => {
  const rows = tshark(shipped, ['-Y', 'sip', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f', '-e', 'frame.number', '-e', 'sip.Method', '-e', 'sip.Status-Code', '-e', 'sip.Call-ID', '-e', 'sip.CSeq.method'])
    .trim()
    .split('\n')
    .map((l) => l.split('|'));
  assert.equal(rows.length, 26);
  assert.deepEqual(rows.map(([frame, method, status, callId]) => [Number(frame), method || status, callId]), STORY.map(([k, c], i) => [i + 1, k, c]));
  assert.deepEqual(
    rows.filter((r) => r[2]).map((r) => Number(r[2])),
    STATUSES,
  );
  assert.deepEqual(STATUSES, [401, 200, 401, 403, 100, 407, 100, 100, 180, 183, 200, 200, 200, 200]);
  // SDP seen in the six messages that carry it.
  const sdp = tshark(shipped, ['-Y', 'sdp', '-T', 'fields', '-e', 'frame.number']).trim().split('\n').map(Number);
  assert.deepEqual(sdp, [9, 13, 15, 18, 19, 21]);

  const bad = '_ws.malformed || _ws.expert.severity >= error';
  assert.equal(tshark(shipped, ['-Y', bad]), '');
  // The filter does catch a broken frame in this tshark version.
  const dir = mkdtempSync(join(tmpdir(), 'seed-'));
  try {
    const frame = udpFrame('192.168.4.4', '192.168.4.4', 5090, 5060, Buffer.from(messages[0]!.text));
    frame.writeUInt16BE(frame.readUInt16BE(16) + 40, 16); // IPv4 total length past the frame's end
    const broken = join(dir, 'broken.pcap');
    writeFileSync(broken, Buffer.concat([pcapGlobalHeader(1), pcapRecordHeader(1, 0, frame.length, frame.length), frame]));
    assert.notEqual(tshark(broken, ['-Y', bad]).trim(), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
