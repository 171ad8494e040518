import type { Ladder } from './ladder.js';
import { arrowLabel } from './text.js';

/** Mermaid's sequence-diagram text cannot hold ';' or '#' unescaped in messages. */
function safe(s: string): string {
  return s.replace(/[;#]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** The ladder as a Mermaid sequence diagram (https://mermaid.js.org/syntax/sequenceDiagram.html). */
export function renderMermaid(l: Ladder): string {
  const out = ['sequenceDiagram'];
  l.lifelines.forEach((x, i) => out.push(`  participant P${i} as ${safe(x.role ? `${x.role} ${x.address}` : x.address)}`));
  for (const a of l.arrows) {
    const time = new Date(a.time * 1000).toISOString().slice(11, 23);
    const arrow = a.isRequest ? '->>' : '-->>';
    out.push(`  P${a.from}${arrow}P${a.to}: ${safe(`${time} ${arrowLabel(a)}`)}`);
  }
  return out.join('\n') + '\n';
}
