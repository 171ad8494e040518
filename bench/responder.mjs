#!/usr/bin/env node
// Responder benchmark: `sipscope serve` under SIPp load, next to Kamailio doing the same job, in
// one run. Not a test: it prints numbers (and writes bench/out/responder.json) and never fails
// on timing.
//
//   node bench/responder.mjs [--users N] [--flows N] [--limit N] [--runs N] [--calls N] [--rates a,b,c]
//                            [--only register|b2bua] [--shed-busy F] [--cpu-prof DIR] [--json]
//
// 1. REGISTER with digest: SIPp runs test/helpers/sipp-responder/register.xml (REGISTER, 401,
//    REGISTER with credentials, 200) for --flows flows over --users users from an injection file,
//    at a high rate with at most --limit flows open at once (-buff_size 8388608
//    -max_recv_loops 20000 -max_sched_loops 20000 -trace_stat -stf), against
//      - `sipscope serve --quiet` (one Node process), and
//      - Kamailio 5.6 with an in-memory registrar: tm, sl, pv, maxfwd, textops, htable,
//        usrloc (db_mode 0), registrar, auth; the same users in an htable filled in
//        event_route[htable:mod-init]; pv_auth_check + auth_challenge (qop=auth); 4 children.
//    Flows/s = SIPp's successful flows / SIPp's elapsed time, the best of --runs runs (the two
//    servers take turns, so a busy moment of the machine hits both); the ratio sipscope /
//    Kamailio (goal >= 0.5).
// 2. B2BUA calls: a SIPp uas registered as a user, SIPp's built-in uac calling it through
//    `sipscope serve --quiet` at each rate of --rates (default 1000,2000,3000,4000 calls/s) for
//    --calls calls, up to the first rate that is not clean; the highest offered rate with zero
//    failed calls on both SIPp sides (goal >= 1 000 calls/s).
// --shed-busy F runs `sipscope serve --shed-busy F` (503 for part of the new calls while the
// server is busier than F): at a rate past capacity, compare the calls that succeed with and
// without it.
// --cpu-prof DIR runs sipscope under `node --cpu-prof --cpu-prof-dir DIR` and prints the top
// self-time functions of each profile.
// Everything talks to 127.0.0.1 only; every process started here is ended by its pid.
import { have, printUsage } from './common.mjs';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');
const SCENARIOS = join(ROOT, 'test', 'helpers', 'sipp-responder');
const SIPP_FAST = ['-buff_size', '8388608', '-max_recv_loops', '20000', '-max_sched_loops', '20000'];

function parseArgs(argv) {
  const o = { users: 1000, flows: 60000, limit: 400, runs: 3, calls: 10000, rates: [1000, 2000, 3000, 4000], only: null, cpuProf: null, json: false, shedBusy: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--users') o.users = parseInt(val(), 10);
    else if (a === '--flows') o.flows = parseInt(val(), 10);
    else if (a === '--limit') o.limit = parseInt(val(), 10);
    else if (a === '--runs') o.runs = Math.max(1, parseInt(val(), 10));
    else if (a === '--calls') o.calls = parseInt(val(), 10);
    else if (a === '--rates') o.rates = val().split(',').map(Number).filter((n) => n > 0);
    else if (a === '--only') o.only = val();
    else if (a === '--cpu-prof') o.cpuProf = resolve(val());
    else if (a === '--shed-busy') o.shedBusy = val();
    else if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') printUsage(import.meta.url);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let quietLog = false;
const log = (s) => {
  if (!quietLog) console.log(s);
};

/** Free UDP ports on 127.0.0.1, bound by the kernel then released. */
async function freePorts(n) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise((r, j) => {
      s.once('error', j);
      s.bind(0, '127.0.0.1', r);
    });
    socks.push(s);
  }
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** A child we started; stop() ends it by its own pid. */
function start(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = { child, out: '', err: '' };
  child.stdout.setEncoding('utf8').on('data', (c) => (p.out = (p.out + c).slice(-65536)));
  child.stderr.setEncoding('utf8').on('data', (c) => (p.err = (p.err + c).slice(-65536)));
  p.exited = new Promise((r) => child.once('close', (code, signal) => r({ code, signal })));
  p.stop = async (signal = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const r = await p.exited;
    clearTimeout(t);
    return r;
  };
  running.add(p);
  p.exited.then(() => running.delete(p));
  return p;
}
const running = new Set();
async function stopAll() {
  await Promise.all([...running].map((p) => p.stop()));
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    void stopAll().then(() => process.exit(130));
  });
}

async function waitFor(cond, what, ms = 15_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The last row of a SIPp -stf file, by column name. */
function sippStats(file) {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  const head = lines[0].split(';');
  const last = lines[lines.length - 1].split(';');
  const col = (name) => last[head.indexOf(name)];
  // ElapsedTime(C) has whole seconds only; StartTime and CurrentTime end with the epoch in µs.
  const epoch = (v) => Number(String(v ?? '').split('\t').pop());
  return {
    elapsed: epoch(col('CurrentTime')) - epoch(col('StartTime')),
    successful: Number(col('SuccessfulCall(C)')),
    failed: Number(col('FailedCall(C)')),
    retransmissions: Number(col('Retransmissions(C)')),
  };
}

/** Runs SIPp to completion; returns its statistics and the wall time. */
async function sipp(dir, tag, args, timeoutSec) {
  const stf = join(dir, `${tag}.csv`);
  const full = [...args, '-nostdin', '-timeout', `${timeoutSec}s`, '-trace_stat', '-stf', stf, '-fd', '1', ...SIPP_FAST];
  const t0 = process.hrtime.bigint();
  const p = start('sipp', full, { cwd: dir });
  const r = await p.exited;
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!existsSync(stf)) throw new Error(`sipp ${tag}: no statistics (exit ${r.code}): ${p.err.slice(-800)}`);
  return { ...sippStats(stf), wall, code: r.code };
}

// ---------------------------------------------------------------------------------------------
// Servers

async function startSipscope(dir, port, usersFile, extra, cpuProf) {
  const node = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : [];
  const p = start(process.execPath, [...node, join(ROOT, 'bin', 'sipscope'), 'serve', '--listen', `udp:127.0.0.1:${port}`, '--users', usersFile, '--quiet', ...extra], { cwd: dir });
  await waitFor(() => /serving on/.test(p.err) || p.child.exitCode !== null, 'sipscope serve');
  if (!/serving on/.test(p.err)) throw new Error(`sipscope serve: ${p.err}`);
  return p;
}

function kamailioConfig(port, users) {
  return `#!KAMAILIO
# In-memory digest registrar for the sipscope responder benchmark (generated by bench/responder.mjs).
debug=0
log_stderror=yes
memdbg=5
memlog=5
children=4
listen=udp:127.0.0.1:${port}
disable_tcp=yes
auto_aliases=no
dns=no
rev_dns=no

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "htable.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"

modparam("htable", "htable", "users=>size=14;")
modparam("usrloc", "db_mode", 0)

event_route[htable:mod-init] {
${users.map(([u, p]) => `  $sht(users=>${u}) = "${p}";`).join('\n')}
}

request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (is_method("REGISTER")) {
    if (!pv_auth_check("$td", "$sht(users=>$tU)", "0", "1")) {
      auth_challenge("$td", "1");
      exit;
    }
    if (!save("location")) sl_reply_error();
    exit;
  }
  sl_send_reply("404", "Not Found");
}
`;
}

async function startKamailio(dir, port, users) {
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioConfig(port, users));
  const check = spawnSync('kamailio', ['-c', '-f', cfg], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`kamailio -c: ${check.stderr.slice(-1500)}`);
  const p = start('kamailio', ['-f', cfg, '-DD', '-E', '-w', dir, '-P', join(dir, 'kamailio.pid')], { cwd: dir });
  // Ready when it answers an OPTIONS (404 from the script).
  const s = dgram.createSocket('udp4');
  let answered = false;
  s.on('message', () => (answered = true));
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const probe = Buffer.from(`OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${s.address().port};branch=z9hG4bKprobe${Date.now()}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1>\r\nCall-ID: probe-${Date.now()}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
  try {
    await waitFor(() => {
      if (p.child.exitCode !== null) return true;
      s.send(probe, port, '127.0.0.1');
      return answered;
    }, 'kamailio to answer', 20_000);
  } finally {
    s.close();
  }
  if (!answered) throw new Error(`kamailio exited: ${p.err.slice(-1500)}`);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Profiles

/** Top self-time functions of a .cpuprofile (V8's format), as "percent  function  file:line". */
function topOfProfile(file, n = 25) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const self = new Map();
  const dt = prof.timeDeltas ?? [];
  const byId = new Map(prof.nodes.map((x) => [x.id, x]));
  let total = 0;
  (prof.samples ?? []).forEach((id, i) => {
    const d = dt[i] ?? 0;
    total += d;
    self.set(id, (self.get(id) ?? 0) + d);
  });
  const byFn = new Map();
  for (const [id, t] of self) {
    const cf = byId.get(id)?.callFrame;
    if (!cf) continue;
    const key = `${cf.functionName || '(anonymous)'}  ${(cf.url || '').replace(/^file:\/\//, '').replace(`${ROOT}/`, '')}:${cf.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
  }
  return [...byFn.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
}

// ---------------------------------------------------------------------------------------------

async function registerBench(o, dir, users) {
  const usersFile = join(dir, 'users.csv');
  writeFileSync(usersFile, users.map(([u, p]) => `${u},${p}\n`).join(''));
  const inf = join(dir, 'register.inf');
  writeFileSync(inf, `SEQUENTIAL\n${users.map(([u, p]) => `${u};[authentication username=${u} password=${p}];5999\n`).join('')}`);
  let n = 0;
  const runOne = async (name, port) => {
    const [lport] = await freePorts(1);
    log(`bench: REGISTER flows against ${name}: ${o.flows} flows, ${o.users} users, at most ${o.limit} open ...`);
    const r = await sipp(dir, `register-${++n}`, [
      '-sf', join(SCENARIOS, 'register.xml'), '-inf', inf, `127.0.0.1:${port}`, '-i', '127.0.0.1', '-p', String(lport),
      '-r', '100000', '-rp', '1000', '-l', String(o.limit), '-m', String(o.flows), '-default_behaviors', 'all,-bye',
    ], 300);
    const rate = r.successful / r.elapsed;
    log(`  ${r.successful} successful, ${r.failed} failed, ${r.retransmissions} retransmissions in ${r.elapsed.toFixed(2)} s: ${Math.round(rate)} flows/s`);
    return { ...r, flowsPerSecond: rate };
  };
  const out = {};
  const [sPort, kPort] = await freePorts(2);
  const profDir = o.cpuProf ? join(o.cpuProf, 'register') : null;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const servers = [{ key: 'sipscope', name: 'sipscope serve', port: sPort, start: () => startSipscope(dir, sPort, usersFile, ['--realm', '127.0.0.1'], profDir), stop: 'SIGINT' }];
  if (have('kamailio')) servers.push({ key: 'kamailio', name: 'kamailio', port: kPort, start: () => startKamailio(dir, kPort, users), stop: 'SIGTERM' });
  else out.kamailio = { skipped: 'kamailio not installed (apt-get install kamailio)' };
  const procs = [];
  try {
    for (const sv of servers) procs.push(await sv.start());
    for (let run = 1; run <= o.runs; run++) {
      for (const sv of servers) {
        const r = await runOne(`${sv.name} (run ${run}/${o.runs})`, sv.port);
        (out[sv.key] ??= { runs: [] }).runs.push(r);
      }
    }
  } finally {
    for (const [i, p] of procs.entries()) await p.stop(servers[i].stop);
  }
  for (const sv of servers) {
    const clean = out[sv.key].runs.filter((r) => r.failed === 0);
    const best = (clean.length ? clean : out[sv.key].runs).reduce((a, b) => (b.flowsPerSecond > a.flowsPerSecond ? b : a));
    Object.assign(out[sv.key], best);
  }
  if (out.sipscope?.flowsPerSecond && out.kamailio?.flowsPerSecond) out.ratio = out.sipscope.flowsPerSecond / out.kamailio.flowsPerSecond;
  if (profDir) out.profile = profiles(profDir);
  return out;
}

function profiles(profDir) {
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  return files.map((f) => ({ file: join(profDir, f), top: topOfProfile(join(profDir, f)) }));
}

async function b2buaBench(o, dir) {
  const usersFile = join(dir, 'b2bua-users.csv');
  writeFileSync(usersFile, o.rates.map((r) => `callee${r},calleepw\n`).join(''));
  const [sPort] = await freePorts(1);
  const profDir = o.cpuProf ? join(o.cpuProf, 'b2bua') : null;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const shed = o.shedBusy ? ['--shed-busy', o.shedBusy] : [];
  const s = await startSipscope(dir, sPort, usersFile, ['--realm', '127.0.0.1', ...shed], profDir);
  const steps = [];
  try {
    for (const rate of o.rates) {
      const [uasPort, uacPort, regPort] = await freePorts(3);
      log(`bench: B2BUA calls at ${rate}/s: ${o.calls} calls (SIPp uac -> sipscope -> SIPp uas) ...`);
      const uasStf = join(dir, `uas-${rate}.csv`);
      const uas = start('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', String(o.calls), '-nostdin', '-timeout', '120s',
        '-trace_stat', '-stf', uasStf, '-fd', '1', ...SIPP_FAST], { cwd: dir });
      await sleep(300);
      const inf = join(dir, `reg-${rate}.inf`);
      // Each rate has its own callee user, so no call forks to the previous rate's (gone) uas.
      writeFileSync(inf, `SEQUENTIAL\ncallee${rate};[authentication username=callee${rate} password=calleepw];${uasPort}\n`);
      const reg = await sipp(dir, `reg-${rate}`, ['-sf', join(SCENARIOS, 'register.xml'), '-inf', inf, `127.0.0.1:${sPort}`, '-i', '127.0.0.1', '-p', String(regPort), '-m', '1', '-default_behaviors', 'all,-bye'], 20);
      if (reg.successful !== 1) throw new Error(`the uas could not register (callee${rate})`);
      const uac = await sipp(dir, `uac-${rate}`, ['-sn', 'uac', `127.0.0.1:${sPort}`, '-s', `callee${rate}`, '-i', '127.0.0.1', '-p', String(uacPort), '-r', String(rate), '-m', String(o.calls)], 120);
      const uasDone = await Promise.race([uas.exited, sleep(15_000).then(() => null)]);
      if (!uasDone) await uas.stop('SIGINT');
      const u = existsSync(uasStf) ? sippStats(uasStf) : { successful: NaN, failed: NaN };
      const achieved = uac.successful / uac.elapsed;
      const step = { rate, uac, uas: u, callsPerSecond: achieved, clean: uac.failed === 0 && u.failed === 0 && uac.successful === o.calls && u.successful === o.calls };
      steps.push(step);
      log(`  uac ${uac.successful} ok / ${uac.failed} failed, uas ${u.successful} ok / ${u.failed} failed, ${uac.retransmissions} retransmissions, ${uac.elapsed.toFixed(2)} s: ${Math.round(achieved)} calls/s${step.clean ? '' : '  (not clean)'}`);
      if (!step.clean) break;
    }
  } finally {
    await s.stop('SIGINT');
  }
  // The goal is a rate sustained with zero failed calls: the highest offered rate that ran clean
  // (SIPp's measured rate sits a little under the offered one: its first and last second).
  const clean = steps.filter((x) => x.clean);
  const best = clean.length ? clean.reduce((a, b) => (b.rate > a.rate ? b : a)) : null;
  const out = { steps, bestCleanCallsPerSecond: best ? best.callsPerSecond : null, bestCleanRate: best ? best.rate : null };
  if (profDir) out.profile = profiles(profDir);
  return out;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  quietLog = o.json;
  for (const cmd of ['sipp']) {
    if (!have(cmd)) {
      const msg = `${cmd} not installed (apt-get install sip-tester): responder benchmark skipped`;
      if (o.json) console.log(JSON.stringify({ skipped: msg }));
      else console.log(`bench: ${msg}`);
      return;
    }
  }
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('sipscope is not built (npm run build)');
  mkdirSync(OUT, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'sipscope-bench-responder-'));
  const users = Array.from({ length: o.users }, (_, i) => [`u${String(i + 1).padStart(5, '0')}`, `p${String(i + 1).padStart(5, '0')}x`]);
  const load = loadavg();
  if (load[0] > 0.5) log(`bench: note: load average ${load.map((l) => l.toFixed(2)).join(' ')} before the runs; the machine is busy, numbers will be noisy`);
  const result = { started: new Date().toISOString(), machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadavgBefore: load }, options: o };
  try {
    if (!o.only || o.only === 'register') result.register = await registerBench(o, dir, users);
    if (!o.only || o.only === 'b2bua') result.b2bua = await b2buaBench(o, dir);
  } finally {
    await stopAll();
    if (!o.cpuProf) rmSync(dir, { recursive: true, force: true });
  }
  result.machine.loadavgAfter = loadavg();
  result.finished = new Date().toISOString();
  writeFileSync(join(OUT, 'responder.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (o.json) {
    console.log(JSON.stringify(summary(result)));
    return;
  }
  console.log('');
  for (const line of report(result)) console.log(line);
  for (const part of ['register', 'b2bua']) {
    for (const p of result[part]?.profile ?? []) {
      console.log(`\nCPU profile (${part}) ${p.file}: top self time`);
      for (const l of p.top) console.log(`  ${l}`);
    }
  }
  console.log(`\nbench: wrote ${join('bench', 'out', 'responder.json')}`);
}

/** The numbers in one object (what bench/run.mjs shows). */
export function summary(r) {
  return {
    sipscopeFlowsPerSecond: r.register?.sipscope?.flowsPerSecond ?? null,
    kamailioFlowsPerSecond: r.register?.kamailio?.flowsPerSecond ?? null,
    registerRatio: r.register?.ratio ?? null,
    b2buaCallsPerSecond: r.b2bua?.bestCleanCallsPerSecond ?? null,
    b2buaRate: r.b2bua?.bestCleanRate ?? null,
    kamailio: r.register?.kamailio?.skipped ?? undefined,
  };
}

function report(r) {
  const s = summary(r);
  const f = (n) => (n == null ? 'n/a' : Math.round(n).toLocaleString('en-US'));
  const lines = ['what                                   value           goal'];
  lines.push('-------------------------------------  --------------  -----------------');
  lines.push(`REGISTER+auth flows/s, sipscope serve  ${f(s.sipscopeFlowsPerSecond).padStart(14)}`);
  lines.push(`REGISTER+auth flows/s, Kamailio        ${(s.kamailio ? 'skipped' : f(s.kamailioFlowsPerSecond)).padStart(14)}`);
  lines.push(`ratio sipscope / Kamailio              ${(s.registerRatio == null ? 'n/a' : `${s.registerRatio.toFixed(2)}x`).padStart(14)}  >= 0.50x  ${s.registerRatio == null ? '' : s.registerRatio >= 0.5 ? 'met' : 'NOT met'}`);
  lines.push(`B2BUA calls/s offered, zero failed     ${f(s.b2buaRate).padStart(14)}  >= 1 000  ${s.b2buaRate == null ? 'NOT met' : s.b2buaRate >= 1000 ? 'met' : 'NOT met'}`);
  lines.push(`B2BUA calls/s measured by SIPp         ${f(s.b2buaCallsPerSecond).padStart(14)}`);
  for (const st of r.b2bua?.steps ?? []) lines.push(`  at ${st.rate}/s: ${f(st.callsPerSecond)} calls/s, uac failed ${st.uac.failed}, uas failed ${st.uas.failed}, ${st.uac.retransmissions} retransmissions`);
  return lines;
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  main().catch(async (e) => {
    await stopAll();
    console.error(`bench: ${e.stack ?? e}`);
    process.exit(1);
  });
}
