/**
 * The fast paths of the call records: isoMillis against Date#toISOString, the From/To user
 * shortcut against parseUri, and RecordCsvWriter (batched, arrays) against csv-stringify's
 * object-mode stream, the way the writer used to call it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'csv-stringify';
import { readCapture } from '../src/capture/reader.js';
import { RecordCsvWriter } from '../src/export/index.js';
import { FIELD_SEPARATOR, ROW_SEPARATOR, rowsOfText } from '../src/export/csv-text.js';
import { Analyzer, groupRecords, isoMillis, RECORD_COLUMNS, type CallRecord, type RecordColumn } from '../src/model/index.js';
import { parseUri, SipExtractor, uriUser } from '../src/sip/index.js';
import { rng } from './helpers/frames.js';

const SEED = fileURLToPath(new URL('../captures/seed-chapter.pcap', import.meta.url));

/** The formatter as it was: one Date per call. */
function isoMillisReference(t: number | undefined): string | null {
  if (t === undefined) return null;
  const d = new Date(Math.round(t * 1000));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

const MAX_MS = 8.64e15;

function checkTimes(times: Array<number | undefined>): void {
  for (const t of times) assert.equal(isoMillis(t), isoMillisReference(t), `t = ${t}`);
}

test('isoMillis: edge times as Date#toISOString writes them', () => {
  const at = (iso: string): number => Date.parse(iso) / 1000;
  const edges = [
    '1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '1999-12-31T23:59:59.999Z', '2000-01-01T00:00:00.000Z',
    '2000-02-28T23:59:59.999Z', '2000-02-29T12:00:00.000Z', '2000-03-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z',
    '2100-02-28T23:59:59.999Z', '2100-03-01T00:00:00.000Z', '1900-02-28T23:59:59.999Z', '1900-03-01T00:00:00.000Z',
    '2026-12-31T23:59:59.999Z', '2027-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '-000001-12-31T23:59:59.999Z',
    '9999-12-31T23:59:59.999Z', '+010000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z',
  ];
  const times: Array<number | undefined> = [];
  for (const iso of edges) {
    const t = at(iso);
    assert.equal(isoMillis(t), iso);
    times.push(t, t + 0.0004, t + 0.0005, t + 0.0006, t - 0.0004, t - 0.0005, t - 0.0006, t + 0.9995, t - 0.9995, t + 1, t - 1, t + 86_400, t - 86_400);
  }
  // Rounding around zero and below: Math.round goes up at .5, also for negative times.
  times.push(0, -0, 0.0005, -0.0005, -0.0004, -0.0006, -0.001, -0.0015, -0.9995, -1.0005, -86_400.0005, 1e-9, -1e-9);
  // Out of Date's range, and not numbers at all.
  times.push(MAX_MS / 1000, -MAX_MS / 1000, MAX_MS / 1000 + 0.001, -MAX_MS / 1000 - 0.001, 1e300, -1e300, NaN, Infinity, -Infinity, undefined);
  checkTimes(times);
  assert.equal(isoMillis(MAX_MS / 1000 + 0.001), null);
  assert.equal(isoMillis(NaN), null);
  assert.equal(isoMillis(undefined), null);
});

test('isoMillis: random times, in order and shuffled (the caches must not leak between seconds or days)', () => {
  const rnd = rng(20261124);
  const times: number[] = [];
  for (let i = 0; i < 20_000; i++) times.push((rnd() * 2 - 1) * (MAX_MS / 1000)); // anywhere in Date's range
  for (let i = 0; i < 20_000; i++) times.push(1.7e9 + rnd() * 4 * 86_400); // a capture's few days
  let t = 1_798_761_599; // 2026-12-31T23:59:59Z: a run across a day and a year boundary
  for (let i = 0; i < 5_000; i++) times.push((t += rnd() * 0.01));
  for (let i = 0; i < 5_000; i++) times.push(Math.round(rnd() * 1e6) / 1000 - 500); // whole ms around 1970, both signs
  checkTimes(times);
  checkTimes(times.slice().sort((a, b) => a - b));
  checkTimes(times.slice().reverse());
});

test('uriUser reads the user part as parseUri does', () => {
  const uris = [
    'sip:alice@atlanta.com', 'SIP:Alice@Atlanta.com:5060', 'sips:bob@[2001:db8::1]:5061;transport=tls', 'sip:@host', 'sip:host',
    'sip:alice;day=tuesday@atlanta.com', 'sip:alice:secret@atlanta.com', 'sip:%61lice@atlanta.com', 'sip:al%ZZice@atlanta.com',
    'sip:alice@atlanta.com?subject=project', 'sip:a@b@c', ' sip:alice@atlanta.com ', 'sip:alice @atlanta.com', 'tel:+1-212-555-0101',
    'tel:+358-555-1234567;postd=pp22', 'mailto:alice@atlanta.com', 'urn:service:sos', 'alice@atlanta.com', '', '*', 'sip:+15551234@gw;user=phone',
    'sip:ünïcode@host', 'sip:alice@atlanta.com;lr?x=1',
  ];
  for (const u of uris) assert.equal(uriUser(u), parseUri(u)?.user, JSON.stringify(u));
});

/** What RecordCsvWriter wrote before batching: csv-stringify's stream over the record objects. */
async function objectModeCsv(records: CallRecord[], columns: readonly RecordColumn[]): Promise<string> {
  const csv = stringify({ header: true, columns: [...columns], cast: { number: (n) => String(n) } });
  const chunks: string[] = [];
  csv.on('data', (c: Buffer) => chunks.push(c.toString()));
  const done = new Promise<void>((resolve) => csv.once('end', () => resolve()));
  for (const r of records) csv.write(r);
  csv.end();
  await done;
  return chunks.join('');
}

function blank(): CallRecord {
  return Object.fromEntries(RECORD_COLUMNS.map((c) => [c, null])) as CallRecord;
}

/** Records with every kind of awkward value, in every column. */
function awkwardRecords(n: number): CallRecord[] {
  const values: Array<string | number | null> = [
    null, '', 'plain', 'a,b', 'say "hi"', '"', 'line\nbreak', 'cr\ronly', 'crlf\r\nend', ' lead and trail ', ',', '""', 'ünïcode ☎',
    '=1+2', '-3', '@home', 0, -0, 1, -1, 0.005, 1.5e-7, 1e21, 123456789, Number.MAX_SAFE_INTEGER, NaN, 'tab\there', ';', 'x;y',
  ];
  const out: CallRecord[] = [];
  for (let i = 0; i < n; i++) {
    const r = blank();
    RECORD_COLUMNS.forEach((c, k) => {
      r[c] = values[(i * 7 + k * 3) % values.length]!;
    });
    out.push(r);
  }
  return out;
}

async function writerCsv(records: CallRecord[], columns?: readonly RecordColumn[], pauseEvery = 0, thread = false): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'sipscope-csv-')), 'out.csv');
  // The writer thread loads its module from dist/ (built by `npm test`): a worker does not run
  // TypeScript sources.
  const Writer = thread ? (await import('../dist/export/index.js')).RecordCsvWriter as typeof RecordCsvWriter : RecordCsvWriter;
  const csv = await Writer.open(file, columns, { thread });
  let n = 0;
  for (const r of records) {
    csv.write(r);
    if (pauseEvery && ++n % pauseEvery === 0) {
      if (n % (2 * pauseEvery) === 0) await csv.drained();
      else await new Promise((resolve) => setImmediate(resolve)); // the writer's own end-of-turn flush
    }
  }
  await csv.close();
  assert.equal(csv.count, records.length);
  return readFileSync(file, 'utf8');
}

test('RecordCsvWriter writes the bytes of csv-stringify over record objects', async () => {
  const records = awkwardRecords(1_000); // several batches
  assert.equal(await writerCsv(records), await objectModeCsv(records, RECORD_COLUMNS));
  assert.equal(await writerCsv(records, RECORD_COLUMNS, 37), await objectModeCsv(records, RECORD_COLUMNS));
  assert.equal(await writerCsv(records.slice(0, 3)), await objectModeCsv(records.slice(0, 3), RECORD_COLUMNS));
});

test('RecordCsvWriter in its writer thread: the same bytes, NaN, Infinity, -0 and every awkward string included', async () => {
  const records = awkwardRecords(1_000);
  assert.ok(records.some((r) => Object.values(r).some((v) => typeof v === 'number' && !Number.isFinite(v))), 'some records hold NaN');
  const finite = records.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? 7 : v])) as CallRecord);
  assert.equal(await writerCsv(records, RECORD_COLUMNS, 0, true), await objectModeCsv(records, RECORD_COLUMNS));
  assert.equal(await writerCsv(finite, RECORD_COLUMNS, 37, true), await objectModeCsv(finite, RECORD_COLUMNS));
  assert.equal(await writerCsv([], RECORD_COLUMNS, 0, true), await objectModeCsv([], RECORD_COLUMNS));
});

test('rowsOfText: the rows joined for the writer thread come back as they went, and a misshapen batch is refused', () => {
  const rows = [['a', '', 'c'], ['', '', ''], ['x,y', '"q"', 'line\nbreak']];
  const text = rows.map((r) => r.join(FIELD_SEPARATOR)).join(ROW_SEPARATOR);
  assert.deepEqual(rowsOfText(text, 3, 3), rows);
  assert.deepEqual(rowsOfText('', 0, 3), []);
  assert.deepEqual(rowsOfText('', 1, 1), [['']]);
  assert.equal(rowsOfText(text, 2, 3), undefined, 'row count differs');
  assert.equal(rowsOfText(text, 3, 4), undefined, 'field count differs');
  assert.equal(rowsOfText(`a${FIELD_SEPARATOR}b${FIELD_SEPARATOR}c${FIELD_SEPARATOR}`, 1, 3), undefined, 'a value held a separator');
});

test('RecordCsvWriter: no records is the header line alone', async () => {
  const header = await objectModeCsv([], RECORD_COLUMNS);
  assert.equal(header, `${RECORD_COLUMNS.join(',')}\n`);
  assert.equal(await writerCsv([]), header);
});

test('RecordCsvWriter: a subset of columns, and records whose keys are in another order', async () => {
  const columns: RecordColumn[] = ['start_time', 'call_id', 'status', 'codecs', 'duration_s', 'leg_evidence'];
  const records = awkwardRecords(300);
  assert.equal(await writerCsv(records, columns), await objectModeCsv(records, columns));
  const reordered = records.map((r) => Object.fromEntries(RECORD_COLUMNS.slice().reverse().map((c) => [c, r[c]])) as CallRecord);
  assert.equal(await writerCsv(reordered), await objectModeCsv(records, RECORD_COLUMNS));
});

async function seedRecords(keepMessages: boolean): Promise<CallRecord[]> {
  const records: CallRecord[] = [];
  const analyzer = new Analyzer((g) => records.push(...groupRecords(g)), { keepMessages });
  const ex = new SipExtractor((p) => analyzer.packet(p));
  await readCapture(SEED, (f) => ex.frame(f));
  ex.finish();
  analyzer.finish();
  return records;
}

test('records of a capture, as buildRecord makes them, through the writer', async () => {
  const records = await seedRecords(false);
  assert.ok(records.length > 0);
  // `export csv` keeps no message lists: the records must not depend on them.
  assert.deepEqual(records, await seedRecords(true));
  // The writer's fast path (Object.values) needs the keys in column order.
  for (const r of records) assert.deepEqual(Object.keys(r), [...RECORD_COLUMNS]);
  assert.equal(await writerCsv(records), await objectModeCsv(records, RECORD_COLUMNS));
});
