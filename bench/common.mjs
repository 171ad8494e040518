// Small pieces the bench scripts share.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Prints the script's leading `//` comment block (its usage) and exits: for -h / --help. */
export function printUsage(scriptUrl) {
  const src = readFileSync(fileURLToPath(scriptUrl), 'utf8').split('\n').slice(1);
  console.log(src.slice(0, src.findIndex((l) => !l.startsWith('//'))).map((l) => l.slice(3)).join('\n'));
  process.exit(0);
}

/** Is `cmd` on the PATH? */
export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
