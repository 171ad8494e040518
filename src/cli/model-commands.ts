import type { Command } from 'commander';
import type { authCommand } from './auth.js';
import type { callsCommand } from './calls.js';
import type { exportCsvCommand } from './export.js';
import type { flowCommand } from './flow.js';
import type { serveCommand } from './serve.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function modelOptions(c: Command): Command {
  return c
    .option('--password <pw>', 'password for every user, to verify digest credentials')
    .option('--users <file>', 'CSV of username,password[,realm] (or username,realm,ha1) to verify credentials')
    .option('--correlation-header <name>', 'header carrying the other leg\'s Call-ID (repeatable; default X-Call-ID, X-CID, …)', collect);
}

/** The commands built on the dialog model: calls, export, flow, auth. */
export function addModelCommands(p: Command): void {
  modelOptions(p.command('calls'))
    .description('calls and registrations, one per line: status, times, hangup cause, auth outcome, B2BUA legs')
    .argument('<file>', 'pcap or pcapng capture, optionally gzip-compressed; - reads standard input')
    .option('--json', 'write NDJSON, one record per line (keys as the CSV columns)')
    .addHelpText('after', `
Examples:
  $ sipscope calls captures/seed-chapter.pcap --password 1234
  $ sipscope calls --json big.pcap | jq 'select(.status=="failed")'`)
    .action(async (file: string, o: Parameters<typeof callsCommand>[1]) => (await import('./calls.js')).callsCommand(file, o));

  const exp = p.command('export').description('export call records');
  modelOptions(exp.command('csv'))
    .description('call records as CSV (streamed; flat memory on huge captures)')
    .argument('<file>', 'pcap or pcapng capture, optionally gzip-compressed; - reads standard input')
    .requiredOption('-o, --output <out.csv>', 'where to write the CSV; - for standard output')
    .addHelpText('after', `
Examples:
  $ sipscope export csv captures/seed-chapter.pcap -o calls.csv
  $ sipscope export csv big.pcap.gz -o - | head`)
    .action(async (file: string, o: Parameters<typeof exportCsvCommand>[1]) => (await import('./export.js')).exportCsvCommand(file, o));

  modelOptions(p.command('flow'))
    .description('the ladder diagram of a call, in the style of the seed chapter')
    .argument('<file>', 'pcap or pcapng capture, optionally gzip-compressed; - reads standard input')
    .requiredOption('--call <call-id>', 'Call-ID of the call to draw (see: sipscope calls FILE)')
    .option('--legs', 'draw every correlated B2BUA leg in one diagram, the B2BUA in the middle')
    .option('--format <format>', 'text (default), mermaid, svg (a picture) or html (the picture, with each message\'s SDP and raw text on hover)')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .addHelpText('after', `
Examples:
  $ sipscope flow captures/seed-chapter.pcap --call YWEwYjNlZTZjOWZjNDg3ZjU3MjQ3MTA1ZmQ1MDM5YmQ. --legs
  $ sipscope flow call.pcap --call abc@host --format mermaid -o call.mmd
  $ sipscope flow call.pcap --call abc@host --legs --format html -o call.html`)
    .action(async (file: string, o: Parameters<typeof flowCommand>[1]) => (await import('./flow.js')).flowCommand(file, o));

  modelOptions(p.command('auth'))
    .description('every digest credential with its challenge and outcome, and why it fails')
    .argument('<file>', 'pcap or pcapng capture, optionally gzip-compressed; - reads standard input')
    .option('--json', 'write NDJSON, one object per credential')
    .option('--wordlist <file>', 'audit weak passwords: find the wordlist entry that produces each digest')
    .addHelpText('after', `
Examples:
  $ sipscope auth captures/seed-chapter.pcap --password 1234
  $ sipscope auth capture.pcap --users users.csv --json
  $ sipscope auth capture.pcap --wordlist /usr/share/wordlists/rockyou.txt`)
    .action(async (file: string, o: Parameters<typeof authCommand>[1]) => (await import('./auth.js')).authCommand(file, o));

  p.command('serve')
    .description('a registrar with digest auth and a B2BUA that behaves like the seed chapter\'s FreeSWITCH')
    .option('--listen <spec>', 'where to listen: udp:HOST:PORT,tcp:HOST:PORT', 'udp:127.0.0.1:5060,tcp:127.0.0.1:5060')
    .option('--users <file>', 'CSV of username,password[,realm] (or username,realm,ha1): who may register and call')
    .option('--realm <realm>', 'digest realm (default: the first listen address)')
    .option('--auth-calls', 'challenge INVITEs with 407 too, as FreeSWITCH does')
    .option('--algorithms <list>', 'digest algorithms offered, strongest first (default MD5)')
    .option('--ring-timeout <seconds>', 'no-answer timeout for bridged calls (default 60)')
    .option('--min-expires <seconds>', 'shortest registration accepted; shorter ones get 423 (default 60)')
    .option('--max-expires <seconds>', 'longest registration granted (default 7200)')
    .option('--record <file.pcap>', 'write every message sent and received, with real addresses')
    .option('--cdr <file.csv>', 'write call records with the columns of `sipscope export csv`')
    .option('--state <dir>', 'keep registrations in this directory, so a restart loses none')
    .option('--xcid', 'add X-CID with the a-leg Call-ID to b-leg INVITEs (for analyzers)')
    .option('--shed-busy <fraction>', 'past this busy fraction (e.g. 0.9), answer part of new calls and registrations 503 (off by default)')
    .option('--retry-after <seconds>', 'Retry-After of those 503 responses (default 5)')
    .option('--json', 'log one JSON object per transaction')
    .option('--quiet', 'no transaction log')
    .addHelpText('after', `
Examples:
  $ printf 'alice,1234\\nbob,1234\\n' > users.csv
  $ sipscope serve --users users.csv --auth-calls --record calls.pcap --cdr calls.csv
  $ sipscope serve --listen udp:127.0.0.1:5070 --users users.csv --state ./state`)
    .action(async (o: Parameters<typeof serveCommand>[0]) => (await import('./serve.js')).serveCommand(o));
}
