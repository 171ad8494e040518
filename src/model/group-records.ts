import type { SessionGroup } from './analyzer.js';
import { buildRecord, type CallRecord } from './record.js';

/** A call alone (nearly every group) names no other legs and has no link evidence. */
const NONE: readonly string[] = Object.freeze([]);

/**
 * Records of one emitted group: legs lettered a, b, c… in order of their first INVITE, each
 * naming the other legs' Call-IDs and the confidence and evidence of its link.
 */
export function groupRecords(g: SessionGroup): CallRecord[] {
  if (g.sessions.length === 1 && !g.links.length) return [buildRecord(g.sessions[0]!, null, NONE, null, NONE)];
  const linked = g.sessions.length > 1;
  return g.sessions.map((s, i) => {
    const related = linked ? g.sessions.filter((x) => x !== s).map((x) => x.callId) : NONE;
    const mine = g.links.filter((l) => l.a === s || l.b === s);
    const confidence = mine.length ? Math.min(...mine.map((l) => l.confidence)) : null;
    const evidence = mine.flatMap((l) => l.evidence);
    return buildRecord(s, linked ? String.fromCharCode(97 + Math.min(i, 25)) : null, related, confidence, evidence);
  });
}
