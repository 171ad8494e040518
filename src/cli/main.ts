import { Command, CommanderError } from 'commander';
import { SipscopeError } from '../capture/index.js';
import { addModelCommands } from './model-commands.js';
import { addTuiCommands } from './tui-commands.js';

function program(): Command {
  const p = new Command('sipscope')
    .description('Every SIP message, transaction, dialog and call out of a capture or live traffic.')
    .version('0.1.0')
    // Usage errors are one line on stderr, like every other sipscope error. Commander's message
    // ("error: unknown command 'x'", sometimes with "\n(Did you mean ...?)") is folded into it;
    // subcommands created below inherit this output configuration.
    .configureOutput({
      outputError: (str, write) =>
        write(`sipscope: ${str.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()} (run with --help for usage)\n`),
    })
    .allowExcessArguments(false) // `stats a.pcap b.pcap` is an error, not a silent "a.pcap only"
    .exitOverride();

  p.command('messages')
    .description('one line per SIP message: time, source -> destination, transport, start line, Call-ID')
    .argument('<file>', 'pcap or pcapng capture, optionally gzip-compressed; - reads standard input')
    .option('--json', 'write NDJSON, one object per message')
    .addHelpText('after', `
Examples:
  $ sipscope messages captures/seed-chapter.pcap
  $ sipscope messages --json call.pcapng.gz | jq -r 'select(.method=="INVITE") | .call_id'
  $ tcpdump -i eth0 -w - port 5060 | sipscope messages -`)
    .action(async (file: string, opts: { json?: boolean }) => (await import('./messages.js')).messagesCommand(file, opts));

  p.command('stats')
    .description('packets, SIP messages by method and status, link types, and every skipped or malformed count')
    .argument('<file>', 'pcap or pcapng capture, optionally gzip-compressed; - reads standard input')
    .option('--json', 'write the report as one JSON object')
    .addHelpText('after', `
Examples:
  $ sipscope stats captures/seed-chapter.pcap
  $ sipscope stats --json big.pcap | jq .malformed`)
    .action(async (file: string, opts: { json?: boolean }) => (await import('./stats.js')).statsCommand(file, opts));

  p.command('interfaces')
    .description('list the interfaces live capture can use (needs libpcap)')
    .option('--json', 'one JSON object per interface')
    .addHelpText('after', `
Example:
  $ sipscope interfaces`)
    .action(async (opts: { json?: boolean }) => (await import('./live.js')).interfacesCommand(opts));

  p.command('capture')
    .description('capture live: print one line per SIP message as it passes, optionally writing a pcap')
    .requiredOption('-i, --interface <iface>', 'interface to capture on (see: sipscope interfaces)')
    .option('-f, --filter <bpf>', 'capture filter in tcpdump syntax, e.g. "udp port 5060"')
    .option('-w, --write <file.pcap>', 'also write every captured frame to this pcap file')
    .option('--count <n>', 'stop after n SIP messages')
    .option('--duration <seconds>', 'stop after this many seconds')
    .option('--json', 'write NDJSON, one object per message')
    .addHelpText('after', `
Examples:
  $ sipscope capture -i lo -f "udp port 5060"
  $ sipscope capture -i eth0 -w calls.pcap --duration 60`)
    .action(async (opts: { interface: string; filter?: string; write?: string; count?: string; duration?: string; json?: boolean }) => (await import('./live.js')).captureCommand(opts));
  addModelCommands(p);
  addTuiCommands(p);
  return p;
}

/** Entry point: exit 0 on success, 1 on a usage error or unusable input, one line on stderr. */
export async function main(argv: string[]): Promise<void> {
  // Help, version and command output all survive `sipscope … | head` (Output does the same for
  // its own stream; commander writes help straight to process.stdout).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors; commander already printed the message.
      process.exitCode = err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 1;
      return;
    }
    if (err instanceof SipscopeError) {
      process.stderr.write(`sipscope: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
