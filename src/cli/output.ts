import type { Writable } from 'node:stream';

/**
 * Buffered text output with backpressure: lines gather in memory during one input chunk and
 * are written when the reader yields (`flush`). A closed pipe (`sipscope … | head`) ends the
 * process quietly (EPIPE), as pino does.
 */
export class Output {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly stream: Writable = process.stdout) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }

  line(s: string): void {
    this.parts.push(s, '\n');
    this.size += s.length + 1;
  }

  get buffered(): number {
    return this.size;
  }

  async flush(): Promise<void> {
    if (!this.parts.length) return;
    const text = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(text)) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
  }
}
