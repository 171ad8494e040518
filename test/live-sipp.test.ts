/**
 * Real peers, real sockets: `sipscope capture -i lo` watches a SIPp uac calling a SIPp uas on
 * 127.0.0.1, and must print exactly the SIP messages SIPp says it sent and received — checked
 * message by message against SIPp's own log, against SIPp's counters, against a tcpdump recording
 * of the same run read by tshark, and through the pcap sipscope wrote with -w.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, repoRoot, run, runCli } from './helpers/cli.js';
import {
  Proc,
  Processes,
  freeUdpPorts,
  haveCommand,
  readShortMessages,
  readSippCalls,
  readSippCounts,
  sippUnavailable,
  startSipp,
  udpPortBound,
  waitFor,
  type ShortMessage,
} from './helpers/sipp.js';

const CALLS = 20;
const RATE = 50;

/** Resolves when `re` shows up in the process's stderr; rejects if it exits first or time runs out. */
async function waitForStderr(p: Proc, re: RegExp, what: string, timeoutMs = 10_000): Promise<void> {
  let exited = false;
  void p.exited.then(() => (exited = true), () => (exited = true));
  await waitFor(() => re.test(p.stderr) || exited, what, timeoutMs);
  if (!re.test(p.stderr)) throw new Error(`${what}: the process exited first (stderr: ${p.stderr.trim()})`);
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l.trim() !== '');
}

/**
 * What tshark finds in a file: its frames, and its SIP messages counted as in PEERS.md (one
 * Request-Line or Status-Line per message; several in one frame come joined by the aggregator).
 * The capture filter admitted only UDP on the two ports, so no ICMP-quoted SIP can be counted.
 */
async function tsharkCounts(file: string, ports: number[]): Promise<{ frames: number; sip: number }> {
  const args = ['-n', '-r', file, ...ports.flatMap((p) => ['-d', `udp.port==${p},sip`]), '-T', 'fields', '-e', 'frame.number'];
  args.push('-e', 'sip.Request-Line', '-e', 'sip.Status-Line', '-E', 'occurrence=a', '-E', 'aggregator=|');
  const r = await run('tshark', args, { timeoutMs: 20_000 });
  assert.equal(r.code, 0, `tshark: ${r.stderr}`);
  const rows = r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  const sip = rows.reduce((n, [, req = '', status = '']) => n + `${req}|${status}`.split('|').filter((v) => v.trim() !== '').length, 0);
  return { frames: rows.length, sip };
}

function startLineOf(rec: Record<string, unknown>): string {
  return rec['method'] !== undefined ? `${String(rec['method'])} ${String(rec['request_uri'])} SIP/2.0` : `SIP/2.0 ${String(rec['status'])} ${String(rec['reason'])}`;
}

/** A message as "from -> to | start line | Call-ID", the same whoever describes it. */
function key(from: string, to: string, startLine: string, callId: unknown): string {
  return `${from} -> ${to} | ${startLine} | ${String(callId)}`;
}

function multiset(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return new Map([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

describe('live capture of SIPp calls on 127.0.0.1', { timeout: 30_000 }, () => {
  const procs = new Processes();
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sipscope-sipp-'));
  });

  after(async () => {
    // Whatever happened above: no SIPp, tcpdump or sipscope outlives the test.
    await procs.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(`sipscope capture prints every message of ${CALLS} SIPp calls, and -w writes them all`, async (t) => {
    const noSipp = sippUnavailable();
    if (noSipp) return t.skip(noSipp);

    const [uacPort, uasPort] = (await freeUdpPorts(2)) as [number, number];
    const uacAddr = `127.0.0.1:${uacPort}`;
    const uasAddr = `127.0.0.1:${uasPort}`;
    const filter = `udp port ${uacPort} or udp port ${uasPort}`;
    const written = join(dir, 'sipscope.pcap');
    t.diagnostic(`uac ${uacAddr}, uas ${uasAddr}, files in ${dir}`);

    // 1. sipscope capture, and (when present) tcpdump as an independent witness.
    // --duration only as a backstop (it stops itself even if this test process dies); SIGINT stops it.
    const capture = new Proc(process.execPath, [binPath, 'capture', '-i', 'lo', '-f', filter, '--json', '-w', written, '--duration', '28'], {
      cwd: repoRoot,
      procs,
      timeoutMs: 28_000,
    });
    try {
      await waitForStderr(capture, /^sipscope: capturing on lo \(filter: /m, 'sipscope capture to start');
    } catch (e) {
      if (/needs libpcap|permission denied/.test(capture.stderr)) return t.skip(`live capture not possible here: ${capture.stderr.trim()}`);
      throw e;
    }
    const witness = haveCommand('tcpdump') && haveCommand('tshark') ? join(dir, 'tcpdump.pcap') : undefined;
    let tcpdump: Proc | undefined;
    if (witness) {
      // -Z root: tcpdump would otherwise drop to its own user, who cannot write in our 0700 temp dir.
      // Under coreutils timeout as a backstop; our SIGTERM is passed on to tcpdump, which then closes the file.
      const tcpdumpArgs = ['-i', 'lo', '-n', '-s', '0', '-U', '-Z', 'root', '-w', witness, filter];
      tcpdump = haveCommand('timeout')
        ? new Proc('timeout', ['28', 'tcpdump', ...tcpdumpArgs], { cwd: dir, procs, timeoutMs: 29_000 })
        : new Proc('tcpdump', tcpdumpArgs, { cwd: dir, procs, timeoutMs: 28_000 });
      await waitForStderr(tcpdump, /listening on lo/, 'tcpdump to start');
    } else {
      t.diagnostic('tcpdump or tshark missing: no independent recording of the run');
    }

    // 2. SIPp: the uas first, listening before the uac calls it.
    const uas = startSipp({ role: 'uas', port: uasPort, calls: CALLS, dir, procs, timeoutMs: 20_000 });
    await waitFor(() => udpPortBound(uasPort) !== false || !uas.running, 'the SIPp uas to bind its port', 10_000);
    assert.ok(uas.running, `SIPp uas exited early: ${uas.stderr}${uas.stdout.slice(-2000)}`);
    const uac = startSipp({ role: 'uac', port: uacPort, remote: uasAddr, calls: CALLS, rate: RATE, dir, procs, timeoutMs: 20_000 });

    const uacExit = await uac.exited;
    assert.deepEqual(uacExit, { code: 0, signal: null }, `SIPp uac failed: ${uac.stderr}${uac.stdout.slice(-3000)}`);
    const uasExit = await uas.exited;
    assert.deepEqual(uasExit, { code: 0, signal: null }, `SIPp uas failed: ${uas.stderr}${uas.stdout.slice(-3000)}`);

    // 3. What SIPp says happened, from its own traces (nothing here is a constant).
    assert.deepEqual(readSippCalls(uac), { successful: CALLS, failed: 0 }, 'uac call statistics (-stf)');
    assert.deepEqual(readSippCalls(uas), { successful: CALLS, failed: 0 }, 'uas call statistics (-stf)');
    const uacLog = readShortMessages(uac.shortMessageFile);
    const uasLog = readShortMessages(uas.shortMessageFile);
    const uacCounts = readSippCounts(uac);
    const uasCounts = readSippCounts(uas);
    t.diagnostic(
      `SIPp uac: sent ${uacCounts.sent} (+${uacCounts.retransSent} retrans), received ${uacCounts.received} (+${uacCounts.retransReceived} retrans, ` +
        `${uacCounts.unexpected} unexpected, ${uacCounts.deadCall + uacCounts.outOfCall} discarded); short log ${uacLog.length} lines`,
    );
    t.diagnostic(
      `SIPp uas: sent ${uasCounts.sent} (+${uasCounts.retransSent} retrans), received ${uasCounts.received} (+${uasCounts.retransReceived} retrans, ` +
        `${uasCounts.unexpected} unexpected, ${uasCounts.deadCall + uasCounts.outOfCall} discarded); short log ${uasLog.length} lines`,
    );
    const sent = (log: ShortMessage[]): number => log.filter((m) => m.dir === 'S').length;
    const received = (log: ShortMessage[]): number => log.filter((m) => m.dir === 'R').length;
    // The message log and the counters are two separate SIPp outputs: they must agree.
    assert.equal(sent(uacLog), uacCounts.sent + uacCounts.retransSent, 'uac: sent messages, log vs counters');
    assert.equal(received(uacLog), uacCounts.received + uacCounts.retransReceived + uacCounts.unexpected, 'uac: received messages, log vs counters');
    assert.equal(sent(uasLog), uasCounts.sent + uasCounts.retransSent, 'uas: sent messages, log vs counters');
    assert.equal(received(uasLog), uasCounts.received + uasCounts.retransReceived + uasCounts.unexpected, 'uas: received messages, log vs counters');
    // Loopback loses nothing: what one side sent, the other received.
    assert.equal(sent(uacLog), received(uasLog) + uasCounts.deadCall + uasCounts.outOfCall, 'uac sent = uas received');
    assert.equal(sent(uasLog), received(uacLog) + uacCounts.deadCall + uacCounts.outOfCall, 'uas sent = uac received');
    // Every message between the two ports passed through the uac: its total is the count on the wire.
    const sippTotal = uacCounts.total;
    assert.equal(uacLog.length + uacCounts.deadCall + uacCounts.outOfCall, sippTotal);
    assert.ok(sippTotal >= CALLS * 3, `SIPp reports ${sippTotal} messages for ${CALLS} calls`);
    const expected = multiset(
      uacLog.map((m) => (m.dir === 'S' ? key(uacAddr, uasAddr, m.startLine, m.callId) : key(uasAddr, uacAddr, m.startLine, m.callId))),
    );

    // 4. Stop the capture once it has printed that many (polling, not sleeping), with SIGINT.
    let shown = 0;
    try {
      await waitFor(() => (shown = lines(capture.stdout).length) >= sippTotal || !capture.running, `sipscope to print ${sippTotal} messages`, 10_000);
    } catch {
      // fall through: the count assertion below says what was missing
    }
    capture.child.kill('SIGINT');
    const capExit = await capture.exited;
    assert.deepEqual(capExit, { code: 0, signal: null }, `sipscope capture exit (stderr: ${capture.stderr})`);
    if (tcpdump) {
      tcpdump.child.kill('SIGTERM');
      await tcpdump.exited;
    }

    // 5. sipscope printed exactly the messages SIPp sent and received.
    const records = lines(capture.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    t.diagnostic(`sipscope printed ${records.length} messages (${shown} when stopped); SIPp says ${sippTotal}`);
    assert.equal(records.length, sippTotal, 'sipscope message count = SIPp message count');
    assert.deepEqual(
      multiset(records.map((r) => key(r['src'] as string, r['dst'] as string, startLineOf(r), r['call_id']))),
      expected,
      'the same messages, direction, start line and Call-ID each',
    );
    const t0 = Date.now();
    for (const r of records) {
      assert.equal(r['transport'], 'UDP');
      assert.match(r['time'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.ok(Math.abs(Date.parse(r['time'] as string) - t0) < 60_000, 'live timestamps are about now');
    }
    const summary = /^sipscope: (\d+) SIP messages in (\d+) frames; (\d+) frames written to (.+)$/m.exec(capture.stderr);
    assert.ok(summary, `closing summary on stderr: ${capture.stderr}`);
    assert.equal(Number(summary[1]), sippTotal, 'summary line count');
    assert.equal(summary[2], summary[3], 'every captured frame was written');
    const framesCaptured = Number(summary[2]);

    // 6. The -w file: sipscope messages and tshark both count the same messages in it.
    const reread = await runCli(['messages', '--json', written]);
    assert.equal(reread.code, 0, reread.stderr);
    assert.equal(reread.stderr, '');
    const rereadRecs = lines(reread.stdout).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(rereadRecs.length, sippTotal, 'sipscope messages on the -w file');
    // Same frames, same timestamps (µs are what a pcap keeps and what sipscope prints): identical records.
    assert.deepEqual(rereadRecs, records, 'the -w file reads back as exactly what was printed live');
    // tshark reads both files at once.
    const [ownFile, witnessFile] = await Promise.all([
      haveCommand('tshark') ? tsharkCounts(written, [uacPort, uasPort]) : undefined,
      witness ? tsharkCounts(witness, [uacPort, uasPort]) : undefined,
    ]);
    if (ownFile) {
      assert.equal(ownFile.sip, sippTotal, 'tshark: SIP messages in the -w file');
      assert.equal(ownFile.frames, framesCaptured, 'tshark: frames in the -w file');
    }

    // 7. The independent recording of the same run.
    if (witness && witnessFile) {
      assert.equal(witnessFile.sip, sippTotal, 'tshark: SIP messages in the tcpdump recording');
      assert.equal(witnessFile.frames, framesCaptured, 'tcpdump saw as many frames as sipscope');
      const fromWitness = await runCli(['messages', '--json', witness]);
      assert.equal(fromWitness.code, 0, fromWitness.stderr);
      assert.deepEqual(
        multiset(lines(fromWitness.stdout).map((l) => {
          const r = JSON.parse(l) as Record<string, unknown>;
          return key(r['src'] as string, r['dst'] as string, startLineOf(r), r['call_id']);
        })),
        expected,
        'sipscope messages on the tcpdump recording',
      );
    }
    assert.equal(procs.running, 0, 'every process has ended');
  });
});
