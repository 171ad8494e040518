import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Secrets } from '../src/model/index.js';
import { SipMessage, DEFAULT_TIMERS, buildResponse, type ResponseOptions } from '../src/sip/index.js';
import { TransactionLayer } from '../src/transaction/index.js';
import { Authenticator } from '../src/responder/authenticator.js';
import { B2bua } from '../src/responder/b2bua.js';
import { BindingStore } from '../src/responder/bindings.js';
import { NonceIssuer } from '../src/responder/nonce.js';
import type { RequestContext } from '../src/responder/context.js';
import type { Peer } from '../src/responder/transport.js';
import { FakeClock } from './helpers/fake-clock.js';

const SERVER: Peer = { proto: 'UDP', ip: '10.9.0.1', port: 5060 };
const CALLER: Peer = { proto: 'UDP', ip: '10.9.0.2', port: 5070 };
const CALLEE: Peer = { proto: 'UDP', ip: '10.9.0.3', port: 5080 };

/** A B2BUA on a fake clock whose wire is an array: what it sends, to whom, when. */
function world() {
  const clock = new FakeClock();
  const sent: Array<{ to: Peer; msg: SipMessage; at: number }> = [];
  const layer = new TransactionLayer({ timers: DEFAULT_TIMERS, clock });
  const secrets = new Secrets();
  secrets.addCsv('alice,pw\nbob,pw\n');
  const store = new BindingStore(undefined, () => clock.now() + 1e12);
  store.set('bob', [{ contact: `sip:bob@${CALLEE.ip}:${CALLEE.port}`, expiresAt: 2e12 + 1e12, q: 1, callId: 'r', cseq: 1, source: CALLEE }]);
  const auth = new Authenticator(secrets, 'test', new NonceIssuer(300_000, () => clock.now()), ['MD5'], { maxFailures: 5, windowMs: 60_000, blockMs: 60_000 }, () => clock.now());
  const b2bua = new B2bua(
    { layer, send: (to, bytes) => sent.push({ to, msg: SipMessage.parse(bytes)!, at: clock.now() }), local: () => SERVER, clock, timers: DEFAULT_TIMERS, log: () => {} },
    { authCalls: false, xcid: false, ringTimeoutMs: 60_000, realmHost: 'test' },
    auth,
    store,
    secrets,
  );
  /** Delivers a request from a UA to the B2BUA the way the server does: through the transaction layer. */
  const request = (raw: string, from: Peer): void => {
    const msg = SipMessage.parse(Buffer.from(raw.replace(/\n/g, '\r\n')))!;
    const send = (bytes: Buffer): void => void sent.push({ to: from, msg: SipMessage.parse(bytes)!, at: clock.now() });
    const inc = layer.request(msg, send, false);
    if (!inc) return;
    const ctx: RequestContext = {
      msg, peer: from, local: SERVER, tx: inc.tx, note: () => {},
      reply: (status: number, o: ResponseOptions = {}) => {
        const b = buildResponse(msg, status, { toTag: 'srv', ...o });
        if (inc.tx) inc.tx.respond(status, b);
        else send(b);
        return b;
      },
    };
    if (msg.method === 'ACK') return b2bua.ack(msg);
    if (msg.method === 'INVITE' && !msg.toTag) return b2bua.invite(ctx);
    b2bua.inDialog(ctx);
  };
  /** A response from the callee to the last request the B2BUA sent it. */
  const answer = (req: SipMessage, status: number, sdp = false): void => {
    const body = sdp ? Buffer.from('v=0\r\no=- 1 1 IN IP4 10.9.0.3\r\ns=-\r\nc=IN IP4 10.9.0.3\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n') : undefined;
    const headers: Array<[string, string]> = [['Contact', `<sip:bob@${CALLEE.ip}:${CALLEE.port}>`]];
    if (body) headers.push(['Content-Type', 'application/sdp']);
    layer.response(SipMessage.parse(buildResponse(req, status, { toTag: 'bobtag', headers, body }))!);
  };
  return { clock, sent, request, answer };
}

const INVITE = (cseq: number, toTag = '') => `INVITE sip:bob@10.9.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.9.0.2:5070;branch=z9hG4bKa${cseq}
From: "Alice" <sip:alice@test>;tag=alicetag
To: <sip:bob@test>${toTag}
Call-ID: a-leg-1
CSeq: ${cseq} INVITE
Contact: <sip:alice@10.9.0.2:5070>
Content-Length: 0

`;

test('§13.3.1.4: the 2xx to a relayed re-INVITE is retransmitted until its ACK, then no more', () => {
  const w = world();
  w.request(INVITE(1), CALLER);
  const bInvite = w.sent.find((s) => s.to === CALLEE || (s.to.ip === CALLEE.ip && s.msg.method === 'INVITE'))!.msg;
  assert.equal(bInvite.method, 'INVITE');
  w.answer(bInvite, 200, true);
  const ok = w.sent.filter((s) => s.to.ip === CALLER.ip && s.msg.status === 200);
  assert.equal(ok.length, 1, 'the a-leg got its 200');
  const toTag = ok[0]!.msg.toTag!;
  w.request(`ACK sip:sipscope@10.9.0.1 SIP/2.0\nVia: SIP/2.0/UDP 10.9.0.2:5070;branch=z9hG4bKack1\nFrom: "Alice" <sip:alice@test>;tag=alicetag\nTo: <sip:bob@test>;tag=${toTag}\nCall-ID: a-leg-1\nCSeq: 1 ACK\nContent-Length: 0\n\n`, CALLER);
  // Hold: a re-INVITE from alice, relayed to bob, answered 200 by bob.
  w.request(INVITE(2, `;tag=${toTag}`), CALLER);
  const reinvite = w.sent.filter((s) => s.to.ip === CALLEE.ip && s.msg.method === 'INVITE')[1]!.msg;
  w.answer(reinvite, 200, true);
  const count = (): number => w.sent.filter((s) => s.to.ip === CALLER.ip && s.msg.status === 200 && s.msg.cseq?.seq === 2).length;
  assert.equal(count(), 1);
  w.clock.advance(DEFAULT_TIMERS.T1 * 3 + 10); // T1, then 2·T1: two retransmissions
  assert.equal(count(), 3, 'retransmitted at T1 and 3·T1');
  w.request(`ACK sip:sipscope@10.9.0.1 SIP/2.0\nVia: SIP/2.0/UDP 10.9.0.2:5070;branch=z9hG4bKack2\nFrom: "Alice" <sip:alice@test>;tag=alicetag\nTo: <sip:bob@test>;tag=${toTag}\nCall-ID: a-leg-1\nCSeq: 2 ACK\nContent-Length: 0\n\n`, CALLER);
  w.clock.advance(64 * DEFAULT_TIMERS.T1);
  assert.equal(count(), 3, 'no retransmission after the ACK');
});

test('a relayed re-INVITE 2xx without an ACK stops at 64·T1', () => {
  const w = world();
  w.request(INVITE(1), CALLER);
  const bInvite = w.sent.find((s) => s.to.ip === CALLEE.ip && s.msg.method === 'INVITE')!.msg;
  w.answer(bInvite, 200, true);
  const toTag = w.sent.find((s) => s.to.ip === CALLER.ip && s.msg.status === 200)!.msg.toTag!;
  w.request(INVITE(2, `;tag=${toTag}`), CALLER);
  const reinvite = w.sent.filter((s) => s.to.ip === CALLEE.ip && s.msg.method === 'INVITE')[1]!.msg;
  w.answer(reinvite, 200, true);
  w.clock.advance(200 * DEFAULT_TIMERS.T1);
  const times = w.sent.filter((s) => s.to.ip === CALLER.ip && s.msg.status === 200 && s.msg.cseq?.seq === 2).map((s) => s.at);
  assert.ok(times.length > 3 && times.length < 12, `${times.length} copies`);
  assert.ok(times[times.length - 1]! - times[0]! <= 64 * DEFAULT_TIMERS.T1);
});

test('§13.3.1.4: no ACK for the a-leg 2xx within 64·T1 ends the call on both legs with BYE', () => {
  const w = world();
  w.request(INVITE(1), CALLER);
  const bInvite = w.sent.find((s) => s.to.ip === CALLEE.ip && s.msg.method === 'INVITE')!.msg;
  w.answer(bInvite, 200, true);
  w.clock.advance(64 * DEFAULT_TIMERS.T1 + 10);
  const oks = w.sent.filter((s) => s.to.ip === CALLER.ip && s.msg.status === 200).length;
  assert.ok(oks >= 7, `${oks} copies of the 200 before giving up`);
  assert.ok(w.sent.some((s) => s.to.ip === CALLER.ip && s.msg.method === 'BYE'), 'BYE to the caller');
  assert.ok(w.sent.some((s) => s.to.ip === CALLEE.ip && s.msg.method === 'BYE'), 'BYE to the callee');
});
