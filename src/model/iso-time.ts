/**
 * ISO 8601 UTC times with milliseconds, as Date#toISOString writes them, without a Date per call:
 * call records carry four times each, and toISOString was the costliest step of `export csv`.
 * The "YYYY-MM-DDTHH:MM:SS." prefix is cached by whole second (a call's events share seconds),
 * and a second's prefix is built from its day's "YYYY-MM-DDT", cached by day.
 */

const SECOND_MS = 1000;
const DAY_MS = 86_400_000;
/** Date's range: ±8.64e15 ms around 1970 (ECMA-262 TimeClip); beyond it toISOString throws. */
const MAX_MS = 8.64e15;

/** '00'…'99' and '000'…'999', made once. */
const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

let cachedSecond = NaN;
let secondPrefix = '';
let cachedDay = NaN;
let dayPrefix = '';

/** "YYYY-MM-DDT" (or "±YYYYYY-MM-DDT" outside years 0–9999) of a day counted from 1970-01-01. */
function dayText(day: number): string {
  if (day !== cachedDay) {
    const iso = new Date(day * DAY_MS).toISOString();
    cachedDay = day;
    dayPrefix = iso.slice(0, iso.indexOf('T') + 1);
  }
  return dayPrefix;
}

/** "YYYY-MM-DDTHH:MM:SS." of a whole second counted from the epoch. */
function secondText(second: number): string {
  if (second !== cachedSecond) {
    const day = Math.floor(second / 86_400);
    let rest = second - day * 86_400; // 0 ≤ rest < 86 400, also before 1970
    const s = rest % 60;
    rest = (rest - s) / 60;
    const m = rest % 60;
    const h = (rest - m) / 60;
    cachedSecond = second;
    secondPrefix = `${dayText(day)}${TWO[h]}:${TWO[m]}:${TWO[s]}.`;
  }
  return secondPrefix;
}

/**
 * ISO 8601 UTC with milliseconds: exactly `new Date(Math.round(t * 1000)).toISOString()`, or null
 * for undefined, NaN, ±Infinity and times outside Date's range.
 */
export function isoMillis(t: number | undefined): string | null {
  if (t === undefined) return null;
  const ms = Math.round(t * 1000);
  if (!(Math.abs(ms) <= MAX_MS)) return null; // also NaN
  const second = Math.floor(ms / SECOND_MS);
  return secondText(second) + THREE[ms - second * SECOND_MS] + 'Z';
}
