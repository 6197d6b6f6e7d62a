/**
 * Group commit for the store's one-statement commits (an idle check-in's one write: the device row's nonce and
 * last-seen time). Commits submitted while the event loop handles one batch of I/O are written together in one
 * transaction at the end of that turn (`setImmediate`), and each caller's promise settles only after that
 * transaction committed: durability is the same as one transaction each, but the database commits (SQLite's WAL
 * append, PostgreSQL's WAL flush) and the lock round trips are paid once per batch instead of once per check-in.
 *
 * - A batch of one runs as before: the bare statement, no transaction.
 * - Works run in the order of their keys (device ids), so two processes' batches lock device rows in the same order
 *   and cannot dead-lock each other on PostgreSQL.
 * - If the batch fails (a deadlock with another writer, a constraint, anything), it is rolled back and every work
 *   runs again on its own, so one bad commit fails only its own caller and the others still commit.
 */
import type { SqlDriver, SqlExecutor } from './sql-driver.js';
import { TurnBatch } from './turn-batch.js';

interface Pending<T = unknown> {
  readonly key: string;
  readonly work: (tx: SqlExecutor) => Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

export interface CommitBatcherOptions {
  /** Most works in one transaction (a longer queue is split). Default 256. */
  readonly maxBatch?: number;
}

export class CommitBatcher {
  readonly #driver: SqlDriver;
  readonly #turn: TurnBatch<Pending>;
  /** Batches written since the store opened, and works in them (for tests and the docs' figures). */
  readonly stats = { batches: 0, works: 0, retriedAlone: 0 };

  constructor(driver: SqlDriver, options: CommitBatcherOptions = {}) {
    this.#driver = driver;
    this.#turn = new TurnBatch(options.maxBatch ?? 256, (batch) => void this.#write(batch));
  }

  /** Runs `work` (one statement's worth of writes) in the next group commit; settles once that committed. */
  run<T>(key: string, work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#turn.push({ key, work, resolve, reject } as Pending));
  }

  async #write(batch: Pending[]): Promise<void> {
    this.stats.batches++;
    this.stats.works += batch.length;
    if (batch.length === 1) {
      await this.#alone(batch[0]!);
      return;
    }
    // Stable sort: two works of one device keep their order.
    const ordered = batch
      .map((pending, index) => ({ pending, index }))
      .sort((a, b) =>
        a.pending.key < b.pending.key ? -1 : a.pending.key > b.pending.key ? 1 : a.index - b.index,
      )
      .map((entry) => entry.pending);
    let results: unknown[];
    try {
      results = await this.#driver.transaction(async (tx) => {
        const out: unknown[] = [];
        for (const pending of ordered) out.push(await pending.work(tx));
        return out;
      });
    } catch {
      // Rolled back as a whole: nothing of it was written. Each work again on its own, so only a failing one fails.
      this.stats.retriedAlone += ordered.length;
      await Promise.all(ordered.map((pending) => this.#alone(pending)));
      return;
    }
    ordered.forEach((pending, i) => pending.resolve(results[i]));
  }

  async #alone(pending: Pending): Promise<void> {
    try {
      pending.resolve(await pending.work(this.#driver));
    } catch (error) {
      pending.reject(error);
    }
  }
}
