import { groupRecords, type CallRecord } from '../model/index.js';
import { analyzeFile, type ModelOptions } from './analyze.js';
import { Output } from './output.js';

const pad = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

function time(iso: string | number | null): string {
  return typeof iso === 'string' ? iso.replace('T', ' ').replace('Z', '') : '-';
}

function who(r: CallRecord): string {
  const from = r.from_user ?? '?';
  const to = r.kind === 'call' ? r.to_user ?? '?' : r.to_user ?? '';
  return r.kind === 'registration' ? String(to || from) : `${from} -> ${to}`;
}

function auth(r: CallRecord): string {
  if (!r.auth_result) return '-';
  return `${r.auth_result}${r.auth_user ? `(${r.auth_user})` : ''}`;
}

function hangup(r: CallRecord): string {
  if (r.kind !== 'call') return r.kind === 'registration' && r.expires !== null ? `expires ${r.expires}` : '';
  return [r.hangup_by, r.hangup_cause].filter(Boolean).join(' ');
}

export const TABLE_HEADER = `${pad('START (UTC)', 24)} ${pad('KIND', 12)} ${pad('FROM -> TO', 24)} ${pad('STATUS', 12)} ${pad('CODE', 4)} ${pad('DUR', 8)} ${pad('PDD', 7)} ${pad('HANGUP', 26)} ${pad('AUTH', 18)} ${pad('LEG', 3)} CALL-ID`;

/** One table row for people. */
export function tableRow(r: CallRecord): string {
  const dur = r.duration_s === null ? '-' : `${r.duration_s}s`;
  const pdd = r.pdd_ms === null ? '-' : `${r.pdd_ms}ms`;
  const leg = String(r.leg ?? "");
  const rel = r.related_call_ids ? `  (legs: ${r.related_call_ids})` : '';
  return `${pad(time(r.start_time), 24)} ${pad(String(r.kind), 12)} ${pad(who(r), 24)} ${pad(String(r.status ?? '-'), 12)} ${pad(String(r.final_code ?? '-'), 4)} ${pad(dur, 8)} ${pad(pdd, 7)} ${pad(hangup(r), 26)} ${pad(auth(r), 18)} ${pad(leg, 3)} ${r.call_id}${rel}`;
}

export async function callsCommand(file: string, opts: ModelOptions & { json?: boolean }): Promise<void> {
  const out = new Output();
  if (!opts.json) out.line(TABLE_HEADER);
  await analyzeFile(file, opts, (g) => {
    for (const r of groupRecords(g)) out.line(opts.json ? JSON.stringify(r) : tableRow(r));
  }, { keepMessages: false }, () => out.flush()); // records need no message lists
  await out.flush();
}
