/**
 * `sipscope flow --format svg|html`: the ladder as a picture. Structure checks on the SVG and the
 * HTML of the seed chapter's B2BUA call, escaping of hostile capture content, and then the real
 * thing: both rendered in headless Chromium (Debian's `chromium` package), screenshotted, hovered.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { pcapGlobalHeader, pcapRecordHeader } from '../src/capture/pcap-writer.js';
import { udpFrame } from '../src/net/encode.js';
import { legColour, renderHtml, renderSvg, type Ladder } from '../src/flow/index.js';
import { repoRoot, runCli } from './helpers/cli.js';

const SEED = join(repoRoot, 'captures/seed-chapter.pcap');
const CALL = 'YWEwYjNlZTZjOWZjNDg3ZjU3MjQ3MTA1ZmQ1MDM5YmQ.';
const B_LEG = '0d74ac35-cca4-122d-81a2-2990e5b2bd3e';
const CHROMIUM = process.env['SIPSCOPE_CHROMIUM'] ?? '/usr/bin/chromium';

/** The seed call's 18 messages (frames 9–26 of captures/seed-chapter.md), as labelled. */
const LABELS = [
  'INVITE (SDP)', '100 Trying', '407 Proxy Authentication Required', 'ACK', 'INVITE (SDP)', '100 Trying',
  'INVITE (SDP)', '100 Trying', '180 Ringing', '183 Session Progress (SDP)', '200 OK (SDP)', 'ACK',
  '200 OK (SDP)', 'ACK', 'BYE', '200 OK', 'BYE', '200 OK',
];
/** Leg of each message: 0 bob ↔ B2BUA, 1 B2BUA ↔ alice. */
const LEGS = [0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0];

const unescape = (s: string): string =>
  s.replace(/<[^>]*>/g, '').replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');

/** Text of every `<text class="CLS" …>…</text>`, tags stripped, entities decoded. */
function texts(svg: string, cls: string): string[] {
  return [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>(.*?)</text>`, 'g'))].map((m) => unescape(m[1]!));
}

/** The `<g class="arrow …">…</g>` groups, in order. */
function arrowGroups(svg: string): string[] {
  return [...svg.matchAll(/<g class="arrow[^"]*"[\s\S]*?<\/g>/g)].map((m) => m[0]);
}

function xmllintOk(file: string): { ran: boolean; ok: boolean; err: string } {
  const r = spawnSync('xmllint', ['--noout', file], { encoding: 'utf8' });
  if (r.error) return { ran: false, ok: false, err: String(r.error) };
  return { ran: true, ok: r.status === 0, err: r.stderr };
}

// ---------------------------------------------------------------------------------------------
// A capture built to attack the page: markup and script in headers, reason phrase, SDP, Call-ID.

const EVIL_CALL = '<svg/onload=window.pwned=6>@evil';
const EVIL_SUBJECT = '</script><script>window.pwned=1</script>';
const EVIL_REASON = 'Busy <img src=x onerror=window.pwned=4></script>\x01';
const CRLF = '\r\n';

function evilCapture(): Buffer {
  const sdp = ['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=</script><img src=x onerror=window.pwned=3>', 'c=IN IP4 10.0.0.1', 't=0 0',
    'm=audio 4000 RTP/AVP 0 8 101', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join(CRLF);
  const common = (cseq: string, toTag = ''): string[] => [
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKevil1',
    'From: "<img src=x onerror=window.pwned=2>" <sip:mallory@10.0.0.1>;tag=m1',
    `To: <sip:bob@10.0.0.2>${toTag}`,
    `Call-ID: ${EVIL_CALL}`,
    `CSeq: ${cseq}`,
  ];
  const msg = (start: string, headers: string[], body = ''): string =>
    [start, ...headers, `Content-Length: ${Buffer.byteLength(body)}`, '', ''].join(CRLF) + body;
  const invite = msg('INVITE sip:bob@10.0.0.2 SIP/2.0', [...common('1 INVITE'), 'Contact: <sip:mallory@10.0.0.1:5060>', `Subject: ${EVIL_SUBJECT}`, 'Content-Type: application/sdp'], sdp);
  const A = '10.0.0.1';
  const B = '10.0.0.2';
  const msgs: Array<[number, string, string, string]> = [
    [0, A, B, invite],
    [500_000, A, B, invite],
    [520_000, B, A, msg('SIP/2.0 100 Trying', common('1 INVITE'))],
    [900_000, B, A, msg(`SIP/2.0 486 ${EVIL_REASON}`, common('1 INVITE', ';tag=b1'))],
    [910_000, A, B, msg('ACK sip:bob@10.0.0.2 SIP/2.0', common('1 ACK', ';tag=b1'))],
  ];
  const parts = [pcapGlobalHeader(1)];
  msgs.forEach(([us, src, dst, text], i) => {
    const frame = udpFrame(src, dst, 5060, 5060, Buffer.from(text, 'latin1'), i + 1);
    parts.push(pcapRecordHeader(1_700_000_000, us, frame.length, frame.length), frame);
  });
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------

let dir: string;
let seedSvg = '';
let seedHtml = '';
let evilSvg = '';
let evilHtml = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sipscope-pictures-'));
  writeFileSync(join(dir, 'evil.pcap'), evilCapture());
  const jobs: Array<[string, string[]]> = [
    ['seed.svg', [SEED, '--call', CALL, '--legs', '--format', 'svg']],
    ['seed.html', [SEED, '--call', CALL, '--legs', '--format', 'html']],
    ['evil.svg', [join(dir, 'evil.pcap'), '--call', EVIL_CALL, '--format', 'svg']],
    ['evil.html', [join(dir, 'evil.pcap'), '--call', EVIL_CALL, '--format', 'html']],
  ];
  const results = await Promise.all(jobs.map(([out, args]) => runCli(['flow', ...args, '-o', join(dir, out)])));
  results.forEach((r, i) => assert.equal(r.code, 0, `sipscope flow ${jobs[i]![1].join(' ')}: ${r.stderr}`));
  seedSvg = readFileSync(join(dir, 'seed.svg'), 'utf8');
  seedHtml = readFileSync(join(dir, 'seed.html'), 'utf8');
  evilSvg = readFileSync(join(dir, 'evil.svg'), 'utf8');
  evilHtml = readFileSync(join(dir, 'evil.html'), 'utf8');
});

after(() => {
  if (dir && !process.env['SIPSCOPE_KEEP_PICTURES']) rmSync(dir, { recursive: true, force: true });
});

describe('flow --format svg: structure', () => {
  test('three lifelines with role and address, at the top and again at the bottom', () => {
    assert.deepEqual(texts(seedSvg, 'role'), ['bob', 'B2BUA', 'alice', 'bob', 'B2BUA', 'alice']);
    assert.deepEqual(texts(seedSvg, 'address'), ['192.168.4.4:26000', '192.168.4.4:5060', '192.168.4.4:5090', '192.168.4.4:26000', '192.168.4.4:5060', '192.168.4.4:5090']);
    assert.equal((seedSvg.match(/<line class="lifeline"/g) ?? []).length, 3);
  });

  test('one arrow per message, labelled, with time and delta in the margin', () => {
    const groups = arrowGroups(seedSvg);
    assert.equal(groups.length, LABELS.length);
    assert.deepEqual(texts(seedSvg, 'label'), LABELS);
    assert.deepEqual(texts(seedSvg, 'num'), LABELS.map((_, i) => String(i + 1)));
    const times = texts(seedSvg, 'time');
    assert.equal(times[0], '13:31:39.938');
    assert.equal(times.at(-1), '13:31:50.111');
    const deltas = texts(seedSvg, 'delta');
    assert.equal(deltas[0], '+0.000');
    assert.equal(deltas[10], '+2.981'); // the 200 OK after ringing
    assert.equal(deltas[14], '+6.536'); // alice hangs up
    assert.match(seedSvg, /2010-04-27 · times UTC · 18 messages · 2 legs/);
  });

  test('requests solid, responses dashed; SDP marked', () => {
    for (const [i, g] of arrowGroups(seedSvg).entries()) {
      const isRequest = !/^\d/.test(LABELS[i]!);
      assert.match(g, new RegExp(`^<g class="arrow ${isRequest ? 'request' : 'response'}`), LABELS[i]);
      const line = /<line class="line"[^>]*>/.exec(g)![0];
      assert.equal(line.includes('stroke-dasharray'), !isRequest, `${LABELS[i]}: ${line}`);
      assert.equal(/ sdp[ "]/.test(/^<g class="[^"]*"/.exec(g)![0]), LABELS[i]!.endsWith('(SDP)'));
    }
  });

  test('two legs in two colours, with a legend naming each Call-ID', () => {
    const groups = arrowGroups(seedSvg);
    const colours = groups.map((g) => /<line class="line"[^>]*stroke="(#[0-9a-f]{6})"/.exec(g)![1]);
    assert.deepEqual(colours, LEGS.map(legColour));
    assert.notEqual(legColour(0), legColour(1));
    const legend = [...seedSvg.matchAll(/<g class="legend" data-leg="(\d)">[\s\S]*?<\/g>/g)];
    assert.equal(legend.length, 2);
    assert.ok(legend[0]![0].includes(CALL) && legend[0]![0].includes(legColour(0)));
    assert.ok(legend[1]![0].includes(B_LEG) && legend[1]![0].includes(legColour(1)));
  });

  test('sized from the content; standalone (no scripts, no external references)', () => {
    const [, w, h] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(seedSvg)!;
    assert.ok(Number(w) > 600 && Number(w) < 1600, `width ${w}`);
    assert.ok(Number(h) > 18 * 30 && Number(h) < 18 * 60, `height ${h}`);
    assert.doesNotMatch(seedSvg, /<script|href=|url\(|@import|@font-face/i);
  });

  test('well-formed XML (xmllint)', (t) => {
    for (const name of ['seed.svg', 'evil.svg']) {
      const r = xmllintOk(join(dir, name));
      if (!r.ran) {
        t.skip('xmllint not installed (Debian package libxml2-utils); Chromium\'s DOMParser checks it below');
        return;
      }
      assert.ok(r.ok, `${name}: ${r.err}`);
    }
  });
});

describe('flow --format html: structure', () => {
  test('embeds the SVG, one data record per arrow, CSS and script inline, nothing fetched', () => {
    assert.ok(seedHtml.startsWith('<!DOCTYPE html>'));
    assert.equal(arrowGroups(seedHtml).length, LABELS.length);
    const data = JSON.parse(/<script type="application\/json" id="sipscope-data">(.*?)<\/script>/s.exec(seedHtml)![1]!) as Array<{ label: string; media: Array<{ codecs: string[] }> | null; raw: string }>;
    assert.deepEqual(data.map((d) => d.label), LABELS);
    assert.ok(data[0]!.media![0]!.codecs.includes('PCMU/8000'));
    assert.equal(data[1]!.media, null);
    assert.ok(data[1]!.raw.startsWith('SIP/2.0 100 Trying\n'));
    assert.doesNotMatch(seedHtml, /<script[^>]+src=|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
    assert.match(seedHtml, /Content-Security-Policy" content="default-src &#39;none&#39;/);
  });
});

describe('hostile capture content is escaped', () => {
  test('the SVG holds the markup as text, and stays well-formed', () => {
    assert.doesNotMatch(evilSvg, /<img|<script|<svg\/onload|\x01/);
    // (Long labels are clipped in the picture; the HTML panel shows the whole message.)
    assert.deepEqual(texts(evilSvg, 'label'), ['INVITE (SDP)', 'INVITE (SDP) [retransmission 1]', '100 Trying', '486 Busy <img src=x onerror=window.pwned=4>…', 'ACK']);
    assert.ok(evilSvg.includes('486 Busy &#60;img src=x onerror=window.pwned=4&#62;&#60;/script&#62;\uFFFD · 10.0.0.2:5060'), 'the full reason, control character replaced, in the tooltip');
    assert.ok(evilSvg.includes('&#60;svg/onload=window.pwned=6&#62;@evil'));
  });

  test('the HTML has only its own two scripts, and the data block cannot be closed early', () => {
    assert.equal((evilHtml.match(/<script/gi) ?? []).length, 2);
    assert.equal((evilHtml.match(/<\/script/gi) ?? []).length, 2);
    assert.doesNotMatch(evilHtml, /<img|<svg\/onload|window\.pwned=\d<\/|onerror=window\.pwned=\d>/);
    const data = JSON.parse(/<script type="application\/json" id="sipscope-data">(.*?)<\/script>/s.exec(evilHtml)![1]!) as Array<{ raw: string; sdpText: string; callId: string }>;
    assert.ok(data[0]!.raw.includes(`Subject: ${EVIL_SUBJECT}`));
    assert.ok(data[0]!.sdpText.includes('s=</script><img src=x onerror=window.pwned=3>'));
    assert.equal(data[0]!.callId, EVIL_CALL);
  });

  test('roles and addresses are escaped too (renderSvg/renderHtml on a hand-made ladder)', () => {
    const raw = Buffer.from(`OPTIONS sip:x SIP/2.0\r\nCall-ID: c\r\nX-Evil: </script><img src=x onerror=alert(1)>\r\n\r\n`);
    const ladder: Ladder = {
      lifelines: [{ address: '"a"&<b>:1', role: '<img src=x onerror=alert(1)>' }, { address: "'b':2", role: '' }],
      arrows: [{ from: 0, to: 1, time: 1, delta: 0, label: 'OPTIONS', isRequest: true, sdp: false, retransmission: 0, leg: 0, callId: '</title><script>alert(1)</script>', raw }],
      callIds: ['</title><script>alert(1)</script>'],
    };
    for (const out of [renderSvg(ladder, { title: '<b>t</b>' }), renderHtml(ladder)]) {
      // (Quotes need no escaping inside the JSON data block, only in markup.)
      const markup = out.replace(/<script type="application\/json" id="sipscope-data">.*?<\/script>/s, '');
      assert.doesNotMatch(markup, /<img|<b>|<script>alert|"a"&|'b'/);
      assert.doesNotMatch(out, /<img|<b>|<script>alert/);
    }
    assert.deepEqual(texts(renderSvg(ladder), 'role'), ['<img src=x onerror=alert(1)>', '<img src=x onerror=alert(1)>']);
  });
});

// ---------------------------------------------------------------------------------------------
// In a real browser.

const noChromium = existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM} (Debian: apt-get install -y chromium)`;

describe('in headless Chromium', { skip: noChromium, timeout: 30_000 }, () => {
  let ctx: BrowserContext;
  let page: Page;
  let profile: string;

  before(async () => {
    profile = mkdtempSync(join(tmpdir(), 'sipscope-chromium-'));
    // No network here: everything that would phone home is off, or Chromium stalls on it.
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 15_000,
      viewport: { width: 1500, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await ctx.newPage();
    page.setDefaultTimeout(5_000);
    page.on('dialog', (d) => void d.dismiss());
  });

  after(async () => {
    await ctx?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const png = (file: string): void => {
    const b = readFileSync(file);
    assert.equal(b.subarray(1, 4).toString('latin1'), 'PNG');
    assert.ok(statSync(file).size > 5000, `${file} is suspiciously small`);
  };

  test('both SVGs parse as XML (DOMParser)', async () => {
    const errors = await page.evaluate((docs: string[]) => docs.map((s) => {
      const doc = new DOMParser().parseFromString(s, 'image/svg+xml');
      return doc.getElementsByTagName('parsererror').length ? (doc.documentElement.textContent ?? 'parsererror') : '';
    }), [seedSvg, evilSvg]);
    assert.deepEqual(errors, ['', '']);
  });

  test('the HTML page: diagram drawn, headers visible, SDP and raw message on hover', async (t) => {
    await page.goto(pathToFileURL(join(dir, 'seed.html')).href);
    const box = await page.locator('#diagram svg').boundingBox();
    assert.ok(box && box.width > 600 && box.height > 500, JSON.stringify(box));
    for (const name of ['bob', 'B2BUA', 'alice', '192.168.4.4:26000', '192.168.4.4:5060', '192.168.4.4:5090']) {
      assert.ok(await page.locator('#diagram .lifeline-head text', { hasText: name }).first().isVisible(), `${name} visible`);
    }
    const strokes = await page.$$eval('#diagram g.arrow .line', (ls) => [...new Set(ls.map((l) => getComputedStyle(l).stroke))]);
    assert.equal(strokes.length, 2, strokes.join(' '));
    assert.equal(await page.locator('#details').isVisible(), false);

    await page.hover('#diagram g.arrow[data-i="0"]');
    assert.ok(await page.locator('#sdp').isVisible());
    const sdp = (await page.locator('#sdp').textContent()) ?? '';
    assert.match(sdp, /PCMU\/8000/);
    assert.match(sdp, /192\.168\.4\.4:8000/);
    assert.match(sdp, /sendrecv/);
    assert.match((await page.locator('#sdp-text').textContent()) ?? '', /^v=0\no=/);
    assert.match((await page.locator('#d-title').textContent()) ?? '', /#1 +INVITE \(SDP\)/);
    const shot = join(dir, 'seed-html-hover.png');
    await page.screenshot({ path: shot, fullPage: true });
    png(shot);
    t.diagnostic(`screenshot: ${shot}`);

    await page.hover('#diagram g.arrow[data-i="1"]');
    assert.match((await page.locator('#sdp').textContent()) ?? '', /No SDP/);
    assert.equal(await page.locator('#sdp-text-box').isVisible(), false);
    const raw = (await page.locator('#raw').textContent()) ?? '';
    assert.ok(raw.startsWith('SIP/2.0 100 Trying\nVia: SIP/2.0/UDP 192.168.4.4:26000'), raw);
    assert.ok(await page.locator('#raw').isVisible());

    // Click (a tap) pins: hovering elsewhere no longer changes the panel; Escape unpins.
    await page.click('#diagram g.arrow[data-i="10"]');
    await page.hover('#diagram g.arrow[data-i="3"]');
    assert.match((await page.locator('#d-title').textContent()) ?? '', /#11 +200 OK \(SDP\)/);
    await page.keyboard.press('Escape');
    await page.hover('#diagram g.arrow[data-i="14"]');
    assert.match((await page.locator('#d-title').textContent()) ?? '', /#15 +BYE/);
  });

  test('the standalone SVG renders at its own size', async (t) => {
    await page.goto(pathToFileURL(join(dir, 'seed.svg')).href);
    const svg = page.locator('svg').first();
    const box = await svg.boundingBox();
    const [, w, h] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(seedSvg)!;
    assert.ok(box && Math.round(box.width) === Number(w) && Math.round(box.height) === Number(h), JSON.stringify(box));
    assert.ok(await page.locator('text.label', { hasText: '183 Session Progress' }).isVisible());
    // (A full-page screenshot of a bare SVG document hangs in Playwright: shoot the element.)
    const shot = join(dir, 'seed-svg.png');
    await svg.screenshot({ path: shot });
    png(shot);
    t.diagnostic(`screenshot: ${shot}`);
  });

  test('the hostile page runs none of the capture\'s markup, and shows it as text', async (t) => {
    await page.goto(pathToFileURL(join(dir, 'evil.html')).href);
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('script').count(), 2);
    assert.equal(await page.locator('svg').count(), 1);
    assert.ok(await page.locator('text.label', { hasText: '486 Busy <img src=x' }).isVisible());
    await page.hover('#diagram g.arrow[data-i="0"]');
    assert.ok(((await page.locator('#raw').textContent()) ?? '').includes(`Subject: ${EVIL_SUBJECT}`));
    assert.ok(((await page.locator('#sdp-text').textContent()) ?? '').includes('s=</script><img src=x onerror=window.pwned=3>'));
    assert.ok(((await page.locator('#d-call').textContent()) ?? '') === EVIL_CALL);
    assert.match((await page.locator('#sdp').textContent()) ?? '', /codecs PCMU, PCMA, telephone-event\/8000/);
    await page.hover('#diagram g.arrow[data-i="3"]');
    assert.ok(((await page.locator('#raw').textContent()) ?? '').startsWith('SIP/2.0 486 Busy <img src=x onerror=window.pwned=4></script>'));
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    const shot = join(dir, 'evil-html.png');
    await page.screenshot({ path: shot });
    png(shot);
    t.diagnostic(`screenshot: ${shot}`);
  });
});
