/**
 * The terminal UI's model, without a terminal: the call list is virtualised (200 000 calls cost
 * one screenful of formatting to show, scroll, sort and filter); messages are kept as offsets and
 * read again from the capture (or kept, when no single frame holds them) byte for byte; saving
 * writes the original frames; and the column table drives the CSV header.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCapture } from '../src/capture/index.js';
import { RECORD_COLUMNS, type CallRecord } from '../src/model/index.js';
import { SipExtractor } from '../src/sip/index.js';
import { COLUMN_BY_ID, CSV_COLUMNS, DEFAULT_COLUMNS, layoutColumns } from '../src/tui/columns.js';
import { diffLines } from '../src/tui/diff-screen.js';
import { ladderOf } from '../src/tui/ladder-data.js';
import { arrowLine, ladderGeometry } from '../src/tui/ladder-format.js';
import { ListFormatter } from '../src/tui/list-format.js';
import { savePcap } from '../src/tui/save.js';
import { FileSource } from '../src/tui/sources.js';
import { CallStore } from '../src/tui/store.js';
import { Theme } from '../src/tui/theme.js';
import { CallView, parsePattern } from '../src/tui/view.js';
import { repoRoot } from './helpers/cli.js';

const SEED = join(repoRoot, 'captures', 'seed-chapter.pcap');
const CORPUS = join(repoRoot, 'captures', 'corpus');

function record(i: number): CallRecord {
  const r = Object.fromEntries(RECORD_COLUMNS.map((c) => [c, null])) as CallRecord;
  r.call_id = `call-${i}@example.com`;
  r.kind = 'call';
  r.from_user = `user-${i % 5000}`;
  r.to_user = `dest-${(i * 7) % 3000}`;
  r.src = `10.0.${(i >> 8) & 255}.${i & 255}:5060`;
  r.dst = '10.1.0.1:5060';
  r.transport = 'UDP';
  r.start_time = new Date(Date.UTC(2024, 0, 1) + i * 37).toISOString();
  r.status = ['answered', 'busy', 'failed', 'cancelled'][i % 4]!;
  r.duration_s = (i % 600) / 10;
  r.messages = 6 + (i % 3);
  return r;
}

/** A store of `n` calls, every tenth with a second (B2BUA) leg. */
function bigStore(n: number): CallStore {
  const store = new CallStore();
  for (let i = 0; i < n; i++) {
    const records = [record(i)];
    if (i % 10 === 0) records.push({ ...record(i), call_id: `leg-${i}`, leg: 'b' });
    store.add({ records, methods: records.map(() => 'INVITE'), msgStart: 0, msgCount: 0, roles: [] });
  }
  return store;
}

describe('the call list is virtualised', () => {
  test('200 000 calls: showing, scrolling to the end, sorting and filtering format one screenful each', () => {
    const N = 200_000;
    const H = 38;
    const store = bigStore(N);
    const view = new CallView(store);
    assert.equal(view.sync(), true);
    assert.equal(view.order.length, N);
    assert.equal(view.lineCount, N + N / 10, 'legs are lines under their call');
    const fmt = new ListFormatter(new Theme(false, false));
    // What the call list screen does on each paint: measure the rows on screen, lay the columns
    // out, format those rows.
    const screen = (): string[] => {
      view.scrollInto(H);
      fmt.measure(view, DEFAULT_COLUMNS, H);
      return fmt.lines(view, layoutColumns(DEFAULT_COLUMNS, 117, fmt.seen), H, 120);
    };

    let lines = screen();
    assert.equal(lines.length, H);
    assert.equal(fmt.formatted, H, 'the first screen formats only its own rows');
    assert.match(lines[0]!, /^\{inverse\} .\s+1 00:00:00\.000 INVITE/);

    view.moveTo(view.lineCount - 1);
    lines = screen();
    assert.equal(fmt.formatted, 2 * H, 'scrolling to the end: one more screenful');
    assert.match(lines[H - 1]!, /200000 /);

    view.setSort(COLUMN_BY_ID.get('from_user')!, true);
    view.moveTo(0);
    lines = screen();
    assert.equal(fmt.formatted, 3 * H, 'sorting formats nothing but the new screen');
    assert.match(lines[0]!, /user-999\b/, 'descending by From');

    view.setFilter({ pattern: parsePattern('user-1234'), text: 'user-1234' });
    assert.equal(view.order.length, N / 5000, 'one call in 5000 is from user-1234');
    assert.ok(view.order.every((s) => store.groups[s]!.head.get('from_user') === 'user-1234'));
    lines = screen();
    assert.ok(fmt.formatted <= 4 * H, 'filtering: at most one more screenful');
    assert.equal(view.payloadReads, 0, 'the rows alone decided the filter (no message read)');

    view.setFilter({ states: new Set(['busy']) });
    assert.equal(view.order.length, N / 4);
    screen();
    assert.ok(fmt.formatted <= 5 * H, `${fmt.formatted} rows formatted in all, for five screens`);
  });

  test('calls added while sorted are merged in, the cursor stays on its row', () => {
    const store = bigStore(1000);
    const view = new CallView(store);
    view.sync();
    view.setSort(COLUMN_BY_ID.get('to_user')!, false);
    view.moveTo(500);
    const before = view.current;
    for (let i = 1000; i < 1100; i++) store.add({ records: [record(i)], methods: ['INVITE'], msgStart: 0, msgCount: 0, roles: [] });
    assert.equal(view.sync(), true);
    view.relayout();
    assert.equal(view.current, before, 'the same row under the cursor');
    const keys = view.order.map((s) => String(store.groups[s]!.head.get('to_user')));
    assert.deepEqual(keys, [...keys].sort(), 'still in order');
  });

  test('columns fit the terminal: shrink, then leave out the least important', () => {
    const at = (w: number): string[] => layoutColumns(DEFAULT_COLUMNS, w).map((p) => p.column.id);
    assert.deepEqual(at(200), [...DEFAULT_COLUMNS]);
    assert.deepEqual(at(117), [...DEFAULT_COLUMNS], 'every column at 120 columns');
    const narrow = at(77);
    for (const id of ['index', 'start_time', 'from_user', 'to_user', 'status', 'auth_result']) assert.ok(narrow.includes(id), `${id} at 80 columns`);
    assert.ok(!narrow.includes('src'), 'addresses go first');
    for (const w of [40, 77, 117, 200]) {
      const placed = layoutColumns(DEFAULT_COLUMNS, w);
      assert.ok(placed.reduce((n, p) => n + p.width + 1, -1) <= w, `fits in ${w}`);
    }
  });

  test('one column table: the CSV header of a save is RECORD_COLUMNS, in order', () => {
    assert.deepEqual(CSV_COLUMNS, RECORD_COLUMNS);
  });

  test('filter patterns: text is literal and case-insensitive, /…/ is a multi-line regex', () => {
    assert.ok(parsePattern('Alice').test('From: alice'));
    assert.ok(parsePattern('a.b').test('xa.by'));
    assert.ok(!parsePattern('a.b').test('axb'));
    const re = parsePattern('/^CSeq: \\d+ REGISTER$/');
    assert.ok(re.test('Via: x\r\nCSeq: 2 REGISTER\r\nTo: y'.replace(/\r/g, '')));
    assert.throws(() => parsePattern('/(/'));
  });

  test('diff: equal lines face each other, a changed run faces its replacement', () => {
    const rows = diffLines(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'd', 'e']);
    assert.deepEqual(rows, [
      { left: 'a', right: 'a', same: true },
      { left: 'b', right: 'x', same: false },
      { left: 'c', right: 'c', same: true },
      { left: 'd', right: 'd', same: true },
      { left: undefined, right: 'e', same: false },
    ]);
  });
});

/** Every SIP message of a capture as the pipeline produces it: raw bytes, hex, sorted. */
async function pipelineMessages(file: string): Promise<string[]> {
  const out: string[] = [];
  const ex = new SipExtractor((p) => {
    if (p.msg.callId !== undefined) out.push(p.msg.raw.toString('hex'));
  });
  await readCapture(file, (f) => ex.frame(f));
  ex.finish();
  return out.sort();
}

async function load(file: string): Promise<CallStore> {
  const store = new CallStore();
  const src = new FileSource(file, store, {});
  await src.run();
  assert.ok(src.done);
  return store;
}

function storeMessages(store: CallStore): string[] {
  const out: string[] = [];
  for (let i = 0; i < store.messages.length; i++) out.push(store.raw(i)!.toString('hex'));
  return out.sort();
}

describe('messages are offsets into the capture, read again when shown', () => {
  test('seed capture: every message re-read from its frame, byte for byte; none kept in memory', async () => {
    const store = await load(SEED);
    assert.equal(store.messages.length, 26);
    assert.equal(store.messages.kept.size, 0, 'every message is in one UDP frame');
    assert.deepEqual(storeMessages(store), await pipelineMessages(SEED));
    assert.ok(store.file!.bytesRead > 0);
    store.file!.close();
  });

  test('gzip input cannot be re-read: messages are kept, and are the same bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sipscope-tui-'));
    try {
      const gz = join(dir, 'seed.pcap.gz');
      writeFileSync(gz, gzipSync(readFileSync(SEED)));
      const store = await load(gz);
      assert.equal(store.file, undefined);
      assert.equal(store.messages.kept.size, 26);
      assert.deepEqual(storeMessages(store), await pipelineMessages(SEED));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const corpus: Array<[string, string]> = [
    ['SIP over TCP, messages split across segments', 'sipcapture__heplify/sip_ipv4_tcp_fragmented.pcap'],
    ['IPv6 fragments, Linux cooked capture', 'irontec__sngrep/ipv6frag.pcap'],
    ['SIP over TCP', 'OISF__suricata-verify/sip-tcp.pcap'],
    ['SCTP', 'sipcapture__heplify/sip_sctp.pcap'],
    ['pcapng', 'ntop__nDPI/sip_hello.pcapng'],
  ];
  for (const [what, rel] of corpus) {
    test(`${what}: single-frame messages re-read, the others kept; all byte for byte`, async (t) => {
      const file = join(CORPUS, rel);
      if (!existsSync(file)) return t.skip(`${rel} is not in captures/corpus`);
      const store = await load(file);
      assert.deepEqual(storeMessages(store), await pipelineMessages(file));
      t.diagnostic(`${store.messages.length} messages, ${store.messages.kept.size} kept in memory`);
      if (/fragmented|ipv6frag/.test(rel)) assert.ok(store.messages.kept.size > 0, 'some messages spanned several frames');
      store.file?.close();
    });
  }
});

describe('saving', () => {
  test('pcap of a multi-segment TCP capture: original frames, reassembled messages rebuilt; it reads back as the same messages', async (t) => {
    const file = join(CORPUS, 'sipcapture__heplify', 'sip_ipv4_tcp_fragmented.pcap');
    if (!existsSync(file)) return t.skip('the corpus capture is missing');
    const dir = mkdtempSync(join(tmpdir(), 'sipscope-tui-'));
    try {
      const store = await load(file);
      const out = join(dir, 'out.pcap');
      const r = await savePcap(store, store.groups, out);
      assert.ok(r.encoded > 0 && r.frames > r.encoded);
      const original = await pipelineMessages(file);
      assert.deepEqual(await pipelineMessages(out), original, 'the saved file holds exactly the same SIP messages');
      store.file?.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ladder layout', () => {
  test('the seed call: B2BUA between its legs; arrows point the right way', async () => {
    const store = await load(SEED);
    const call = store.groups.find((g) => g.rows.length === 2)!;
    const l = ladderOf(store, [call]);
    assert.deepEqual(l.lifelines.map((x) => x.role), ['bob', 'B2BUA', 'alice']);
    assert.equal(l.arrows.length, 18);
    const g = ladderGeometry(l, 120);
    assert.match(arrowLine(l, l.arrows[0]!, g).text, /\|-+ INVITE \(SDP\) -+>\|/);
    assert.match(arrowLine(l, l.arrows[1]!, g).text, /\|<-+ 100 Trying -+\|/);
    // Several calls selected: one ladder, lifelines in order of appearance, arrows by time.
    const both = ladderOf(store, [store.groups[0]!, call]);
    assert.equal(both.arrows.length, 4 + 18);
    assert.deepEqual(both.lifelines.map((x) => x.address), ['192.168.4.4:5090', '192.168.4.4:5060', '192.168.4.4:26000']);
    assert.ok(both.arrows.every((a, i) => i === 0 || a.time >= both.arrows[i - 1]!.time));
    const narrow = ladderGeometry(l, 60);
    assert.ok(narrow.gutter + narrow.diagram > 60, 'too wide for 60 columns: it scrolls sideways');
    store.file?.close();
  });
});
