/**
 * Writes captures/seed-chapter.pcap: the seed chapter's SIP story as Ethernet/IPv4/UDP frames.
 *   npx tsx scripts/make-seed-capture.ts [--out FILE] [--wire] [--chapter FILE]
 * --wire joins folded headers as they were on the wire (frame sizes then match FreeSWITCH's byte
 * counts); the shipped file uses the chapter's printed layout. --chapter is read instead of
 * $SIPSCOPE_SEED_CHAPTER or ../shared/seed/sip-chapter.txt next to the repository.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    wire: { type: 'boolean', default: false },
    chapter: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: npx tsx scripts/make-seed-capture.ts [--out FILE] [--wire] [--chapter FILE]');
  process.exit(0);
}
// The helper reads the chapter path when it loads.
if (values.chapter) process.env['SIPSCOPE_SEED_CHAPTER'] = values.chapter;
const { buildSeedCapture, seedMessages, SEED_CHAPTER_PATH } = await import('../test/helpers/seed-chapter.js');

const out = values.out ?? fileURLToPath(new URL('../captures/seed-chapter.pcap', import.meta.url));
const messages = seedMessages();
const pcap = buildSeedCapture(values.wire ? 'wire' : 'printed', messages);
writeFileSync(out, pcap);
const synthesized = messages.filter((m) => m.synthesized).length;
console.log(
  `${out}: ${messages.length} messages (${messages.length - synthesized} from ${SEED_CHAPTER_PATH}, ${synthesized} synthesized), ` +
    `${pcap.length} bytes, ${values.wire ? 'wire' : 'printed'} layout`,
);
