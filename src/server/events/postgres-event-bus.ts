/**
 * EventBus over PostgreSQL LISTEN/NOTIFY: `publish` is `pg_notify(channel, json)`, and one dedicated connection per
 * process LISTENs and fans events out to local subscribers, so every process of a cluster sees every event (its
 * own included, exactly once: local delivery goes through the database too).
 *
 * Publishing is a pipeline: events are sent in the order `publish` was called, all those waiting in one statement
 * (`pg_notify` over an array), one statement at a time. Under load that is one round trip per batch instead of one
 * per event (an idle check-in publishes two), and the queue cannot fall behind the rate events are made at.
 *
 * Limits (PostgreSQL's): a payload must stay under 8000 bytes (events are small; larger ones are refused); events
 * published while this process's listening connection is down are not seen by it (it reconnects with back-off); and
 * byte-identical events in one batch (one transaction) are delivered once (events carry their ids and a time in
 * milliseconds, so only a true duplicate can merge). Events are notifications for live views, not a durable log: the
 * store is the record.
 */
import pg from 'pg';
import { OmadmError } from '../../errors.js';
import { quoteIdentifier } from '../store/postgres-driver.js';
import { Subscribers, isServerEvent } from './event-bus.js';
import type { EventBus, EventFilter, EventListener, ServerEvent, Unsubscribe } from './event-bus.js';

export const DEFAULT_EVENT_CHANNEL = 'omadm_events';
const MAX_PAYLOAD_BYTES = 7999;
/** Events per NOTIFY statement (a longer queue goes in several, in order). */
const MAX_BATCH = 512;

interface PendingNotify {
  readonly payload: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export interface PostgresEventBusOptions {
  /** Connection string or client configuration, for the listening connection (and publishing, without `pool`). */
  readonly connection: string | pg.ClientConfig;
  /** A pool to publish through (e.g. the store's); otherwise the bus opens a small one of its own. */
  readonly pool?: pg.Pool;
  /** NOTIFY channel; processes that should see each other's events use the same one. */
  readonly channel?: string;
  /** Longest wait between reconnection attempts of the listening connection. Default 30 s. */
  readonly maxReconnectDelayMs?: number;
}

export class PostgresEventBus implements EventBus {
  readonly channel: string;
  readonly #options: PostgresEventBusOptions;
  readonly #pool: pg.Pool;
  readonly #ownPool: boolean;
  readonly #subscribers = new Subscribers();
  #listener: pg.Client | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectDelay = 250;
  #closed = false;
  /** Events waiting for the next statement, in publish order. */
  #queue: PendingNotify[] = [];
  /** The send loop, while a statement is on its way or scheduled for the end of this turn. */
  #sending: Promise<void> | undefined;
  /** Statements sent and events in them since the bus opened (for tests and figures). */
  readonly stats = { statements: 0, events: 0 };

  private constructor(options: PostgresEventBusOptions) {
    this.#options = options;
    this.channel = options.channel ?? DEFAULT_EVENT_CHANNEL;
    quoteIdentifier(this.channel);
    const config =
      typeof options.connection === 'string' ? { connectionString: options.connection } : options.connection;
    this.#ownPool = options.pool === undefined;
    this.#pool = options.pool ?? new pg.Pool({ ...config, max: 2 });
    if (this.#ownPool) this.#pool.on('error', () => undefined);
  }

  /** Connects the listening connection; resolves once LISTEN is in effect. */
  static async connect(options: PostgresEventBusOptions): Promise<PostgresEventBus> {
    const bus = new PostgresEventBus(options);
    try {
      await bus.#listen();
    } catch (error) {
      await bus.close();
      throw error;
    }
    return bus;
  }

  async #listen(): Promise<void> {
    const config =
      typeof this.#options.connection === 'string'
        ? { connectionString: this.#options.connection }
        : this.#options.connection;
    const client = new pg.Client(config);
    client.on('notification', (message) => {
      if (message.channel !== this.channel || message.payload === undefined) return;
      let event: unknown;
      try {
        event = JSON.parse(message.payload);
      } catch {
        return;
      }
      if (isServerEvent(event)) this.#subscribers.deliver(event);
    });
    const lost = (): void => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    await client.connect();
    await client.query(`LISTEN ${quoteIdentifier(this.channel)}`);
    if (this.#closed) {
      await client.end();
      return;
    }
    this.#listener = client;
    this.#reconnectDelay = 250;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== undefined) return;
    const delay = this.#reconnectDelay;
    this.#reconnectDelay = Math.min(delay * 2, this.#options.maxReconnectDelayMs ?? 30_000);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#listen().catch(() => this.#scheduleReconnect());
    }, delay);
    this.#reconnectTimer.unref();
  }

  /** Whether the listening connection is up (for health checks). */
  get listening(): boolean {
    return this.#listener !== undefined;
  }

  publish(event: ServerEvent): Promise<void> {
    if (this.#closed) return Promise.reject(new OmadmError('event-bus-closed', 'the event bus is closed'));
    const payload = JSON.stringify(event);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      return Promise.reject(
        new OmadmError(
          'event-too-large',
          `a ${event.type} event is over ${MAX_PAYLOAD_BYTES} bytes, the NOTIFY limit`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ payload, resolve, reject });
      // The events of this turn (the exchanges that finished together) go in the first statement.
      this.#sending ??= new Promise<void>((done) => setImmediate(() => done(this.#send())));
    });
  }

  /** Sends what waits, one statement at a time, until nothing does. */
  async #send(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      this.stats.statements++;
      this.stats.events += batch.length;
      try {
        if (batch.length === 1) {
          await this.#pool.query('SELECT pg_notify($1, $2)', [this.channel, batch[0]!.payload]);
        } else {
          // unnest yields the array in order, and pg_notify queues in the order it is called.
          await this.#pool.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [
            this.channel,
            batch.map((pending) => pending.payload),
          ]);
        }
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.#sending = undefined;
  }

  subscribe(listener: EventListener, filter?: EventFilter): Unsubscribe {
    return this.#subscribers.add(listener, filter);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // What was published before close still goes out.
    await this.#sending;
    clearTimeout(this.#reconnectTimer);
    this.#subscribers.clear();
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    if (this.#ownPool) await this.#pool.end();
  }
}
