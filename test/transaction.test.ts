import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipMessage, DEFAULT_TIMERS, buildResponse } from '../src/sip/index.js';
import { TransactionLayer, ServerInviteState, ClientInviteState, ClientNonInviteState, type ClientUser } from '../src/transaction/index.js';
import { FakeClock } from './helpers/fake-clock.js';

const T = DEFAULT_TIMERS;

function req(method: string, branch = 'z9hG4bKtest1', extra = ''): SipMessage {
  const raw = `${method} sip:bob@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=${branch}\r\nFrom: <sip:alice@example.test>;tag=a1\r\nTo: <sip:bob@example.test>${extra}\r\nCall-ID: tx-1\r\nCSeq: 1 ${method === 'ACK' ? 'ACK' : method}\r\nContent-Length: 0\r\n\r\n`;
  return SipMessage.parse(Buffer.from(raw))!;
}

function resp(r: SipMessage, status: number, toTag = 'b1'): SipMessage {
  return SipMessage.parse(buildResponse(r, status, { toTag }))!;
}

function setup(): { clock: FakeClock; layer: TransactionLayer; sent: Array<{ at: number; bytes: Buffer }>; send: (b: Buffer) => void } {
  const clock = new FakeClock();
  const layer = new TransactionLayer({ timers: T, clock });
  const sent: Array<{ at: number; bytes: Buffer }> = [];
  return { clock, layer, sent, send: (b) => sent.push({ at: clock.now(), bytes: b }) };
}

test('§17.1.1.2: an INVITE client transaction over UDP MUST retransmit at T1, 2·T1, 4·T1… (timer A) and give up at 64·T1 (timer B)', () => {
  const { clock, layer, sent, send } = setup();
  const invite = req('INVITE');
  let timedOut = false;
  const tu: ClientUser = { response: () => {}, timeout: () => (timedOut = true) };
  layer.sendRequest(invite.raw, invite, send, false, tu);
  clock.advance(64 * T.T1 + 1);
  assert.deepEqual(sent.map((s) => s.at), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.ok(timedOut);
  assert.equal(layer.size.clients, 0);
});

test('§17.1.1.2: over a reliable transport the INVITE is not retransmitted', () => {
  const { clock, layer, sent, send } = setup();
  const invite = req('INVITE');
  layer.sendRequest(invite.raw, invite, send, true, { response: () => {}, timeout: () => {} });
  clock.advance(40000);
  assert.equal(sent.length, 1);
});

test('§17.1.1.3: the client transaction MUST ACK a 3xx–6xx final itself and absorb its retransmissions for timer D (32 s)', () => {
  const { clock, layer, sent, send } = setup();
  const invite = req('INVITE');
  const got: number[] = [];
  layer.sendRequest(invite.raw, invite, send, false, { response: (m) => got.push(m.status), timeout: () => {} }, () => Buffer.from('ACK'));
  const busy = resp(invite, 486);
  assert.ok(layer.response(busy));
  assert.deepEqual(got, [486]);
  assert.equal(sent[sent.length - 1]!.bytes.toString(), 'ACK');
  clock.advance(1000);
  assert.ok(layer.response(busy)); // retransmitted 486: ACKed again, not passed up
  assert.deepEqual(got, [486]);
  assert.equal(sent.filter((s) => s.bytes.toString() === 'ACK').length, 2);
  clock.advance(32000);
  assert.equal(layer.response(busy), false, 'terminated after timer D');
});

test('RFC 6026: a 2xx moves the INVITE client transaction to Accepted and every 2xx (forks, retransmissions) reaches the TU', () => {
  const { clock, layer, send } = setup();
  const invite = req('INVITE');
  const got: string[] = [];
  layer.sendRequest(invite.raw, invite, send, false, { response: (m) => got.push(`${m.status}/${m.toTag}`), timeout: () => {} });
  layer.response(resp(invite, 180, 'x'));
  layer.response(resp(invite, 200, 'x'));
  layer.response(resp(invite, 200, 'y'));
  layer.response(resp(invite, 200, 'x'));
  assert.deepEqual(got, ['180/x', '200/x', '200/y', '200/x']);
  clock.advance(64 * T.T1 + 1);
  assert.equal(layer.size.clients, 0);
  assert.equal(ClientInviteState.Terminated, 'Terminated');
});

test('§17.1.2.2: a non-INVITE client transaction retransmits with timer E capped at T2, at T2 once Proceeding, and times out at 64·T1 (timer F)', () => {
  const { clock, layer, sent, send } = setup();
  const reg = req('REGISTER');
  let timedOut = false;
  layer.sendRequest(reg.raw, reg, send, false, { response: () => {}, timeout: () => (timedOut = true) });
  clock.advance(7600);
  assert.deepEqual(sent.map((s) => s.at), [0, 500, 1500, 3500, 7500]);
  layer.response(resp(reg, 100));
  clock.advance(8000);
  // From Proceeding on, every T2 (4 s).
  assert.deepEqual(sent.map((s) => s.at).slice(5), [11500, 15500]);
  clock.advance(64 * T.T1);
  assert.ok(timedOut);
  assert.equal(ClientNonInviteState.Completed, 'Completed');
});

test('§17.2.2: a non-INVITE server transaction MUST resend its last response to a retransmitted request, and lingers for timer J', () => {
  const { clock, layer, sent, send } = setup();
  const reg = req('REGISTER');
  const inc = layer.request(reg, send, false)!;
  assert.ok(inc.tx);
  inc.tx.respond(200, Buffer.from('200'));
  assert.equal(layer.request(reg, send, false), undefined, 'retransmission absorbed');
  assert.deepEqual(sent.map((s) => s.bytes.toString()), ['200', '200']);
  clock.advance(64 * T.T1 + 1);
  assert.equal(layer.size.servers, 0);
  assert.ok(layer.request(reg, send, false), 'a new transaction after timer J');
});

test('§17.2.1: an INVITE server transaction MUST retransmit a 3xx–6xx final over UDP (timer G) until the ACK, then absorb ACKs for timer I', () => {
  const { clock, layer, sent, send } = setup();
  const invite = req('INVITE');
  const inc = layer.request(invite, send, false)!;
  const tx = inc.tx!;
  tx.respond(486, Buffer.from('486'));
  clock.advance(3600);
  assert.deepEqual(sent.map((s) => s.at), [0, 500, 1500, 3500]);
  const ack = req('ACK', 'z9hG4bKtest1', ';tag=b1');
  assert.equal(layer.request(ack, send, false), undefined, 'the ACK for a non-2xx belongs to the INVITE transaction');
  assert.equal((tx as { state: ServerInviteState }).state, ServerInviteState.Confirmed);
  clock.advance(10000);
  assert.equal(sent.length, 4, 'no retransmission after the ACK');
  assert.equal((tx as { state: ServerInviteState }).state, ServerInviteState.Terminated);
});

test('§17.2.1: without an ACK the INVITE server transaction gives up at 64·T1 (timer H); a 2xx goes to Accepted (RFC 6026) and its ACK reaches the TU', () => {
  const { clock, layer, send } = setup();
  const invite = req('INVITE');
  const tx = layer.request(invite, send, false)!.tx!;
  tx.respond(603, Buffer.from('603'));
  clock.advance(64 * T.T1 + 1);
  assert.equal((tx as { state: ServerInviteState }).state, ServerInviteState.Terminated);
  const invite2 = req('INVITE', 'z9hG4bKtest2');
  const tx2 = layer.request(invite2, send, false)!.tx!;
  tx2.respond(200, Buffer.from('200'));
  assert.equal((tx2 as { state: ServerInviteState }).state, ServerInviteState.Accepted);
  const ack2xx = req('ACK', 'z9hG4bKother', ';tag=b1');
  const passed = layer.request(ack2xx, send, false);
  assert.ok(passed && passed.tx === undefined, 'the ACK for a 2xx is a TU matter (§13.3.1.4)');
});

test('§9.2: a CANCEL finds the INVITE server transaction it refers to by branch', () => {
  const { layer, send } = setup();
  const invite = req('INVITE', 'z9hG4bKcan');
  const itx = layer.request(invite, send, false)!.tx;
  const cancel = req('CANCEL', 'z9hG4bKcan');
  const ctx = layer.request(cancel, send, false)!;
  assert.ok(ctx.tx && ctx.tx !== itx, 'CANCEL is its own transaction');
  assert.equal(layer.inviteFor(cancel), itx);
});
