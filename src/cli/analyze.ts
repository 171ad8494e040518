import { readFileSync } from 'node:fs';
import { SipscopeError } from '../capture/index.js';
import { Analyzer, Secrets, type AnalyzerOptions, type SessionGroup } from '../model/index.js';
import { scanFile, type ScanResult } from './scan.js';

/** Options shared by every command that runs the dialog model. */
export interface ModelOptions {
  password?: string;
  users?: string;
  correlationHeader?: string[];
}

export function loadSecrets(o: ModelOptions): Secrets | undefined {
  if (o.password === undefined && o.users === undefined) return undefined;
  const s = o.password !== undefined ? Secrets.fromPassword(o.password) : new Secrets();
  if (o.users !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.users, 'utf8');
    } catch (err) {
      throw new SipscopeError('E_INPUT', `cannot read users file ${o.users}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    if (s.addCsv(text) === 0) throw new SipscopeError('E_INPUT', `users file ${o.users} has no "username,password[,realm]" or "username,realm,ha1" lines`);
  }
  return s;
}

/** Runs a capture through the pipeline and the dialog model; groups arrive as they finish. */
export async function analyzeFile(
  file: string,
  o: ModelOptions,
  onGroup: (g: SessionGroup) => void,
  extra: Omit<AnalyzerOptions, 'secrets'> = {},
  afterChunk?: () => Promise<void>,
): Promise<ScanResult & { analyzer: Analyzer }> {
  const analyzer = new Analyzer(onGroup, {
    ...extra,
    secrets: loadSecrets(o),
    correlationHeaders: o.correlationHeader?.length ? o.correlationHeader : extra.correlationHeaders,
  });
  // A model that keeps no message lists owns only the few messages it keeps (Transaction,
  // Session.head): the rest are read in place in the capture's buffers and never copied.
  const scan = await scanFile(file, (p) => analyzer.packet(p), afterChunk, extra.keepMessages !== false);
  analyzer.finish();
  await afterChunk?.();
  return { ...scan, analyzer };
}
