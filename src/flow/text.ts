import type { Arrow, Ladder } from './ladder.js';


function clock(t: number): string {
  const d = new Date(Math.floor(t) * 1000);
  if (Number.isNaN(d.getTime())) return String(t);
  const us = Math.round((t - Math.floor(t)) * 1e6);
  return `${d.toISOString().slice(11, 19)}.${String(Math.min(us, 999999)).padStart(6, '0')}`;
}

export function arrowLabel(a: Arrow): string {
  return `${a.label}${a.sdp ? ' (SDP)' : ''}${a.retransmission ? ` [retransmission ${a.retransmission}]` : ''}`;
}

function center(text: string, width: number, fill: string): string {
  const t = text.length > width - 2 ? text.slice(0, width - 3) + '…' : text;
  const left = Math.floor((width - t.length) / 2);
  return fill.repeat(left) + t + fill.repeat(width - t.length - left);
}

/**
 * The ladder as text, in the style of the seed chapter's diagrams: one column per endpoint,
 * arrows labelled with method or status and (SDP), time and delta on each line.
 */
export function renderText(l: Ladder): string {
  const n = l.lifelines.length;
  // Wide enough for the longest label between neighbouring lifelines.
  const COL = Math.max(30, ...l.arrows.map((a) => arrowLabel(a).length + 8), ...l.lifelines.map((x) => x.address.length + 4));
  const lines: string[] = [];
  const prefix = ' '.repeat(28);
  const names = l.lifelines.map((x) => center(x.role || ' ', COL, ' ')).join('');
  const addrs = l.lifelines.map((x) => center(x.address, COL, ' ')).join('');
  lines.push(`Call-ID: ${l.callIds.join(', ')}`);
  lines.push(prefix + names);
  lines.push(prefix + addrs);
  const idle = (): string[] => Array.from({ length: n }, () => center('|', COL, ' '));
  for (const a of l.arrows) {
    const cells = idle();
    const lo = Math.min(a.from, a.to);
    const hi = Math.max(a.from, a.to);
    const label = arrowLabel(a);
    if (lo === hi) {
      cells[lo] = center(`<${label}>`, COL, ' ');
    } else {
      // The arrow runs from the middle of the `lo` column to the middle of the `hi` column.
      const half = Math.floor((COL - 1) / 2);
      const span = (hi - lo) * COL;
      let body = center(` ${label} `, span - 1, '-');
      body = a.to > a.from ? body.slice(0, -1) + '>' : '<' + body.slice(1);
      const row = cells.join('');
      const start = lo * COL + half;
      const text = row.slice(0, start) + '|' + body + row.slice(start + span);
      lines.push(`${clock(a.time)} ${`+${a.delta.toFixed(3)}`.padStart(10)}   ${text.trimEnd()}`);
      continue;
    }
    lines.push(`${clock(a.time)} ${`+${a.delta.toFixed(3)}`.padStart(10)}   ${cells.join('').trimEnd()}`);
  }
  return lines.join('\n') + '\n';
}
