/**
 * Collects what is submitted while the event loop handles one batch of I/O and hands it over at the end of that turn
 * (`setImmediate`), split into batches of at most `maxBatch`: the scheduling shared by the group commit
 * (commit-batcher.ts) and the group read (read-batcher.ts).
 */
export class TurnBatch<T> {
  readonly #maxBatch: number;
  readonly #onBatch: (batch: T[]) => void;
  #queue: T[] = [];
  #scheduled = false;

  constructor(maxBatch: number, onBatch: (batch: T[]) => void) {
    this.#maxBatch = Math.max(1, maxBatch);
    this.#onBatch = onBatch;
  }

  push(item: T): void {
    this.#queue.push(item);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    for (let i = 0; i < queue.length; i += this.#maxBatch) this.#onBatch(queue.slice(i, i + this.#maxBatch));
  }
}
