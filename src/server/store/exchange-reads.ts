/**
 * The DM exchange's one read (`Store.loadExchange`), grouped per event-loop turn on both databases:
 * - SQLite: the turn's reads run back to back in one read transaction (read-batcher.ts says why that pays);
 * - PostgreSQL: the turn's (device, session) pairs go in one statement (LOAD_EXCHANGES_PG), one round trip for all
 *   of them instead of one each.
 * Each caller gets its own answer; a statement that fails rejects the callers it carried.
 */
import type { Clock } from '../../platform/clock.js';
import { ReadBatcher } from './read-batcher.js';
import { toCommand, toDevice, toSession } from './rows.js';
import type { Row, SqlDriver } from './sql-driver.js';
import { LOAD_EXCHANGE_SQLITE, LOAD_EXCHANGES_PG, parseJsonColumn } from './sql-statements.js';
import type { Exchange } from './store.js';
import { TurnBatch } from './turn-batch.js';

interface PendingPair {
  readonly deviceId: string;
  readonly sessionId: string;
  readonly resolve: (row: Row | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/** Pairs per PostgreSQL statement (a longer queue goes in several). */
const MAX_PAIRS = 128;

export class ExchangeReads {
  readonly #driver: SqlDriver;
  readonly #clock: Clock;
  readonly #maxDeliveries: number;
  readonly #sqlite: ReadBatcher | undefined;
  readonly #postgres: TurnBatch<PendingPair> | undefined;
  /** PostgreSQL statements sent and pairs in them (for tests and figures). */
  readonly stats = { statements: 0, pairs: 0 };

  constructor(driver: SqlDriver, clock: Clock, maxDeliveries: number) {
    this.#driver = driver;
    this.#clock = clock;
    this.#maxDeliveries = maxDeliveries;
    if (driver.dialect === 'postgres') {
      this.#postgres = new TurnBatch(MAX_PAIRS, (batch) => void this.#readPairs(batch));
    } else {
      this.#sqlite = new ReadBatcher(driver);
    }
  }

  async load(deviceId: string, sessionId: string): Promise<Exchange | undefined> {
    const row =
      this.#postgres !== undefined
        ? await new Promise<Row | undefined>((resolve, reject) =>
            this.#postgres!.push({ deviceId, sessionId, resolve, reject }),
          )
        : (
            await this.#sqlite!.all(LOAD_EXCHANGE_SQLITE, [
              sessionId,
              this.#clock.now(),
              sessionId,
              this.#maxDeliveries,
              sessionId,
              deviceId,
            ])
          )[0];
    if (row === undefined) return undefined;
    const session = parseJsonColumn(row['session_json']);
    const pending = parseJsonColumn(row['pending_json']);
    return {
      device: toDevice(row),
      session: session === null || session === undefined ? undefined : toSession(session as Row),
      pending: Array.isArray(pending) ? (pending as Row[]).map(toCommand) : [],
    };
  }

  async #readPairs(batch: readonly PendingPair[]): Promise<void> {
    this.stats.statements++;
    this.stats.pairs += batch.length;
    let rows: Row[];
    try {
      rows = await this.#driver.all(LOAD_EXCHANGES_PG, [
        this.#clock.now(),
        this.#maxDeliveries,
        batch.map((pair) => pair.deviceId),
        batch.map((pair) => pair.sessionId),
      ]);
    } catch (error) {
      for (const pair of batch) pair.reject(error);
      return;
    }
    const byOrdinal = new Map<number, Row>();
    for (const row of rows) byOrdinal.set(Number(row['ord']), row);
    batch.forEach((pair, i) => pair.resolve(byOrdinal.get(i + 1)));
  }
}
