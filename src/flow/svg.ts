import type { Arrow, Ladder } from './ladder.js';

/**
 * The ladder as a standalone SVG picture, to paste into a ticket: one lifeline per endpoint
 * (role and address in a box at the top and again at the bottom), one arrow per message (request
 * solid with a filled head, response dashed with an open head), labels with method or status,
 * (SDP) and retransmissions, the time and delta of each message in a left margin, and each leg in
 * its own colour with a legend naming its Call-ID. Everything essential is drawn with
 * presentation attributes (no external fonts, no scripts), so it reads the same in any viewer.
 */

export interface SvgOptions {
  /** Heading above the diagram (default "SIP call flow"). */
  title?: string;
}

/** Leg colours: dark enough for text on white, far apart in hue. */
export const LEG_COLOURS = ['#1f5fbf', '#c0392b', '#1e8449', '#7d3c98', '#b35900', '#117a8b', '#a3336f', '#5d6d7e'];

export function legColour(leg: number): string {
  return LEG_COLOURS[((leg % LEG_COLOURS.length) + LEG_COLOURS.length) % LEG_COLOURS.length]!;
}

const SANS = "'DejaVu Sans', 'Liberation Sans', 'Segoe UI', Helvetica, Arial, sans-serif";
const MONO = "'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, ui-monospace, monospace";

/** Characters XML 1.0 cannot hold at all (controls, lone surrogates, U+FFFE/FFFF). */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text for XML/HTML content or a quoted attribute: anything taken from a capture goes through here. */
export function escapeXml(s: string): string {
  return s.replace(NOT_XML, '\uFFFD').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Shortens to at most `max` characters, with an ellipsis. */
function clip(s: string, max: number): string {
  const chars = [...s.replace(/\s+/g, ' ')];
  return chars.length > max ? chars.slice(0, max - 1).join('') + '…' : chars.join('');
}

/**
 * A generous estimate of the width of sans-serif text (DejaVu Sans, the widest of the usual
 * fallbacks), so that labels never overflow the space computed for them.
 */
function sansWidth(s: string, size: number, bold = false): number {
  let w = 0;
  for (const c of s) {
    if (c === ' ') w += 0.32;
    else if (/[A-Z]/.test(c)) w += c === 'M' || c === 'W' ? 0.86 : c === 'I' || c === 'J' ? 0.33 : 0.72;
    else if (/[0-9]/.test(c)) w += 0.64;
    else if (/[a-z]/.test(c)) w += c === 'm' || c === 'w' ? 0.92 : 'iljtf'.includes(c) ? 0.33 : 0.61;
    else if ('.,:;|!\'()[]'.includes(c)) w += 0.36;
    else w += 0.8;
  }
  return w * size * (bold ? 1.1 : 1);
}

function monoWidth(s: string, size: number): number {
  return [...s].length * size * 0.61;
}

/** 13:31:39.938 (UTC; truncated, as the text ladder's 13:31:39.938891). */
export function clockMillis(t: number): string {
  const d = new Date(Math.floor(t * 1000 + 1e-6));
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().slice(11, 23);
}

function dateOf(t: number): string {
  const d = new Date(Math.round(t * 1000));
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 10);
}

function deltaText(a: Arrow): string {
  return `+${a.delta.toFixed(3)}`;
}

interface LabelParts {
  main: string;
  sdp: boolean;
  retrans: string;
}

function labelParts(a: Arrow): LabelParts {
  return { main: clip(a.label, 44), sdp: a.sdp, retrans: a.retransmission ? ` [retransmission ${a.retransmission}]` : '' };
}

function labelWidth(p: LabelParts): number {
  return sansWidth(p.main, 13) + (p.sdp ? sansWidth(' (SDP)', 13, true) : 0) + (p.retrans ? sansWidth(p.retrans, 12) : 0);
}

const f = (n: number): string => String(Math.round(n * 10) / 10);

// Geometry (pixels).
const PAD = 16;
const ROW = 34;
const BOX_H = 42;
const HEAD = 9;

/** The ladder as a standalone SVG document (UTF-8 text). */
export function renderSvg(l: Ladder, opts: SvgOptions = {}): string {
  const n = Math.max(1, l.lifelines.length);
  const title = clip(opts.title ?? 'SIP call flow', 100);
  const roles = l.lifelines.map((x) => clip(x.role, 28));
  const addrs = l.lifelines.map((x) => clip(x.address, 48));
  const labels = l.arrows.map(labelParts);
  const legs = l.callIds.length ? l.callIds : [...new Set(l.arrows.map((a) => a.callId))];

  // Left margin: message number, time, delta.
  const numW = monoWidth(String(l.arrows.length), 12);
  const timeX = PAD + 10 + numW + 10;
  // (Loops, not Math.max(...list): a long call has more arrows than a call may pass arguments.)
  let deltaW = monoWidth('+0.000', 12);
  for (const a of l.arrows) deltaW = Math.max(deltaW, monoWidth(deltaText(a), 12));
  const deltaRight = timeX + monoWidth('00:00:00.000', 12) + 12 + deltaW;
  const lanes0 = deltaRight + 24;

  // Column width: room for every header box, and for every label over the columns it spans.
  const boxW = l.lifelines.map((_, i) => Math.max(sansWidth(roles[i]!, 13, true), monoWidth(addrs[i]!, 12)) + 24);
  let col = Math.max(170, ...boxW.map((w) => w + 24));
  l.arrows.forEach((a, i) => {
    const span = Math.abs(a.to - a.from);
    // A message to itself loops out to the right of its lifeline, its label beside the loop.
    col = Math.max(col, span === 0 ? labelWidth(labels[i]!) + 72 : (labelWidth(labels[i]!) + 36) / span);
  });
  col = Math.ceil(col);
  const laneX = (i: number): number => lanes0 + col / 2 + i * col;
  const lanesW = n * col;

  // Header: title, legend of legs, key of styles.
  const first = l.arrows[0];
  const subtitle = [first ? dateOf(first.time) : '', 'times UTC', `${l.arrows.length} message${l.arrows.length === 1 ? '' : 's'}`, `${legs.length} leg${legs.length === 1 ? '' : 's'}`].filter(Boolean).join(' · ');
  const legendIds = legs.map((id) => clip(id, 90));
  const legendW = Math.max(0, ...legendIds.map((id) => 40 + sansWidth('leg 0 ', 12, true) + sansWidth('Call-ID ', 12) + monoWidth(id, 12)));
  const titleW = sansWidth(title, 16, true) + 16 + sansWidth(subtitle, 12);
  const keyW = 560;
  const width = Math.ceil(Math.max(lanes0 + lanesW + PAD, PAD * 2 + legendW, PAD * 2 + titleW, PAD * 2 + keyW));

  const out: string[] = [];
  let y = PAD + 16;
  out.push(`<text x="${PAD}" y="${y}" font-size="16" font-weight="bold" fill="#1b1f23">${escapeXml(title)}</text>`);
  out.push(`<text x="${f(PAD + sansWidth(title, 16, true) + 16)}" y="${y}" font-size="12" fill="#57606a">${escapeXml(subtitle)}</text>`);
  y += 12;
  legendIds.forEach((id, leg) => {
    y += 20;
    const c = legColour(leg);
    out.push(`<g class="legend" data-leg="${leg}">`);
    out.push(`<line x1="${PAD}" y1="${y - 4}" x2="${PAD + 28}" y2="${y - 4}" stroke="${c}" stroke-width="3"/>`);
    const lx = PAD + 36;
    out.push(`<text x="${lx}" y="${y}" font-size="12" fill="${c}"><tspan font-weight="bold">leg ${leg + 1}</tspan><tspan fill="#57606a"> Call-ID </tspan><tspan font-family="${MONO}" fill="${c}">${escapeXml(id)}</tspan></text>`);
    out.push('</g>');
  });
  // Key: what the line styles mean.
  y += 22;
  {
    const k = '#57606a';
    let x = PAD;
    out.push(`<g class="key" font-size="12" fill="${k}">`);
    out.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 24}" y2="${y - 4}" stroke="${k}" stroke-width="1.6"/><path d="M${x + 32} ${y - 4} l-${HEAD} -4 v8 z" fill="${k}"/>`);
    out.push(`<text x="${x + 38}" y="${y}">request</text>`);
    x += 38 + sansWidth('request', 12) + 20;
    out.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 25}" y2="${y - 4}" stroke="${k}" stroke-width="1.6" stroke-dasharray="6 4"/><path d="M${x + 23} ${y - 8} l${HEAD} 4 l-${HEAD} 4" fill="none" stroke="${k}" stroke-width="1.6"/>`);
    out.push(`<text x="${x + 38}" y="${y}">response</text>`);
    x += 38 + sansWidth('response', 12) + 20;
    out.push(`<text x="${x}" y="${y}"><tspan font-weight="bold">(SDP)</tspan> body carries SDP</text>`);
    x += sansWidth('(SDP) body carries SDP', 12) + 20;
    out.push(`<text x="${x}" y="${y}" font-style="italic">faded, [retransmission n]: a retransmission</text>`);
    out.push('</g>');
  }
  y += 16;

  // Lifelines with header boxes at the top and the bottom.
  const top = y;
  const rows0 = top + BOX_H + 8;
  const bottom = rows0 + l.arrows.length * ROW + 10;
  const height = Math.ceil(bottom + BOX_H + PAD);
  const boxes: string[] = [];
  const box = (i: number, by: number, cls: string): void => {
    const x = laneX(i);
    const w = boxW[i]!;
    boxes.push(`<g class="${cls}" data-lifeline="${i}">`);
    boxes.push(`<rect x="${f(x - w / 2)}" y="${f(by)}" width="${f(w)}" height="${BOX_H}" rx="5" fill="#eef2f7" stroke="#6e7781" stroke-width="1"/>`);
    if (roles[i]) {
      boxes.push(`<text class="role" x="${f(x)}" y="${f(by + 17)}" text-anchor="middle" font-size="13" font-weight="bold" fill="#1b1f23">${escapeXml(roles[i]!)}</text>`);
      boxes.push(`<text class="address" x="${f(x)}" y="${f(by + 33)}" text-anchor="middle" font-size="12" font-family="${MONO}" fill="#24292f">${escapeXml(addrs[i]!)}</text>`);
    } else {
      boxes.push(`<text class="address" x="${f(x)}" y="${f(by + 25)}" text-anchor="middle" font-size="12" font-family="${MONO}" fill="#24292f">${escapeXml(addrs[i]!)}</text>`);
    }
    boxes.push('</g>');
  };

  // Layers: row stripes, lifelines, then the arrows (each with a transparent row to hover).
  const stripes: string[] = [];
  const body: string[] = [];
  const lifelines: string[] = [];
  l.lifelines.forEach((_, i) => lifelines.push(`<line class="lifeline" x1="${f(laneX(i))}" y1="${f(top + BOX_H)}" x2="${f(laneX(i))}" y2="${f(bottom)}" stroke="#8c959f" stroke-width="1.5"/>`));
  l.lifelines.forEach((_, i) => box(i, top, 'lifeline-head'));
  l.lifelines.forEach((_, i) => box(i, bottom, 'lifeline-foot'));

  l.arrows.forEach((a, i) => {
    const c = legColour(a.leg);
    const rowTop = rows0 + i * ROW;
    const ly = rowTop + ROW - 9; // the arrow's line
    const stripe = i % 2 ? '#ffffff' : '#f6f8fa';
    const p = labels[i]!;
    const opacity = a.retransmission ? ' opacity="0.55"' : '';
    const cls = ['arrow', a.isRequest ? 'request' : 'response', a.sdp ? 'sdp' : '', a.retransmission ? 'retransmission' : ''].filter(Boolean).join(' ');
    const tip = `${i + 1}. ${clockMillis(a.time)} ${a.label}${a.sdp ? ' (SDP)' : ''}${p.retrans} · ${l.lifelines[a.from]?.address ?? ''} → ${l.lifelines[a.to]?.address ?? ''} · ${a.callId}`;
    body.push(`<g class="${cls}" data-i="${i}" data-leg="${a.leg}" tabindex="0">`);
    body.push(`<title>${escapeXml(clip(tip, 300))}</title>`);
    stripes.push(`<rect class="stripe" x="0" y="${f(rowTop)}" width="${width}" height="${ROW}" fill="${stripe}"/>`);
    body.push(`<rect class="row" x="0" y="${f(rowTop)}" width="${width}" height="${ROW}" fill="#ffd54a" fill-opacity="0"/>`);
    body.push(`<rect x="${PAD}" y="${f(rowTop + 6)}" width="4" height="${ROW - 12}" fill="${c}"/>`);
    body.push(`<text class="num" x="${f(timeX - 10)}" y="${f(ly + 4)}" text-anchor="end" font-size="11" font-family="${MONO}" fill="#6e7781">${i + 1}</text>`);
    body.push(`<text class="time" x="${f(timeX)}" y="${f(ly + 4)}" font-size="12" font-family="${MONO}" fill="#24292f">${escapeXml(clockMillis(a.time))}</text>`);
    body.push(`<text class="delta" x="${f(deltaRight)}" y="${f(ly + 4)}" text-anchor="end" font-size="12" font-family="${MONO}" fill="${a.delta >= 1 ? '#b35900' : '#6e7781'}"${a.delta >= 1 ? ' font-weight="bold"' : ''}>${escapeXml(deltaText(a))}</text>`);
    const x1 = laneX(a.from);
    const x2 = laneX(a.to);
    const dash = a.isRequest ? '' : ' stroke-dasharray="7 4"';
    let lx: number;
    let anchor: string;
    if (a.from === a.to) {
      // A loop out to the right and back.
      body.push(`<path class="line" d="M${f(x1)} ${f(ly - 10)} h26 v10 h-${26 - HEAD}" fill="none" stroke="${c}" stroke-width="1.6"${dash}${opacity}/>`);
      body.push(a.isRequest
        ? `<path class="head" d="M${f(x1)} ${f(ly)} l${HEAD} -4 v8 z" fill="${c}"${opacity}/>`
        : `<path class="head" d="M${f(x1 + HEAD)} ${f(ly - 4)} l-${HEAD} 4 l${HEAD} 4" fill="none" stroke="${c}" stroke-width="1.6"${opacity}/>`);
      lx = x1 + 34;
      anchor = 'start';
    } else {
      const dir = x2 > x1 ? 1 : -1;
      body.push(`<line class="line" x1="${f(x1)}" y1="${f(ly)}" x2="${f(x2 - dir * (a.isRequest ? HEAD : 2))}" y2="${f(ly)}" stroke="${c}" stroke-width="1.6"${dash}${opacity}/>`);
      body.push(a.isRequest
        ? `<path class="head" d="M${f(x2)} ${f(ly)} l${-dir * HEAD} -4.5 v9 z" fill="${c}"${opacity}/>`
        : `<path class="head" d="M${f(x2 - dir * HEAD)} ${f(ly - 4.5)} l${dir * HEAD} 4.5 l${-dir * HEAD} 4.5" fill="none" stroke="${c}" stroke-width="1.6"${opacity}/>`);
      lx = (x1 + x2) / 2;
      anchor = 'middle';
      if (Math.abs(a.to - a.from) > 1) {
        // The label crosses a lifeline: give it a background of its own.
        const w = labelWidth(p) + 10;
        body.push(`<rect class="lbg" x="${f(lx - w / 2)}" y="${f(ly - 19)}" width="${f(w)}" height="15" fill="${stripe}"/>`);
      }
    }
    const sdp = p.sdp ? `<tspan font-weight="bold"> (SDP)</tspan>` : '';
    const re = p.retrans ? `<tspan font-size="12" font-style="italic">${escapeXml(p.retrans)}</tspan>` : '';
    body.push(`<text class="label" x="${f(lx)}" y="${f(a.from === a.to ? ly - 2 : ly - 6)}" text-anchor="${anchor}" font-size="13" fill="${c}"${a.retransmission ? ' font-style="italic"' : ''}>${escapeXml(p.main)}${sdp}${re}</text>`);
    body.push('</g>');
  });

  const style = [
    '.arrow { cursor: pointer; outline: none; }',
    '.arrow:hover .row, .arrow:focus .row, .arrow.active .row { fill-opacity: 0.35; }',
    '.arrow:hover .lbg, .arrow:focus .lbg, .arrow.active .lbg { fill: #fdeebf; }',
    '.arrow.active .line, .arrow.active .head { stroke-width: 2.6; }',
  ].join('\n');
  const heading = legs.length ? `${title}: ${legs.join(', ')}` : title;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" class="sipscope-flow" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${SANS}" role="img" aria-label="${escapeXml(clip(heading, 300))}">`,
    `<title>${escapeXml(clip(heading, 300))}</title>`,
    `<style>\n${style}\n</style>`,
    `<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...out,
    ...stripes,
    ...lifelines,
    ...boxes,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
