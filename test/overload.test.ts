/**
 * The responder's load shedding: while it is saturated, part of the new calls and registrations
 * get 503 with Retry-After (RFC 3261 §21.5.4), a part that grows while it stays saturated, and
 * the calls already up go on; once it has room, it admits everything again. The server is real
 * (UDP on 127.0.0.1); only its load is injected. Also the real event-loop load source and the
 * CLI options. (bench/responder.mjs --shed-busy measures the effect under a SIPp flood.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { Secrets } from '../src/model/index.js';
import { DEFAULT_TIMERS, realClock, SipMessage } from '../src/sip/index.js';
import { SipServer } from '../src/responder/index.js';
import { eventLoopBusy, OverloadGuard, type LoadSource } from '../src/responder/overload.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './helpers/cli.js';

/** A load that changes when the test says so; each change is a new sampling window. */
class FakeLoad implements LoadSource {
  private value = 0;
  private n = 0;
  set(busy: number): void {
    this.value = busy;
    this.n++;
  }
  busy(): number {
    return this.value;
  }
  window(): number {
    return this.n;
  }
  stop(): void {}
}

async function serve(load: LoadSource, maxBusy = 0.9): Promise<{ server: SipServer; port: number }> {
  const secrets = new Secrets();
  secrets.addCsv('alice,1234\nbob,1234\n');
  const server = new SipServer({
    listen: [{ proto: 'UDP', host: '127.0.0.1', port: 0 }],
    secrets, realm: '127.0.0.1', authCalls: false, xcid: false, algorithms: ['MD5'], ringTimeoutMs: 60_000,
    nonceTtlMs: 300_000, throttle: { maxFailures: 10, windowMs: 60_000, blockMs: 60_000 }, timers: DEFAULT_TIMERS, clock: realClock,
    overload: { maxBusy, retryAfterS: 7 }, loadSource: load, random: () => 0.5,
  });
  const [local] = await server.start();
  return { server, port: local!.port };
}

let n = 0;
function request(method: string, port: number, client: Socket, o: { toTag?: string; callId?: string } = {}): Buffer {
  n++;
  const { port: cport } = client.address();
  return Buffer.from([
    `${method} sip:${method === 'REGISTER' ? '127.0.0.1' : 'bob@127.0.0.1'}:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${cport};branch=z9hG4bK-ovl-${n}`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1>;tag=a${n}`,
    `To: <sip:${method === 'REGISTER' ? 'alice' : 'bob'}@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId ?? `ovl-${n}`}`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:alice@127.0.0.1:${cport}>`,
    'Content-Length: 0', '', '',
  ].join('\r\n'));
}

async function ask(client: Socket, port: number, bytes: Buffer): Promise<SipMessage> {
  const reply = (async () => {
    for (;;) {
      const [buf] = (await once(client, 'message')) as [Buffer];
      const m = SipMessage.parse(buf);
      if (m && !m.isRequest && m.status >= 200) return m;
    }
  })();
  client.send(bytes, port, '127.0.0.1');
  return reply;
}

test('OverloadGuard: the admitted fraction falls by a quarter per busy window and climbs back by a tenth per quiet one', () => {
  const load = new FakeLoad();
  let draw = 0;
  const guard = new OverloadGuard({ maxBusy: 0.9, retryAfterS: 5 }, load, () => draw);
  load.set(0.5);
  assert.equal(guard.refuse(), false);
  assert.equal(guard.admit, 1);
  const admitted: number[] = [];
  for (let i = 0; i < 12; i++) {
    load.set(1);
    guard.refuse();
    admitted.push(Math.round(guard.admit * 1000) / 1000);
  }
  assert.deepEqual(admitted.slice(0, 3), [0.75, 0.563, 0.422]);
  assert.equal(admitted[11], 0.05, 'never below a twentieth: the server keeps learning whether it has room');
  // Within a window the draw decides: below the admitted fraction passes.
  draw = 0.04;
  assert.equal(guard.refuse(), false);
  draw = 0.06;
  assert.equal(guard.refuse(), true);
  assert.equal(guard.shed, 1, 'only the draw above the admitted fraction was refused');
  // Quiet windows, even ones without a request, bring it back.
  load.set(0.3);
  for (let i = 0; i < 4; i++) load.set(0.3); // five windows passed, one request seen
  guard.refuse();
  assert.equal(Math.round(guard.admit * 100) / 100, 0.55);
  for (let i = 0; i < 5; i++) {
    load.set(0.3);
    guard.refuse();
  }
  assert.equal(guard.admit, 1);
  const before = guard.shed;
  draw = 0.99;
  assert.equal(guard.refuse(), false, 'all admitted again');
  assert.equal(guard.shed, before);
});

test('saturated: new INVITEs and REGISTERs get 503 with Retry-After; in-dialog requests and OPTIONS are served; with room, calls go through', async () => {
  const load = new FakeLoad();
  const { server, port } = await serve(load);
  const client = createSocket('udp4');
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  try {
    // A busy window per INVITE: admitted fraction 0.75, 0.56 (the draw, 0.5, passes), then 0.42.
    const statuses: number[] = [];
    let invite: SipMessage | undefined;
    for (let i = 0; i < 3; i++) {
      load.set(1);
      invite = await ask(client, port, request('INVITE', port, client));
      statuses.push(invite.status);
    }
    assert.deepEqual(statuses, [480, 480, 503], 'bob is not registered: 480 while admitted');
    assert.equal(invite!.status, 503);
    assert.equal(invite!.get('retry-after'), '7');
    const register = await ask(client, port, request('REGISTER', port, client));
    assert.equal(register.status, 503);
    const bye = await ask(client, port, request('BYE', port, client, { toTag: 'x' }));
    assert.equal(bye.status, 481, 'a BYE is not refused for load (there is no such call here)');
    const options = await ask(client, port, request('OPTIONS', port, client));
    assert.equal(options.status, 200);
    assert.equal(server.overload!.shed, 2);
    for (let i = 0; i < 10; i++) load.set(0.2); // room again
    const again = await ask(client, port, request('REGISTER', port, client));
    assert.equal(again.status, 401, 'served again: challenged as usual');
    assert.equal(server.overload!.shed, 2);
  } finally {
    client.close();
    await server.stop();
  }
});

test('no shedding unless asked for: a server without a busy limit never refuses', async () => {
  const load = new FakeLoad();
  load.set(1);
  const { server, port } = await serve(load, 0);
  const client = createSocket('udp4');
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  try {
    assert.equal(server.overload, undefined);
    assert.equal((await ask(client, port, request('REGISTER', port, client))).status, 401);
  } finally {
    client.close();
    await server.stop();
  }
});

test('the event-loop load source sees a busy loop, and goes back down', async () => {
  const source = eventLoopBusy();
  try {
    await new Promise((r) => setTimeout(r, 600));
    const idle = source.busy();
    assert.ok(idle < 0.5, `idle: ${idle}`);
    const until = Date.now() + 900;
    let busy = 0;
    // Keep the loop busy in 50 ms slices (its timers still fire between them), reading the load
    // between slices as the server does when a request arrives.
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const end = Date.now() + 50;
        while (Date.now() < end);
        busy = Math.max(busy, source.busy());
        if (Date.now() < until) setImmediate(tick);
        else resolve();
      };
      tick();
    });
    assert.ok(busy > 0.8, `busy while working: ${busy}`);
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(source.busy() < 0.5, `once idle again: ${source.busy()}`);
  } finally {
    source.stop();
  }
});

test('serve --shed-busy takes a fraction and --retry-after whole seconds; anything else is a usage error before listening', async () => {
  const users = path.join(mkdtempSync(path.join(tmpdir(), 'sipscope-ovl-')), 'users.csv');
  writeFileSync(users, 'alice,1234\n');
  for (const [flag, value, why] of [['--shed-busy', '90%', 'a fraction'], ['--shed-busy', '1.5', 'a fraction'], ['--retry-after', '-1', 'a whole number']] as const) {
    const r = await runCli(['serve', '--listen', 'udp:127.0.0.1:0', '--users', users, flag, value], { timeoutMs: 10_000 });
    assert.notEqual(r.code, 0, `${flag} ${value}`);
    assert.match(r.stderr, new RegExp(`${flag} must be ${why}`));
  }
});
