/**
 * tshark as a reference decoder for the corpus tests: which frames carry SIP start lines and
 * which Call-IDs it sees. Fields are read with an aggregator and a separator that cannot occur
 * in a SIP line (U+0001, U+0002), passed as real characters through execFile arguments.
 */
import { execFile, spawnSync } from 'node:child_process';

const AGG = '\x01';
const SEP = '\x02';

let available: string | null | undefined;

/** tshark's version line, or null when it is not installed (or does not run). */
export function tsharkVersion(): string | null {
  if (available === undefined) {
    const r = spawnSync('tshark', ['--version'], { encoding: 'utf8', timeout: 30_000 });
    available = r.status === 0 ? (r.stdout.split('\n')[0] ?? 'tshark').trim() : null;
  }
  return available;
}

/** What tshark decoded as SIP in one frame (a TCP frame may complete several messages). */
export interface TsharkFrame {
  frame: number;
  /** Request-Lines and Status-Lines, requests first (tshark reports them as two fields). */
  startLines: string[];
  callIds: string[];
}

export interface TsharkSip {
  frames: TsharkFrame[];
  /** Number of SIP start lines (= messages). */
  messages: number;
  callIds: Set<string>;
  args: string[];
}

function split(field: string | undefined): string[] {
  return field ? field.split(AGG).filter((s) => s.length > 0) : [];
}

/**
 * Runs tshark over `file` and returns its SIP messages per frame. `extra` goes before the
 * filter (e.g. ['-d', 'tcp.port==6060,sip']). ICMP errors quoting a SIP packet are excluded:
 * they are not messages.
 */
export function tsharkSip(file: string, extra: string[] = []): Promise<TsharkSip> {
  const args = [
    '-n', '-r', file, ...extra,
    '-Y', 'sip && !icmp && !icmpv6',
    '-T', 'fields',
    '-e', 'frame.number', '-e', 'sip.Request-Line', '-e', 'sip.Status-Line', '-e', 'sip.Call-ID',
    '-E', 'occurrence=a', '-E', `aggregator=${AGG}`, '-E', `separator=${SEP}`, '-E', 'header=n',
  ];
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`tshark ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        return;
      }
      const frames: TsharkFrame[] = [];
      let messages = 0;
      const callIds = new Set<string>();
      for (const line of stdout.split('\n')) {
        if (!line) continue;
        const [num, req, status, cid] = line.split(SEP);
        const startLines = [...split(req), ...split(status)];
        const ids = split(cid);
        messages += startLines.length;
        for (const id of ids) callIds.add(id);
        frames.push({ frame: Number(num), startLines, callIds: ids });
      }
      resolve({ frames, messages, callIds, args });
    });
  });
}

/** Number of frames tshark's display filter matches (e.g. 'tls', 'http'). */
export function tsharkCount(file: string, filter: string, extra: string[] = []): Promise<number> {
  const args = ['-n', '-r', file, ...extra, '-Y', filter, '-T', 'fields', '-e', 'frame.number'];
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tshark ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout.split('\n').filter((l) => l.length > 0).length);
    });
  });
}
