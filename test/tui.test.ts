/**
 * The terminal UI, driven as a person drives it: the real `sipscope` in a real terminal (tmux),
 * keys sent with send-keys, the screen read with capture-pane, every wait a poll on the screen.
 * On the seed chapter's capture: the call list with bob's two B2BUA legs under one call, the
 * ladder with the B2BUA in the middle, a message with its raw text and digest outcome, filters,
 * saving to pcap (read back: the same frames) and CSV (the same rows as `export csv`), the help
 * screen, 80×24, NO_COLOR, and a terminal that goes away. Then live traffic from SIPp.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, repoRoot, runCli } from './helpers/cli.js';
import { Processes, Proc, freeUdpPorts, sippUnavailable, udpPortBound, waitFor } from './helpers/sipp.js';
import { TmuxSession, cpuTicks, processAlive, tmuxUnavailable } from './helpers/tmux.js';

const SEED = join(repoRoot, 'captures', 'seed-chapter.pcap');
const unavailable = tmuxUnavailable() ?? (existsSync(SEED) ? undefined : 'captures/seed-chapter.pcap is missing');

interface Frame {
  sec: number;
  usec: number;
  origLen: number;
  data: Buffer;
}

/** Records of a classic little-endian microsecond pcap (what the seed capture and PcapWriter use). */
function pcapFrames(file: string): { linktype: number; frames: Frame[] } {
  const b = readFileSync(file);
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4, `${file} is a little-endian µs pcap`);
  const frames: Frame[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const caplen = b.readUInt32LE(off + 8);
    frames.push({ sec: b.readUInt32LE(off), usec: b.readUInt32LE(off + 4), origLen: b.readUInt32LE(off + 12), data: b.subarray(off + 16, off + 16 + caplen) });
    off += 16 + caplen;
  }
  return { linktype: b.readUInt32LE(20), frames };
}

/** SGR parameters that set a colour (not bold, inverse or the default colours 39/49). */
function colourCodes(screen: string): string[] {
  const found: string[] = [];
  for (const m of screen.matchAll(/\x1b\[([0-9;:]*)m/g)) {
    const params = m[1]!.split(/[;:]/).map(Number);
    if (params.some((p) => (p >= 30 && p <= 38) || (p >= 40 && p <= 48) || (p >= 90 && p <= 97) || (p >= 100 && p <= 107))) found.push(m[0]);
  }
  return found;
}

function lines(screen: string): string[] {
  return screen.split('\n');
}

describe('terminal UI on the seed capture (tmux)', { concurrency: 2, timeout: 60_000 }, () => {
  let dir: string;
  const sessions: TmuxSession[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sipscope-tui-'));
  });

  after(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function ui(args: string[], o: { cols?: number; rows?: number; env?: Record<string, string> } = {}): Promise<TmuxSession> {
    const s = await TmuxSession.start({ cols: o.cols ?? 120, rows: o.rows ?? 40, command: [process.execPath, binPath, ...args], cwd: dir, env: o.env });
    sessions.push(s);
    return s;
  }

  /** The list once every call is in: the read finished and bob's b-leg is under its call. */
  async function loaded(s: TmuxSession): Promise<string> {
    return s.waitFor((sc) => /calls 3\b/.test(sc) && /└b/.test(sc), 'the seed capture to load');
  }

  test('call list: both legs of bob\'s call grouped under one call; collapse and expand', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const s = await ui(['tui', SEED, '--password', '1234']);
    const screen = lines(await loaded(s));
    t.diagnostic(`call list:\n${screen.join('\n')}`);
    const head = screen.findIndex((l) => /▾\s+3 \d\d:\d\d:\d\d\.\d{3} INVITE\s+bob\s+alice\s+11 .*answered.*valid\(bob\)/.test(l));
    assert.ok(head > 0, 'call 3: INVITE bob -> alice, 11 messages, answered, valid(bob), with a tree mark');
    assert.match(screen[head + 1]!, /└b \d\d:\d\d:\d\d\.\d{3} INVITE\s+bob\s+alice\s+7 .*answered/, 'its b-leg right under it');
    assert.equal(screen.filter((l) => /INVITE/.test(l)).length, 2, 'two INVITE rows: the call and its leg, nothing else');
    assert.ok(screen.some((l) => /^\s+1 12:30:57\.917 REGISTER\s+alice .*registered.*valid\(alice\)/.test(l)), 'the first registration');
    assert.ok(screen.some((l) => /^\s+2 13:22:49\.175 REGISTER\s+alice .*failed.*invalid\(alice\)/.test(l)), 'the failed registration');
    assert.match(screen[0]!, /calls 3\b/);
    assert.match(screen[1]!, /#\^ Start\s+Method\s+From\s+To\s+Msgs\s+Source\s+Destination\s+State\s+Dur\s+Auth/, 'the column titles');
    // Collapse the call (cursor to it, Left), then expand it again (Right).
    await s.keys('Down', 'Down', 'Left');
    await s.waitFor((sc) => /▸\s+3 /.test(sc) && !/└b/.test(sc), 'the call collapsed');
    await s.keys('Right');
    await s.waitFor((sc) => /▾\s+3 /.test(sc) && /└b/.test(sc), 'the call expanded');
  });

  test('ladder: three lifelines, the B2BUA in the middle; a message with its raw text and digest outcome', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const s = await ui(['tui', SEED, '--password', '1234']);
    await loaded(s);
    await s.keys('Down', 'Down', 'Enter');
    // The whole screen: the ladder's last arrow and the raw text of the first message below it.
    const ladder = lines(await s.waitFor((sc) => /B2BUA/.test(sc) && /<-+ BYE -+\|/.test(sc) && /^Content-Length: 594/m.test(sc), 'the ladder'));
    t.diagnostic(`ladder:\n${ladder.join('\n')}`);
    assert.match(ladder[0]!, /ladder YWEwYjNl.* \+ 0d74ac35.*: 18 messages/);
    const roles = ladder[1]!;
    assert.ok(roles.indexOf('bob') < roles.indexOf('B2BUA') && roles.indexOf('B2BUA') < roles.indexOf('alice'), `bob, B2BUA, alice in that order: ${roles}`);
    const addrs = ladder[2]!;
    assert.ok(addrs.indexOf('192.168.4.4:26000') < addrs.indexOf('192.168.4.4:5060') && addrs.indexOf('192.168.4.4:5060') < addrs.indexOf('192.168.4.4:5090'), addrs);
    const arrows = ladder.filter((l) => /^ \d\d:\d\d:\d\d\.\d{6}\s+\+\d+\.\d{3}\s+\|/.test(l));
    assert.equal(arrows.length, 18, 'one line per message of both legs');
    assert.match(arrows[0]!, /\|-+ INVITE \(SDP\) -+>\|/);
    assert.match(arrows[6]!, /\|\s+\|-+ INVITE \(SDP\) -+>\|/, 'the b-leg INVITE leaves the B2BUA towards alice');
    assert.ok(ladder.some((l) => /^INVITE sip:alice@192\.168\.4\.4 SIP\/2\.0/.test(l)), 'the selected message\'s raw text under the ladder');
    // The fifth message is bob's second INVITE, with his Proxy-Authorization.
    await s.keys('Down', 'Down', 'Down', 'Down', 'Enter');
    const msg = await s.waitForText('message 5 of 18');
    assert.match(msg, /^INVITE sip:alice@192\.168\.4\.4 SIP\/2\.0$/m);
    assert.match(msg, /^Proxy-Authorization: Digest username="bob"/m);
    await s.keys('End');
    const end = await s.waitForText('digest credentials');
    t.diagnostic(`message, end:\n${end}`);
    assert.match(end, /Proxy-Authorization user "bob" realm "192\.168\.4\.4": VALID/);
    assert.match(end, /- response matches the password of "bob"/);
    assert.match(end, /-- SDP -+\n(.*\n)*audio 192\.168\.4\.4:8000 RTP\/AVP sendrecv: BV32\/16000/);
    assert.match(end, /\d+ bytes, re-read from the capture at byte \d+/, 'the bytes came from the file, not from memory');
    // Back out: message → ladder → list.
    await s.keys('q');
    await s.waitForText('B2BUA');
    await s.keys('Escape');
    await s.waitFor((sc) => /calls 3/.test(sc) && !/B2BUA/.test(sc), 'back on the call list');
  });

  test('filter: text, /regex/ over headers, by method; search', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const s = await ui(['tui', SEED]);
    await loaded(s);
    await s.keys('f');
    await s.waitForText('filter (text or /regex/):');
    await s.type('bob');
    await s.keys('Enter');
    let sc = await s.waitForText('calls 1 of 3');
    assert.match(sc, /INVITE\s+bob/);
    assert.match(sc, /└b/, 'the leg comes along with its call');
    assert.doesNotMatch(sc, /REGISTER/);
    // "alice" is in every call: the registrations are hers, and she is called.
    await s.keys('f', 'C-u');
    await s.type('alice');
    await s.keys('Enter');
    sc = await s.waitForText('calls 3, filter "alice"');
    // A regular expression over the messages' headers: who sent digest credentials for bob?
    await s.keys('f', 'C-u');
    await s.type('/^Proxy-Authorization:.*username="bob"/');
    await s.keys('Enter');
    sc = await s.waitForText('calls 1 of 3');
    assert.match(sc, /INVITE\s+bob/);
    // Headers only a message has, not the call's fields: the 403's reason phrase.
    await s.keys('f', 'C-u');
    await s.type('/^SIP\\/2\\.0 403 Forbidden/');
    await s.keys('Enter');
    sc = await s.waitForText('calls 1 of 3');
    assert.match(sc, /REGISTER\s+alice .*failed/);
    await s.keys('f', 'C-u');
    await s.type('no such thing');
    await s.keys('Enter');
    await s.waitForText('no call matches the filter');
    await s.keys('F');
    await s.waitFor((sc2) => /calls 3\b/.test(sc2) && !/ of 3/.test(sc2), 'every call back');
    // Method filter (menu): only REGISTER.
    await s.keys('m');
    await s.waitForText('methods to show');
    const menu = await s.screen();
    assert.match(menu, /\[ \] REGISTER \(2\)/);
    await s.keys('Space', 'Enter'); // the most frequent first: REGISTER
    sc = await s.waitForText('method REGISTER');
    assert.doesNotMatch(sc, /INVITE\s+bob/);
    await s.keys('F');
    // Search jumps to the next row that matches.
    await s.keys('/');
    await s.type('bob');
    await s.keys('Enter', 'Enter');
    await s.waitForText('B2BUA');
  });

  test('save the calls shown to pcap (the same frames) and to CSV (the same rows as export csv)', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const s = await ui(['tui', SEED, '--password', '1234']);
    await loaded(s);
    const pcapOut = join(dir, 'saved.pcap');
    await s.keys('w');
    await s.waitForText('pcap: calls shown (3)');
    await s.keys('Down', 'Enter');
    await s.waitForText('save 3 call(s) as pcap to: seed-chapter-calls.pcap');
    await s.keys('C-u');
    await s.type(pcapOut);
    await s.keys('Enter');
    await s.waitForText('saved 26 frames of 3 call(s)');
    const original = pcapFrames(SEED);
    const saved = pcapFrames(pcapOut);
    assert.equal(saved.linktype, original.linktype);
    assert.equal(saved.frames.length, original.frames.length);
    saved.frames.forEach((f, i) => assert.deepEqual(f, original.frames[i], `frame ${i + 1} as in the capture`));

    // Only the selected call: bob's, both legs (18 frames).
    const onePcap = join(dir, 'one.pcap');
    await s.keys('Down', 'Down', 'Space', 'w');
    await s.waitForText('pcap: selected calls (1)');
    await s.keys('Enter');
    await s.waitForText('save 1 call(s) as pcap to:');
    await s.keys('C-u');
    await s.type(onePcap);
    await s.keys('Enter');
    await s.waitForText('saved 18 frames of 1 call(s)');
    const one = pcapFrames(onePcap).frames;
    assert.deepEqual(one, original.frames.filter((f) => one.some((g) => g.data.equals(f.data))), 'a subset of the capture, in order');
    assert.equal(one.length, 18);

    const csvOut = join(dir, 'saved.csv');
    await s.keys('x', 'w');
    await s.waitForText('CSV: calls shown (3)');
    await s.keys('Down', 'Down', 'Down', 'Enter');
    await s.waitForText('save 3 call(s) as CSV to: seed-chapter-calls.csv');
    await s.keys('C-u');
    await s.type(csvOut);
    await s.keys('Enter');
    await s.waitForText('saved 4 rows of 3 call(s)');
    const exported = await runCli(['export', 'csv', SEED, '--password', '1234', '-o', '-']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(readFileSync(csvOut, 'utf8'), exported.stdout, 'the same bytes as sipscope export csv');
  });

  test('mouse (click, double-click, wheel), diff of two messages, terminal resize', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const s = await ui(['tui', SEED, '--password', '1234']);
    await loaded(s);
    // SGR mouse reports, as a terminal sends them (1-based column;row): a click on call 3's line
    // (row 5: the header line, the column titles, calls 1 and 2 above it), then a double-click.
    const click = (x: number, y: number): string => `\x1b[<0;${x};${y}M\x1b[<0;${x};${y}m`;
    await s.type(click(20, 5));
    await s.waitFor((sc) => /\x1b\[[0-9;]*7m[^\n]*3 13:31:39/.test(sc), 'call 3 under the cursor (inverse)', 10_000, true);
    await s.type(click(20, 5) + click(20, 5));
    await s.waitForText('B2BUA');
    await s.type('\x1b[<65;20;10M'); // wheel down: the next message
    await s.waitFor((sc) => /^ 2\/18 100 Trying/m.test(sc), 'message 2 selected by the wheel');
    // Mark message 2, select message 4 (ACK), Space: the two side by side.
    await s.keys('Space', 'Down', 'Down', 'Space');
    const diff = await s.waitForText('diff of messages 2 and 4');
    t.diagnostic(`diff:\n${diff}`);
    assert.match(diff, /- SIP\/2\.0 100 Trying\s+│ \+ ACK sip:alice@192\.168\.4\.4 SIP\/2\.0/);
    assert.match(diff, /^ {2}Call-ID: YWEw.*│ {3}Call-ID: YWEw/m, 'equal lines face each other');
    await s.keys('q');
    await s.waitForText('B2BUA');
    await s.keys('q');
    await s.waitForText('calls 3');
    // The terminal shrinks to 80×24, then grows to 160×40: the list lays itself out again.
    await s.resize(80, 24);
    let sc = await s.waitFor((x) => lines(x).length <= 25 && /▾\s+3 /.test(x) && !/Destination/.test(x), 'the list at 80 columns');
    assert.ok(lines(sc).every((l) => l.length <= 80));
    await s.resize(160, 40);
    sc = await s.waitFor((x) => /Destination/.test(x) && /192\.168\.4\.4:26000/.test(x), 'the list at 160 columns, addresses back');
    assert.match(lines(sc).at(-2) ?? '', /q\s+quit/, 'the help bar on the new last line');
  });

  test('help screen lists every key of every screen', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const s = await ui(['tui', SEED]);
    await loaded(s);
    const bar = lines(await s.screen()).at(-2) ?? '';
    assert.match(bar, /Enter\s+flow\s+Space\s+select.*\?\s+help\s+q\s+quit/, `the help bar: ${bar}`);
    await s.keys('?');
    let help = await s.waitForText('call list');
    // Every PageDown scrolls a page (the first one did not: blessed moved a hidden cursor down
    // the visible page first); each page is waited for, a busy machine showed the one before.
    for (let page = 2; page <= 6 && !/^menus$/m.test(help); page++) {
      const before = await s.screen();
      await s.keys('PageDown');
      help += await s.waitFor((x) => x !== before, `help page ${page}`);
    }
    for (const section of ['everywhere', 'call list', 'ladder (call flow)', 'message', 'diff of two messages', 'menus']) assert.match(help, new RegExp(`^${section.replace(/[()]/g, '\\$&')}$`, 'm'), section);
    for (const key of ['Space', 'f F7', '/ n N', 'w F2', 'Left Right', 'Ctrl-C']) assert.ok(help.includes(key), `lists ${key}`);
    assert.match(help, /prompts \(filter, search, file name\)/);
    await s.keys('q');
    await s.waitForText('calls 3');
  });

  test('80×24: list, ladder and message fit', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const s = await ui(['tui', SEED, '--password', '1234'], { cols: 80, rows: 24 });
    const list = lines(await loaded(s));
    t.diagnostic(`80x24 list:\n${list.join('\n')}`);
    assert.ok(list.every((l) => l.length <= 80));
    assert.match(list[23]!, /Enter\s+flow/, 'the help bar on the last line');
    assert.ok(list.some((l) => /▾\s+3 .*INVITE\s+bob\s+alice/.test(l)));
    await s.keys('Down', 'Down', 'Enter');
    const ladder = lines(await s.waitForText('B2BUA'));
    t.diagnostic(`80x24 ladder:\n${ladder.join('\n')}`);
    assert.ok(/bob/.test(ladder[1]!) && /alice/.test(ladder[1]!), 'all three lifelines on screen');
    assert.ok(ladder.some((l) => /^INVITE sip:alice/.test(l)), 'raw text below');
    await s.keys('Enter');
    await s.waitForText('message 1 of 18');
  });

  test('NO_COLOR: no colour escape codes on any screen (and colours without it)', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const plain = await ui(['tui', SEED, '--password', '1234'], { env: { NO_COLOR: '1' } });
    const coloured = await ui(['tui', SEED, '--password', '1234']);
    await Promise.all([loaded(plain), loaded(coloured)]);
    const screens: string[] = [await plain.screen(true)];
    await plain.keys('Down', 'Down', 'Enter');
    await plain.waitForText('B2BUA');
    screens.push(await plain.screen(true));
    await plain.keys('Down', 'Down', 'Down', 'Down', 'Enter');
    await plain.waitForText('message 5 of 18');
    await plain.keys('End');
    await plain.waitForText('VALID');
    screens.push(await plain.screen(true));
    for (const sc of screens) assert.deepEqual(colourCodes(sc), [], 'no colour codes with NO_COLOR');
    assert.ok(screens.some((sc) => /\x1b\[[0-9;]*7[;m]/.test(sc)), 'inverse (not a colour) still marks the selection');
    assert.notDeepEqual(colourCodes(await coloured.screen(true)), [], 'colours without NO_COLOR');
  });

  test('the terminal going away (kill-session, SIGHUP) leaves no process behind', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const a = await ui(['tui', SEED]);
    const b = await ui(['tui', SEED]);
    await Promise.all([loaded(a), loaded(b)]);
    assert.ok(processAlive(a.pid) && processAlive(b.pid));
    await a.killSession(); // what closing a tmux pane or an ssh session does
    process.kill(b.pid, 'SIGHUP'); // the hangup signal alone
    for (const s of [a, b]) {
      try {
        await waitFor(() => !processAlive(s.pid), `sipscope (pid ${s.pid}) to exit`, 5000);
      } catch (e) {
        const t0 = cpuTicks(s.pid) ?? 0;
        await new Promise((r) => setTimeout(r, 1000));
        const spin = (cpuTicks(s.pid) ?? 0) - t0;
        process.kill(s.pid, 'SIGKILL');
        throw new Error(`${(e as Error).message}; it used ${spin} CPU ticks in the next second`);
      }
    }
  });

  test('sipscope FILE: the UI on a terminal, the call table through a pipe', async (t) => {
    if (unavailable) return t.skip(unavailable);
    const s = await ui([SEED]);
    await loaded(s);
    const piped = await runCli([SEED]);
    const calls = await runCli(['calls', SEED]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, calls.stdout);
    const missing = await runCli([join(dir, 'no-such.pcap')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /unknown command/);
    const tui = await runCli(['tui', SEED]);
    assert.equal(tui.code, 1);
    assert.match(tui.stderr, /^sipscope: the terminal UI needs a terminal/);
  });
});

describe('terminal UI on live traffic from SIPp (tmux, 127.0.0.1)', { timeout: 40_000 }, () => {
  const procs = new Processes();
  let dir: string;
  let s: TmuxSession | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sipscope-tui-live-'));
  });

  after(async () => {
    await s?.close();
    await procs.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('calls show while in progress, then answered; the capture ends with the terminal', async (t) => {
    const why = tmuxUnavailable() ?? sippUnavailable();
    if (why) return t.skip(why);
    const CALLS = 4;
    const [uacPort, uasPort] = (await freeUdpPorts(2)) as [number, number];
    const errFile = join(dir, 'stderr.txt');
    const filter = `udp port ${uacPort} or udp port ${uasPort}`;
    const cmd = `exec ${process.execPath} ${binPath} live -i lo -f '${filter}' 2>${errFile}`;
    s = await TmuxSession.start({ cols: 120, rows: 40, command: ['sh', '-c', cmd], cwd: dir });
    try {
      await s.waitForText('live on lo', 10_000);
    } catch (e) {
      const err = existsSync(errFile) ? readFileSync(errFile, 'utf8') : '';
      if (/libpcap|permission denied|E_NO_LIBPCAP/i.test(err)) return t.skip(`live capture not possible here: ${err.trim()}`);
      throw new Error(`${(e as Error).message}\nstderr: ${err}`);
    }
    const common = ['-i', '127.0.0.1', '-m', String(CALLS), '-nostdin', '-timeout', '20s'];
    const uas = new Proc('sipp', ['-sn', 'uas', '-p', String(uasPort), ...common], { cwd: dir, procs, timeoutMs: 25_000 });
    await waitFor(() => udpPortBound(uasPort) !== false || !uas.running, 'the SIPp uas to bind its port');
    // Calls that last 3 s: long enough to be seen in progress.
    const uac = new Proc('sipp', ['-sn', 'uac', `127.0.0.1:${uasPort}`, '-p', String(uacPort), '-r', '10', '-d', '3000', ...common], { cwd: dir, procs, timeoutMs: 25_000 });
    const during = await s.waitFor((sc) => (sc.match(/INVITE\s+sipp\s+\S+\s+\d+ .*in_progress/g) ?? []).length >= 1, 'a call in progress', 10_000);
    t.diagnostic(`live, in progress:\n${during}`);
    assert.deepEqual(await uac.exited, { code: 0, signal: null }, `SIPp uac: ${uac.stderr}`);
    const done = await s.waitFor((sc) => (sc.match(/INVITE\s+sipp\s+\S+\s+\d+ .*answered/g) ?? []).length === CALLS, `${CALLS} answered calls`, 10_000);
    t.diagnostic(`live, after the calls:\n${done}`);
    assert.match(done, new RegExp(`calls ${CALLS}\\b`));
    // The ladder of a live call.
    await s.keys('Enter');
    const ladder = await s.waitForText('BYE');
    assert.match(ladder, /INVITE/);
    const pid = s.pid;
    await s.killSession();
    await waitFor(() => !processAlive(pid), 'sipscope live to exit with its terminal', 5000);
    await uas.exited;
  });
});
