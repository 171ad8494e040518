import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../src/capture/reader.js';
import { pcapGlobalHeader, pcapRecordHeader } from '../src/capture/pcap-writer.js';
import { udpFrame } from '../src/net/encode.js';
import { SipExtractor, SipMessage, computeHa1, computeResponse, type SipPacket } from '../src/sip/index.js';
import { Analyzer, Secrets, groupRecords, causeFromSipStatus, causeName, q850FromReason, type AuthCheck, type CallRecord, type SessionGroup } from '../src/model/index.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SEED = fileURLToPath(new URL('../captures/seed-chapter.pcap', import.meta.url));
const A_LEG = 'YWEwYjNlZTZjOWZjNDg3ZjU3MjQ3MTA1ZmQ1MDM5YmQ.';
const B_LEG = '0d74ac35-cca4-122d-81a2-2990e5b2bd3e';

async function packetsOf(file: string): Promise<SipPacket[]> {
  const out: SipPacket[] = [];
  const ex = new SipExtractor((p) => out.push(p));
  await readCapture(file, (f) => ex.frame(f));
  ex.finish();
  return out;
}

function analyze(packets: SipPacket[], secrets?: Secrets): { records: CallRecord[]; groups: SessionGroup[]; auth: AuthCheck[] } {
  const groups: SessionGroup[] = [];
  const auth: AuthCheck[] = [];
  const a = new Analyzer((g) => groups.push(g), { secrets, onAuth: (c) => auth.push(c) });
  for (const p of packets) a.packet(p);
  a.finish();
  return { records: groups.flatMap(groupRecords), groups, auth };
}

/** Writes packets (possibly rewritten) as a new pcap, keeping their times and addresses. */
function writeCapture(items: Array<{ p: SipPacket; raw: Buffer; shift?: number }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sipscope-model-'));
  const parts = [pcapGlobalHeader(1)];
  const sorted = items.map((x) => ({ ...x, t: x.p.meta.tsSec + x.p.meta.tsNsec / 1e9 + (x.shift ?? 0) })).sort((a, b) => a.t - b.t);
  for (const { p, raw, t } of sorted) {
    const frame = udpFrame(p.meta.src, p.meta.dst, p.meta.sport, p.meta.dport, raw);
    const sec = Math.floor(t);
    parts.push(pcapRecordHeader(sec, Math.round((t - sec) * 1e6), frame.length, frame.length), frame);
  }
  const file = join(dir, 'test.pcap');
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

test('seed chapter: the story the chapter tells, told from its capture', async () => {
  const { records } = analyze(await packetsOf(SEED), Secrets.fromPassword('1234'));
  const regs = records.filter((r) => r.kind === 'registration');
  assert.equal(regs.length, 2);
  const ok = regs.find((r) => r.status === 'registered')!;
  assert.deepEqual([ok.from_user, ok.final_code, ok.auth_user, ok.auth_result, ok.expires], ['alice', 200, 'alice', 'valid', 3600]);
  const failed = regs.find((r) => r.status === 'failed')!;
  assert.deepEqual([failed.final_code, failed.auth_result], [403, 'invalid']);
  assert.match(String(failed.auth_reason), /wrong password/);

  const calls = records.filter((r) => r.kind === 'call');
  assert.equal(calls.length, 2);
  const a = calls.find((r) => r.call_id === A_LEG)!;
  const b = calls.find((r) => r.call_id === B_LEG)!;
  assert.deepEqual([a.leg, a.related_call_ids, b.leg, b.related_call_ids], ['a', B_LEG, 'b', A_LEG]);
  assert.ok(Number(a.leg_confidence) >= 0.9, `confidence ${a.leg_confidence}`);
  assert.match(String(b.leg_evidence), /received the a-leg INVITE/);
  assert.match(String(b.leg_evidence), /caller "bob"/);
  assert.match(String(b.leg_evidence), /BYE on the b-leg propagated to the a-leg/);
  for (const r of [a, b]) assert.deepEqual([r.status, r.final_code, r.hangup_by], ['answered', 200, 'callee']);
  // bob's call: challenged with 407 first, then valid with 1234.
  assert.deepEqual([a.from_user, a.from_display, a.to_user, a.auth_user, a.auth_result], ['bob', 'Bob', 'alice', 'bob', 'valid']);
  // The B2BUA's BYE to bob carries Reason: Q.850;cause=16.
  assert.deepEqual([a.hangup_cause, a.q850_cause], ['NORMAL_CLEARING', 16]);
  // alice hung up: the b-leg BYE comes from her (the b-leg's callee) without a Reason header.
  assert.deepEqual([b.hangup_cause, b.user_agent, b.callee_user_agent], ['NORMAL_CLEARING', 'FreeSWITCH-mod_sofia/1.0.trunk-16981M', 'Zoiper rev.5415']);
  assert.equal(a.start_time, '2010-04-27T13:31:39.939Z');
  assert.equal(a.ring_time, '2010-04-27T13:31:40.271Z'); // the 183 relayed to bob
  assert.equal(a.answer_time, '2010-04-27T13:31:43.293Z');
  assert.equal(a.end_time, '2010-04-27T13:31:50.003Z');
  assert.equal(a.pdd_ms, 332);
  assert.equal(a.billsec, 6);
  assert.equal(a.codecs, 'PCMU,telephone-event');
  assert.equal(a.messages, 11);
  assert.equal(b.messages, 7);
});

test('seed chapter: every credential is tied to its challenge; the ACK repeats the INVITE credentials', async () => {
  const { auth } = analyze(await packetsOf(SEED), Secrets.fromPassword('1234'));
  assert.deepEqual(auth.map((c) => [c.packet.msg.method, c.credentials.username, c.result, c.copy, c.challenge?.status]), [
    ['REGISTER', 'alice', 'valid', false, 401],
    ['REGISTER', 'alice', 'invalid', false, 401],
    ['INVITE', 'bob', 'valid', false, 407],
    ['ACK', 'bob', 'valid', true, 407],
  ]);
  const wrong = analyze(await packetsOf(SEED), Secrets.fromPassword('12345')).auth;
  assert.ok(wrong.every((c) => c.result === 'invalid' && c.findings.includes('wrong-password')));
  const none = analyze(await packetsOf(SEED)).auth;
  assert.ok(none.every((c) => c.result === 'unverified' && c.findings.length === 0));
});

test('two unrelated simultaneous calls through the same B2BUA are not linked to each other', async () => {
  const seed = await packetsOf(SEED);
  const calls = seed.filter((p) => p.msg.callId === A_LEG || p.msg.callId === B_LEG);
  const items: Array<{ p: SipPacket; raw: Buffer; shift?: number }> = calls.map((p) => ({ p, raw: p.msg.raw }));
  // A second call, carol → dave, through the same server and overlapping in time: same shape,
  // other users, other Call-IDs and tags.
  const rename = (raw: Buffer): Buffer => {
    let s = raw.toString('latin1');
    for (const [x, y] of [['bob', 'carol'], ['Bob', 'Carol'], ['alice', 'dave'], [A_LEG.slice(0, 20), 'Q2Fyb2wtY2FsbC1pZC0x'], [B_LEG.slice(0, 8), 'ca11ca11'], ['15c8325a', '25c8325a'], ['Dp9ZQS3SB26pg', 'Ep9ZQS3SB26pg'], ['3813e926', '4813e926'], ['cDg7NyjpeSg4m', 'dDg7NyjpeSg4m']]) s = s.split(x!).join(y!);
    return Buffer.from(s, 'latin1');
  };
  for (const p of calls) items.push({ p, raw: rename(p.msg.raw), shift: 0.03 });
  const file = writeCapture(items);
  const { records } = analyze(await packetsOf(file));
  const callsOut = records.filter((r) => r.kind === 'call');
  assert.equal(callsOut.length, 4);
  const byId = new Map(callsOut.map((r) => [r.call_id, r]));
  assert.equal(byId.get(A_LEG)!.related_call_ids, B_LEG);
  assert.equal(byId.get(B_LEG)!.related_call_ids, A_LEG);
  const carol = callsOut.filter((r) => r.from_user === 'carol');
  assert.equal(carol.length, 2);
  for (const r of carol) {
    assert.ok(r.related_call_ids, `carol's leg ${r.call_id} should be linked`);
    assert.ok(!String(r.related_call_ids).includes(A_LEG) && !String(r.related_call_ids).includes(B_LEG), `carol's leg linked to bob's call: ${r.related_call_ids}`);
  }
});

test('a correlation header links legs even when nothing else matches', async () => {
  const seed = await packetsOf(SEED);
  const items = seed.filter((p) => p.msg.callId === A_LEG || p.msg.callId === B_LEG).map((p) => {
    let raw = p.msg.raw;
    if (p.msg.callId === B_LEG && p.msg.method === 'INVITE') {
      // Strip identity so only the header can link, and add X-CID naming the a-leg.
      let s = raw.toString('latin1').replace(/bob|Bob/g, 'zed').replace(/alice/g, 'yan').replace('Remote-Party-ID', 'X-Nothing');
      s = s.replace('\r\nContent-Type:', `\r\nX-CID: ${A_LEG}\r\nContent-Type:`);
      raw = Buffer.from(s, 'latin1');
    }
    return { p, raw };
  });
  const { records } = analyze(await packetsOf(writeCapture(items)));
  const b = records.find((r) => r.call_id === B_LEG)!;
  assert.equal(b.related_call_ids, A_LEG);
  assert.match(String(b.leg_evidence), /X-CID/);
});

test('retransmissions are recognised, counted, and never start a transaction or a call', async () => {
  const seed = await packetsOf(SEED);
  const items: Array<{ p: SipPacket; raw: Buffer; shift?: number }> = seed.map((p) => ({ p, raw: p.msg.raw }));
  // Retransmit bob's second INVITE twice (500 ms, 1.5 s later: timer A) and the b-leg 200 once.
  const invite = seed.find((p) => p.msg.callId === A_LEG && p.msg.method === 'INVITE' && p.msg.cseq?.seq === 2)!;
  const ok = seed.find((p) => p.msg.callId === B_LEG && p.msg.status === 200 && p.msg.cseq?.method === 'INVITE')!;
  items.push({ p: invite, raw: invite.msg.raw, shift: 0.0005 }, { p: invite, raw: invite.msg.raw, shift: 0.0015 }, { p: ok, raw: ok.msg.raw, shift: 0.002 });
  const { records } = analyze(await packetsOf(writeCapture(items)));
  const a = records.find((r) => r.call_id === A_LEG)!;
  const b = records.find((r) => r.call_id === B_LEG)!;
  assert.equal(records.filter((r) => r.kind === 'call').length, 2);
  assert.deepEqual([a.retransmissions, a.messages], [2, 13]);
  assert.deepEqual([b.retransmissions, b.messages], [1, 8]);
  assert.equal(a.status, 'answered');
});

test('digest: RFC 7616 §3.9.1 test vectors for MD5 and SHA-256', () => {
  const base = { nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', nc: '00000001', qop: 'auth', method: 'GET', uri: '/dir/index.html' };
  assert.equal(computeResponse({ ...base, algorithm: 'MD5', ha1: computeHa1('MD5', 'Mufasa', 'http-auth@example.org', 'Circle of Life') }), '8ca523f5e9506fed4657c9700eebdbec');
  assert.equal(computeResponse({ ...base, algorithm: 'SHA-256', ha1: computeHa1('SHA-256', 'Mufasa', 'http-auth@example.org', 'Circle of Life') }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

/** A challenged REGISTER flow built from parts, to exercise each reason a credential fails. */
function registerFlow(opts: { user?: string; pw?: string; realm?: string; alg?: string; qop?: string; uriInCreds?: string; nonce?: string; challengeAlg?: string; replay?: boolean; body?: string }): SipPacket[] {
  const realm = 'example.test';
  const nonce = 'n0nce-1';
  const alg = (opts.alg ?? 'MD5') as 'MD5';
  const qop = opts.qop ?? 'auth';
  const user = opts.user ?? 'alice';
  const ruri = 'sip:example.test';
  const uri = opts.uriInCreds ?? ruri;
  const body = opts.body ?? '';
  const ha1 = computeHa1(alg, user, opts.realm ?? realm, opts.pw ?? 'secret');
  const resp = computeResponse({ algorithm: alg, ha1, nonce: opts.nonce ?? nonce, cnonce: 'c1', nc: '00000001', qop: qop || undefined, method: 'REGISTER', uri, body: Buffer.from(body) });
  const mk = (raw: string, t: number, fromClient: boolean): SipPacket => ({
    msg: SipMessage.parse(Buffer.from(raw.replace(/\n/g, '\r\n')))!,
    meta: { tsSec: 1000 + Math.floor(t), tsNsec: Math.round((t % 1) * 1e9), frame: 1, offset: 0, src: fromClient ? '10.0.0.1' : '10.0.0.2', dst: fromClient ? '10.0.0.2' : '10.0.0.1', sport: 5060, dport: 5060, family: 4 },
    transport: 'UDP',
  });
  const head = (cseq: number, branch: string): string => `REGISTER ${ruri} SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK${branch}\nFrom: <sip:${user}@example.test>;tag=f1\nTo: <sip:${user}@example.test>\nCall-ID: reg-1\nCSeq: ${cseq} REGISTER\nContact: <sip:${user}@10.0.0.1>\n`;
  const creds = `Authorization: Digest username="${user}", realm="${opts.realm ?? realm}", nonce="${opts.nonce ?? nonce}", uri="${uri}", response="${resp}", algorithm=${opts.alg ?? 'MD5'}${qop ? `, qop=${qop}, nc=00000001, cnonce="c1"` : ''}\n`;
  const packets = [
    mk(`${head(1, 'a')}Content-Length: 0\n\n`, 0, true),
    mk(`SIP/2.0 401 Unauthorized\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\nFrom: <sip:${user}@example.test>;tag=f1\nTo: <sip:${user}@example.test>;tag=t1\nCall-ID: reg-1\nCSeq: 1 REGISTER\nWWW-Authenticate: Digest realm="${realm}", nonce="${nonce}", algorithm=${opts.challengeAlg ?? 'MD5'}, qop="auth,auth-int"\nContent-Length: 0\n\n`, 0.01, false),
    mk(`${head(2, 'b')}${creds}Content-Length: ${Buffer.byteLength(body)}\n\n${body}`, 0.02, true),
  ];
  if (opts.replay) packets.push(mk(`${head(3, 'c')}${creds}Content-Length: ${Buffer.byteLength(body)}\n\n${body}`, 0.05, true));
  return packets;
}

function verdict(packets: SipPacket[], secrets?: Secrets): AuthCheck[] {
  return analyze(packets, secrets).auth;
}

test('digest: says why a credential fails, one reason at a time', () => {
  const pw = Secrets.fromPassword('secret');
  const ok = verdict(registerFlow({}), pw);
  assert.deepEqual([ok[0]!.result, ok[0]!.findings], ['valid', []]);
  const cases: Array<[string, Parameters<typeof registerFlow>[0], Secrets | undefined]> = [
    ['wrong-password', { pw: 'guess' }, pw],
    ['nonce-not-issued', { nonce: 'forged' }, pw],
    ['uri-mismatch', { uriInCreds: 'sip:other.test' }, pw],
    ['realm-mismatch', { realm: 'elsewhere' }, pw],
    ['algorithm-mismatch', { alg: 'SHA-256' }, Secrets.fromPassword('secret')],
  ];
  for (const [reason, flow, secrets] of cases) {
    const checks = verdict(registerFlow(flow), secrets);
    assert.ok(checks[0]!.findings.includes(reason as never), `${reason}: got ${checks[0]!.findings.join(',')} (${checks[0]!.explanation.join('; ')})`);
    if (reason !== 'nonce-not-issued') assert.equal(checks[0]!.result, 'invalid', reason);
  }
  const replay = verdict(registerFlow({ replay: true }), pw);
  assert.deepEqual(replay.map((c) => c.findings.includes('nc-reused')), [false, true]);
  const users = new Secrets();
  users.addCsv('username,password\nbob,x\n');
  assert.ok(verdict(registerFlow({}), users)[0]!.findings.includes('unknown-user'));
  const ha1 = new Secrets();
  ha1.addCsv(`alice,example.test,${computeHa1('MD5', 'alice', 'example.test', 'secret')}\n`);
  assert.equal(verdict(registerFlow({}), ha1)[0]!.result, 'valid');
  // Without passwords the consistency checks still run, and say so.
  const unverified = verdict(registerFlow({ uriInCreds: 'sip:other.test' }));
  assert.deepEqual([unverified[0]!.result, unverified[0]!.findings], ['unverified', ['uri-mismatch']]);
});

test('digest: qop=auth-int hashes the body; no-qop (RFC 2069) digests verify too', () => {
  const pw = Secrets.fromPassword('secret');
  assert.equal(verdict(registerFlow({ qop: 'auth-int', body: 'hello body' }), pw)[0]!.result, 'valid');
  assert.equal(verdict(registerFlow({ qop: '' }), pw)[0]!.result, 'valid');
});

test('hangup causes: Reason: Q.850 parsed; SIP codes mapped as FreeSWITCH maps them', () => {
  assert.equal(q850FromReason(['Q.850;cause=16;text="NORMAL_CLEARING"']), 16);
  assert.equal(q850FromReason(['SIP;cause=200;text="Call completed elsewhere", Q.850;cause=26']), 26);
  assert.equal(q850FromReason(['SIP;cause=600']), undefined);
  const expect: Array<[number, string]> = [[486, 'USER_BUSY'], [600, 'USER_BUSY'], [404, 'UNALLOCATED_NUMBER'], [480, 'NO_USER_RESPONSE'], [408, 'RECOVERY_ON_TIMER_EXPIRE'], [403, 'CALL_REJECTED'], [603, 'CALL_REJECTED'], [503, 'NORMAL_TEMPORARY_FAILURE'], [488, 'INCOMPATIBLE_DESTINATION'], [487, 'ORIGINATOR_CANCEL'], [484, 'INVALID_NUMBER_FORMAT'], [502, 'NETWORK_OUT_OF_ORDER']];
  for (const [code, name] of expect) assert.equal(causeName(causeFromSipStatus(code)), name, String(code));
});

test('a Call-ID heard again after its story was told starts a new one (the analyzer\'s look-up cache forgets released calls)', async () => {
  const once = await packetsOf(SEED);
  const later = once.map((p) => ({ ...p, meta: { ...p.meta, tsSec: p.meta.tsSec + 7200 } }));
  const first = analyze(once).records;
  const twice = analyze([...once, ...later]).records;
  assert.equal(twice.length, 2 * first.length);
  const strip = (r: CallRecord): unknown => ({ ...r, start_time: null, ring_time: null, answer_time: null, end_time: null });
  assert.deepEqual(twice.slice(first.length).map(strip), first.map(strip));
  assert.deepEqual(twice.slice(0, first.length), first);
});

test('Tombstones keep every Call-ID at least until its time is up, and drop old generations whole', async () => {
  const { Tombstones } = await import('../src/model/tombstones.js');
  const span = 32;
  const t = new Tombstones(span);
  const due = new Map<string, number>();
  for (let now = 0; now < 1000; now += 0.5) {
    t.advance(now);
    const id = `c${now}`;
    t.set(id, now + span);
    due.set(id, now + span);
    for (const [k, until] of due) {
      if (until >= now) assert.equal(t.until(k), until, `${k} is still due at ${now}`);
      else if (until < now - 2 * span - 1) assert.equal(t.until(k), undefined, `${k} is long gone at ${now}`);
    }
  }
  t.set('again', 10);
  t.set('again', 2000);
  assert.equal(t.until('again'), 2000, 'the newer time wins');
});
