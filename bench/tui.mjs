#!/usr/bin/env node
// Terminal UI benchmark: sipscope's UI and sngrep's, each opened headless in tmux on the same
// capture, in the same run. Not a test: it prints numbers and never fails on them.
//
//   node bench/tui.mjs [FILE ...] [--json] [--timeout S] [--size COLSxROWS]
//
// FILE defaults to bench/out/calls-30000.pcap and its -x5 sibling, those that exist (npm run
// bench records them). For each UI and file it measures, by polling the screen (capture-pane):
//   first screen  seconds from start until the first call row is painted;
//   all calls in  seconds until the UI says it has read the whole file (sipscope: "read in";
//                 sngrep: "Current Mode: Offline" without "(Loading)");
//   calls         how many the UI then says it holds;
//   peak MiB      the UI process's peak resident memory (VmHWM), read before it is stopped;
//   left behind   whether the UI was still running 1 s after its terminal went away (tmux
//                 kill-server, as a closed pane or ssh session), and its CPU use then; it is
//                 killed after that.
// A UI whose call count stops changing for 15 s without saying it is done counts as done at
// its last change (sngrep at its dialog limit can stay "(Loading)" for ever).
// UIs: `sipscope tui FILE`, `sngrep -I FILE` (sngrep keeps at most 20 000 dialogs unless told
// otherwise), and `sngrep -l 100000000 -I FILE` (every call, the fair comparison).
// --json prints one JSON line per file instead of the table (for bench/run.mjs).
import { have, printUsage } from './common.mjs';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'bench', 'out');

function parseArgs(argv) {
  const o = { files: [], json: false, timeout: 600, cols: 160, rows: 50 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--timeout') o.timeout = Number(argv[++i]);
    else if (a === '--size') [o.cols, o.rows] = argv[++i].split('x').map(Number);
    else if (a === '-h' || a === '--help') printUsage(import.meta.url);
    else o.files.push(resolve(a));
  }
  if (!o.files.length) o.files = [join(OUT, 'calls-30000.pcap'), join(OUT, 'calls-30000-x5.pcap')].filter((f) => existsSync(f));
  return o;
}


/** The UIs compared; `row` finds a call row on screen, `done` the end of loading, `calls` the count. */
const UIS = [
  {
    name: 'sipscope tui',
    argv: (f) => [process.execPath, join(ROOT, 'bin', 'sipscope'), 'tui', f],
    available: () => existsSync(join(ROOT, 'dist', 'tui', 'index.js')) || 'sipscope not built (npm run build)',
    row: /^[ *][▾▸ -]\s*\d+ \d\d:\d\d:\d\d\.\d{3} /m,
    done: /read in [\d.]+ s/,
    calls: (s) => Number(/calls (\d+)/.exec(s)?.[1] ?? NaN),
  },
  {
    name: 'sngrep -I',
    argv: (f) => ['sngrep', '-I', f],
    available: () => have('sngrep') || 'sngrep not installed',
    row: /\[[ x*]\] \d+\s+[A-Z]+/,
    done: /Current Mode: Offline(?! \(Loading\))/,
    calls: (s) => Number(/Dialogs: (\d+)/.exec(s)?.[1] ?? NaN),
  },
  {
    name: 'sngrep -l -I',
    argv: (f) => ['sngrep', '-l', '100000000', '-I', f],
    available: () => have('sngrep') || 'sngrep not installed',
    row: /\[[ x*]\] \d+\s+[A-Z]+/,
    done: /Current Mode: Offline(?! \(Loading\))/,
    calls: (s) => Number(/Dialogs: (\d+)/.exec(s)?.[1] ?? NaN),
  },
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' ? null : Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

function peakKiB(pid) {
  try {
    return Number(/VmHWM:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** One UI on one file, in its own tmux server. */
async function measure(ui, file, o, conf) {
  const socket = `sipscope-bench-${process.pid}-${ui.name.replace(/\W+/g, '')}`;
  const tmux = (...args) => spawnSync('tmux', ['-L', socket, '-f', conf, ...args], { encoding: 'utf8' });
  const cmd = `exec env LANG=C.UTF-8 ${ui.argv(file).map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`;
  const t0 = process.hrtime.bigint();
  const since = () => Number(process.hrtime.bigint() - t0) / 1e9;
  const started = tmux('new-session', '-d', '-s', 'b', '-x', String(o.cols), '-y', String(o.rows), cmd);
  if (started.status !== 0) return { error: `tmux: ${started.stderr.trim()}` };
  const [pidText, socketPath] = tmux('list-panes', '-t', 'b', '-F', '#{pane_pid} #{socket_path}').stdout.trim().split(' ');
  const pid = Number(pidText);
  const r = { firstScreen: null, allIn: null, calls: null, peakKiB: null, leftBehind: null, note: null, error: null };
  let screen = '';
  let lastCount = NaN;
  let lastChange = 0;
  try {
    for (;;) {
      screen = tmux('capture-pane', '-p', '-t', 'b').stdout;
      if (r.firstScreen === null && ui.row.test(screen)) r.firstScreen = since();
      if (ui.done.test(screen) && r.firstScreen !== null) {
        r.allIn = since();
        break;
      }
      const count = ui.calls(screen);
      if (count !== lastCount) {
        lastCount = count;
        lastChange = since();
      } else if (r.firstScreen !== null && since() - lastChange > 15) {
        r.allIn = lastChange;
        r.note = `stalled at ${count} calls, not done`;
        break;
      }
      if (tmux('list-panes', '-t', 'b', '-F', '#{pane_dead}').stdout.trim() === '1') {
        r.error = `the UI exited: ${screen.trim().split('\n').pop()}`;
        break;
      }
      if (since() > o.timeout) {
        r.error = `not done after ${o.timeout} s`;
        break;
      }
      await sleep(20);
    }
    await sleep(500); // a last repaint, then the count and the peak
    screen = tmux('capture-pane', '-p', '-t', 'b').stdout;
    r.calls = ui.calls(screen);
    r.peakKiB = peakKiB(pid);
  } finally {
    tmux('kill-server');
    if (socketPath?.includes('sipscope-bench-')) rmSync(socketPath, { force: true });
    // Did the UI go with its terminal? A UI left behind is measured for a second, then killed.
    await sleep(1000);
    const t0 = cpuTicks(pid);
    if (t0 !== null) {
      await sleep(1000);
      const t1 = cpuTicks(pid);
      r.leftBehind = t1 === null ? 'no' : `yes, using ${Math.round((t1 - t0))}% CPU`;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    } else r.leftBehind = 'no';
  }
  return r;
}

const f2 = (x, d = 2) => (x == null || Number.isNaN(x) ? '-' : x.toFixed(d));

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!have('tmux')) {
    console.log('bench/tui: tmux not installed (apt-get install tmux): nothing measured');
    return;
  }
  if (!o.files.length) {
    console.log('bench/tui: no capture given and none in bench/out (npm run bench records one)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sipscope-bench-tui-'));
  const conf = join(dir, 'tmux.conf');
  writeFileSync(conf, 'set -g status off\nset -g remain-on-exit on\n');
  const all = [];
  try {
    for (const file of o.files) {
      const rows = [];
      for (const ui of UIS) {
        const ok = ui.available();
        if (ok !== true) {
          rows.push({ ui: ui.name, skipped: ok });
          continue;
        }
        if (!o.json) process.stdout.write(`bench/tui: ${basename(file)}: ${ui.name} ... `);
        const r = await measure(ui, file, o, conf);
        if (!o.json) console.log(r.error ?? `first screen ${f2(r.firstScreen)} s, all in ${f2(r.allIn, 1)} s, ${r.calls} calls, ${f2(r.peakKiB / 1024, 1)} MiB, left behind: ${r.leftBehind}${r.note ? ` (${r.note})` : ''}`);
        rows.push({ ui: ui.name, ...r });
      }
      const by = (n) => rows.find((x) => x.ui === n && !x.skipped && !x.error);
      const ours = by('sipscope tui');
      const theirs = by('sngrep -l -I') ?? by('sngrep -I');
      const ratios = ours && theirs ? {
        against: theirs.ui,
        firstScreen: theirs.firstScreen / ours.firstScreen,
        allIn: theirs.allIn / ours.allIn,
        memory: ours.peakKiB / theirs.peakKiB,
      } : null;
      all.push({ file: basename(file), rows, ratios });
      if (o.json) {
        const s = ratios
          ? `first screen ${f2(ours.firstScreen)} s vs ${f2(theirs.firstScreen)} s, all in ${f2(ours.allIn, 1)} s vs ${f2(theirs.allIn, 1)} s, peak ${f2(ours.peakKiB / 1024, 0)} vs ${f2(theirs.peakKiB / 1024, 0)} MiB (${theirs.ui})`
          : 'no comparison';
        console.log(JSON.stringify({ file: basename(file), rows, ratios, summary: s }));
        continue;
      }
      console.log('');
      console.log(`${basename(file)}  (tmux ${o.cols}x${o.rows})`);
      console.log(`${'UI'.padEnd(14)} ${'first screen'.padStart(12)} ${'all calls in'.padStart(12)} ${'calls'.padStart(8)} ${'peak MiB'.padStart(9)}  left behind when its terminal closed`);
      for (const x of rows) {
        if (x.skipped || x.error) console.log(`${x.ui.padEnd(14)} ${x.skipped ?? x.error}`);
        else console.log(`${x.ui.padEnd(14)} ${`${f2(x.firstScreen)} s`.padStart(12)} ${`${f2(x.allIn, 1)} s`.padStart(12)} ${String(x.calls).padStart(8)} ${f2(x.peakKiB / 1024, 1).padStart(9)}  ${x.leftBehind}${x.note ? `; ${x.note}` : ''}`);
      }
      if (ratios) {
        console.log(`ratios against ${ratios.against}: first screen ${f2(ratios.firstScreen)}x as fast, all calls in ${f2(ratios.allIn)}x as fast, peak memory ${f2(ratios.memory)}x of sngrep's`);
      }
      console.log('');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!o.json) {
    writeFileSync(join(OUT, 'tui-results.json'), JSON.stringify({ at: new Date().toISOString(), files: all }, null, 2) + '\n');
    console.log(`bench/tui: wrote ${join('bench', 'out', 'tui-results.json')}`);
  }
}

main().catch((e) => {
  console.error(`bench/tui: ${e.stack ?? e}`);
  process.exit(1);
});
