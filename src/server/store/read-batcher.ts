/**
 * Group read for the DM exchange's one read (`loadExchange`), the read-side twin of commit-batcher.ts. Reads
 * submitted while the event loop handles one batch of I/O (the check-ins that arrived together) run back to back at
 * the end of that turn (`setImmediate`), in one read transaction of a driver that offers `readMany` (SQLite).
 *
 * Why: SQLite runs in this thread, and the first query after a request's HTTP and XML work finds the CPU caches
 * cold: measured in the server under load, the exchange's read took 31 µs when it ran alone and 13–15 µs when it
 * followed another one. Run together, only the first of a batch pays that, the read lock is taken once, and the
 * exchanges then continue side by side (engine, encoder, commit), which keeps those warm too. The cost is one
 * `setImmediate` of latency. A driver without `readMany` is read at once (PostgreSQL's exchange reads are grouped
 * into one statement instead: exchange-reads.ts).
 *
 * Each read settles on its own: one that fails rejects only its caller. Results are those of the committed data
 * when the batch runs, as for a read that ran then; callers waiting on a commit are not in the batch, so a read
 * never misses a write its own caller made.
 */
import type { ReadOutcome, Row, SqlDriver, SqlQuery, SqlValue } from './sql-driver.js';
import { TurnBatch } from './turn-batch.js';

interface PendingRead extends SqlQuery {
  readonly resolve: (rows: Row[]) => void;
  readonly reject: (error: unknown) => void;
}

export interface ReadBatcherOptions {
  /** Most reads in one batch (a longer queue is split). Default 128. */
  readonly maxBatch?: number;
}

export class ReadBatcher {
  readonly #driver: SqlDriver;
  readonly #turn: TurnBatch<PendingRead>;
  /** Batches run since the store opened, and reads in them (for tests and the docs' figures). */
  readonly stats = { batches: 0, reads: 0 };

  constructor(driver: SqlDriver, options: ReadBatcherOptions = {}) {
    this.#driver = driver;
    this.#turn = new TurnBatch(options.maxBatch ?? 128, (batch) => void this.#read(batch));
  }

  /** The rows of `sql`, read in this turn's batch (or at once when the driver cannot batch). */
  all(sql: string, params: readonly SqlValue[]): Promise<Row[]> {
    if (this.#driver.readMany === undefined) return this.#driver.all(sql, params);
    return new Promise<Row[]>((resolve, reject) => this.#turn.push({ sql, params, resolve, reject }));
  }

  async #read(batch: readonly PendingRead[]): Promise<void> {
    this.stats.batches++;
    this.stats.reads += batch.length;
    let outcomes: ReadOutcome[];
    try {
      outcomes = await this.#driver.readMany!(batch);
    } catch (error) {
      // The batch as a whole failed (the database closed, BEGIN refused): every read in it fails with that.
      for (const read of batch) read.reject(error);
      return;
    }
    batch.forEach((read, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) read.reject(new Error('readMany answered fewer queries than it was given'));
      else if ('rows' in outcome) read.resolve(outcome.rows);
      else read.reject(outcome.error);
    });
  }
}
