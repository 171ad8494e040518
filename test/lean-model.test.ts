/**
 * The lean model that `export csv` and `calls` run: no message lists, responses noted as they
 * arrive instead of kept, and messages read in place in the capture's buffers (borrowed) with
 * only the few the model keeps copied (SipMessage#own). Its records must be those of the full
 * model, on every capture we have, even when each borrowed buffer is overwritten as soon as the
 * model has seen it (as a reused buffer would be). Also the CSV writer thread of `export csv`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCapture } from '../src/capture/index.js';
import { Analyzer, groupRecords, Secrets, type CallRecord } from '../src/model/index.js';
import { sdpCodecs, sdpCodecsText, SipExtractor, SipMessage } from '../src/sip/index.js';
import { corpus, localCaptureDir } from './helpers/corpus.js';
import { runCli } from './helpers/cli.js';
import { rng } from './helpers/frames.js';

const SEED = path.join(localCaptureDir, 'seed-chapter.pcap');
const SIPP = path.join(localCaptureDir, 'sipp');

function captures(): string[] {
  const files = corpus().files.map((f) => f.abs);
  if (existsSync(SIPP)) for (const f of readdirSync(SIPP).sort()) if (f.endsWith('.pcap')) files.push(path.join(SIPP, f));
  return [SEED, ...files];
}

async function records(file: string, lean: boolean, secrets?: Secrets): Promise<CallRecord[]> {
  const out: CallRecord[] = [];
  const analyzer = new Analyzer((g) => out.push(...groupRecords(g)), { keepMessages: !lean, secrets });
  const extractor = new SipExtractor((p) => {
    const borrowed = p.msg.raw;
    analyzer.packet(p);
    // What the model did not own() must not be read again: wreck it.
    if (lean) borrowed.fill(0x58);
  }, undefined, !lean);
  try {
    await readCapture(file, (f) => extractor.frame(f), {});
  } catch {
    // Captures that end in an error still yield what came before; both runs see the same.
  }
  extractor.finish();
  analyzer.finish();
  return out;
}

test('lean model: the records of the full model on every capture, with borrowed buffers wrecked after use', async () => {
  let calls = 0;
  let files = 0;
  for (const file of captures()) {
    const secrets = file === SEED ? Secrets.fromPassword('1234') : undefined;
    const full = await records(file, false, secrets);
    const lean = await records(file, true, secrets);
    assert.deepEqual(lean, full, path.relative(localCaptureDir, file));
    calls += full.filter((r) => r.kind === 'call').length;
    files++;
  }
  assert.ok(files >= 10, `${files} captures compared`);
  assert.ok(calls >= 20, `${calls} call records compared`);
});

test('SipMessage#own copies borrowed bytes once, and leaves owned ones alone', () => {
  const text = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nContent-Length: 0\r\n\r\n';
  const frame = Buffer.from(`junk${text}`);
  const m = SipMessage.parse(frame.subarray(4), false, true)!;
  m.own();
  const copy = m.raw;
  assert.equal(copy.toString(), text);
  frame.fill(0x58);
  assert.equal(m.get('call-id'), 'x', 'reads its own copy');
  m.own();
  assert.equal(m.raw, copy, 'a second own() copies nothing');
  const owned = Buffer.from(text);
  const n = SipMessage.parse(owned)!;
  n.own();
  assert.equal(n.raw, owned, 'bytes not borrowed are not copied');
});

test('hot headers: the first of each, full or compact form, as a scan of the table finds it', () => {
  const heads = [
    'v: SIP/2.0/UDP one;branch=z9hG4bKa', 'Via: SIP/2.0/UDP two;branch=z9hG4bKb', 'i: cid-compact', 'CALL-ID: cid-full', 'f: <sip:f@x>;tag=ft',
    'From: <sip:g@x>;tag=gt', 't: <sip:t@x>', 'TO: <sip:u@x>;tag=ut', 'cseq: 7 INVITE', 'CSeq: 8 INVITE', 'c: application/sdp', 'Content-Type: text/plain',
    'l: 0', 'Content-Length: 5', 'Subject: s', 'X-Call-ID: not-this', 'Authorization: Digest username="a"', 'authorization: Digest username="b"',
    'Proxy-Authorization: Digest username="c"', 'PROXY-AUTHORIZATION: Digest username="d"', 'Proxy-Authenticate: Digest realm="r"',
  ];
  for (let shift = 0; shift < heads.length; shift++) {
    const order = [...heads.slice(shift), ...heads.slice(0, shift)];
    const m = SipMessage.parse(Buffer.from(`INVITE sip:a@b SIP/2.0\r\n${order.join('\r\n')}\r\n\r\n`))!;
    const all = m.headers();
    for (const name of ['Via', 'Call-ID', 'From', 'To', 'CSeq', 'Content-Type', 'Content-Length', 'Authorization', 'Proxy-Authorization']) {
      const first = all.find(([n]) => n === name)?.[1];
      assert.equal(m.get(name), first, `${name}, order starting at ${order[0]}`);
      assert.deepEqual(m.getAll(name), all.filter(([n]) => n === name).map(([, v]) => v), `all ${name}`);
    }
  }
  const none = SipMessage.parse(Buffer.from('SIP/2.0 200 OK\r\nSubject: s\r\n\r\n'))!;
  for (const name of ['via', 'call-id', 'from', 'to', 'cseq', 'content-type', 'content-length', 'authorization', 'proxy-authorization']) assert.equal(none.get(name), undefined, name);
});

test('export csv: the writer thread writes what the main thread writes to standard output', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sipscope-csv-thread-'));
  const files = [SEED, ...captures().filter((f) => f.includes(`${path.sep}sipp${path.sep}`)).slice(0, 3)];
  for (const file of files) {
    const out = path.join(dir, `${path.basename(file)}.csv`);
    const toFile = await runCli(['export', 'csv', file, '-o', out], { timeoutMs: 30_000 });
    assert.equal(toFile.code, 0, toFile.stderr);
    const toStdout = await runCli(['export', 'csv', file, '-o', '-'], { timeoutMs: 30_000 });
    assert.equal(toStdout.code, 0, toStdout.stderr);
    const written = readFileSync(out, 'utf8');
    assert.equal(written, toStdout.stdout, path.basename(file));
    assert.ok(written.split('\n').length > 2, 'records were written');
  }
});

test('export csv: input that fails ends the run with its error; the writer thread does not keep the process alive', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sipscope-csv-fail-'));
  const notCapture = path.join(dir, 'not-a-capture.pcap');
  writeFileSync(notCapture, 'garbage, not a capture\n');
  for (const [input, why] of [[notCapture, /not a pcap or pcapng capture/], [path.join(dir, 'missing.pcap'), /no such file/]] as const) {
    const r = await runCli(['export', 'csv', input, '-o', path.join(dir, 'out.csv')], { timeoutMs: 15_000 });
    assert.equal(r.timedOut, false, `${path.basename(input)}: the process ended`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, why);
  }
});

test('export csv: a write that fails in the writer thread is a clear error and a failed exit', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async () => {
  const r = await runCli(['export', 'csv', SEED, '-o', '/dev/full'], { timeoutMs: 30_000 });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /cannot write \/dev\/full: .*(ENOSPC|space)/i);
});

/** sdpCodecs as it was written before it stopped splitting the whole body into lines: the oracle. */
function sdpCodecsReference(body: Buffer): string[][] {
  const STATIC: Record<number, string> = { 0: 'PCMU', 3: 'GSM', 4: 'G723', 8: 'PCMA', 9: 'G722', 10: 'L16', 13: 'CN', 15: 'G728', 18: 'G729', 34: 'H263' };
  const text = body.toString('latin1');
  const streams: string[][] = [];
  let pts: string[] = [];
  let names = new Map<string, string>();
  let active = false;
  const close = (): void => {
    if (active) streams.push(pts.map((pt) => names.get(pt) ?? STATIC[Number(pt)] ?? pt));
  };
  for (const line of text.split(/\r?\n/)) {
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

test('sdpCodecs and sdpCodecsText read m= and a=rtpmap lines as a split into lines does, on captured and mangled SDP', async () => {
  const bodies: Buffer[] = [];
  for (const file of captures()) {
    const extractor = new SipExtractor((p) => {
      if (p.msg.hasSdp && bodies.length < 400) bodies.push(Buffer.from(p.msg.body));
    });
    try {
      await readCapture(file, (f) => extractor.frame(f), {});
    } catch {
      // what came before the damage is enough
    }
  }
  assert.ok(bodies.length >= 50, `${bodies.length} SDP bodies`);
  const rnd = rng(2611);
  const pieces = ['\r\n', '\n', '\r', '\r\r\n', 'm=audio 0 RTP/AVP 0 8\r\n', 'm=audio 4000 RTP/AVP 0 8 101\n', 'm=video 5000 RTP/AVP 96',
    'a=rtpmap:101 telephone-event/8000\r\n', 'a=rtpmap:96 H264/90000', 'a=rtpmap:8  PCMA', 'a=rtpmap:x bad', '\xa0', ' ', 'm=', 'a=', 'm=audio\t6000\tRTP/AVP\t18'];
  const cases: Buffer[] = [...bodies];
  for (let i = 0; i < 4000; i++) {
    let t = bodies[Math.floor(rnd() * bodies.length)]!.toString('latin1');
    for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
      const at = Math.floor(rnd() * (t.length + 1));
      const cut = rnd() < 0.3 ? Math.floor(rnd() * 8) : 0;
      t = t.slice(0, at) + pieces[Math.floor(rnd() * pieces.length)]! + t.slice(at + cut);
    }
    cases.push(Buffer.from(t, 'latin1'));
  }
  let fast = 0;
  for (const b of cases) {
    const expected = sdpCodecsReference(b);
    assert.deepEqual(sdpCodecs(b), expected, JSON.stringify(b.toString('latin1')));
    // The byte reader answers what the rule answers, or leaves the body to it (undefined).
    const text = sdpCodecsText(b);
    if (text === undefined) continue;
    fast++;
    assert.equal(text, expected.length ? expected.map((c) => c.join(',')).join(' ') : null, JSON.stringify(b.toString('latin1')));
  }
  assert.ok(fast > cases.length / 2, `the byte reader answered ${fast} of ${cases.length}`);
});
