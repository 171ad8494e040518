/**
 * The terminal UI's store while a capture loads: calls in progress get provisional rows, and the
 * legs of one B2BUA call share one row group from the b-leg's first INVITE on, so when the call
 * finishes no row group disappears (no call number is skipped, no open ladder empties).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readCapture } from '../src/capture/index.js';
import { Analyzer } from '../src/model/index.js';
import { SipExtractor } from '../src/sip/index.js';
import { Ingest } from '../src/tui/ingest.js';
import { CallStore, type Group } from '../src/tui/store.js';
import { localCaptureDir } from './helpers/corpus.js';

/** The seed chapter's capture: registrations, then bob's call through the B2BUA (two legs). */
const CAPTURES = [path.join(localCaptureDir, 'seed-chapter.pcap')];

interface Loaded {
  store: CallStore;
  /** Call-IDs of every row group as it stood after each refresh, by slot. */
  seen: Map<number, Set<string>>;
}

async function load(file: string): Promise<Loaded> {
  const store = new CallStore();
  const ingest = new Ingest(store, false, 0, (s) => analyzer.legsOf(s));
  const analyzer = new Analyzer((g) => ingest.group(g), { onObserved: (_o, s) => ingest.observed(s) });
  const seen = new Map<number, Set<string>>();
  const note = (g: Group): void => {
    const ids = seen.get(g.slot) ?? new Set<string>();
    for (const r of g.rows) ids.add(String(r.get('call_id')));
    seen.set(g.slot, ids);
  };
  const extractor = new SipExtractor((p) => {
    ingest.packet(p, undefined);
    analyzer.packet(p);
    ingest.refreshOpen(); // a UI tick after every message: the most chances to go wrong
    for (const g of store.groups) if (!g.removed) note(g);
  });
  await readCapture(file, (f) => extractor.frame(f), {});
  extractor.finish();
  analyzer.finish();
  for (const g of store.groups) note(g);
  return { store, seen };
}

for (const file of CAPTURES) {
  test(`TUI while loading ${path.basename(file)}: legs share a row group, no group is dropped, calls are numbered 1..n`, async () => {
    const { store, seen } = await load(file);
    assert.deepEqual(store.groups.filter((g) => g.removed).map((g) => g.ordinal), [], 'row groups removed during the load');
    assert.deepEqual(store.groups.map((g) => g.ordinal), store.groups.map((_, i) => i + 1));
    const linked = store.groups.filter((g) => g.rows.length > 1);
    assert.ok(linked.length >= 1, 'a call with B2BUA legs');
    for (const g of linked) {
      const ids = g.rows.map((r) => String(r.get('call_id')));
      // Every group this call's legs were ever shown in is this one.
      for (const [slot, had] of seen) if (slot !== g.slot) for (const id of ids) assert.ok(!had.has(id), `${id} was also shown in group ${slot + 1}`);
      assert.deepEqual(g.rows.map((r) => r.get('leg')), ids.map((_, i) => String.fromCharCode(97 + i)));
      assert.equal(g.live, undefined, 'finished: its messages are indexed');
    }
  });
}
