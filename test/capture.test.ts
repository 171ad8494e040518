import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { SipscopeError } from '../src/capture/errors.js';
import { PcapWriter, pcapGlobalHeader, pcapRecordHeader } from '../src/capture/pcap-writer.js';
import { readCapture, type ReadOptions } from '../src/capture/reader.js';
import { RecordStream } from '../src/capture/record-stream.js';
import type { CaptureWarning, Frame } from '../src/capture/types.js';
import { SipExtractor } from '../src/sip/extractor.js';
import { udpFrame } from '../src/net/encode.js';
import { PcapngBuilder, stringOption, tsUnits } from './helpers/pcapng.js';
import {
  ETH_IPV4, ETH_IPV6, T0, ethernet, loopHeader, nullHeader, randomSplit, rng, sipInvite, sipOk, sllHeader, udpIp,
} from './helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'sipscope-capture-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/** A copy of a frame: `data` is only a view while the sink runs. */
type Got = Omit<Frame, 'data'> & { data: Buffer };

function copy(f: Frame): Got {
  return { ...f, data: Buffer.from(f.data) };
}

/** The SIP traffic used throughout: INVITE and 200 OK for a few calls, Ethernet/IPv4/UDP. */
function sipFrames(n = 3, prefix = 'cap'): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    out.push(udpFrame('192.0.2.10', '192.0.2.20', 5060, 5060, sipInvite(`${prefix}-${i}@test`), i * 2));
    out.push(udpFrame('192.0.2.20', '192.0.2.10', 5060, 5060, sipOk(`${prefix}-${i}@test`), i * 2 + 1));
  }
  return out;
}

interface Rec {
  tsSec: number;
  /** Microseconds, or nanoseconds in a nanosecond file. */
  frac: number;
  data: Buffer;
  origLen?: number;
}

/** Reverses the bytes of each field (sizes in order) of a little-endian header: its big-endian twin. */
function swapFields(le: Buffer, sizes: number[]): Buffer {
  const b = Buffer.from(le);
  let off = 0;
  for (const n of sizes) {
    b.subarray(off, off + n).reverse();
    off += n;
  }
  return b;
}

/**
 * A classic pcap built with the writer's own header functions; big-endian and nanosecond
 * variants are derived from them (magic rewritten, fields byte-swapped).
 */
function pcapBytes(linktypeField: number, recs: Rec[], o: { be?: boolean; nanos?: boolean; snaplen?: number } = {}): Buffer {
  const gh = pcapGlobalHeader(linktypeField, o.snaplen);
  if (o.nanos) gh.writeUInt32LE(0xa1b23c4d, 0);
  const parts = [o.be ? swapFields(gh, [4, 2, 2, 4, 4, 4, 4]) : gh];
  for (const r of recs) {
    const rh = pcapRecordHeader(r.tsSec, r.frac, r.data.length, r.origLen ?? r.data.length);
    parts.push(o.be ? swapFields(rh, [4, 4, 4, 4]) : rh, r.data);
  }
  return Buffer.concat(parts);
}

function recsOf(datas: Buffer[], nanos = false): Rec[] {
  return datas.map((data, i) => ({ tsSec: T0 + i, frac: nanos ? 123_456_789 + i : 654_321 + i, data }));
}

/** Byte offset of record `i` in a pcap made by pcapBytes. */
function recordOffset(recs: Rec[], i: number): number {
  let off = 24;
  for (let k = 0; k < i; k++) off += 16 + recs[k]!.data.length;
  return off;
}

interface Pushed {
  frames: Got[];
  warnings: CaptureWarning[];
  rs: RecordStream;
}

/** Feeds `bytes` to a RecordStream in the given pieces (one piece by default). */
function pushAll(bytes: Buffer, pieces: Buffer[] = [bytes]): Pushed {
  const frames: Got[] = [];
  const warnings: CaptureWarning[] = [];
  const rs = new RecordStream((f) => frames.push(copy(f)), (w) => warnings.push(w));
  for (const p of pieces) rs.push(p);
  rs.end();
  return { frames, warnings, rs };
}

function sipOf(frames: Array<Frame | Got>): { callIds: string[]; n: number } {
  const ids: string[] = [];
  const x = new SipExtractor((p) => ids.push(`${p.msg.isRequest ? p.msg.method : p.msg.status} ${p.msg.callId}`));
  for (const f of frames) x.frame(f);
  x.finish();
  return { callIds: ids, n: x.counters.sipMessages };
}

async function read(path: string, opts: ReadOptions = {}): Promise<{ frames: Got[]; warnings: CaptureWarning[]; summary: Awaited<ReturnType<typeof readCapture>> }> {
  const frames: Got[] = [];
  const warnings: CaptureWarning[] = [];
  const summary = await readCapture(path, (f) => frames.push(copy(f)), { ...opts, onWarning: (w) => warnings.push(w) });
  return { frames, warnings, summary };
}

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<SipscopeError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SipscopeError, `expected a SipscopeError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return e;
  }
  assert.fail(`expected ${code}`);
}

const EXPECTED_LABELS = ['INVITE cap-0@test', '200 cap-0@test', 'INVITE cap-1@test', '200 cap-1@test', 'INVITE cap-2@test', '200 cap-2@test'];

// ---------------------------------------------------------------------------------------------
// Classic pcap

test('classic pcap, little-endian microseconds: every record with its time, link type, length and offset', () => {
  const recs = recsOf(sipFrames());
  const { frames, warnings, rs } = pushAll(pcapBytes(1, recs));
  assert.equal(rs.format, 'pcap');
  assert.deepEqual(rs.linktypes, [1]);
  assert.deepEqual(warnings, []);
  assert.equal(frames.length, 6);
  frames.forEach((f, i) => {
    assert.equal(f.index, i + 1);
    assert.equal(f.tsSec, T0 + i);
    assert.equal(f.tsNsec, (654_321 + i) * 1000);
    assert.equal(f.linktype, 1);
    assert.equal(f.origLen, recs[i]!.data.length);
    assert.ok(f.data.equals(recs[i]!.data));
    assert.equal(f.offset, recordOffset(recs, i));
  });
  assert.deepEqual(sipOf(frames).callIds, EXPECTED_LABELS);
});

test('classic pcap, big-endian microseconds: same frames as little-endian', () => {
  const recs = recsOf(sipFrames());
  const le = pushAll(pcapBytes(1, recs)).frames;
  const be = pushAll(pcapBytes(1, recs, { be: true }));
  assert.deepEqual(be.warnings, []);
  assert.deepEqual(be.frames, le);
  assert.deepEqual(sipOf(be.frames).callIds, EXPECTED_LABELS);
});

test('nanosecond magic (0xa1b23c4d), both byte orders: tsNsec is the record fraction as is', () => {
  const recs = recsOf(sipFrames(1), true);
  for (const be of [false, true]) {
    const { frames, warnings } = pushAll(pcapBytes(1, recs, { be, nanos: true }));
    assert.deepEqual(warnings, []);
    assert.deepEqual(frames.map((f) => [f.tsSec, f.tsNsec]), [[T0, 123_456_789], [T0 + 1, 123_456_790]]);
  }
});

test('odd snaplen: cut records keep their original length and the records after them are intact', () => {
  const datas = sipFrames(2);
  const snaplen = 97;
  const recs: Rec[] = datas.map((d, i) => ({ tsSec: T0 + i, frac: 0, data: i === 1 ? d.subarray(0, snaplen) : d, origLen: d.length }));
  const { frames, warnings } = pushAll(pcapBytes(1, recs, { snaplen }));
  assert.deepEqual(warnings, []);
  assert.equal(frames.length, 4);
  assert.equal(frames[1]!.data.length, snaplen);
  assert.equal(frames[1]!.origLen, datas[1]!.length);
  // The cut 200 OK is not a whole message; the others are found.
  const labels = sipOf(frames).callIds;
  assert.ok(labels.includes('INVITE cap-0@test'));
  assert.ok(labels.includes('INVITE cap-1@test'));
  assert.ok(labels.includes('200 cap-1@test'));
});

test('FCS bits in the link-type field (pcap-savefile "FCS len" and P bit) do not change the link type', () => {
  // P bit (0x04000000) set and FCS length 2 (16-bit words: 4 bytes) in the top nibble.
  const field = 0x24000001;
  const recs = recsOf(sipFrames().map((d) => Buffer.concat([d, Buffer.from([0xde, 0xad, 0xbe, 0xef])])));
  for (const be of [false, true]) {
    const { frames, rs } = pushAll(pcapBytes(field, recs, { be }));
    assert.deepEqual(rs.linktypes, [1]);
    assert.ok(frames.every((f) => f.linktype === 1));
    assert.deepEqual(sipOf(frames).callIds, EXPECTED_LABELS, 'the trailing FCS is outside the IP datagram');
  }
  // FCS length without the P bit, as some writers leave it.
  assert.deepEqual(pushAll(pcapBytes(0x10000001, recs)).rs.linktypes, [1]);
});

test('pcap with other link types: NULL, LOOP and SLL frames are decoded', () => {
  const ip = udpIp('198.51.100.1', '198.51.100.2', 5060, 5060, sipInvite('lt@test'));
  for (const [lt, frame] of [
    [0, Buffer.concat([nullHeader(2, 'le'), ip])],
    [108, Buffer.concat([loopHeader(2), ip])],
    [113, Buffer.concat([sllHeader(ETH_IPV4), ip])],
  ] as Array<[number, Buffer]>) {
    const { frames, rs } = pushAll(pcapBytes(lt, recsOf([frame])));
    assert.deepEqual(rs.linktypes, [lt]);
    assert.deepEqual(sipOf(frames).callIds, ['INVITE lt@test'], `linktype ${lt}`);
  }
});

// ---------------------------------------------------------------------------------------------
// pcapng

test('pcapng: little-endian and big-endian sections in one file, interfaces numbered per section', () => {
  const [a, b, c, d] = sipFrames(2);
  const png = new PcapngBuilder('le')
    .shb({ options: [stringOption(4, 'sipscope tests')] })
    .idb(1, { options: [stringOption(2, 'eth0')] })
    .epb(0, tsUnits(T0, 1_000), a!)
    .epb(0, tsUnits(T0 + 1, 2_000), b!)
    .shb({ endian: 'be' })
    .idb(101) // raw IP: interface 0 of the second section
    .idb(1) // Ethernet: interface 1 of the second section
    .epb(1, tsUnits(T0 + 2, 3_000), c!)
    .epb(0, tsUnits(T0 + 3, 4_000), d!.subarray(14))
    .build();
  const { frames, warnings, rs } = pushAll(png);
  assert.equal(rs.format, 'pcapng');
  assert.deepEqual(warnings, []);
  assert.deepEqual(frames.map((f) => [f.index, f.linktype, f.tsSec, f.tsNsec]), [
    [1, 1, T0, 1_000],
    [2, 1, T0 + 1, 2_000],
    [3, 1, T0 + 2, 3_000],
    [4, 101, T0 + 3, 4_000],
  ]);
  assert.deepEqual(rs.linktypes.sort((x, y) => x - y), [1, 101]);
  assert.deepEqual(sipOf(frames).callIds, ['INVITE cap-0@test', '200 cap-0@test', 'INVITE cap-1@test', '200 cap-1@test']);
});

test('pcapng: interfaces with different link types, if_tsresol (10^-n and 2^-n) and if_tsoffset', () => {
  const ip = udpIp('198.51.100.1', '198.51.100.2', 5060, 5060, sipInvite('res@test'));
  const eth = ethernet(ETH_IPV4, ip);
  for (const endian of ['le', 'be'] as const) {
    const png = new PcapngBuilder(endian)
      .shb()
      .idb(1) // default: microseconds
      .idb(101, { tsresol: 9 }) // nanoseconds
      .idb(113, { tsresol: { pow2: 10 } }) // 1/1024 s
      .idb(0, { tsresol: 3, tsoffset: 1_000 }) // milliseconds, +1000 s
      .idb(229, { tsresol: 0, tsoffset: -3_600 }) // whole seconds, -1 hour
      .epb(0, tsUnits(T0, 123_456_000), eth)
      .epb(1, tsUnits(T0, 987_654_321, 9), ip)
      .epb(2, tsUnits(T0, 500_000_000, { pow2: 10 }), Buffer.concat([sllHeader(ETH_IPV4), ip]))
      .epb(3, tsUnits(T0 - 1_000, 250_000_000, 3), Buffer.concat([nullHeader(2, 'be'), ip]))
      .epb(4, tsUnits(T0 + 3_609, 0, 0), udpIp('2001:db8::1', '2001:db8::2', 5060, 5060, sipInvite('res6@test')))
      .build();
    const { frames, warnings } = pushAll(png);
    assert.deepEqual(warnings, [], endian);
    assert.deepEqual(frames.map((f) => [f.linktype, f.tsSec, f.tsNsec]), [
      [1, T0, 123_456_000],
      [101, T0, 987_654_321],
      [113, T0, 500_000_000],
      [0, T0, 250_000_000],
      [229, T0 + 9, 0],
    ], endian);
    assert.deepEqual(sipOf(frames).callIds, ['INVITE res@test', 'INVITE res@test', 'INVITE res@test', 'INVITE res@test', 'INVITE res6@test']);
  }
});

test('pcapng: Enhanced, Simple and obsolete Packet Blocks all deliver packets', () => {
  const [a, b, c] = sipFrames(2);
  const snaplen = 1500;
  const png = new PcapngBuilder()
    .shb()
    .idb(1, { snaplen })
    .epb(0, tsUnits(T0, 0), a!)
    .spb(b!)
    .pb(0, tsUnits(T0 + 2, 7_000), c!)
    .build();
  const { frames, warnings } = pushAll(png);
  assert.deepEqual(warnings, []);
  assert.equal(frames.length, 3);
  assert.ok(frames[1]!.data.equals(b!), 'SPB data without its padding');
  assert.deepEqual([frames[1]!.tsSec, frames[1]!.tsNsec], [0, 0], 'an SPB has no time stamp');
  assert.deepEqual([frames[2]!.tsSec, frames[2]!.tsNsec], [T0 + 2, 7_000]);
  assert.deepEqual(sipOf(frames).callIds, ['INVITE cap-0@test', '200 cap-0@test', 'INVITE cap-1@test']);
});

test('pcapng: a Simple Packet Block cut by the snaplen holds snaplen bytes, not its padding', () => {
  const [a] = sipFrames(1);
  const snaplen = 99; // not a multiple of 4: the block carries one byte of padding
  const png = new PcapngBuilder().shb().idb(1, { snaplen }).spb(a!.subarray(0, snaplen), a!.length).build();
  const { frames } = pushAll(png);
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.origLen, a!.length);
  assert.equal(frames[0]!.data.length, snaplen);
  assert.ok(frames[0]!.data.equals(a!.subarray(0, snaplen)));
});

test('pcapng: unknown, custom, name-resolution and statistics blocks are skipped', () => {
  const [a, b] = sipFrames(1);
  const png = new PcapngBuilder()
    .shb()
    .block(0x12345678, Buffer.from('an unknown block type'))
    .idb(1)
    .nrb([{ ip: Buffer.from([192, 0, 2, 10]), names: ['alice.example.com', 'a'] }, { ip: Buffer.alloc(16, 1), names: ['v6.example.com'] }])
    .custom(32473, Buffer.from('copyable custom data'))
    .epb(0, tsUnits(T0, 0), a!)
    .custom(32473, Buffer.from('do not copy'), false)
    .isb(0, tsUnits(T0 + 5, 0))
    .block(0x80000001, Buffer.alloc(40, 0xee)) // local-use block type
    .epb(0, tsUnits(T0, 1_000), b!)
    .build();
  const { frames, warnings } = pushAll(png);
  assert.deepEqual(warnings, []);
  assert.deepEqual(frames.map((f) => f.index), [1, 2]);
  assert.deepEqual(sipOf(frames).callIds, ['INVITE cap-0@test', '200 cap-0@test']);
});

test('pcapng: a packet naming an interface that was never described is skipped with a warning', () => {
  const [a, b] = sipFrames(1);
  const png = new PcapngBuilder().shb().idb(1).epb(3, tsUnits(T0, 0), a!).epb(0, tsUnits(T0, 0), b!).build();
  const { frames, warnings } = pushAll(png);
  assert.equal(frames.length, 1);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.code, 'unknown-interface');
  assert.match(warnings[0]!.message, /interface 3/);
});

// ---------------------------------------------------------------------------------------------
// Chunking

function mixedPcapng(): Buffer {
  const datas = sipFrames(4, 'ng');
  const ip = udpIp('2001:db8::1', '2001:db8::2', 5060, 5060, sipInvite('ng-v6@test'));
  return new PcapngBuilder('le')
    .shb()
    .idb(1, { tsresol: 9 })
    .idb(229, { tsresol: { pow2: 20 } })
    .epb(0, tsUnits(T0, 1), datas[0]!)
    .custom(1, Buffer.alloc(33, 7))
    .epb(1, tsUnits(T0, 2, { pow2: 20 }), ip)
    .spb(datas[1]!)
    .pb(1, tsUnits(T0 + 1, 0, { pow2: 20 }), ip)
    .shb({ endian: 'be' })
    .idb(1)
    .epb(0, tsUnits(T0 + 2, 0), datas[2]!)
    .nrb([{ ip: Buffer.from([1, 2, 3, 4]), names: ['x'] }])
    .epb(0, tsUnits(T0 + 3, 0), datas[3]!, datas[3]!.length, [stringOption(1, 'a comment'), { code: 2, value: Buffer.from([0, 0, 0, 1]) }])
    .build();
}

test('RecordStream: any chunking of a pcap or pcapng yields the same frames (300 seeded random splits)', () => {
  const inputs: Array<[string, Buffer]> = [
    ['pcap LE', pcapBytes(1, recsOf(sipFrames(5)))],
    ['pcap BE ns', pcapBytes(1, recsOf(sipFrames(5), true), { be: true, nanos: true })],
    ['pcapng', mixedPcapng()],
  ];
  for (const [name, bytes] of inputs) {
    const whole = pushAll(bytes);
    assert.ok(whole.frames.length >= 6, name);
    assert.deepEqual(whole.warnings, [], name);
    for (let seed = 1; seed <= 100; seed++) {
      const rnd = rng(seed);
      const maxPiece = [3, 17, 64, 500, 5000][seed % 5]!;
      const split = pushAll(bytes, randomSplit(bytes, rnd, maxPiece));
      assert.deepEqual(split.frames, whole.frames, `${name}, seed ${seed}`);
      assert.deepEqual(split.warnings, [], `${name}, seed ${seed}`);
    }
    // One byte at a time, the worst case.
    const bytewise = pushAll(bytes, [...bytes].map((x) => Buffer.from([x])));
    assert.deepEqual(bytewise.frames, whole.frames, `${name}, byte by byte`);
  }
});

test('RecordStream: a record larger than many chunks is completed across them', () => {
  const big = udpFrame('192.0.2.10', '192.0.2.20', 5060, 5060, sipInvite('big@test', { body: 'x'.repeat(60_000) }));
  const bytes = pcapBytes(1, recsOf([big, ...sipFrames(1)]));
  const pieces: Buffer[] = [];
  for (let off = 0; off < bytes.length; off += 1000) pieces.push(bytes.subarray(off, off + 1000));
  const { frames } = pushAll(bytes, pieces);
  assert.equal(frames.length, 3);
  assert.ok(frames[0]!.data.equals(big));
  assert.deepEqual(sipOf(frames).callIds, ['INVITE big@test', 'INVITE cap-0@test', '200 cap-0@test']);
});

// ---------------------------------------------------------------------------------------------
// Files, gzip and standard input

test('readCapture: a pcap file, then the same file gzip-compressed, give the same frames', async () => {
  const bytes = pcapBytes(1, recsOf(sipFrames()));
  const plain = await read(file('plain.pcap', bytes));
  assert.equal(plain.summary.format, 'pcap');
  assert.equal(plain.summary.compressed, false);
  assert.equal(plain.summary.bytes, bytes.length);
  assert.deepEqual(plain.summary.linktypes, [1]);
  const gz = await read(file('plain.pcap.gz', gzipSync(bytes)));
  assert.equal(gz.summary.compressed, true);
  assert.equal(gz.summary.bytes, bytes.length, 'bytes counts decompressed capture data');
  assert.deepEqual(gz.frames, plain.frames);
  assert.deepEqual(gz.warnings, []);
  assert.deepEqual(sipOf(gz.frames).callIds, EXPECTED_LABELS);
});

test('readCapture: gzip is recognised by content, whatever the file is called', async () => {
  const bytes = mixedPcapng();
  const r = await read(file('named-plainly.pcapng', gzipSync(bytes)));
  assert.equal(r.summary.compressed, true);
  assert.equal(r.summary.format, 'pcapng');
  assert.equal(r.frames.length, pushAll(bytes).frames.length);
});

test('readCapture "-": plain and gzip data from a stream (opts.stdin), in awkward chunks', async () => {
  const bytes = pcapBytes(1, recsOf(sipFrames()));
  const want = pushAll(bytes).frames;
  const gz = gzipSync(bytes);
  for (const [name, data] of [['plain', bytes], ['gzip', gz]] as const) {
    for (const seed of [1, 2, 3]) {
      const pieces = randomSplit(data, rng(seed), 300);
      const r = await read('-', { stdin: Readable.from(pieces) });
      assert.deepEqual(r.frames, want, `${name} seed ${seed}`);
      assert.equal(r.summary.compressed, name === 'gzip');
    }
  }
});

test('readCapture "-": gzip is still recognised when the first chunk holds a single byte', async () => {
  const bytes = pcapBytes(1, recsOf(sipFrames(1)));
  const gz = gzipSync(bytes);
  const r = await read('-', { stdin: Readable.from([gz.subarray(0, 1), gz.subarray(1, 5), gz.subarray(5)]) });
  assert.equal(r.summary.compressed, true);
  assert.equal(r.frames.length, 2);
});

test('readCapture: PcapWriter output reads back identically (ns precision rounded to µs)', async () => {
  const path = join(dir, 'written.pcap');
  const w = new PcapWriter(path, 1);
  const datas = sipFrames();
  datas.forEach((data, i) => w.write({ tsSec: T0 + i, tsNsec: 123_456_789, data }));
  await w.close();
  const r = await read(path);
  assert.equal(r.frames.length, datas.length);
  r.frames.forEach((f, i) => {
    assert.ok(f.data.equals(datas[i]!));
    assert.deepEqual([f.tsSec, f.tsNsec], [T0 + i, 123_456_000]);
  });
});

test('readCapture: onProgress reports consumed bytes up to the file size', async () => {
  const bytes = pcapBytes(1, recsOf(sipFrames()));
  const seen: Array<[number, number]> = [];
  await readCapture(file('progress.pcap', bytes), () => {}, { onProgress: (done, total) => seen.push([done, total]) });
  assert.ok(seen.length >= 1);
  assert.deepEqual(seen[seen.length - 1], [bytes.length, bytes.length]);
});

// ---------------------------------------------------------------------------------------------
// Damage

test('truncated pcap (cut mid-record): every complete packet is delivered and a warning names the byte offset', async () => {
  const recs = recsOf(sipFrames());
  const bytes = pcapBytes(1, recs);
  const cutAt = recordOffset(recs, 4);
  for (const cut of [cutAt + 16 + 30, cutAt + 7]) {
    // Cut inside the data of record 5, then inside its header.
    const r = await read(file(`cut-${cut}.pcap`, bytes.subarray(0, cut)));
    assert.equal(r.frames.length, 4);
    assert.deepEqual(sipOf(r.frames).callIds, EXPECTED_LABELS.slice(0, 4));
    assert.equal(r.warnings.length, 1);
    assert.equal(r.warnings[0]!.code, 'truncated-record');
    assert.equal(r.warnings[0]!.offset, cutAt);
    assert.match(r.warnings[0]!.message, new RegExp(`byte ${cutAt}\\b`));
  }
});

test('truncated pcapng (cut mid-block): complete blocks delivered, warning at the cut block', () => {
  const png = new PcapngBuilder().shb().idb(1);
  for (const d of sipFrames()) png.epb(0, tsUnits(T0, 0), d);
  const bytes = png.build();
  const last = png.offsets[png.offsets.length - 1]!;
  const { frames, warnings } = pushAll(bytes.subarray(0, last + 40));
  assert.equal(frames.length, 5);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.code, 'truncated-record');
  assert.equal(warnings[0]!.offset, last);
  assert.match(warnings[0]!.message, new RegExp(`byte ${last}\\b`));
});

test('truncated gzip: the packets decompressed before the cut are delivered, with a warning', async () => {
  const datas = sipFrames(40, 'gz');
  const bytes = pcapBytes(1, recsOf(datas));
  const gz = gzipSync(bytes);
  const r = await read(file('cut.pcap.gz', gz.subarray(0, Math.floor(gz.length * 0.6))));
  assert.ok(r.frames.length > 0 && r.frames.length < datas.length, `${r.frames.length} frames`);
  r.frames.forEach((f, i) => assert.ok(f.data.equals(datas[i]!)));
  assert.ok(r.warnings.some((w) => w.code === 'truncated-record' && /gzip/.test(w.message)), JSON.stringify(r.warnings));
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

test('truncated gzip: the same frames whatever the input chunks (stdin delivers them back to back)', async () => {
  const bytes = pcapBytes(1, recsOf(sipFrames(300, 'gzc')));
  const z = gzipSync(bytes).subarray(0, -60);
  const one = await read('-', { stdin: Readable.from([z]) });
  assert.ok(one.frames.length > 500, `${one.frames.length} frames`);
  assert.ok(one.warnings.some((w) => w.code === 'truncated-record'));
  const splits: Buffer[][] = [[z.subarray(0, 10), z.subarray(10)], [z.subarray(0, 600), z.subarray(600)], randomSplit(z, rng(5), 4000), randomSplit(z, rng(6), 100)];
  for (const pieces of splits) {
    const r = await withTimeout(read('-', { stdin: Readable.from(pieces) }), 10_000, `${pieces.length} chunks`);
    assert.equal(r.summary.bytes, one.summary.bytes, `${pieces.length} chunks`);
    assert.deepEqual(r.frames, one.frames, `${pieces.length} chunks`);
    assert.ok(r.warnings.some((w) => w.code === 'truncated-record' && /gzip/.test(w.message)));
  }
});

test('a damaged gzip capture (one byte changed): never a hang, and the frames before the damage are read', async () => {
  // Random bodies compress poorly: the gzip stream is well over zlib's 16 KiB write buffer.
  const rnd = rng(77);
  const noisy = Array.from({ length: 150 }, (_, i) => {
    const body = Buffer.from(Array.from({ length: 900 }, () => Math.floor(rnd() * 256))).toString('base64');
    return udpFrame('192.0.2.10', '192.0.2.20', 5060, 5060, sipInvite(`gzd-${i}@test`, { body }));
  });
  const recs = recsOf(noisy);
  const z = gzipSync(pcapBytes(1, recs));
  assert.ok(z.length > 100_000);
  for (let i = 0; i < 10; i++) {
    const bad = Buffer.from(z);
    const at = i === 9 ? z.length - 6 : 20 + Math.floor(rnd() * (bad.length - 20)); // the last: inside the CRC-32 trailer
    bad[at] = bad[at]! ^ (1 + Math.floor(rnd() * 255));
    // What the intact bytes before the damage decode to: every record wholly inside is owed.
    const intact = gunzipSync(z.subarray(0, at), { finishFlush: zlibConstants.Z_SYNC_FLUSH }).length;
    let owed = 0;
    while (owed < recs.length && recordOffset(recs, owed + 1) <= intact) owed++;
    for (const via of ['file', 'stdin', 'stdin-chunks'] as const) {
      const p = via === 'file' ? read(file(`damaged-${i}.pcap.gz`, bad)) : read('-', { stdin: Readable.from(via === 'stdin' ? [bad] : randomSplit(bad, rng(i), 3000)) });
      const what = `byte ${at} via ${via}`;
      const r = await withTimeout(p, 10_000, what);
      assert.ok(r.frames.length >= owed, `${what}: ${r.frames.length} frames, ${owed} owed`);
      for (let k = 0; k < owed; k++) assert.ok(r.frames[k]!.data.equals(noisy[k]!), `${what}: frame ${k + 1}`);
      assert.ok(r.warnings.some((w) => /gzip/.test(w.message)), `${what}: no gzip warning`);
    }
  }
});

test('a file that is not a capture: E_NOT_CAPTURE naming its first bytes', async () => {
  const e = await rejectsWith(read(file('notes.txt', Buffer.from('INVITE sip:bob@example.com SIP/2.0\r\n'))), 'E_NOT_CAPTURE', /not a pcap or pcapng capture/);
  assert.match(e.message, /49 4e 56 49/);
  await rejectsWith(read(file('tiny.bin', Buffer.from([1, 2, 3]))), 'E_NOT_CAPTURE', /too short/);
  await rejectsWith(read(file('text.gz', gzipSync(Buffer.from('hello, this is text not a capture')))), 'E_NOT_CAPTURE', /not a pcap/);
  await rejectsWith(read('-', { stdin: Readable.from([Buffer.from('GET / HTTP/1.1\r\n\r\n')]) }), 'E_NOT_CAPTURE', /not a pcap/);
});

test('an empty file or empty standard input: E_EMPTY', async () => {
  await rejectsWith(read(file('empty.pcap', Buffer.alloc(0))), 'E_EMPTY', /empty/);
  await rejectsWith(read('-', { stdin: Readable.from([]) }), 'E_EMPTY', /empty/);
});

test('a missing file or a directory: E_INPUT', async () => {
  await rejectsWith(read(join(dir, 'no-such-file.pcap')), 'E_INPUT', /no-such-file\.pcap: no such file/);
  const sub = join(dir, 'a-directory');
  mkdirSync(sub);
  await rejectsWith(read(sub), 'E_INPUT', /directory/);
});

test('a corrupt record header in the middle of a pcap: later packets recovered by resync, with warnings', async () => {
  const recs = recsOf(sipFrames(4));
  const bytes = pcapBytes(1, recs);
  const bad = recordOffset(recs, 3);
  bytes.writeUInt32LE(0x7fff0000, bad + 8); // caplen far beyond any record
  const whole = pushAll(bytes);
  assert.deepEqual(sipOf(whole.frames).callIds, ['INVITE cap-0@test', '200 cap-0@test', 'INVITE cap-1@test', 'INVITE cap-2@test', '200 cap-2@test', 'INVITE cap-3@test', '200 cap-3@test']);
  assert.deepEqual(whole.frames.map((f) => f.offset), recs.map((_, i) => recordOffset(recs, i)).filter((_, i) => i !== 3));
  assert.ok(whole.warnings.some((w) => w.code === 'bad-record-length' && w.offset === bad && new RegExp(`byte ${bad}\\b`).test(w.message)));
  assert.ok(whole.warnings.some((w) => /resynchronised at byte/.test(w.message) && w.offset === recordOffset(recs, 4)));
  assert.equal(whole.rs.skippedBytes, 16 + recs[3]!.data.length);
  // The same through readCapture, and for any chunking.
  const r = await read(file('corrupt.pcap', bytes));
  assert.deepEqual(r.frames, whole.frames);
  assert.equal(r.summary.skippedBytes, whole.rs.skippedBytes);
  for (let seed = 1; seed <= 60; seed++) {
    assert.deepEqual(pushAll(bytes, randomSplit(bytes, rng(seed), 200)).frames, whole.frames, `seed ${seed}`);
  }
});

test('a corrupt header on the very first pcap record: the records after it are still recovered', () => {
  const recs = recsOf(sipFrames(2));
  const bytes = pcapBytes(1, recs);
  bytes.writeUInt32LE(0xfffffff0, 24 + 8);
  const { frames, warnings } = pushAll(bytes);
  assert.deepEqual(sipOf(frames).callIds, ['200 cap-0@test', 'INVITE cap-1@test', '200 cap-1@test']);
  assert.ok(warnings.some((w) => w.code === 'bad-record-length'));
});

function corruptiblePcapng(): { bytes: Buffer; png: PcapngBuilder } {
  const png = new PcapngBuilder().shb().idb(1);
  for (const [i, d] of sipFrames(3).entries()) png.epb(0, tsUnits(T0 + i, 0), d);
  return { bytes: png.build(), png };
}

test('a corrupt pcapng block (impossible length): skipped, the blocks after it recovered', () => {
  const { bytes, png } = corruptiblePcapng();
  const bad = png.offsets[4]!; // the 3rd EPB (INVITE cap-1)
  bytes.writeUInt32LE(0x12345, bad + 4); // not a multiple of 4
  const whole = pushAll(bytes);
  assert.deepEqual(sipOf(whole.frames).callIds, ['INVITE cap-0@test', '200 cap-0@test', '200 cap-1@test', 'INVITE cap-2@test', '200 cap-2@test']);
  assert.ok(whole.warnings.some((w) => w.code === 'bad-record-length' && w.offset === bad));
  for (let seed = 1; seed <= 100; seed++) {
    const split = pushAll(bytes, randomSplit(bytes, rng(seed), [7, 50, 333][seed % 3]!));
    assert.deepEqual(split.frames, whole.frames, `seed ${seed}`);
  }
});

test('a corrupt pcapng block (plausible but wrong length): the blocks it would swallow are recovered', () => {
  for (const delta of [64, -64]) {
    const { bytes, png } = corruptiblePcapng();
    const bad = png.offsets[3]!; // the 2nd EPB (200 OK cap-0)
    const len = bytes.readUInt32LE(bad + 4);
    bytes.writeUInt32LE(len + delta, bad + 4);
    const whole = pushAll(bytes);
    assert.deepEqual(sipOf(whole.frames).callIds, ['INVITE cap-0@test', 'INVITE cap-1@test', '200 cap-1@test', 'INVITE cap-2@test', '200 cap-2@test'], `delta ${delta}`);
    assert.ok(whole.warnings.length > 0);
    for (let seed = 1; seed <= 50; seed++) {
      assert.deepEqual(pushAll(bytes, randomSplit(bytes, rng(seed), 100)).frames, whole.frames, `delta ${delta} seed ${seed}`);
    }
  }
});

test('a pcapng whose garbage spans several blocks resynchronises at the next real block', () => {
  const { bytes, png } = corruptiblePcapng();
  const from = png.offsets[3]!;
  const to = png.offsets[5]!;
  bytes.fill(0x41, from + 2, to - 3); // damage two whole blocks, unaligned
  const whole = pushAll(bytes);
  assert.deepEqual(sipOf(whole.frames).callIds, ['INVITE cap-0@test', '200 cap-1@test', 'INVITE cap-2@test', '200 cap-2@test']);
  assert.equal(whole.frames[1]!.offset, to);
  assert.ok(whole.rs.skippedBytes > 0);
});

test('IPv6 and IPv4 frames of one pcap decode side by side (Ethernet)', () => {
  const v6 = ethernet(ETH_IPV6, udpIp('2001:db8::a', '2001:db8::b', 5060, 5060, sipInvite('v6@test')));
  const { frames } = pushAll(pcapBytes(1, recsOf([v6, ...sipFrames(1)])));
  assert.deepEqual(sipOf(frames).callIds, ['INVITE v6@test', 'INVITE cap-0@test', '200 cap-0@test']);
});
