/** Colours blessed understands in its content tags. */
export type Colour = 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'white' | 'gray';

/**
 * How screens mark up their text: blessed content tags, or none at all for colour when NO_COLOR
 * is set (https://no-color.org: attributes such as bold and inverse stay). `unicode` picks tree
 * and arrow glyphs or plain ASCII.
 */
export class Theme {
  constructor(
    readonly colour: boolean,
    readonly unicode: boolean,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): Theme {
    const noColour = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
    const locale = `${env['LC_ALL'] ?? ''}${env['LC_CTYPE'] ?? ''}${env['LANG'] ?? ''}`;
    const unicode = /utf-?8/i.test(locale) || env['TMUX'] !== undefined || env['TERM_PROGRAM'] !== undefined;
    return new Theme(!noColour, unicode);
  }

  fg(c: Colour, s: string): string {
    return this.colour && s ? `{${c}-fg}${s}{/${c}-fg}` : s;
  }

  bold(s: string): string {
    return s ? `{bold}${s}{/bold}` : s;
  }

  inverse(s: string): string {
    return `{inverse}${s}{/inverse}`;
  }

  underline(s: string): string {
    return s ? `{underline}${s}{/underline}` : s;
  }

  get glyphs(): { open: string; closed: string; child: string; right: string; left: string; ellipsis: string; bar: string } {
    return this.unicode
      ? { open: '▾', closed: '▸', child: '└', right: '>', left: '<', ellipsis: '…', bar: '│' }
      : { open: '-', closed: '+', child: '`', right: '>', left: '<', ellipsis: '~', bar: '|' };
  }
}

/** Text made safe for blessed's tag parser. */
export function esc(s: string): string {
  return s.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

/** Pads or cuts `s` to exactly `w` columns (control characters shown as spaces). */
export function fit(s: string, w: number, right = false, ellipsis = '…'): string {
  if (w <= 0) return '';
  const t = s.replace(/[\x00-\x1f\x7f]/g, ' ');
  if (t.length > w) return w === 1 ? t.slice(0, 1) : t.slice(0, w - 1) + ellipsis;
  return right ? t.padStart(w) : t.padEnd(w);
}
