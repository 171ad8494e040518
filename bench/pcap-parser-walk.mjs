// Reference row "pcap-parser walk": how fast the npm package `pcap-parser` only walks a capture.
//
//   node bench/pcap-parser-walk.mjs FILE.pcap
//
// pcap-parser (classic microsecond pcap only) emits a 'packet' event per record with
// packet.header and packet.data; this just counts them. It is looked up in the project's
// node_modules, then in bench/out/node_modules (where `npm install --prefix bench/out --no-save
// pcap-parser` puts it without touching package.json). Prints one JSON line with its count.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const candidates = [join(here, '..', 'package.json'), join(here, 'out', 'package.json')];

let pcapParser;
for (const from of candidates) {
  if (!existsSync(join(dirname(from), 'node_modules', 'pcap-parser'))) continue;
  pcapParser = createRequire(from)('pcap-parser');
  break;
}
if (!pcapParser) {
  console.error('pcap-parser-walk: pcap-parser is not installed (npm install --prefix bench/out --no-save pcap-parser)');
  process.exit(3);
}

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/pcap-parser-walk.mjs FILE.pcap');
  process.exit(2);
}

let packets = 0;
let bytes = 0;
const parser = pcapParser.parse(file);
parser.on('packet', (packet) => {
  packets++;
  bytes += packet.data.length;
});
parser.on('error', (err) => {
  console.error(`pcap-parser-walk: ${err.message}`);
  process.exitCode = 1;
});
parser.on('end', () => {
  process.stdout.write(JSON.stringify({ packets, bytes }) + '\n');
});
