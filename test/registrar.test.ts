import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secrets } from '../src/model/index.js';
import { SipMessage, buildResponse, computeHa1, computeResponse, parseChallenge, type ResponseOptions } from '../src/sip/index.js';
import { Authenticator } from '../src/responder/authenticator.js';
import { BindingStore } from '../src/responder/bindings.js';
import { NonceIssuer } from '../src/responder/nonce.js';
import { Registrar, DEFAULT_REGISTRAR } from '../src/responder/registrar.js';
import type { RequestContext } from '../src/responder/context.js';

const REALM = 'test.realm';

function world(stateDir?: string) {
  let now = 1_700_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const secrets = new Secrets();
  secrets.addCsv('alice,secret\nbob,hunter2\n');
  const nonces = new NonceIssuer(300_000, clock.now);
  const auth = new Authenticator(secrets, REALM, nonces, ['MD5'], { maxFailures: 3, windowMs: 60_000, blockMs: 60_000 }, clock.now);
  const store = new BindingStore(stateDir, clock.now);
  const registrar = new Registrar(auth, store, DEFAULT_REGISTRAR, clock.now);
  return { clock, store, registrar, auth };
}

let cseq = 0;
function register(o: { user?: string; contact?: string; expires?: number | null; callId?: string; cseq?: number; authz?: string; toUser?: string }): SipMessage {
  const user = o.user ?? 'alice';
  const lines = [
    `REGISTER sip:${REALM} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK' + Math.random().toString(16).slice(2),
    `From: <sip:${user}@${REALM}>;tag=f1`,
    `To: <sip:${o.toUser ?? user}@${REALM}>`,
    `Call-ID: ${o.callId ?? 'reg-call-1'}`,
    `CSeq: ${o.cseq ?? ++cseq} REGISTER`,
  ];
  if (o.contact !== undefined) lines.push(`Contact: ${o.contact}`);
  if (o.expires !== null && o.expires !== undefined) lines.push(`Expires: ${o.expires}`);
  if (o.authz) lines.push(`Authorization: ${o.authz}`);
  lines.push('Content-Length: 0', '', '');
  return SipMessage.parse(Buffer.from(lines.join('\r\n')))!;
}

function run(r: Registrar, msg: SipMessage, ip = '10.0.0.1'): SipMessage {
  let out: SipMessage | undefined;
  const ctx: RequestContext = {
    msg,
    peer: { proto: 'UDP', ip, port: 5060 },
    local: { proto: 'UDP', ip: '10.0.0.2', port: 5060 },
    tx: undefined,
    note: () => {},
    reply: (status: number, o: ResponseOptions = {}) => {
      const b = buildResponse(msg, status, { toTag: 't', ...o });
      out = SipMessage.parse(b)!;
      return b;
    },
  };
  r.handle(ctx);
  return out!;
}

/** Answers a 401 the way a UA does: MD5, qop=auth, nc=1. */
function credentials(challenge: SipMessage, user: string, password: string, nc = '00000001', uri = `sip:${REALM}`): string {
  const c = parseChallenge(challenge.get('www-authenticate')!);
  const ha1 = computeHa1('MD5', user, c.realm, password);
  const response = computeResponse({ algorithm: 'MD5', ha1, nonce: c.nonce, cnonce: 'cn', nc, qop: 'auth', method: 'REGISTER', uri });
  return `Digest username="${user}", realm="${c.realm}", nonce="${c.nonce}", uri="${uri}", response="${response}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="cn"`;
}

function registered(w: ReturnType<typeof world>, o: Parameters<typeof register>[0], password = 'secret', ip?: string): SipMessage {
  const first = run(w.registrar, register(o), ip);
  assert.equal(first.status, 401);
  return run(w.registrar, register({ ...o, authz: credentials(first, o.user ?? 'alice', password) }), ip);
}

test('§10.3 step 3 / §22: a REGISTER without credentials is challenged with 401 and a nonce', () => {
  const w = world();
  const r = run(w.registrar, register({ contact: '<sip:alice@10.0.0.1>' }));
  assert.equal(r.status, 401);
  const c = parseChallenge(r.get('www-authenticate')!);
  assert.equal(c.realm, REALM);
  assert.ok(c.nonce.length > 10);
  assert.deepEqual(c.qop, ['auth', 'auth-int']);
});

test('§10.3: a valid REGISTER adds the binding; the 200 OK lists every current binding with its expiry', () => {
  const w = world();
  assert.equal(registered(w, { contact: '<sip:alice@10.0.0.1:5070>', expires: 600 }).status, 200);
  const ok = registered(w, { contact: '<sip:alice@10.0.0.9:5070>;q=0.5', expires: 300 });
  assert.equal(ok.status, 200);
  const contacts = ok.values('contact');
  assert.equal(contacts.length, 2);
  assert.match(contacts.join(' '), /10\.0\.0\.1:5070>;expires=600/);
  assert.match(contacts.join(' '), /10\.0\.0\.9:5070>;expires=300;q=0.5/);
  assert.deepEqual(w.store.get('alice').map((b) => b.q), [1, 0.5]);
});

test('§10.3 step 7: an expiry below Min-Expires MAY be refused with 423 and a Min-Expires header', () => {
  const w = world();
  const r = registered(w, { contact: '<sip:alice@10.0.0.1>', expires: 10 });
  assert.equal(r.status, 423);
  assert.equal(r.get('min-expires'), '60');
});

test('§10.3 step 6: "Contact: *" with Expires 0 removes every binding; without Expires 0 it is a 400', () => {
  const w = world();
  registered(w, { contact: '<sip:alice@10.0.0.1>', expires: 600 });
  assert.equal(registered(w, { contact: '*', expires: 3600 }).status, 400);
  assert.equal(registered(w, { contact: '*', expires: 0, callId: 'other' }).status, 200);
  assert.equal(w.store.get('alice').length, 0);
});

test('§10.3 step 7: with the same Call-ID, a CSeq not higher than the binding\'s is refused', () => {
  const w = world();
  registered(w, { contact: '<sip:alice@10.0.0.1>', expires: 600, callId: 'c1', cseq: 10 });
  assert.equal(registered(w, { contact: '<sip:alice@10.0.0.1>', expires: 600, callId: 'c1', cseq: 9 }).status, 500);
  assert.equal(registered(w, { contact: '<sip:alice@10.0.0.1>', expires: 600, callId: 'c1', cseq: 11 }).status, 200);
});

test('bindings expire and persist across a restart of the store (--state)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipscope-state-'));
  const w = world(dir);
  registered(w, { contact: '<sip:alice@10.0.0.1>', expires: 600 });
  w.store.flush();
  const again = new BindingStore(dir, w.clock.now);
  assert.equal(again.get('alice').length, 1);
  w.clock.advance(601_000);
  assert.equal(again.get('alice').length, 0);
});

test('no user enumeration: an unknown user and a wrong password get the same 403', () => {
  const w = world();
  const wrong = registered(w, { contact: '<sip:alice@10.0.0.1>' }, 'guess', '10.1.0.1');
  const unknown = registered(w, { user: 'mallory', contact: '<sip:mallory@10.0.0.1>' }, 'guess', '10.1.0.2');
  assert.equal(wrong.status, 403);
  assert.equal(unknown.status, 403);
  assert.equal(wrong.startLine, unknown.startLine);
  assert.deepEqual(wrong.headers().map(([n]) => n), unknown.headers().map(([n]) => n));
});

test('credentials for another user\'s To, a digest uri that differs, and a replayed nonce count are refused', () => {
  const w = world();
  const ch = run(w.registrar, register({ contact: '<sip:alice@10.0.0.1>' }));
  // bob's valid credentials used to register alice's address.
  assert.equal(run(w.registrar, register({ user: 'bob', toUser: 'alice', contact: '<sip:x@10.0.0.1>', authz: credentials(ch, 'bob', 'hunter2') }), '10.2.0.1').status, 403);
  assert.equal(run(w.registrar, register({ contact: '<sip:alice@10.0.0.1>', authz: credentials(ch, 'alice', 'secret', '00000001', 'sip:elsewhere') }), '10.2.0.2').status, 403);
  const good = credentials(ch, 'alice', 'secret', '00000007');
  assert.equal(run(w.registrar, register({ contact: '<sip:alice@10.0.0.1>', authz: good }), '10.2.0.3').status, 200);
  assert.equal(run(w.registrar, register({ contact: '<sip:alice@10.0.0.1>', authz: good }), '10.2.0.3').status, 403, 'same nonce count again');
});

test('a nonce past its lifetime gets a new challenge with stale=true; a forged nonce is refused', () => {
  const w = world();
  const ch = run(w.registrar, register({ contact: '<sip:alice@10.0.0.1>' }));
  w.clock.advance(301_000);
  const r = run(w.registrar, register({ contact: '<sip:alice@10.0.0.1>', authz: credentials(ch, 'alice', 'secret') }));
  assert.equal(r.status, 401);
  assert.equal(parseChallenge(r.get('www-authenticate')!).stale, true);
  const forged = credentials(ch, 'alice', 'secret').replace(/nonce="[^"]+"/, 'nonce="deadbeef.AAAAAAAAAAAAAAAAAAAAAA"');
  assert.equal(run(w.registrar, register({ contact: '<sip:alice@10.0.0.1>', authz: forged })).status, 403);
});

test('repeated failures from one source are throttled: even the right password is refused for a while', () => {
  const w = world();
  for (let i = 0; i < 3; i++) assert.equal(registered(w, { contact: '<sip:alice@10.0.0.1>' }, `wrong${i}`, '10.3.0.1').status, 403);
  const blocked = run(w.registrar, register({ contact: '<sip:alice@10.0.0.1>' }), '10.3.0.1');
  assert.equal(blocked.status, 403);
  // Another source is not affected; after the block the right password works again.
  assert.equal(registered(w, { contact: '<sip:alice@10.0.0.1>' }, 'secret', '10.3.0.2').status, 200);
  w.clock.advance(61_000);
  assert.equal(registered(w, { contact: '<sip:alice@10.0.0.1>' }, 'secret', '10.3.0.1').status, 200);
});
