/**
 * The terminal UI (blessed): the call list, ladders, messages and diffs over a capture read in
 * the background or over live traffic. Imports point one way: tui uses capture, net, sip, model,
 * flow and export; nothing below imports tui.
 */
import { openSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { Readable } from 'node:stream';
import { SipscopeError } from '../capture/index.js';
import { App } from './app.js';
import { CallListScreen } from './call-list.js';
import { FileSource, LiveSource, probeCapture, type LiveSettings, type ModelSettings } from './sources.js';
import { CallStore } from './store.js';
import { Theme } from './theme.js';

export { CallStore } from './store.js';
export { CallView, parsePattern } from './view.js';
export { COLUMNS, CSV_COLUMNS, DEFAULT_COLUMNS, layoutColumns } from './columns.js';
export { ListFormatter } from './list-format.js';
export { FileSource, LiveSource, probeCapture, type LiveSettings, type ModelSettings } from './sources.js';
export { Theme } from './theme.js';

/** The terminal itself, for keys, when standard input carries the capture. */
function terminalInput(): Readable {
  try {
    return new ReadStream(openSync('/dev/tty', 'r'));
  } catch (err) {
    throw new SipscopeError('E_USAGE', `the capture comes on standard input, and no terminal is left for the keys: ${(err as Error).message}`);
  }
}

/** Opens the UI on a capture file (or - for standard input); resolves when the user quits. */
export async function runFileTui(path: string, settings: ModelSettings): Promise<void> {
  probeCapture(path);
  const store = new CallStore();
  const source = new FileSource(path, store, settings);
  const app = new App({ store, source, title: path === '-' ? 'standard input' : path, theme: Theme.fromEnv(), input: path === '-' ? terminalInput() : undefined });
  app.push(new CallListScreen(store, app, path === '-' ? 'stdin' : path));
  void source.run().then(() => app.paint(), (err: unknown) => {
    source.warnings.push(`reading stopped: ${(err as Error).message}`);
    app.paint();
  });
  await app.done;
}

/** Opens the UI on live traffic; a capture that cannot start is an error before any UI. */
export async function runLiveTui(settings: LiveSettings): Promise<void> {
  const store = new CallStore();
  const source = new LiveSource(settings, store);
  const app = new App({ store, source, title: `live on ${settings.device}`, theme: Theme.fromEnv() });
  app.push(new CallListScreen(store, app, `live-${settings.device}`));
  await app.done;
}
