import { writeFileSync } from 'node:fs';
import { SipscopeError } from '../capture/index.js';
import { buildLadder, renderHtml, renderMermaid, renderSvg, renderText, type Ladder } from '../flow/index.js';
import type { Session, SessionGroup } from '../model/index.js';
import { analyzeFile, type ModelOptions } from './analyze.js';

export interface FlowOptions extends ModelOptions {
  call: string;
  legs?: boolean;
  format?: string;
  output?: string;
}

const RENDERERS: Record<string, (l: Ladder) => string> = { text: renderText, mermaid: renderMermaid, svg: (l) => renderSvg(l), html: (l) => renderHtml(l) };
const FORMATS = Object.keys(RENDERERS);

/** `flow`: the ladder diagram of one call, or of all its B2BUA legs with --legs. */
export async function flowCommand(file: string, opts: FlowOptions): Promise<void> {
  const format = opts.format ?? 'text';
  if (!FORMATS.includes(format)) throw new SipscopeError('E_USAGE', `unknown --format "${format}" (one of: ${FORMATS.join(', ')})`);
  const sessions: Session[] = [];
  const links: SessionGroup['links'] = [];
  await analyzeFile(file, opts, (g) => {
    if (!g.sessions.some((s) => s.callId === opts.call)) return;
    for (const s of opts.legs ? g.sessions : g.sessions.filter((x) => x.callId === opts.call)) sessions.push(s);
    if (opts.legs) links.push(...g.links);
  });
  if (!sessions.length) throw new SipscopeError('E_NO_CALL', `no call with Call-ID "${opts.call}" in ${file} (see: sipscope calls ${file})`);
  // Legs in order of their first message: the a-leg's caller ends up on the left.
  sessions.sort((a, b) => a.firstTime - b.firstTime);
  const ladder = buildLadder({ sessions, links });
  const text = RENDERERS[format]!(ladder);
  if (opts.output && opts.output !== '-') writeFileSync(opts.output, text);
  else process.stdout.write(text);
}
