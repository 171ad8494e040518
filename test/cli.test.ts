/**
 * The CLI as a user runs it: `node bin/sipscope …` against captures built here byte by byte (so
 * every expected value is known), plus the shared real-world captures when they are present.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pcapGlobalHeader, pcapRecordHeader } from '../src/capture/pcap-writer.js';
import { udpFrame } from '../src/net/encode.js';
import { binPath, isOneLineError, repoRoot, run, runCli, runShell, shq } from './helpers/cli.js';

const SHARED = '/work/shared/captures';
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

// ---------------------------------------------------------------------------------------------
// A capture whose every byte we know

const CRLF = '\r\n';

function sip(startLine: string, headers: string[], body = '', contentLength = Buffer.byteLength(body)): string {
  return [startLine, ...headers, `Content-Length: ${contentLength}`, '', ''].join(CRLF) + body;
}

const CALL = 'a84b4c76e66710@pc33.atlanta.example.com';
const REG = 'reg-843817637684230@[2001:db8::10]';
const SDP = ['v=0', 'o=alice 2890844526 2890844526 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 49170 RTP/AVP 0', ''].join(CRLF);

interface Entry {
  sec: number;
  usec: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  payload: string | Buffer;
  /** What sipscope should report (undefined: not a SIP message). */
  expect?: {
    method?: string;
    status?: number;
    callId: string | null;
    cseq: number | null;
    startLine: string;
    malformed?: string[];
  };
}

const A = '10.0.0.1';
const B = '10.0.0.2';
const V6A = '2001:db8::10';
const V6B = '2001:db8::1';
const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z

const dialogHeaders = (cseq: string, toTag = ''): string[] => [
  'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds',
  'Max-Forwards: 70',
  `To: Bob <sip:bob@example.com>${toTag}`,
  'From: Alice <sip:alice@example.com>;tag=1928301774',
  `Call-ID: ${CALL}`,
  `CSeq: ${cseq}`,
];

const ENTRIES: Entry[] = [
  {
    sec: T0, usec: 1, src: A, sport: 5060, dst: B, dport: 5060,
    payload: sip('INVITE sip:bob@example.com SIP/2.0', [...dialogHeaders('314159 INVITE'), 'Contact: <sip:alice@10.0.0.1>', 'Content-Type: application/sdp'], SDP),
    expect: { method: 'INVITE', callId: CALL, cseq: 314159, startLine: 'INVITE sip:bob@example.com SIP/2.0' },
  },
  {
    sec: T0, usec: 250_000, src: B, sport: 5060, dst: A, dport: 5060,
    payload: sip('SIP/2.0 100 Trying', dialogHeaders('314159 INVITE')),
    expect: { status: 100, callId: CALL, cseq: 314159, startLine: 'SIP/2.0 100 Trying' },
  },
  {
    sec: T0 + 1, usec: 999_999, src: B, sport: 5060, dst: A, dport: 5060,
    payload: sip('SIP/2.0 180 Ringing', dialogHeaders('314159 INVITE', ';tag=a6c85cf')),
    expect: { status: 180, callId: CALL, cseq: 314159, startLine: 'SIP/2.0 180 Ringing' },
  },
  {
    sec: T0 + 3, usec: 500_123, src: B, sport: 5060, dst: A, dport: 5060,
    payload: sip('SIP/2.0 200 OK', [...dialogHeaders('314159 INVITE', ';tag=a6c85cf'), 'Content-Type: application/sdp'], SDP),
    expect: { status: 200, callId: CALL, cseq: 314159, startLine: 'SIP/2.0 200 OK' },
  },
  {
    sec: T0 + 3, usec: 510_000, src: A, sport: 5060, dst: B, dport: 5060,
    payload: sip('ACK sip:bob@10.0.0.2 SIP/2.0', dialogHeaders('314159 ACK', ';tag=a6c85cf')),
    expect: { method: 'ACK', callId: CALL, cseq: 314159, startLine: 'ACK sip:bob@10.0.0.2 SIP/2.0' },
  },
  // RTP: not SIP, counted as skipped
  { sec: T0 + 3, usec: 600_000, src: A, sport: 49170, dst: B, dport: 3456, payload: Buffer.concat([Buffer.from([0x80, 0x00, 0x00, 0x01]), Buffer.alloc(168, 0xd5)]) },
  // CRLF keep-alive: skipped as such
  { sec: T0 + 4, usec: 0, src: A, sport: 5060, dst: B, dport: 5060, payload: CRLF + CRLF },
  {
    sec: T0 + 10, usec: 42, src: A, sport: 5060, dst: B, dport: 5060,
    payload: sip('BYE sip:bob@10.0.0.2 SIP/2.0', dialogHeaders('314160 BYE', ';tag=a6c85cf')),
    expect: { method: 'BYE', callId: CALL, cseq: 314160, startLine: 'BYE sip:bob@10.0.0.2 SIP/2.0' },
  },
  {
    sec: T0 + 10, usec: 43_210, src: B, sport: 5060, dst: A, dport: 5060,
    payload: sip('SIP/2.0 200 OK', dialogHeaders('314160 BYE', ';tag=a6c85cf')),
    expect: { status: 200, callId: CALL, cseq: 314160, startLine: 'SIP/2.0 200 OK' },
  },
  {
    sec: T0 + 20, usec: 7, src: V6A, sport: 5062, dst: V6B, dport: 5060,
    payload: sip('REGISTER sip:example.com SIP/2.0', [
      'Via: SIP/2.0/UDP [2001:db8::10]:5062;branch=z9hG4bKnashds7',
      'To: Carol <sip:carol@example.com>',
      'From: Carol <sip:carol@example.com>;tag=456248',
      `Call-ID: ${REG}`,
      'CSeq: 1826 REGISTER',
      'Contact: <sip:carol@[2001:db8::10]:5062>',
      'Expires: 7200',
    ]),
    expect: { method: 'REGISTER', callId: REG, cseq: 1826, startLine: 'REGISTER sip:example.com SIP/2.0' },
  },
  {
    sec: T0 + 20, usec: 9_000, src: V6B, sport: 5060, dst: V6A, dport: 5062,
    payload: sip('SIP/2.0 200 OK', [
      'Via: SIP/2.0/UDP [2001:db8::10]:5062;branch=z9hG4bKnashds7',
      'To: Carol <sip:carol@example.com>;tag=2493k59kd',
      'From: Carol <sip:carol@example.com>;tag=456248',
      `Call-ID: ${REG}`,
      'CSeq: 1826 REGISTER',
    ]),
    expect: { status: 200, callId: REG, cseq: 1826, startLine: 'SIP/2.0 200 OK' },
  },
  {
    // Malformed: Content-Length promises a body the datagram does not carry; no Call-ID, From, To.
    sec: T0 + 30, usec: 123_456, src: A, sport: 5070, dst: B, dport: 5060,
    payload: sip('OPTIONS sip:b@10.0.0.2 SIP/2.0', ['Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKopt1', 'CSeq: 7 OPTIONS'], '', 40),
    expect: { method: 'OPTIONS', callId: null, cseq: 7, startLine: 'OPTIONS sip:b@10.0.0.2 SIP/2.0', malformed: ['body-truncated', 'missing-call-id', 'missing-from', 'missing-to'] },
  },
];

const hostPort = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

function isoMicros(sec: number, usec: number): string {
  return `${new Date(sec * 1000).toISOString().slice(0, 19)}.${String(usec).padStart(6, '0')}Z`;
}

interface Built {
  file: Buffer;
  /** Byte offset of each record header. */
  offsets: number[];
}

function buildPcap(entries: Array<Pick<Entry, 'sec' | 'usec' | 'src' | 'sport' | 'dst' | 'dport' | 'payload'>>): Built {
  const parts: Buffer[] = [pcapGlobalHeader(1)];
  const offsets: number[] = [];
  let at = parts[0]!.length;
  entries.forEach((e, i) => {
    const payload = typeof e.payload === 'string' ? Buffer.from(e.payload, 'latin1') : e.payload;
    const frame = udpFrame(e.src, e.dst, e.sport, e.dport, payload, i + 1);
    offsets.push(at);
    parts.push(pcapRecordHeader(e.sec, e.usec, frame.length, frame.length), frame);
    at += 16 + frame.length;
  });
  return { file: Buffer.concat(parts), offsets };
}

const SIP_ENTRIES = ENTRIES.filter((e) => e.expect);

function expectedRecord(e: Entry): Record<string, unknown> {
  const x = e.expect!;
  const rec: Record<string, unknown> = {
    time: isoMicros(e.sec, e.usec),
    src: hostPort(e.src, e.sport),
    dst: hostPort(e.dst, e.dport),
    transport: 'UDP',
  };
  if (x.method) rec['method'] = x.method;
  else rec['status'] = x.status;
  rec['call_id'] = x.callId;
  rec['cseq'] = x.cseq;
  rec['bytes'] = Buffer.byteLength(e.payload);
  return rec;
}

function ndjson(stdout: string): Array<Record<string, unknown>> {
  const lines = stdout.split('\n');
  assert.equal(lines.pop(), '', 'output ends with a newline');
  return lines.map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      assert.fail(`line ${i + 1} is not JSON: ${l}`);
    }
  });
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function countBy(records: Array<Record<string, unknown>>, key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) {
    const v = r[key];
    if (v !== undefined) out[String(v)] = (out[String(v)] ?? 0) + 1;
  }
  return out;
}

const sorted = (o: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

let dir: string;
let calls: Built;
const f = (name: string): string => join(dir, name);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sipscope-cli-'));
  calls = buildPcap(ENTRIES);
  writeFileSync(f('calls.pcap'), calls.file);
  writeFileSync(f('calls.pcap.gz'), gzipSync(calls.file));
  writeFileSync(f('empty.pcap'), Buffer.alloc(0));
  writeFileSync(f('notes.txt'), 'These are not the packets you are looking for.\n');
  writeFileSync(f('tiny.pcap'), calls.file.subarray(0, 3));
  mkdirSync(f('a-directory'));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('help and version', () => {
  test('--help lists every command, exit 0', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: sipscope /);
    for (const c of ['messages', 'stats', 'interfaces', 'capture']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
    assert.equal(r.stderr, '');
  });

  test('every command has --help with examples, exit 0', async () => {
    for (const c of ['messages', 'stats', 'interfaces', 'capture']) {
      const r = await runCli([c, '--help']);
      assert.equal(r.code, 0, `${c} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: sipscope ${c} `));
      assert.match(r.stdout, /\nExamples?:\n {2}\$ sipscope /, `${c} --help shows examples`);
      assert.equal(r.stderr, '');
    }
    const r = await runCli(['messages', '--help']);
    assert.match(r.stdout, /\$ sipscope messages --json /);
    assert.match(r.stdout, /\| sipscope messages -$/m, 'the stdin example');
    const h = await runCli(['help', 'messages']);
    assert.equal(h.code, 0);
    assert.equal(h.stdout, r.stdout, '`help messages` is `messages --help`');
  });

  test('--version and -V print the package version, exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${pkg.version}\n`);
    }
  });

  test('./bin/sipscope runs as an executable', async () => {
    const r = await run(binPath, ['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: sipscope /);
  });

  test('npx sipscope --help (the package bin, never downloaded)', async () => {
    const r = await run('npx', ['--no', '--', 'sipscope', '--help'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: sipscope /);
  });

  test('help piped into head exits quietly', async () => {
    const r = await runShell(`${shq(process.execPath)} ${shq(binPath)} help messages | head -1`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Usage: sipscope messages [options] <file>\n');
    assert.equal(r.stderr, '');
  });
});

describe('usage errors: exit 1, one line on stderr, no stack', () => {
  const cases: Array<[string[], RegExp]> = [
    [['bogus'], /unknown command 'bogus'/],
    [['mesages', 'x.pcap'], /unknown command 'mesages'.*Did you mean messages\?/],
    [['messages'], /missing required argument 'file'/],
    [['stats'], /missing required argument 'file'/],
    [['messages', '--bogus', 'x.pcap'], /unknown option '--bogus'/],
    [['stats', 'a.pcap', 'b.pcap'], /too many arguments for 'stats'/],
    [['capture'], /required option '-i, --interface <iface>' not specified/],
    [['capture', '-i'], /option '-i, --interface <iface>' argument missing/],
    [['capture', '-i', 'lo', '--count', 'abc'], /^sipscope: --count must be a positive number, not "abc"\n$/],
    [['capture', '-i', 'lo', '--count', '0'], /--count must be a positive number, not "0"/],
    [['capture', '-i', 'lo', '--duration', '-3'], /--duration must be a positive number, not "-3"/],
  ];
  for (const [args, why] of cases) {
    test(`sipscope ${args.join(' ')}`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
      assert.ok(isOneLineError(r.stderr), `one line, no stack: ${JSON.stringify(r.stderr)}`);
      assert.match(r.stderr, why);
      assert.equal(r.stdout, '');
    });
  }
});

describe('unreadable input: exit 1, one line `sipscope: ...`, no stack', () => {
  const cases: Array<[string, () => string[], RegExp, (Buffer | string)?]> = [
    ['missing file', () => ['messages', f('nope.pcap')], /^sipscope: cannot read .*nope\.pcap: no such file\n$/],
    ['a directory', () => ['messages', f('a-directory')], /^sipscope: cannot read .*a-directory: it is a directory\n$/],
    ['not a capture', () => ['messages', f('notes.txt')], /^sipscope: not a pcap or pcapng capture \(it starts with bytes 54 68 65 73\)\n$/],
    ['an empty file', () => ['messages', f('empty.pcap')], /^sipscope: the input is empty: not a capture\n$/],
    ['3 bytes', () => ['messages', f('tiny.pcap')], /^sipscope: the input is too short to be a pcap or pcapng capture\n$/],
    ['stats: missing file', () => ['stats', f('nope.pcap')], /^sipscope: cannot read .*nope\.pcap: no such file\n$/],
    ['stats --json: not a capture', () => ['stats', '--json', f('notes.txt')], /^sipscope: not a pcap or pcapng capture/],
    ['empty stdin', () => ['messages', '-'], /^sipscope: the input is empty: not a capture\n$/, ''],
    ['text on stdin', () => ['stats', '-'], /^sipscope: not a pcap or pcapng capture/, 'GET / HTTP/1.1\r\n\r\n'],
  ];
  for (const [name, args, want, input] of cases) {
    test(name, async () => {
      const r = await runCli(args(), input === undefined ? {} : { input });
      assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
      assert.ok(isOneLineError(r.stderr), `one line, no stack: ${JSON.stringify(r.stderr)}`);
      assert.match(r.stderr, want);
      assert.equal(r.stdout, '');
    });
  }
});

describe('messages', () => {
  test('--json: one object per SIP message with the documented keys and exact values', async () => {
    const r = await runCli(['messages', '--json', f('calls.pcap')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const recs = ndjson(r.stdout);
    assert.equal(recs.length, SIP_ENTRIES.length);
    recs.forEach((rec, i) => {
      const e = SIP_ENTRIES[i]!;
      const want = expectedRecord(e);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(rec[k], v, `message ${i + 1} (${e.expect!.startLine}): ${k}`);
      assert.match(rec['time'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.equal(typeof rec['bytes'], 'number');
      // exactly one of method/status
      assert.equal('method' in rec, e.expect!.method !== undefined);
      assert.equal('status' in rec, e.expect!.status !== undefined);
      assert.deepEqual(rec['malformed'], e.expect!.malformed, `message ${i + 1}: malformed`);
    });
    // Spot checks written out by hand, so a shared mistake in the helpers above cannot hide.
    assert.equal(recs[0]!['time'], '2023-11-14T22:13:20.000001Z');
    assert.equal(recs[2]!['time'], '2023-11-14T22:13:21.999999Z');
    assert.equal(recs[7]!['src'], '[2001:db8::10]:5062');
    assert.equal(recs[0]!['request_uri'], 'sip:bob@example.com');
    assert.equal(recs[1]!['reason'], 'Trying');
    assert.equal(recs[3]!['cseq_method'], 'INVITE');
  });

  test('plain: time, src -> dst, transport, start line, Call-ID on one line', async () => {
    const r = await runCli(['messages', f('calls.pcap')]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, SIP_ENTRIES.length);
    lines.forEach((line, i) => {
      const e = SIP_ENTRIES[i]!;
      const parts = [isoMicros(e.sec, e.usec), `${hostPort(e.src, e.sport)} -> ${hostPort(e.dst, e.dport)}`, 'UDP', e.expect!.startLine, e.expect!.callId ?? '-'];
      assert.match(line, new RegExp(`^${parts.map(escapeRe).join('\\s+')}(\\s|$)`), `line ${i + 1}`);
    });
    assert.equal(lines[0], `2023-11-14T22:13:20.000001Z  10.0.0.1:5060 -> 10.0.0.2:5060  UDP  INVITE sip:bob@example.com SIP/2.0  ${CALL}`);
    assert.match(lines[lines.length - 1]!, /  -  \[malformed: body-truncated,missing-call-id,missing-from,missing-to\]$/);
  });

  test('- reads standard input', async () => {
    const fromFile = await runCli(['messages', '--json', f('calls.pcap')]);
    const r = await runCli(['messages', '--json', '-'], { input: calls.file });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, fromFile.stdout);
    assert.equal(ndjson(r.stdout).length, SIP_ENTRIES.length);
  });

  test('gzip-compressed captures read transparently, from a file and from stdin', async () => {
    const plain = await runCli(['messages', f('calls.pcap')]);
    const gzFile = await runCli(['messages', f('calls.pcap.gz')]);
    const gzStdin = await runCli(['messages', '-'], { input: gzipSync(calls.file) });
    for (const [name, r] of [['file', gzFile], ['stdin', gzStdin]] as const) {
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stderr, '', name);
      assert.equal(r.stdout, plain.stdout, `gzip ${name} gives the same messages`);
    }
    const st = await runCli(['stats', '--json', f('calls.pcap.gz')]);
    const rep = JSON.parse(st.stdout) as { compressed: boolean; format: string; bytes: number };
    assert.equal(rep.compressed, true);
    assert.equal(rep.format, 'pcap');
    assert.equal(rep.bytes, calls.file.length, 'bytes are counted after decompression');
  });

  test('a truncated capture: exit 0, every complete packet, a warning naming the byte offset', async () => {
    const last = calls.offsets[calls.offsets.length - 1]!;
    const complete = SIP_ENTRIES.length - 1; // the last record is the OPTIONS
    const cuts: Array<[string, number, RegExp]> = [
      ['inside the last record', calls.file.length - 10, new RegExp(`record at byte ${last} is incomplete`)],
      ['inside the last record header', last + 7, new RegExp(`record at byte ${last} is incomplete \\(7 of 16 bytes present\\)`)],
    ];
    const full = ndjson((await runCli(['messages', '--json', f('calls.pcap')])).stdout);
    for (const [name, at, warning] of cuts) {
      const cut = calls.file.subarray(0, at);
      for (const [how, args, input] of [
        ['file', () => { writeFileSync(f('cut.pcap'), cut); return ['messages', '--json', f('cut.pcap')]; }, undefined],
        ['stdin', () => ['messages', '--json', '-'], cut],
      ] as const) {
        const r = await runCli(args(), input === undefined ? {} : { input });
        assert.equal(r.code, 0, `${name} (${how}): ${r.stderr}`);
        assert.deepEqual(ndjson(r.stdout), full.slice(0, complete), `${name} (${how}): every complete packet`);
        assert.match(r.stderr, /^sipscope: warning: capture is truncated: /, `${name} (${how})`);
        assert.match(r.stderr, warning, `${name} (${how})`);
        assert.equal(r.stderr.split('\n').length, 2, 'one warning line');
        assert.doesNotMatch(r.stderr, /\n\s+at /);
      }
    }
    // stats reports the same problem, with its offset
    writeFileSync(f('cut.pcap'), calls.file.subarray(0, last + 7));
    const st = await runCli(['stats', '--json', f('cut.pcap')]);
    assert.equal(st.code, 0, st.stderr);
    const rep = JSON.parse(st.stdout) as { sip_messages: number; capture_warnings: Array<{ code: string; offset: number }> };
    assert.equal(rep.sip_messages, complete);
    assert.deepEqual(rep.capture_warnings.map((w) => [w.code, w.offset]), [['truncated-record', last]]);
  });

  test('a gzip stream cut short: exit 0, a warning, the messages decompressed so far', async () => {
    const gz = gzipSync(calls.file);
    const r = await runCli(['messages', '-'], { input: gz.subarray(0, Math.floor(gz.length * 0.6)) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^sipscope: warning: gzip stream is damaged or cut short after \d+ decompressed bytes/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const full = (await runCli(['messages', f('calls.pcap')])).stdout;
    assert.ok(full.startsWith(r.stdout), 'what is printed is a prefix of the full output');
  });

  test('messages BIGFILE | head -1 exits quietly (no EPIPE, no stack)', async (t) => {
    let big = join(SHARED, 'goffinet__sip_captures/branch-scenario-sipp.pcapng');
    if (!existsSync(big)) {
      t.diagnostic('shared branch-scenario-sipp.pcapng absent: building a 20 000-message capture');
      const inv = SIP_ENTRIES[0]!;
      big = f('big.pcap');
      writeFileSync(big, buildPcap(Array.from({ length: 20_000 }, (_, i) => ({ ...inv, sec: T0 + i }))).file);
    }
    const r = await runShell(`${shq(process.execPath)} ${shq(binPath)} messages ${shq(big)} | head -1`);
    assert.equal(r.code, 0, `pipeline exit (stderr: ${r.stderr})`);
    assert.equal(r.stdout.split('\n').length, 2, 'one line');
    assert.match(r.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z {2}\S+ -> \S+ {2}UDP {2}/);
    assert.equal(r.stderr, '');
    // and the same with --json and stats
    const j = await runShell(`${shq(process.execPath)} ${shq(binPath)} messages --json ${shq(big)} | head -c 100 >/dev/null`);
    assert.equal(j.code, 0, j.stderr);
    assert.equal(j.stderr, '');
  });
});

describe('stats', () => {
  test('text: packets, link types, SIP by method and status, skipped and malformed', async () => {
    const r = await runCli(['stats', f('calls.pcap')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const out = r.stdout;
    assert.match(out, new RegExp(`^frames +${ENTRIES.length}$`, 'm'));
    assert.match(out, new RegExp(`^link types +Ethernet \\(1\\) ${ENTRIES.length}$`, 'm'));
    assert.match(out, new RegExp(`^SIP messages +${SIP_ENTRIES.length} \\(`, 'm'));
    assert.match(out, new RegExp(`^ {2}transports +UDP ${SIP_ENTRIES.length}$`, 'm'));
    assert.match(out, /^ {2}requests +.*\bINVITE 1\b/m);
    for (const m of ['ACK 1', 'BYE 1', 'REGISTER 1', 'OPTIONS 1']) assert.match(out, new RegExp(`^ {2}requests .*\\b${m}\\b`, 'm'), m);
    assert.match(out, /^ {2}responses +200 3, 100 1, 180 1$/m);
    assert.match(out, /^malformed SIP *\n {2}body-truncated +1\n {2}missing-call-id +1\n {2}missing-from +1\n {2}missing-to +1\n/m);
    assert.match(out, /^skipped *\n/m);
    assert.match(out, /^ {2}datagrams that are not SIP \(RTP, DNS, …\) +1$/m);
    assert.match(out, /^ {2}CRLF keep-alives +1$/m);
  });

  test('--json parses and agrees with messages --json', async () => {
    const st = await runCli(['stats', '--json', f('calls.pcap')]);
    assert.equal(st.code, 0, st.stderr);
    const rep = JSON.parse(st.stdout) as Record<string, unknown>;
    const msgs = ndjson((await runCli(['messages', '--json', f('calls.pcap')])).stdout);
    assert.equal(rep['format'], 'pcap');
    assert.equal(rep['compressed'], false);
    assert.equal(rep['bytes'], calls.file.length);
    assert.equal(rep['frames'], ENTRIES.length);
    assert.deepEqual(rep['link_types'], { '1': ENTRIES.length });
    assert.equal(rep['sip_messages'], msgs.length);
    assert.equal(rep['sip_bytes'], msgs.reduce((n, m) => n + (m['bytes'] as number), 0));
    assert.deepEqual(sorted(rep['methods'] as Record<string, number>), sorted(countBy(msgs, 'method')));
    assert.deepEqual(sorted(rep['statuses'] as Record<string, number>), sorted(countBy(msgs, 'status')));
    assert.deepEqual(rep['transports'], { UDP: msgs.length });
    assert.deepEqual(rep['skipped'], { 'not-sip': 1, 'keep-alive': 1 });
    const problems: Record<string, number> = {};
    for (const m of msgs) for (const p of (m['malformed'] as string[] | undefined) ?? []) problems[p] = (problems[p] ?? 0) + 1;
    assert.deepEqual(sorted(rep['malformed'] as Record<string, number>), sorted(problems));
    assert.deepEqual(sorted(rep['malformed'] as Record<string, number>), { 'body-truncated': 1, 'missing-call-id': 1, 'missing-from': 1, 'missing-to': 1 });
    assert.deepEqual(rep['capture_warnings'], []);
    assert.deepEqual(sorted(rep['methods'] as Record<string, number>), { ACK: 1, BYE: 1, INVITE: 1, OPTIONS: 1, REGISTER: 1 });
    assert.deepEqual(rep['statuses'], { '200': 3, '100': 1, '180': 1 });
  });

  test('shared captures: stats --json agrees with messages --json (and with MANIFEST.tsv)', async (t) => {
    const manifestPath = join(SHARED, 'MANIFEST.tsv');
    if (!existsSync(manifestPath)) return t.skip(`${SHARED} absent`);
    const rows = readFileSync(manifestPath, 'utf8').trim().split('\n').map((l) => l.split('\t'));
    const header = rows.shift()!;
    const col = (name: string): number => header.indexOf(name);
    const manifest = new Map(rows.map((r) => [r[col('path')]!, { packets: Number(r[col('packets')]), sip: Number(r[col('sip_messages')]) }]));
    const picks = [
      'goffinet__sip_captures/SIP-SDP-Example.pcap',
      'goffinet__sip_captures/private-test-sip-2.pcapng',
      'goffinet__sip_captures/sip-register-publish-subscribe-489-401.pcapng',
      'goffinet__sip_captures/sip.pcapng',
    ].filter((p) => existsSync(join(SHARED, p)));
    if (!picks.length) return t.skip('none of the chosen shared captures is present');
    await Promise.all(
      picks.map(async (p) => {
        const file = join(SHARED, p);
        const [st, ms] = await Promise.all([runCli(['stats', '--json', file]), runCli(['messages', '--json', file])]);
        assert.equal(st.code, 0, `${p}: ${st.stderr}`);
        assert.equal(ms.code, 0, `${p}: ${ms.stderr}`);
        const rep = JSON.parse(st.stdout) as { frames: number; sip_messages: number; methods: Record<string, number>; statuses: Record<string, number> };
        const msgs = ndjson(ms.stdout);
        assert.equal(rep.sip_messages, msgs.length, p);
        assert.deepEqual(sorted(rep.methods), sorted(countBy(msgs, 'method')), p);
        assert.deepEqual(sorted(rep.statuses), sorted(countBy(msgs, 'status')), p);
        for (const m of msgs) assert.match(m['time'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, p);
        const row = manifest.get(p);
        if (row) {
          assert.equal(rep.frames, row.packets, `${p}: frames vs MANIFEST.tsv`);
          assert.equal(rep.sip_messages, row.sip, `${p}: SIP messages vs MANIFEST.tsv`);
        }
      }),
    );
  });
});

describe('capture: unusable options fail fast with one line', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown interface', ['capture', '-i', 'sipscope-nodev0'], /^sipscope: no such capture interface: sipscope-nodev0 \(see: sipscope interfaces\)\n$/],
    ['bad filter', ['capture', '-i', 'lo', '-f', 'udp port'], /^sipscope: bad capture filter "udp port": /],
    // The capture is already open when the pcap file turns out to be unwritable: it must be
    // closed, or the process reports the error and then never exits.
    ['unwritable -w file', ['capture', '-i', 'lo', '-f', 'udp port 9', '-w', '/nonexistent-dir/x.pcap'], /^sipscope: cannot write \/nonexistent-dir\/x\.pcap: /],
  ];
  for (const [name, args, want] of cases) {
    test(name, async (t) => {
      const r = await runCli(args, { timeoutMs: 10_000 });
      if (/needs libpcap|permission denied/.test(r.stderr)) return t.skip(`live capture unavailable: ${r.stderr.trim()}`);
      assert.equal(r.timedOut, false, 'sipscope exits by itself');
      assert.equal(r.code, 1, r.stderr);
      assert.ok(isOneLineError(r.stderr), `one line, no stack: ${JSON.stringify(r.stderr)}`);
      assert.match(r.stderr, want);
      assert.equal(r.stdout, '');
    });
  }
});
