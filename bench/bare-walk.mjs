// Reference row "bare walk": the least a Node program can do to get the calls out of a capture.
//
//   node bench/bare-walk.mjs FILE.pcap
//
// Reads a classic pcap (not pcapng) with fs in big chunks, walks the records, and pulls each
// Call-ID out of the record with Buffer.indexOf of "\r\nCall-ID:" (or the compact "\r\ni:").
// No link/IP/UDP decoding, no SIP parsing, no reassembly: a ceiling for what a real parser in a
// plain Node loop can reach, not a tool. Prints one JSON line with its counts.
import { openSync, readSync, closeSync } from 'node:fs';

const CHUNK = 8 << 20; // 8 MiB reads
const CALL_ID = Buffer.from('\r\nCall-ID:', 'latin1');
const CALL_ID_COMPACT = Buffer.from('\r\ni:', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/bare-walk.mjs FILE.pcap');
  process.exit(2);
}

const fd = openSync(file, 'r');
let buf = Buffer.allocUnsafe(CHUNK);
let len = 0; // valid bytes in buf
let eof = false;

/** Move the unread tail [from, len) to the front of buf and fill the rest from the file. */
function refill(from) {
  buf.copy(buf, 0, from, len);
  len -= from;
  while (!eof && len < buf.length) {
    const n = readSync(fd, buf, len, buf.length - len, null);
    if (n === 0) eof = true;
    len += n;
  }
}

refill(0);
if (len < 24) throw new Error(`${file}: too short for a pcap file`);
const magic = buf.readUInt32LE(0);
let le;
if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
else throw new Error(`${file}: not a classic pcap file (magic 0x${magic.toString(16)}); pcapng is not handled here`);
const u32 = le ? (o) => buf.readUInt32LE(o) : (o) => buf.readUInt32BE(o);

let packets = 0;
let callIdHeaders = 0;
const callIds = new Set();
let pos = 24;

for (;;) {
  if (len - pos < 16) {
    if (eof) break;
    refill(pos);
    pos = 0;
    if (len < 16) break;
  }
  const caplen = u32(pos + 8);
  if (len - pos < 16 + caplen) {
    if (eof) break; // truncated last record
    refill(pos);
    pos = 0;
    if (16 + caplen > buf.length) {
      // A record larger than the chunk: grow the buffer once and read on.
      const bigger = Buffer.allocUnsafe(16 + caplen);
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
      refill(0);
    }
    if (len < 16 + caplen) break;
  }
  const start = pos + 16;
  const end = start + caplen;
  packets++;

  const rec = buf.subarray(start, end);
  let h = rec.indexOf(CALL_ID);
  let skip = CALL_ID.length;
  if (h < 0) {
    h = rec.indexOf(CALL_ID_COMPACT);
    skip = CALL_ID_COMPACT.length;
  }
  if (h >= 0) {
    let v = h + skip;
    let e = rec.indexOf(CRLF, v);
    if (e < 0) e = rec.length;
    while (v < e && (rec[v] === 0x20 || rec[v] === 0x09)) v++;
    while (e > v && (rec[e - 1] === 0x20 || rec[e - 1] === 0x09)) e--;
    callIdHeaders++;
    callIds.add(rec.latin1Slice(v, e));
  }
  pos = end;
}
closeSync(fd);

process.stdout.write(JSON.stringify({ packets, callIdHeaders, distinctCallIds: callIds.size }) + '\n');
