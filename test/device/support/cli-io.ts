/** Test support: CliIo over in-memory streams, for running `main([...])` in-process. */
import { PassThrough } from 'node:stream';
import type { CliIo } from '../../../src/cli/io.js';

export class CapturedIo implements CliIo {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  out = '';
  err = '';
  constructor() {
    this.stdout.on('data', (chunk: Buffer) => (this.out += chunk.toString('utf8')));
    this.stderr.on('data', (chunk: Buffer) => (this.err += chunk.toString('utf8')));
  }
  /** Non-empty stdout lines. */
  lines(): string[] {
    return this.out.split('\n').filter((line) => line !== '');
  }
  /** Resolves with the first stderr match of `pattern` (polling the captured text). */
  async waitForStderr(pattern: RegExp, timeoutMs = 5000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.err.match(pattern);
      if (match !== null) return match;
      if (Date.now() > deadline) throw new Error(`stderr never matched ${String(pattern)}; got: ${this.err}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
