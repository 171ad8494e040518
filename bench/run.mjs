#!/usr/bin/env node
// sipscope benchmark: `npm run bench` (= node bench/run.mjs [options]).
//
// Measures sipscope against peer tools on the same captures in one run and prints ratios.
// It is a benchmark, not a test: it prints numbers (and writes bench/out/results.json) and
// never fails on timing. See bench/README.md.
//
// Options:
//   --runs N          runs per tool and file; the best wall time counts, the highest peak RSS (default 3)
//   --calls N         calls in the base capture (default 30000; the x5 file has 5 times as many)
//   --tools a,b       only the tools whose name contains one of these words
//   --files base,x5   only these files (default both)
//   --timeout S       stop a single run after S seconds and report it as timed out (default 900)
//   --repeat-under S  repeat a tool on a file only while its first run took < S seconds (default 120)
//   --recount         count the messages again instead of using bench/out/*.messages.json
//   --no-responder    skip the responder section (bench/responder.mjs: `sipscope serve` under SIPp
//                     load next to Kamailio; also skipped when --tools names no "responder")
import { have, printUsage } from './common.mjs';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, createReadStream } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const NODE = process.execPath;
const GNU_TIME = '/usr/bin/time';

// ---------------------------------------------------------------------------------------------
// What is measured. One line per tool: `argv(file)` is the command, run with cwd = repository
// root; `needs()` returns true or the reason the row is skipped; `reported(stdout)` pulls the
// tool's own count out of its output (shown next to the tshark count, for a sanity check).
// To benchmark another command (say `sipscope export csv FILE -o /dev/null` against sngrep),
// add a line here and, if wanted, a line in RATIOS below.
// ---------------------------------------------------------------------------------------------
const TOOLS = [
  { name: 'sipscope stats', kind: 'product', argv: (f) => [NODE, 'bin/sipscope', 'stats', f], needs: sipscopeBuilt, reported: sipscopeCount },
  { name: 'sipscope export csv', kind: 'product', argv: (f) => [NODE, 'bin/sipscope', 'export', 'csv', f, '-o', '/dev/null'], needs: sipscopeBuilt },
  { name: 'sngrep', kind: 'peer', argv: (f) => ['sngrep', '-N', '-q', '-I', f, '-O', '/dev/null'], needs: onPath('sngrep'), reported: sngrepDialogs },
  { name: 'sngrep -l', kind: 'peer', argv: (f) => ['sngrep', '-N', '-q', '-l', '100000000', '-I', f, '-O', '/dev/null'], needs: onPath('sngrep'), reported: sngrepDialogs },
  // The terminal UIs, headless in tmux (bench/tui.mjs): time to the first call row and peak memory
  // of `sipscope tui` and of sngrep; its seconds are of the whole comparison, its notes the numbers.
  { name: 'UI: sipscope tui vs sngrep', kind: 'reference', argv: (f) => [NODE, 'bench/tui.mjs', '--json', f], needs: onPath('tmux'), reported: (out) => { try { return JSON.parse(out.trim().split('\n').pop()).summary; } catch { return undefined; } } },
  { name: 'tshark sip,stat', kind: 'peer', argv: (f) => ['tshark', '-r', f, '-q', '-z', 'sip,stat'], needs: onPath('tshark'), reported: tsharkSipStat },
  { name: 'bare walk', kind: 'reference', argv: (f) => [NODE, 'bench/bare-walk.mjs', f], reported: jsonField('callIdHeaders', 'Call-ID headers') },
  { name: 'pcap-parser walk', kind: 'reference', argv: (f) => [NODE, '--no-deprecation', 'bench/pcap-parser-walk.mjs', f], needs: pcapParserInstalled, reported: jsonField('packets', 'packets') },
];

// Ratios printed under the table. 'rate': throughput of `of` / throughput of `over`, per file.
// 'memory': peak RSS of `of` on the x5 file / on the base file.
const RATIOS = [
  { metric: 'rate', of: 'sipscope stats', over: 'sngrep', goal: '>= 3x', met: (r) => r >= 3 },
  { metric: 'rate', of: 'sipscope stats', over: 'sngrep -l', goal: '>= 3x', met: (r) => r >= 3 },
  { metric: 'rate', of: 'sipscope stats', over: 'tshark sip,stat', goal: '(for the record)' },
  { metric: 'memory', of: 'sipscope stats', goal: 'flat, ~1.0', met: (r) => r <= 1.25 },
  // The full dialog model (issue 3): calls, legs, digest checks, records to CSV.
  { metric: 'rate', of: 'sipscope export csv', over: 'sngrep', goal: '>= 2x', met: (r) => r >= 2 },
  { metric: 'rate', of: 'sipscope export csv', over: 'sngrep -l', goal: '>= 2x', met: (r) => r >= 2 },
  { metric: 'memory', of: 'sipscope export csv', goal: 'flat, ~1.0', met: (r) => r <= 1.25 },
];

// ---------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = { runs: 3, calls: 30000, tools: null, files: ['base', 'x5'], timeout: 900, repeatUnder: 120, recount: false, responder: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--runs') o.runs = Math.max(1, parseInt(val(), 10));
    else if (a === '--calls') o.calls = parseInt(val(), 10);
    else if (a === '--tools') o.tools = val().split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--files') o.files = val().split(',').map((s) => s.trim());
    else if (a === '--timeout') o.timeout = Number(val());
    else if (a === '--repeat-under') o.repeatUnder = Number(val());
    else if (a === '--recount') o.recount = true;
    else if (a === '--no-responder') o.responder = false;
    else if (a === '-h' || a === '--help') printUsage(import.meta.url);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function onPath(cmd) {
  return () => have(cmd) || `${cmd} not installed`;
}

function sipscopeBuilt() {
  if (!existsSync(join(ROOT, 'bin', 'sipscope'))) return 'sipscope: not built (no bin/sipscope)';
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) return 'sipscope: not built (no dist/cli/main.js; npm run build)';
  return true;
}

function pcapParserInstalled() {
  for (const dir of [join(ROOT, 'node_modules'), join(OUT, 'node_modules')]) {
    if (existsSync(join(dir, 'pcap-parser'))) return true;
  }
  return 'pcap-parser not installed (npm install --prefix bench/out --no-save pcap-parser)';
}

// The report format of `sipscope stats` is the product's ("SIP messages  180 000 (...)" today):
// take the number after "messages", digits grouped by spaces, commas or underscores.
function sipscopeCount(stdout) {
  const m = /messages?\b[^\d\n]{0,20}(\d(?:[\d,_ \u00a0\u202f]*\d)?)/i.exec(stdout);
  return m ? `${m[1].replace(/\D/g, '')} messages` : undefined;
}

function sngrepDialogs(stdout) {
  // sngrep -N prints "Dialog count: N" with carriage returns while it reads.
  const all = [...stdout.matchAll(/Dialog count:\s*(\d+)/g)];
  return all.length ? `${all[all.length - 1][1]} dialogs` : undefined;
}

function tsharkSipStat(stdout) {
  const m = /Number of SIP messages:\s*(\d+)/.exec(stdout);
  return m ? `${m[1]} messages` : undefined;
}

function jsonField(field, label) {
  return (stdout) => {
    try {
      return `${JSON.parse(stdout.trim().split('\n').pop())[field]} ${label}`;
    } catch {
      return undefined;
    }
  };
}

/** Run argv once; resolve { seconds, peakKiB, cpuSeconds, code, signal, timedOut, stdout, stderr }. */
function measure(argv, timeoutSec) {
  const useTime = existsSync(GNU_TIME);
  const tmp = mkdtempSync(join(tmpdir(), 'sipscope-bench-'));
  const timeFile = join(tmp, 'time');
  const cmd = useTime ? [GNU_TIME, '-f', '%e %M %U %S', '-o', timeFile, ...argv] : argv;
  return new Promise((resolvePromise) => {
    const t0 = process.hrtime.bigint();
    // detached: own process group, so a timeout can stop GNU time and the tool together.
    const child = spawn(cmd[0], cmd.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunks) => (d) => {
      chunks.push(d);
      if (chunks.length > 64) chunks.splice(0, chunks.length - 64); // keep the tail only
    };
    const out = [];
    const err = [];
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    let peakPolledKiB = 0;
    const poll = useTime ? null : setInterval(() => {
      try {
        const m = /VmHWM:\s*(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakPolledKiB = Math.max(peakPolledKiB, Number(m[1]));
      } catch { /* gone */ }
    }, 10);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutSec * 1000);
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      let peakKiB = peakPolledKiB || null;
      let cpuSeconds = null;
      let exitCode = code;
      if (useTime && existsSync(timeFile)) {
        const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
        // On a non-zero exit GNU time writes "Command exited with non-zero status N" first.
        const m = /^([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/.exec(lines[lines.length - 1] ?? '');
        if (m) {
          peakKiB = Number(m[2]);
          cpuSeconds = Number(m[3]) + Number(m[4]);
        }
        const st = /non-zero status (\d+)/.exec(lines[0] ?? '');
        if (st) exitCode = Number(st[1]);
      }
      rmSync(tmp, { recursive: true, force: true });
      resolvePromise({
        seconds, peakKiB, cpuSeconds, code: exitCode, signal, timedOut,
        stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

// tshark's SIP dissection slows down worse than linearly over one long file (see README), so
// the count runs on slices of COUNT_SLICE frames cut with editcap; on these captures (UDP, one
// message per datagram) that is exact.
const COUNT_SLICE = Number(process.env.BENCH_COUNT_SLICE) || 200000;

/** Count SIP start lines in one file with tshark: { requests, responses, frames }. */
async function tsharkCount(file) {
  // SDP is switched off: it is not needed to find start lines, and Wireshark's SDP dissector
  // slows down badly on thousands of calls offering the same media address. -E occurrence=a
  // joins several messages of one frame with ','; every request line ends with and every
  // status line starts with "SIP/2.0", so those are counted.
  const argv = ['tshark', '--disable-protocol', 'sdp', '-r', file, '-Y', 'sip && !icmp', '-T', 'fields',
    '-e', 'sip.Request-Line', '-e', 'sip.Status-Line', '-E', 'occurrence=a'];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  const closed = new Promise((r) => child.on('close', r));
  let requests = 0;
  let responses = 0;
  let frames = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    if (!line) continue;
    frames++;
    const [req = '', status = ''] = line.split('\t');
    requests += (req.match(/SIP\/2\.0/g) ?? []).length;
    responses += (status.match(/SIP\/2\.0/g) ?? []).length;
  }
  const code = await closed;
  if (code !== 0) throw new Error(`tshark exited with ${code} while counting ${file}`);
  return { requests, responses, frames, command: argv.join(' ').replace(file, 'FILE') };
}

/** Count SIP messages (request and status lines) with tshark; cached next to the file. */
async function countMessages(file, recount) {
  const st = statSync(file);
  const cacheFile = join(OUT, `${basename(file)}.messages.json`);
  if (!recount && existsSync(cacheFile)) {
    try {
      const c = JSON.parse(readFileSync(cacheFile, 'utf8'));
      if (c.size === st.size && c.mtimeMs === st.mtimeMs) return { ...c, cached: true };
    } catch { /* recount */ }
  }
  const t0 = process.hrtime.bigint();
  let result;
  if (onPath('tshark')() === true) {
    let slices = [file];
    let tmp = null;
    if (onPath('editcap')() === true) {
      tmp = mkdtempSync(join(OUT, '.count-'));
      const r = spawnSync('editcap', ['-c', String(COUNT_SLICE), file, join(tmp, 'slice.pcap')], { stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0) throw new Error(`editcap failed on ${file}`);
      slices = readdirSync(tmp).sort().map((n) => join(tmp, n));
    }
    try {
      const sum = { requests: 0, responses: 0, frames: 0 };
      let command;
      for (const slice of slices) {
        const c = await tsharkCount(slice);
        sum.requests += c.requests;
        sum.responses += c.responses;
        sum.frames += c.frames;
        command = c.command;
      }
      result = { messages: sum.requests + sum.responses, ...sum, by: 'tshark', command,
        slices: tmp ? `${slices.length} x ${COUNT_SLICE} frames (editcap -c)` : 'whole file' };
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  } else {
    const r = await measure([NODE, 'bench/bare-walk.mjs', file], 3600);
    const j = JSON.parse(r.stdout.trim());
    result = { messages: j.callIdHeaders, by: 'bare walk (Call-ID headers; tshark not installed)' };
  }
  const c = { file: basename(file), size: st.size, mtimeMs: st.mtimeMs, ...result, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  writeFileSync(cacheFile, JSON.stringify(c, null, 2) + '\n');
  return c;
}

function warmCache(file) {
  return new Promise((r, j) => createReadStream(file, { highWaterMark: 8 << 20 }).on('data', () => {}).on('end', r).on('error', j));
}

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 || r.stdout ? `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim())?.trim() : undefined;
}

const fmt = {
  int: (n) => (n == null ? '-' : Math.round(n).toLocaleString('en-US')),
  sec: (s) => (s == null ? '-' : s.toFixed(s < 10 ? 3 : 1)),
  mib: (k) => (k == null ? '-' : (k / 1024).toFixed(1)),
  ratio: (r) => (r == null || !Number.isFinite(r) ? '-' : `${r.toFixed(2)}x`),
};

function table(rows, header) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 || i === 1 || i === cells.length - 1 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const started = new Date();
  const loadBefore = loadavg();
  if (loadBefore[0] > 0.5) {
    console.log(`bench: note: load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before the runs; the machine is busy, times will be noisy`);
  }

  // 1. Captures.
  const base = join(OUT, `calls-${opt.calls}.pcap`);
  const files = [
    { key: 'base', path: base },
    { key: 'x5', path: base.replace(/\.pcap$/, '-x5.pcap') },
  ].filter((f) => opt.files.includes(f.key));
  if (files.some((f) => !existsSync(f.path) || statSync(f.path).size === 0)) {
    console.log(`bench: recording captures (bench/make-capture.sh ${opt.calls}) ...`);
    const env = { ...process.env };
    if (!opt.files.includes('x5')) env.NO_X5 = '1';
    const r = spawnSync('bash', [join(ROOT, 'bench', 'make-capture.sh'), String(opt.calls), base], { cwd: ROOT, stdio: 'inherit', env });
    if (r.status !== 0) {
      console.error('bench: make-capture.sh failed');
      process.exit(1);
    }
  }

  // 2. Tools.
  const tools = TOOLS.filter((t) => !opt.tools || opt.tools.some((w) => t.name.includes(w)));
  const skipped = new Map();
  for (const t of tools) {
    const ok = t.needs ? t.needs() : true;
    if (ok !== true) skipped.set(t.name, ok);
  }
  for (const [name, why] of skipped) console.log(name.startsWith('sipscope') ? why : `${name}: skipped (${why})`);
  const active = tools.filter((t) => !skipped.has(t.name));
  if (!existsSync(GNU_TIME)) console.log(`bench: ${GNU_TIME} missing (apt-get install time); peak RSS is polled from /proc (less exact)`);

  // 3. Messages per file.
  for (const f of files) {
    f.bytes = statSync(f.path).size;
    process.stdout.write(`bench: counting SIP messages in ${basename(f.path)} ... `);
    const c = await countMessages(f.path, opt.recount);
    f.messages = c.messages;
    f.count = c;
    console.log(`${fmt.int(c.messages)} (by ${c.by.split(' ')[0]} in ${fmt.sec(c.seconds)} s${c.cached ? '; cached in bench/out, --recount to redo' : ''})`);
  }

  // 4. Runs: per file, the tools take turns (run 1 of every tool, then run 2, ...).
  const results = [];
  for (const f of files) {
    await warmCache(f.path);
    const rows = active.map((t) => ({ tool: t.name, kind: t.kind, file: f.key, path: f.path, command: t.argv(f.path).map((a) => (a === NODE ? 'node' : a)).join(' '), messages: f.messages, runs: [], notes: [] }));
    for (let run = 1; run <= opt.runs; run++) {
      for (const [i, t] of active.entries()) {
        const row = rows[i];
        if (row.stop) continue;
        process.stdout.write(`bench: ${f.key} run ${run}/${opt.runs} ${t.name} ... `);
        const r = await measure(t.argv(f.path), opt.timeout);
        const rec = { seconds: r.seconds, peakKiB: r.peakKiB, cpuSeconds: r.cpuSeconds, exitCode: r.code, signal: r.signal, timedOut: r.timedOut };
        row.runs.push(rec);
        if (r.timedOut) {
          console.log(`timed out after ${opt.timeout} s`);
          row.notes.push(`timed out after ${opt.timeout} s`);
          row.stop = true;
          continue;
        }
        if (r.code !== 0) {
          const why = (r.stderr.trim().split('\n').pop() || r.stdout.trim().split('\n').pop() || '').slice(0, 160);
          console.log(`exit ${r.code}${r.signal ? ` (${r.signal})` : ''}: ${why}`);
          row.notes.push(`exit ${r.code}: ${why}`);
          row.stop = true;
          continue;
        }
        row.reported = t.reported?.(r.stdout) ?? row.reported;
        console.log(`${fmt.sec(r.seconds)} s (cpu ${fmt.sec(r.cpuSeconds)} s), ${fmt.mib(r.peakKiB)} MiB`);
        if (run === 1 && r.seconds >= opt.repeatUnder && opt.runs > 1) {
          row.notes.push(`1 run (first took >= ${opt.repeatUnder} s)`);
          row.stop = true;
        }
      }
    }
    for (const row of rows) {
      const ok = row.runs.filter((r) => r.exitCode === 0 && !r.timedOut);
      row.ok = ok.length > 0;
      row.bestSeconds = ok.length ? Math.min(...ok.map((r) => r.seconds)) : null;
      row.bestCpuSeconds = ok.some((r) => r.cpuSeconds != null) ? Math.min(...ok.map((r) => r.cpuSeconds ?? Infinity)) : null;
      row.peakKiB = row.runs.some((r) => r.peakKiB != null) ? Math.max(...row.runs.map((r) => r.peakKiB ?? 0)) : null;
      row.msgsPerSec = row.bestSeconds ? row.messages / row.bestSeconds : null;
      if (row.runs.some((r) => r.timedOut)) row.lowerBoundSeconds = opt.timeout;
      delete row.stop;
      results.push(row);
    }
  }

  // 5. Report.
  const byKey = (tool, file) => results.find((r) => r.tool === tool && r.file === file);
  console.log('');
  console.log(table(
    results.map((r) => [r.tool, r.file, fmt.int(r.messages),
      r.bestSeconds != null ? fmt.sec(r.bestSeconds) : r.lowerBoundSeconds ? `>${r.lowerBoundSeconds}` : 'failed',
      r.msgsPerSec != null ? fmt.int(r.msgsPerSec) : r.lowerBoundSeconds ? `<${fmt.int(r.messages / r.lowerBoundSeconds)}` : '-',
      fmt.sec(r.bestCpuSeconds), fmt.mib(r.peakKiB), String(r.runs.length), [r.reported, ...r.notes].filter(Boolean).join('; ')]),
    ['tool', 'file', 'messages', 'seconds', 'msgs/s', 'cpu s', 'peak MiB', 'runs', 'tool says / notes'],
  ));
  for (const [name, why] of skipped) console.log(name.startsWith('sipscope') ? why : `${name}: skipped (${why})`);

  const ratios = [];
  const selected = new Set(tools.map((t) => t.name));
  for (const q of RATIOS.filter((q) => selected.has(q.of) && (!q.over || selected.has(q.over)))) {
    if (q.metric === 'rate') {
      for (const f of files) {
        const a = byKey(q.of, f.key);
        const b = byKey(q.over, f.key);
        const value = a?.msgsPerSec && b?.msgsPerSec ? a.msgsPerSec / b.msgsPerSec : null;
        // A timed-out `over` gives a lower bound for the ratio.
        const atLeast = value == null && a?.msgsPerSec && b?.lowerBoundSeconds ? a.msgsPerSec / (b.messages / b.lowerBoundSeconds) : null;
        ratios.push({ label: `${q.of} / ${q.over} throughput`, file: f.key, value: value ?? atLeast, atLeast: atLeast != null, goal: q.goal, met: (value ?? atLeast) != null && q.met ? q.met(value ?? atLeast) : null });
      }
    } else if (q.metric === 'memory') {
      const a = byKey(q.of, 'base');
      const b = byKey(q.of, 'x5');
      const value = a?.peakKiB && b?.peakKiB && a.ok && b.ok ? b.peakKiB / a.peakKiB : null;
      ratios.push({ label: `${q.of} peak memory x5 / base`, file: 'x5/base', value, goal: q.goal, met: value != null && q.met ? q.met(value) : null });
    }
  }
  console.log('');
  console.log(table(
    ratios.map((r) => [r.label, r.file, r.value == null ? 'n/a' : `${r.atLeast ? '>' : ''}${fmt.ratio(r.value)}`, r.goal, r.met == null ? '' : r.met ? 'met' : 'NOT met']),
    ['ratio', 'file', 'value', 'goal', ''],
  ));
  // Memory growth of every tool, for context.
  if (files.length === 2) {
    const growth = active.map((t) => {
      const a = byKey(t.name, 'base');
      const b = byKey(t.name, 'x5');
      return `${t.name} ${a?.peakKiB && b?.peakKiB ? fmt.ratio(b.peakKiB / a.peakKiB) : 'n/a'}`;
    });
    console.log(`\npeak memory x5 / base: ${growth.join(', ')}`);
  }

  // 6. The responder (a section of its own: a server under SIPp load, not a capture reader).
  let responder = null;
  if (opt.responder && (!opt.tools || opt.tools.some((w) => 'responder'.includes(w) || w.includes('responder')))) {
    console.log('\nbench: responder (node bench/responder.mjs --json; run it alone for details and --cpu-prof) ...');
    const r = spawnSync(NODE, [join(ROOT, 'bench', 'responder.mjs'), '--json'], { cwd: ROOT, encoding: 'utf8', timeout: 1_800_000 });
    try {
      responder = JSON.parse(r.stdout.trim().split('\n').pop());
    } catch {
      responder = { failed: `exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').pop()}` };
    }
    if (responder.skipped || responder.failed) console.log(`responder: ${responder.skipped ?? responder.failed}`);
    else {
      const n = (v) => (v == null ? 'n/a' : fmt.int(v));
      console.log(table([
        ['REGISTER+auth flows/s, sipscope serve', n(responder.sipscopeFlowsPerSecond), '', ''],
        ['REGISTER+auth flows/s, Kamailio', responder.kamailio ?? n(responder.kamailioFlowsPerSecond), '', ''],
        ['ratio sipscope / Kamailio', responder.registerRatio == null ? 'n/a' : fmt.ratio(responder.registerRatio), '>= 0.5x', responder.registerRatio == null ? '' : responder.registerRatio >= 0.5 ? 'met' : 'NOT met'],
        ['B2BUA calls/s offered, zero failed', n(responder.b2buaRate), '>= 1000', responder.b2buaRate == null ? 'NOT met' : responder.b2buaRate >= 1000 ? 'met' : 'NOT met'],
        ['B2BUA calls/s measured by SIPp', n(responder.b2buaCallsPerSecond), '', ''],
      ], ['responder', 'value', 'goal', '']));
    }
  }

  const out = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    machine: {
      cpus: cpus().length, cpuModel: cpus()[0]?.model, memGiB: +(totalmem() / 2 ** 30).toFixed(1), node: process.version,
      sngrep: firstLine('sngrep', ['-V']), tshark: firstLine('tshark', ['-v']), gnuTime: existsSync(GNU_TIME),
      loadavgBefore: loadBefore, loadavgAfter: loadavg(),
    },
    options: opt,
    files: files.map(({ key, path, bytes, messages, count }) => ({ key, path: path.replace(`${ROOT}/`, ''), bytes, messages, count })),
    results: results.map((r) => ({ ...r, path: r.path.replace(`${ROOT}/`, ''), command: r.command.replaceAll(`${ROOT}/`, '') })),
    skipped: Object.fromEntries(skipped),
    ratios,
    responder,
  };
  writeFileSync(join(OUT, 'results.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`\nbench: wrote ${join('bench', 'out', 'results.json')}`);
}

main().catch((e) => {
  console.error(`bench: ${e.stack ?? e}`);
  process.exit(1);
});
