/**
 * bin/sipscope runs dist/bundle/ (scripts/bundle.mjs) unless tsc has rebuilt dist/ after it, and
 * the bundle is the same program as dist/cli/: same output, the CSV writer thread included.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, repoRoot, run } from './helpers/cli.js';

const SEED = join(repoRoot, 'captures', 'seed-chapter.pcap');

/** Runs `main` of one built entry point the way bin/sipscope does (a file, not -e: the writer
 * thread inherits node's flags, and --input-type is refused there). */
function runEntry(runner: string, entry: string, args: string[]) {
  return run(process.execPath, [runner, join(repoRoot, entry), ...args]);
}

const RUNNER = `import { pathToFileURL } from 'node:url';
const [node, , entry, ...args] = process.argv;
import(pathToFileURL(entry).href).then((m) => m.main([node, 'sipscope', ...args]));
`;

describe('launcher and bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipscope-launcher-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const runner = join(dir, 'run-entry.mjs');
  writeFileSync(runner, RUNNER);

  test('picks the bundle when it is newer than every module tsc wrote, else dist/cli; says when nothing is built', async () => {
    // A stand-in tree: the real launcher beside two entry points that say which one ran.
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
    mkdirSync(join(dir, 'dist', 'bundle'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    copyFileSync(binPath, join(dir, 'bin', 'sipscope'));
    const launch = () => run(process.execPath, [join(dir, 'bin', 'sipscope')], { cwd: dir });

    let r = await launch();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not built yet/);

    const cli = join(dir, 'dist', 'cli', 'main.js');
    const bundle = join(dir, 'dist', 'bundle', 'main.js');
    writeFileSync(cli, 'export function main() { process.stdout.write("cli"); }\n');
    r = await launch();
    assert.equal(r.stdout, 'cli', 'no bundle: dist/cli');

    writeFileSync(bundle, 'export function main() { process.stdout.write("bundle"); }\n');
    utimesSync(cli, 1000, 1000);
    utimesSync(bundle, 2000, 2000);
    r = await launch();
    assert.equal(r.stdout, 'bundle', 'bundle newer than dist/cli');

    utimesSync(cli, 3000, 3000); // tsc ran after the bundle was made: it is stale
    r = await launch();
    assert.equal(r.stdout, 'cli', 'stale bundle is not run');

    // `tsc --watch` rewrites only the modules that changed: one newer module is enough.
    utimesSync(cli, 1000, 1000);
    mkdirSync(join(dir, 'dist', 'sip'));
    const other = join(dir, 'dist', 'sip', 'message.js');
    writeFileSync(other, 'export {};\n');
    utimesSync(other, 1500, 1500);
    r = await launch();
    assert.equal(r.stdout, 'bundle', 'every module older than the bundle');
    utimesSync(other, 2500, 2500);
    r = await launch();
    assert.equal(r.stdout, 'cli', 'one module rewritten after the bundle');
  });

  test('npm run build made a bundle that bin/sipscope runs', () => {
    const bundle = join(repoRoot, 'dist', 'bundle', 'main.js');
    assert.ok(existsSync(bundle), 'dist/bundle/main.js (npm test builds it)');
    assert.ok(existsSync(join(repoRoot, 'dist', 'bundle', 'csv-thread.js')), 'the writer thread sits beside the chunk that starts it');
  });

  for (const args of [
    ['calls', SEED, '--password', '1234', '--json'],
    ['flow', SEED, '--call', 'YWEwYjNlZTZjOWZjNDg3ZjU3MjQ3MTA1ZmQ1MDM5YmQ.', '--legs'],
    ['stats', SEED, '--json'],
  ]) {
    test(`bundle and dist/cli print the same: ${args[0]}`, async () => {
      const [a, b] = await Promise.all([runEntry(runner, 'dist/bundle/main.js', args), runEntry(runner, 'dist/cli/main.js', args)]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.ok(a.stdout.length > 100, 'says something');
      assert.equal(a.stdout, b.stdout);
    });
  }

  test('bundle and dist/cli write the same CSV through the writer thread', async () => {
    const outA = join(dir, 'a.csv');
    const outB = join(dir, 'b.csv');
    const [a, b] = await Promise.all([
      runEntry(runner, 'dist/bundle/main.js', ['export', 'csv', SEED, '-o', outA]),
      runEntry(runner, 'dist/cli/main.js', ['export', 'csv', SEED, '-o', outB]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const csv = readFileSync(outA, 'utf8');
    assert.equal(csv.trim().split('\n').length, 1 + 4, 'header and the seed chapter\'s four records');
    assert.equal(csv, readFileSync(outB, 'utf8'));
  });
});
