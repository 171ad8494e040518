import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { SipscopeError } from '../capture/index.js';
import type { ModelSettings } from '../tui/index.js';
import type { ModelOptions } from './analyze.js';
import { modelOptions } from './model-commands.js';

// Modules are loaded when a command runs (blessed only when the UI opens): startup stays quick.
async function settings(o: ModelOptions): Promise<ModelSettings> {
  const { loadSecrets } = await import('./analyze.js');
  return { secrets: loadSecrets(o), correlationHeaders: o.correlationHeader?.length ? o.correlationHeader : undefined };
}

function onTerminal(): boolean {
  return process.stdout.isTTY === true;
}

function needTerminal(): void {
  if (!onTerminal()) throw new SipscopeError('E_USAGE', 'the terminal UI needs a terminal: standard output is not one (for a table: sipscope calls FILE)');
}

/** A bare argument that opens the UI: an existing file, or - for standard input. */
function isCapture(arg: string | undefined): arg is string {
  if (arg === '-') return true;
  if (arg === undefined || arg.startsWith('-')) return false;
  try {
    return statSync(arg).isFile();
  } catch {
    return false;
  }
}

/** Runs a command started outside commander's action chain, with main()'s error conventions. */
function detached(work: () => Promise<void>): void {
  work().then(
    () => process.exit(process.exitCode ?? 0),
    (err: unknown) => {
      if (!(err instanceof SipscopeError)) throw err;
      process.stderr.write(`sipscope: ${err.message}\n`);
      process.exit(1);
    },
  );
}

/**
 * `tui FILE`, `live -i IFACE [-f BPF]`, and a bare `sipscope FILE`: the terminal UI on a
 * terminal, the call table (as `calls FILE`) when standard output is a pipe or a file.
 */
export function addTuiCommands(p: Command): void {
  modelOptions(p.command('tui'))
    .description('terminal UI: calls with their legs, ladders, messages, filters, saving (also: sipscope FILE)')
    .argument('<file>', 'pcap or pcapng capture, optionally gzip-compressed; - reads standard input')
    .addHelpText('after', `
Keys: Enter opens a call's ladder, Enter there a message, f filters, w saves, ? lists every key.

Examples:
  $ sipscope tui captures/seed-chapter.pcap --password 1234
  $ sipscope captures/seed-chapter.pcap
  $ NO_COLOR=1 sipscope tui big.pcap.gz`)
    .action(async (file: string, o: ModelOptions) => {
      needTerminal();
      const { runFileTui } = await import('../tui/index.js');
      await runFileTui(file, await settings(o));
      process.exit(process.exitCode ?? 0);
    });

  modelOptions(p.command('live'))
    .description('terminal UI on live traffic: calls as they happen, updating as packets arrive (needs libpcap)')
    .requiredOption('-i, --interface <iface>', 'interface to capture on (see: sipscope interfaces)')
    .option('-f, --filter <bpf>', 'capture filter in tcpdump syntax, e.g. "udp port 5060"')
    .addHelpText('after', `
Examples:
  $ sipscope live -i lo -f "udp port 5060"
  $ sipscope live -i eth0 --password 1234`)
    .action(async (o: ModelOptions & { interface: string; filter?: string }) => {
      needTerminal();
      const { runLiveTui } = await import('../tui/index.js');
      await runLiveTui({ ...(await settings(o)), device: o.interface, filter: o.filter });
      process.exit(process.exitCode ?? 0);
    });

  // `sipscope FILE`: commander calls this for operands that name no command. Anything that is
  // not one existing file (or -) stays an unknown command, with commander's own message.
  const internals = p as unknown as { unknownCommand(): never; unknownOption(flag: string): never };
  p.on('command:*', (operands: string[], unknown: string[]) => {
    const [file] = operands;
    if (operands.length !== 1 || !isCapture(file)) internals.unknownCommand();
    if (unknown.length) internals.unknownOption(unknown[0]!);
    detached(async () => {
      if (!onTerminal()) return (await import('./calls.js')).callsCommand(file, {});
      const { runFileTui } = await import('../tui/index.js');
      await runFileTui(file, {});
    });
  });
}
