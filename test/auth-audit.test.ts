import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../src/capture/reader.js';
import { pcapGlobalHeader, pcapRecordHeader } from '../src/capture/pcap-writer.js';
import { udpFrame } from '../src/net/encode.js';
import { SipExtractor, type SipPacket } from '../src/sip/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SEED = join(ROOT, 'captures/seed-chapter.pcap');
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function sipscope(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/sipscope'), ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The seed capture with folded headers joined (as they went on the wire): sipdump reads only
 * one-line Authorization headers, while sipscope reads both.
 */
async function unfoldedSeed(dir: string): Promise<string> {
  const packets: SipPacket[] = [];
  const ex = new SipExtractor((p) => packets.push(p));
  await readCapture(SEED, (f) => ex.frame(f));
  ex.finish();
  const parts = [pcapGlobalHeader(1)];
  for (const p of packets) {
    const raw = Buffer.from(p.msg.raw.toString('latin1').replace(/\r\n[ \t]+/g, ' '), 'latin1');
    const frame = udpFrame(p.meta.src, p.meta.dst, p.meta.sport, p.meta.dport, raw);
    parts.push(pcapRecordHeader(p.meta.tsSec, Math.floor(p.meta.tsNsec / 1000), frame.length, frame.length), frame);
  }
  const file = join(dir, 'seed-unfolded.pcap');
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

test('auth --wordlist finds the same passwords as sipcrack on the same capture', { skip: !has('sipdump') || !has('sipcrack') ? 'sipcrack/sipdump not installed (apt-get install sipcrack)' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipscope-crack-'));
  const capture = await unfoldedSeed(dir);
  const words = join(dir, 'words.txt');
  writeFileSync(words, ['letmein', 'password', '4321', 'alice', '1234', 'qwerty'].join('\n') + '\n');
  const dump = join(dir, 'dump.txt');
  const d = spawnSync('sipdump', ['-p', capture, dump], { encoding: 'utf8' });
  assert.equal(d.status, 0, d.stderr);
  const entries = readFileSync(dump, 'utf8').split('\n').filter(Boolean);
  assert.equal(entries.length, 3, 'sipdump finds alice twice and bob once');
  // sipcrack: crack each entry in turn (it asks which one on stdin).
  const theirs = new Map<string, string | undefined>();
  entries.forEach((line, i) => {
    const copy = join(dir, `dump-${i}.txt`);
    copyFileSync(dump, copy);
    const r = spawnSync('sipcrack', ['-w', words, copy], { input: `${i + 1}\n`, encoding: 'utf8', timeout: 20000 });
    const f = line.split('"');
    const found = /Found password: '([^']*)'/.exec(r.stdout)?.[1];
    theirs.set(`${f[2]}|${f[6]}`, found); // user|nonce
  });
  // sipscope
  const r = sipscope(['auth', capture, '--wordlist', words, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const ours = new Map<string, string | undefined>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const rec = JSON.parse(line) as { username: string; nonce: string; copy: boolean; cracked_password: string | null };
    if (!rec.copy) ours.set(`${rec.username}|${rec.nonce}`, rec.cracked_password ?? undefined);
  }
  assert.deepEqual([...ours.entries()].sort(), [...theirs.entries()].sort());
  // The wrong-password registration was made with "4321", which is in the list.
  assert.ok([...ours.values()].includes('4321'));
  assert.equal([...ours.values()].filter((v) => v === '1234').length, 2);
});

test('auth reads folded Authorization headers that sipdump misses', () => {
  const r = sipscope(['auth', SEED, '--password', '1234', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const recs = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { method: string; result: string; explanation: string[] });
  assert.deepEqual(recs.map((x) => [x.method, x.result]), [['REGISTER', 'valid'], ['REGISTER', 'invalid'], ['INVITE', 'valid'], ['ACK', 'valid']]);
  assert.match(recs[1]!.explanation.join(' '), /wrong password/);
});
