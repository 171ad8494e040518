import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SipscopeError } from '../src/capture/errors.js';
import { linktypeFromCap, listInterfaces, openLive, type InterfaceInfo, type LiveSession } from '../src/capture/live.js';
import { PcapWriter, pcapGlobalHeader, pcapRecordHeader } from '../src/capture/pcap-writer.js';
import type { Frame } from '../src/capture/types.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const liveUrl = new URL('../src/capture/live.ts', import.meta.url).href;

function hasTshark(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Interfaces, or why live capture cannot be tested here. */
function capInterfaces(): InterfaceInfo[] | string {
  try {
    return listInterfaces();
  } catch (e) {
    return e instanceof SipscopeError ? `${e.code}: ${e.message}` : String(e);
  }
}

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SipscopeError, `expected SipscopeError, got ${String(e)}`);
    return { code: e.code, message: e.message };
  }
  assert.fail('expected an error');
}

/** Runs a module snippet in a child with tsx; prints whatever the snippet logs. */
function runChild(code: string, uid?: number): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function frames(n: number): { tsSec: number; tsNsec: number; data: Buffer; origLen?: number }[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    const len = i === 3 ? 70_000 : 40 + ((i * 37) % 1400); // one frame larger than the 64 KiB chunk
    const data = Buffer.alloc(len, i & 0xff);
    data.writeUInt32BE(i, 0);
    out.push({ tsSec: 1_700_000_000 + i, tsNsec: i * 1_000_123, data, ...(i === 5 ? { origLen: len + 100 } : {}) });
  }
  return out;
}

test('pcap header helpers', () => {
  const g = pcapGlobalHeader(1);
  assert.equal(g.toString('hex'), ['d4c3b2a1', '0200', '0400', '00000000', '00000000', '00000400', '01000000'].join(''));
  assert.equal(pcapGlobalHeader(113, 65535).readUInt32LE(16), 65535);
  assert.equal(pcapRecordHeader(1, 2, 3, 4).toString('hex'), '01000000020000000300000004000000');
});

test('PcapWriter writes records byte for byte, copying caller buffers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipscope-pw-'));
  try {
    const file = join(dir, 'out.pcap');
    const input = frames(12);
    const w = new PcapWriter(file, 1);
    const scratch = Buffer.alloc(80_000);
    for (const f of input) {
      // Hand the writer a reused buffer and scribble over it afterwards.
      f.data.copy(scratch);
      w.write({ ...f, data: scratch.subarray(0, f.data.length) });
      scratch.fill(0xee);
    }
    await w.close();
    await w.close(); // idempotent

    const expected = Buffer.concat([
      pcapGlobalHeader(1, 262144),
      ...input.flatMap((f) => [
        pcapRecordHeader(f.tsSec, Math.floor(f.tsNsec / 1000), f.data.length, f.origLen ?? f.data.length),
        f.data,
      ]),
    ]);
    const got = readFileSync(file);
    assert.equal(got.length, expected.length);
    assert.ok(got.equals(expected), 'file content differs');
    assert.equal(got.readUInt32LE(0), 0xa1b2c3d4);
    assert.equal(got.readUInt32LE(20), 1);

    await t.test('tshark reads the file', (tt) => {
      if (!hasTshark()) return tt.skip('tshark not installed');
      const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.time_epoch'], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(
        rows.map((c) => [Number(c[0]), Number(c[1])]),
        input.map((f) => [f.origLen ?? f.data.length, f.data.length]),
      );
      // frame 8: tsSec 1700000007, tsNsec 7000861 -> 7000 us
      assert.equal(rows[7]?.[2], '1700000007.007000000');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PcapWriter: Writable target, snaplen cut, 100k frames', async (t) => {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (c: Buffer) => chunks.push(c));
  const w = new PcapWriter(sink, 101, { snaplen: 100 });
  w.write({ tsSec: 5, tsNsec: 999_999_999, data: Buffer.alloc(300, 7) });
  const data = Buffer.alloc(200, 1);
  const t0 = performance.now();
  for (let i = 0; i < 100_000; i++) {
    data.writeUInt32BE(i, 0);
    if (!w.write({ tsSec: i, tsNsec: 0, data: data.subarray(0, 60) })) await w.drained();
  }
  const ms = performance.now() - t0;
  await w.close();
  assert.ok(sink.writableEnded, 'a Writable passed in is ended by default');
  const out = Buffer.concat(chunks);
  assert.equal(out.length, 24 + 16 + 100 + 100_000 * (16 + 60));
  assert.equal(out.readUInt32LE(16), 100); // snaplen in the header
  assert.equal(out.readUInt32LE(20), 101);
  assert.deepEqual([out.readUInt32LE(28), out.readUInt32LE(32), out.readUInt32LE(36)], [999_999, 100, 300]);
  const last = 24 + 116 + 99_999 * 76;
  assert.equal(out.readUInt32LE(last), 99_999);
  assert.equal(out.readUInt32BE(last + 16), 99_999);
  t.diagnostic(`100k frames written in ${ms.toFixed(0)} ms`);
  assert.ok(ms < 5000, `writing 100k frames took ${ms} ms`);
});

test('PcapWriter: unwritable path is a SipscopeError', () => {
  const { code, message } = codeOf(() => new PcapWriter('/nonexistent-dir/x.pcap', 1));
  assert.equal(code, 'E_WRITE');
  assert.match(message, /^cannot write \/nonexistent-dir\/x\.pcap: .*ENOENT/);
});

test('linktype names from cap', () => {
  assert.equal(linktypeFromCap('ETHERNET'), 1);
  assert.equal(linktypeFromCap('NULL'), 0);
  assert.equal(linktypeFromCap('RAW'), 101);
  assert.equal(linktypeFromCap('LINKTYPE_LINUX_SLL'), 113);
  assert.equal(linktypeFromCap('IEEE802_11_RADIO'), 127);
  assert.equal(linktypeFromCap('Unknown linktype 276'), 276);
  assert.equal(linktypeFromCap('42'), 42);
  assert.equal(linktypeFromCap('SOMETHING'), 0xffff);
});

test('importing live.ts works without cap; using it says what to install', () => {
  // Make require('cap') fail the way it does when the optional module was not built.
  const r = runChild(`
    import Module from 'node:module';
    const orig = Module._resolveFilename;
    Module._resolveFilename = function (req, ...rest) {
      if (req === 'cap') throw Object.assign(new Error("Cannot find module 'cap'"), { code: 'MODULE_NOT_FOUND' });
      return orig.call(this, req, ...rest);
    };
    const live = await import(${JSON.stringify(liveUrl)});
    for (const fn of [() => live.listInterfaces(), () => live.openLive({ device: 'lo' }, () => {})]) {
      try { fn(); console.log('no error'); } catch (e) { console.log(e.code + ' ' + e.message); }
    }`);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  for (const l of lines) assert.match(l, /^E_NO_LIBPCAP live capture needs libpcap: install it .*apt-get install libpcap-dev/);
});

test('live capture on lo', async (t) => {
  const ifs = capInterfaces();
  if (typeof ifs === 'string') return t.skip(`cap unavailable: ${ifs}`);
  const lo = ifs.find((i) => i.name === 'lo');
  if (!lo) return t.skip('no "lo" interface');
  assert.ok(lo.addresses.includes('127.0.0.1'));

  const receiver = dgram.createSocket('udp4');
  await new Promise<void>((res) => receiver.bind(0, '127.0.0.1', () => res()));
  const port = receiver.address().port;
  const got: Frame[] = [];
  let session: LiveSession;
  try {
    session = openLive({ device: 'lo', filter: `udp port ${port}` }, (f) => got.push({ ...f, data: Buffer.from(f.data) }));
  } catch (e) {
    receiver.close();
    if (e instanceof SipscopeError && e.code === 'E_PERMISSION') return t.skip(e.message);
    throw e;
  }
  const sender = dgram.createSocket('udp4');
  const N = 25;
  const t0 = Date.now() / 1000;
  try {
    assert.equal(session.linktype, 1, 'lo on Linux captures as Ethernet');
    assert.equal(session.device, 'lo');
    for (let i = 0; i < N; i++) {
      await new Promise<void>((res, rej) => sender.send(`sipscope-${i}`, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
    }
    const deadline = Date.now() + 5000;
    while (got.length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200)); // anything extra would show up now
  } finally {
    session.close();
    session.close();
    sender.close();
    receiver.close();
  }
  assert.equal(got.length, N);
  got.forEach((f, i) => {
    assert.equal(f.index, i + 1);
    assert.equal(f.offset, -1);
    assert.equal(f.linktype, 1);
    assert.equal(f.origLen, f.data.length);
    assert.ok(Math.abs(f.tsSec + f.tsNsec / 1e9 - t0) < 10, 'timestamp is about now');
    assert.ok(f.tsNsec >= 0 && f.tsNsec < 1e9);
    const d = f.data;
    assert.equal(d.subarray(0, 12).toString('hex'), '0'.repeat(24), 'zeroed MACs');
    assert.equal(d.readUInt16BE(12), 0x0800);
    const ihl = (d[14]! & 0x0f) * 4;
    assert.equal(d[14 + 9], 17);
    assert.equal(d.subarray(14 + 12, 14 + 20).toString('hex'), '7f0000017f000001');
    const udp = 14 + ihl;
    assert.equal(d.readUInt16BE(udp + 2), port);
    assert.equal(d.subarray(udp + 8).toString(), `sipscope-${i}`);
  });
  for (let i = 1; i < N; i++) {
    const a = got[i - 1]!;
    const b = got[i]!;
    assert.ok(b.tsSec > a.tsSec || (b.tsSec === a.tsSec && b.tsNsec >= a.tsNsec), 'timestamps do not go back');
  }
});

test('live capture errors', async (t) => {
  const ifs = capInterfaces();
  if (typeof ifs === 'string') return t.skip(`cap unavailable: ${ifs}`);

  await t.test('unknown device', () => {
    const e = codeOf(() => openLive({ device: 'sipscope-nodev0' }, () => {}));
    assert.deepEqual(e, { code: 'E_NO_DEVICE', message: 'no such capture interface: sipscope-nodev0 (see: sipscope interfaces)' });
  });

  await t.test('bad filter', () => {
    const e = codeOf(() => openLive({ device: 'lo', filter: 'udp port' }, () => {}));
    assert.equal(e.code, 'E_BAD_FILTER');
    assert.match(e.message, /^bad capture filter "udp port": .*syntax error/);
    const e2 = codeOf(() => openLive({ device: 'lo', filter: 'udp port sipscope-nonsense' }, () => {}));
    assert.equal(e2.code, 'E_BAD_FILTER');
    assert.match(e2.message, /^bad capture filter "udp port sipscope-nonsense": \S/);
  });

  await t.test('bad option', () => {
    assert.equal(codeOf(() => openLive({ device: 'lo', bufferSize: -1 }, () => {})).code, 'E_BAD_OPTION');
  });

  await t.test('no permission (as user nobody)', (tt) => {
    if (process.getuid?.() !== 0) return tt.skip('needs root to start a child as nobody');
    const r = runChild(
      `const { openLive } = await import(${JSON.stringify(liveUrl)});
       try { openLive({ device: 'lo' }, () => {}); console.log('opened'); } catch (e) { console.log(e.code + ' ' + e.message); }`,
      65534,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      'E_PERMISSION permission denied capturing on lo: run as root or grant the capability: sudo setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))',
    );
  });

  // Failed opens leave cap objects that abort the process if collected; live.ts keeps them alive.
  await t.test('failed opens survive garbage collection', () => {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', `
        const { openLive } = await import(${JSON.stringify(liveUrl)});
        for (const filter of ['udp port', 'tcp port x']) { try { openLive({ device: 'lo', filter }, () => {}); } catch {} }
        globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); globalThis.gc(); console.log('alive');`],
      { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.stdout.trim(), 'alive', r.stderr);
    assert.equal(r.status, 0);
  });
});
