import { createHash } from 'node:crypto';
import { SipMessage, summarizeSdp, type MediaSummary } from '../sip/index.js';
import type { Ladder } from './ladder.js';
import { escapeXml, legColour, renderSvg, type SvgOptions } from './svg.js';

/**
 * The ladder as one self-contained HTML page: the SVG diagram, and a side panel that shows the
 * SDP (per stream: address:port, codecs, direction; and the SDP text) and the raw SIP message of
 * the arrow under the pointer (click or tap pins it). CSS and script are inline; nothing is
 * fetched, so it works from file:// and offline.
 *
 * Everything from the capture is hostile input: in markup it is escaped, in the data block it is
 * JSON with every '<', '>' and '&' written as \u escapes, and the script only ever sets
 * textContent. A Content-Security-Policy that allows no network access and only this page's own
 * script (by its hash) backs that up.
 */

interface ArrowData {
  n: number;
  time: string;
  delta: string;
  label: string;
  from: string;
  to: string;
  callId: string;
  leg: number;
  colour: string;
  retransmission: number;
  /** Parsed SDP: one entry per m= line; null when the message carries none. */
  media: MediaSummary[] | null;
  sdpText: string;
  raw: string;
}

/** Time with microseconds, as in the text ladder. */
function clockMicros(t: number): string {
  const s = Math.floor(t);
  const us = Math.min(999999, Math.round((t - s) * 1e6));
  const d = new Date(s * 1000);
  return Number.isNaN(d.getTime()) ? String(t) : `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}.${String(us).padStart(6, '0')} UTC`;
}

/** Bytes from the wire as displayable text: UTF-8 (bad sequences as U+FFFD), controls but tab/newline as U+FFFD. */
function printable(b: Buffer): string {
  return b.toString('utf8').replace(/\r\n/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\uFFFD');
}

/** JSON that can sit inside a <script> element whatever the strings hold. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function arrowData(l: Ladder): ArrowData[] {
  const who = (i: number): string => {
    const x = l.lifelines[i];
    return x ? (x.role ? `${x.role} ${x.address}` : x.address) : '?';
  };
  return l.arrows.map((a, i) => {
    const msg = SipMessage.parse(Buffer.from(a.raw));
    let media: MediaSummary[] | null = null;
    let sdpText = '';
    if (msg) {
      const part = msg.parts.find((p) => p.contentType === 'application/sdp');
      if (part) {
        sdpText = printable(part.body);
        const sdp = msg.sdp;
        media = sdp ? summarizeSdp(sdp) : [];
      }
    }
    return {
      n: i + 1,
      time: clockMicros(a.time),
      delta: `+${a.delta.toFixed(6)} s`,
      label: `${a.label}${a.sdp ? ' (SDP)' : ''}${a.retransmission ? ` [retransmission ${a.retransmission}]` : ''}`,
      from: who(a.from),
      to: who(a.to),
      callId: a.callId,
      leg: a.leg,
      colour: legColour(a.leg),
      retransmission: a.retransmission,
      media,
      sdpText,
      raw: printable(a.raw),
    };
  });
}

const CSS = `
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 'DejaVu Sans', 'Segoe UI', Helvetica, Arial, sans-serif; color: #1b1f23; background: #eaeef2; }
main { display: flex; align-items: flex-start; gap: 16px; padding: 16px; }
#diagram { flex: 0 1 auto; min-width: 0; overflow: auto; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; }
#diagram svg { display: block; }
#panel { flex: 1 0 420px; max-width: 760px; position: sticky; top: 16px; max-height: calc(100vh - 32px); overflow: auto;
  background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px; }
#panel h2 { font-size: 16px; margin: 0 0 4px; }
#panel h3 { font-size: 13px; margin: 14px 0 4px; text-transform: uppercase; letter-spacing: .04em; color: #57606a; }
#hint { color: #57606a; margin: 0; }
.meta { margin: 0; color: #24292f; font-size: 13px; }
.meta code, td code { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: baseline; }
.pinned { font-size: 12px; color: #8a4600; font-weight: bold; }
pre { margin: 0; padding: 8px; background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 4px; font: 12px/1.35 'DejaVu Sans Mono', Menlo, Consolas, monospace;
  white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid #d8dee4; vertical-align: top; }
th { color: #57606a; font-weight: normal; }
tr.stream td { border-bottom: none; padding-bottom: 0; }
.key { color: #57606a; }
.none { color: #57606a; font-style: italic; margin: 0; }
details summary { cursor: pointer; color: #57606a; font-size: 12px; margin: 6px 0 4px; }
@media (max-width: 1100px) { main { flex-wrap: wrap; } #panel { position: static; max-height: none; flex-basis: 100%; } }
`;

/** The page's script: fills the panel from the JSON data block, with textContent only. */
const SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('sipscope-data').textContent);
  var groups = Array.prototype.slice.call(document.querySelectorAll('#diagram g.arrow'));
  var pinned = null;
  var shown = null;
  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function mark() {
    groups.forEach(function (g) {
      var i = Number(g.getAttribute('data-i'));
      g.classList.toggle('active', i === pinned || (pinned === null && i === shown));
    });
    $('pin-state').textContent = pinned === null ? '' : 'pinned: click it again or press Esc to unpin';
  }
  function show(i) {
    var d = data[i];
    if (!d) return;
    shown = i;
    $('hint').hidden = true;
    $('details').hidden = false;
    $('d-title').textContent = '#' + d.n + '  ' + d.label;
    $('d-time').textContent = d.time + '  (' + d.delta + ')';
    $('d-from').textContent = d.from;
    $('d-to').textContent = d.to;
    $('d-call').textContent = d.callId;
    $('d-leg').textContent = 'leg ' + (d.leg + 1);
    $('d-swatch').style.background = d.colour;
    var sdp = $('sdp');
    sdp.textContent = '';
    if (d.media === null) {
      sdp.appendChild(el('p', 'No SDP in this message.', 'none'));
    } else if (d.media.length === 0) {
      sdp.appendChild(el('p', 'SDP present but no media lines could be parsed.', 'none'));
    } else {
      var table = el('table');
      var head = el('tr');
      ['media', 'address:port', 'direction'].forEach(function (h) { head.appendChild(el('th', h)); });
      table.appendChild(head);
      d.media.forEach(function (m) {
        var tr = el('tr', undefined, 'stream');
        tr.appendChild(el('td', m.type + ' ' + m.protocol));
        var td = el('td');
        td.appendChild(el('code', (m.address === undefined || m.address === null ? '?' : m.address) + ':' + m.port));
        tr.appendChild(td);
        tr.appendChild(el('td', m.direction));
        table.appendChild(tr);
        var codecs = el('tr', undefined, 'codecs');
        var cell = el('td');
        cell.colSpan = 3;
        cell.appendChild(el('span', 'codecs ', 'key'));
        cell.appendChild(document.createTextNode(m.codecs.length ? m.codecs.join(', ') : '(none)'));
        codecs.appendChild(cell);
        table.appendChild(codecs);
      });
      sdp.appendChild(table);
    }
    $('sdp-text-box').hidden = d.media === null;
    $('sdp-text').textContent = d.sdpText;
    $('raw').textContent = d.raw;
    mark();
  }
  groups.forEach(function (g) {
    var i = Number(g.getAttribute('data-i'));
    g.addEventListener('mouseenter', function () { if (pinned === null) show(i); });
    g.addEventListener('focus', function () { if (pinned === null) show(i); });
    g.addEventListener('click', function () { pinned = pinned === i ? null : i; show(i); });
    g.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); pinned = pinned === i ? null : i; show(i); }
      else if (e.key === 'ArrowDown' && groups[i + 1]) { e.preventDefault(); groups[i + 1].focus(); }
      else if (e.key === 'ArrowUp' && groups[i - 1]) { e.preventDefault(); groups[i - 1].focus(); }
    });
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') { pinned = null; mark(); }
  });
})();
`;

/** The ladder as a self-contained HTML page (see the module comment). */
export function renderHtml(l: Ladder, opts: SvgOptions = {}): string {
  const svg = renderSvg(l, opts).replace(/^<\?xml[^>]*\?>\n/, '');
  const title = `${opts.title ?? 'SIP call flow'}: ${l.callIds.join(', ')}`;
  const scriptHash = createHash('sha256').update(SCRIPT, 'utf8').digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${scriptHash}'; img-src data:; base-uri 'none'; form-action 'none'`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeXml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sipscope">
<title>${escapeXml(title.length > 200 ? title.slice(0, 199) + '…' : title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<div id="diagram">
${svg}</div>
<aside id="panel" aria-live="polite">
<p id="hint">Hover over an arrow (or tap it) to see the message's SDP and the raw SIP message here. Click to pin; Esc unpins.</p>
<section id="details" hidden>
<h2 id="d-title"></h2>
<p class="pinned" id="pin-state"></p>
<p class="meta"><span id="d-time"></span></p>
<p class="meta"><code id="d-from"></code> → <code id="d-to"></code></p>
<p class="meta"><span class="swatch" id="d-swatch"></span><span id="d-leg"></span> · Call-ID <code id="d-call"></code></p>
<h3>SDP</h3>
<div id="sdp"></div>
<details id="sdp-text-box" open><summary>SDP text</summary><pre id="sdp-text"></pre></details>
<h3>SIP message</h3>
<pre id="raw"></pre>
</section>
</aside>
</main>
<script type="application/json" id="sipscope-data">${scriptJson(arrowData(l))}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
