/**
 * The Store contract (store.ts) in SQL, written once for both dialects over the SqlDriver port.
 * Only `loadExchange` differs: one statement on both, with the dialect's JSON aggregation (json_agg /
 * json_group_array) returning the session and the pending commands beside the device row.
 */
import type { Clock } from '../../platform/clock.js';
import { systemClock } from '../../platform/clock.js';
import type { CommandSpec } from './command-spec.js';
import type { Row, SqlDriver, SqlExecutor, SqlValue } from './sql-driver.js';
import { applyCommit, patchDevice } from './exchange-commit.js';
import { CommitBatcher } from './commit-batcher.js';
import { ExchangeReads } from './exchange-reads.js';
import { MessageLog, type MessageLogOptions } from './message-log.js';
import { readMessagePage } from './message-log-reader.js';
import { pruneMessageLog, type PruneChunks, type PruneCursor } from './message-retention.js';
import { COMMAND_SQL, DEVICE_SQL, TABLE_COLUMNS, TABLE_SQL } from './sql-statements.js';
import {
  clientSecretDigest,
  encodeCursor,
  normalizeUri,
  resolvePage,
  toAlert,
  toCommand,
  toDevice,
  toPendingNotification,
  toTreeValue,
} from './rows.js';
import type {
  CancelResult,
  CommandRecord,
  CommitResult,
  DevicePatch,
  DeviceQuery,
  DeviceRecord,
  Exchange,
  ExchangeCommit,
  GenericAlertRecord,
  MessageRecord,
  NewDevice,
  NotificationUiMode,
  OrphanSweep,
  Page,
  PendingNotification,
  PageRequest,
  PruneBudget,
  RetentionPolicy,
  Store,
  TreeValue,
} from './store.js';
import { DEFAULT_MAX_DELIVERIES, DuplicateError, StoreRequestError } from './store.js';

export interface SqlStoreOptions {
  readonly clock?: Clock;
  /**
   * Message log retention. `maxPerDevice` is also applied by the message-log flushes, to a device once it gained
   * max(1, floor(maxPerDevice / 4)) messages since the process last pruned it (message-log.ts states the bound);
   * `pruneMessages()` applies both limits to every device and reclaims segments. Default: 7 days, 200 messages per
   * device.
   */
  readonly retention?: RetentionPolicy;
  /** How much one statement of `pruneMessages` covers (message-retention.ts). For tests; the defaults suit servers. */
  readonly retentionChunks?: PruneChunks;
  /**
   * The message log's group commit (message-log.ts): entries are flushed in one transaction `flushMs` (default
   * 100 ms) after the first one is buffered, or at once when `maxBuffered` (default 512) are waiting.
   */
  readonly messageLog?: Omit<MessageLogOptions, 'maxPerDevice'>;
  /**
   * How long a sent Package 0 stays pending (answerable, and its session id reserved for the device). Default 24 h;
   * a device that answers later starts an ordinary server-initiated session without the latency.
   */
  readonly pendingNotificationMs?: number;
  /**
   * Deliveries of one command (sessions it was sent in, crash recovery included) before a command still without an
   * answer fails with reason `unanswered` instead of going back to the queue. Default 3 (DEFAULT_MAX_DELIVERIES).
   */
  readonly maxDeliveries?: number;
}

export const DEFAULT_PENDING_NOTIFICATION_MS = 24 * 3600_000;

export const DEFAULT_RETENTION: Required<RetentionPolicy> = {
  maxAgeMs: 7 * 24 * 3600_000,
  maxPerDevice: 200,
};

function page<T, K extends string | number>(
  rows: Row[],
  limit: number,
  map: (r: Row) => T,
  key: (t: T) => K,
): Page<T> {
  const items = rows.slice(0, limit).map(map);
  const last = items[items.length - 1];
  return rows.length > limit && last !== undefined
    ? { items, nextCursor: encodeCursor(key(last)) }
    : { items };
}
export class SqlStore implements Store {
  readonly driver: SqlDriver;
  readonly #clock: Clock;
  readonly #retention: RetentionPolicy;
  readonly #pendingNotificationMs: number;
  readonly #maxDeliveries: number;
  /** The buffered message log (written in group commits, off the request path). */
  readonly messageLog: MessageLog;
  /** Group commit of one-statement exchange commits (the idle check-in's write). */
  readonly #commits: CommitBatcher;
  readonly #retentionChunks: PruneChunks | undefined;
  /** Where the last budgeted `pruneMessages` stopped (per process: another process keeps its own). */
  readonly #pruneCursor: PruneCursor = { device: undefined, segment: 0 };
  /** The exchanges' one read, grouped per event-loop turn. */
  readonly #exchangeReads: ExchangeReads;

  constructor(driver: SqlDriver, options: SqlStoreOptions = {}) {
    this.driver = driver;
    this.#clock = options.clock ?? systemClock;
    this.#retention = options.retention ?? DEFAULT_RETENTION;
    this.#pendingNotificationMs = options.pendingNotificationMs ?? DEFAULT_PENDING_NOTIFICATION_MS;
    this.#maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    if (!Number.isInteger(this.#maxDeliveries) || this.#maxDeliveries < 1) {
      throw new StoreRequestError('maxDeliveries', 'must be an integer of at least 1');
    }
    this.#commits = new CommitBatcher(driver);
    this.#retentionChunks = options.retentionChunks;
    this.#exchangeReads = new ExchangeReads(driver, this.#clock, this.#maxDeliveries);
    this.messageLog = new MessageLog(driver, {
      ...options.messageLog,
      maxPerDevice: this.#retention.maxPerDevice,
    });
  }

  // ── devices ──────────────────────────────────────────────────────────────────────────────────────────────────────

  async createDevice(device: NewDevice): Promise<DeviceRecord> {
    const now = this.#clock.now();
    const rows = await this.driver.all(
      `INSERT INTO devices (device_id, username, client_secret_digest, auth_type, server_auth_type, server_password, notify_address, notify_on_queue, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO NOTHING RETURNING ${DEVICE_SQL}`,
      [
        device.deviceId,
        device.username,
        clientSecretDigest(device.username, device.password),
        device.authType,
        device.serverAuthType ?? null,
        device.serverPassword,
        device.notifyAddress ?? null,
        device.notifyOnQueue === true ? 1 : 0,
        now,
      ],
    );
    const row = rows[0];
    if (row === undefined)
      throw new DuplicateError('device-exists', `device ${JSON.stringify(device.deviceId)} already exists`);
    return toDevice(row);
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    const row = (
      await this.driver.all(`SELECT ${DEVICE_SQL} FROM devices WHERE device_id = ?`, [deviceId])
    )[0];
    return row === undefined ? undefined : toDevice(row);
  }

  async listDevices(query: DeviceQuery = {}): Promise<Page<DeviceRecord>> {
    const p = resolvePage<string>(query, 'string');
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (query.idPrefix !== undefined && query.idPrefix !== '') {
      where.push(`substr(device_id, 1, ?) = ?`);
      params.push(query.idPrefix.length, query.idPrefix);
    }
    if (p.after !== undefined) {
      where.push(`device_id > ?`);
      params.push(p.after);
    }
    const sql = `SELECT ${DEVICE_SQL} FROM devices ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY device_id LIMIT ? OFFSET ?`;
    const rows = await this.driver.all(sql, [...params, p.limit + 1, p.offset]);
    return page(rows, p.limit, toDevice, (d) => d.deviceId);
  }

  async updateDevice(deviceId: string, patch: DevicePatch): Promise<DeviceRecord | undefined> {
    return this.driver.transaction(async (tx) => {
      const changed = await patchDevice(tx, deviceId, patch);
      if (!changed) return undefined;
      const row = (await tx.all(`SELECT ${DEVICE_SQL} FROM devices WHERE device_id = ?`, [deviceId]))[0];
      return row === undefined ? undefined : toDevice(row);
    });
  }

  async deleteDevice(deviceId: string): Promise<boolean> {
    this.messageLog.forget(deviceId);
    const { changes } = await this.driver.run(`DELETE FROM devices WHERE device_id = ?`, [deviceId]);
    return changes > 0;
  }

  // ── command queue ────────────────────────────────────────────────────────────────────────────────────────────────

  async enqueueCommand(
    deviceId: string,
    spec: CommandSpec,
    options: { expiresAt?: number } = {},
  ): Promise<CommandRecord | undefined> {
    const rows = await this.driver.all(
      `INSERT INTO commands (device_id, spec, state, created_at, expires_at)
       SELECT device_id, ?, 'queued', ?, ? FROM devices WHERE device_id = ? RETURNING ${COMMAND_SQL}`,
      [JSON.stringify(spec), this.#clock.now(), options.expiresAt ?? null, deviceId],
    );
    const row = rows[0];
    return row === undefined ? undefined : toCommand(row);
  }

  async getCommand(deviceId: string, id: number): Promise<CommandRecord | undefined> {
    const row = (
      await this.driver.all(`SELECT ${COMMAND_SQL} FROM commands WHERE id = ? AND device_id = ?`, [
        id,
        deviceId,
      ])
    )[0];
    return row === undefined ? undefined : toCommand(row);
  }

  async listCommands(deviceId: string, request?: PageRequest): Promise<Page<CommandRecord>> {
    return this.#newestFirst('commands', deviceId, request, toCommand);
  }

  async #newestFirst<T extends { id: number }>(
    table: 'commands' | 'alerts',
    deviceId: string,
    request: PageRequest | undefined,
    map: (row: Row) => T,
  ): Promise<Page<T>> {
    const p = resolvePage<number>(request, 'number');
    const rows =
      p.after === undefined
        ? await this.driver.all(
            `SELECT ${TABLE_SQL[table]} FROM ${table} WHERE device_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`,
            [deviceId, p.limit + 1, p.offset],
          )
        : await this.driver.all(
            `SELECT ${TABLE_SQL[table]} FROM ${table} WHERE device_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
            [deviceId, p.after, p.limit + 1],
          );
    return page(rows, p.limit, map, (t) => t.id);
  }

  async cancelCommand(deviceId: string, id: number): Promise<CancelResult> {
    const { changes } = await this.driver.run(
      `UPDATE commands SET state = 'cancelled', done_at = ? WHERE id = ? AND device_id = ? AND state = 'queued'`,
      [this.#clock.now(), id, deviceId],
    );
    if (changes > 0) return 'cancelled';
    return (await this.getCommand(deviceId, id)) === undefined ? 'not-found' : 'not-queued';
  }

  async expireDue(): Promise<number> {
    const now = this.#clock.now();
    const { changes } = await this.driver.run(
      `UPDATE commands SET state = 'expired', done_at = ? WHERE state = 'queued' AND expires_at IS NOT NULL AND expires_at <= ?`,
      [now, now],
    );
    return changes;
  }

  // ── sessions and DM exchanges ────────────────────────────────────────────────────────────────────────────────────

  async loadExchange(deviceId: string, sessionId: string): Promise<Exchange | undefined> {
    // One statement, one round trip: the idle fast path's only read. The session and the pending commands come
    // back as JSON columns beside the device row. Grouped with the turn's other reads (exchange-reads.ts).
    return this.#exchangeReads.load(deviceId, sessionId);
  }

  async commitExchange(commit: ExchangeCommit): Promise<CommitResult> {
    const now = this.#clock.now();
    const { session } = commit;
    if ((commit.markSent?.length ?? 0) > 0 && (session === undefined || 'end' in session)) {
      throw new StoreRequestError('markSent', 'commands can only be marked sent in a session that is saved');
    }
    if ((commit.outcomes?.length ?? 0) > 0 && session === undefined) {
      throw new StoreRequestError('outcomes', 'outcomes belong to a session: name it');
    }
    // The idle fast path: a commit that is one statement (a device patch, or one failure count) needs no
    // transaction of its own, so it costs one statement in a shared group commit. The exchange's messages are buffered for the message log's next
    // group commit once this commit succeeded; they never make the commit a transaction.
    const empty = (list: readonly unknown[] | undefined): boolean => list === undefined || list.length === 0;
    const singleStatement =
      session === undefined &&
      empty(commit.markSent) &&
      empty(commit.outcomes) &&
      empty(commit.treeValues) &&
      empty(commit.alerts) &&
      (commit.device === undefined || commit.authFailure === undefined) &&
      commit.consumeNonceResync !== true &&
      commit.device?.password === undefined;
    // One statement joins the group commit of this event-loop turn (commit-batcher.ts): still one write per
    // check-in, but one database commit per batch of them.
    const run = <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> =>
      singleStatement ? this.#commits.run(commit.deviceId, fn) : this.driver.transaction(fn);
    const result = await run((tx) => applyCommit(tx, commit, now, this.#maxDeliveries));
    if (commit.messages !== undefined && commit.messages.length > 0) {
      this.messageLog.append(commit.deviceId, commit.messages, now);
    }
    return result;
  }

  async requeueOrphaned(options: { idleMs: number }): Promise<OrphanSweep> {
    const now = this.#clock.now();
    const cutoff = now - options.idleMs;
    return this.driver.transaction(async (tx) => {
      // Sessions first, then commands (the lock order of every transaction). A session advanced meanwhile has a
      // fresh updated_at and is kept (PostgreSQL re-checks the condition on the row it waited for).
      await tx.run(`DELETE FROM sessions WHERE updated_at < ?`, [cutoff]);
      // `sent_at < cutoff`: a command marked sent by a commit that raced this sweep belongs to a session saved at
      // that moment, which this statement's snapshot may not show yet; such a command is never this old.
      const orphaned = `state = 'sent' AND sent_at < ? AND NOT EXISTS (
           SELECT 1 FROM sessions s WHERE s.device_id = commands.device_id AND s.session_id = commands.session_id)`;
      // An abandoned session counts as a delivery: the last one allowed ends the command (reason unanswered).
      const failed = await tx.all(
        `UPDATE commands SET state = 'failed', reason = 'unanswered', done_at = ?
         WHERE ${orphaned} AND deliveries >= ? RETURNING id, device_id`,
        [now, cutoff, this.#maxDeliveries],
      );
      const { changes } = await tx.run(
        `UPDATE commands SET state = 'queued', session_id = NULL, sent_at = NULL WHERE ${orphaned}`,
        [cutoff],
      );
      const unanswered = failed
        .map((row) => ({ deviceId: String(row['device_id']), id: Number(row['id']) }))
        .sort((a, b) => a.id - b.id);
      return { requeued: changes, unanswered };
    });
  }

  // ── Package 0 notifications ──────────────────────────────────────────────────────────────────────────────────────

  async recordNotification(
    deviceId: string,
    notification: { readonly sessionId: string; readonly uiMode: NotificationUiMode },
  ): Promise<PendingNotification | undefined> {
    const now = this.#clock.now();
    return this.driver.transaction(async (tx) => {
      await tx.run(`DELETE FROM notifications WHERE device_id = ? AND notified_at < ?`, [
        deviceId,
        now - this.#pendingNotificationMs,
      ]);
      const row = (
        await tx.all(
          `INSERT INTO notifications (device_id, session_id, ui_mode, notified_at)
           SELECT device_id, ?, ?, ? FROM devices WHERE device_id = ?
           ON CONFLICT (device_id, session_id) DO UPDATE SET ui_mode = excluded.ui_mode, notified_at = excluded.notified_at
           RETURNING ${TABLE_COLUMNS.notifications}`,
          [notification.sessionId, notification.uiMode, now, deviceId],
        )
      )[0];
      return row === undefined ? undefined : toPendingNotification(row);
    });
  }

  async listPendingNotifications(deviceId: string): Promise<readonly PendingNotification[]> {
    const rows = await this.driver.all(
      `SELECT ${TABLE_COLUMNS.notifications} FROM notifications WHERE device_id = ? AND notified_at >= ?
       ORDER BY notified_at, session_id`,
      [deviceId, this.#clock.now() - this.#pendingNotificationMs],
    );
    return rows.map(toPendingNotification);
  }

  async takePendingNotification(
    deviceId: string,
    sessionId: string,
  ): Promise<PendingNotification | undefined> {
    // One DELETE … RETURNING: of two processes answering the same Package 1, exactly one gets the row.
    const row = (
      await this.driver.all(
        `DELETE FROM notifications WHERE device_id = ? AND session_id = ? RETURNING ${TABLE_COLUMNS.notifications}`,
        [deviceId, sessionId],
      )
    )[0];
    if (row === undefined) return undefined;
    const taken = toPendingNotification(row);
    return taken.notifiedAt >= this.#clock.now() - this.#pendingNotificationMs ? taken : undefined;
  }

  // ── what the server learned ──────────────────────────────────────────────────────────────────────────────────────

  async getTree(deviceId: string, path: string): Promise<readonly TreeValue[]> {
    const root = normalizeUri(path);
    if (root === '.') {
      return (
        await this.driver.all(
          `SELECT ${TABLE_COLUMNS.tree_values} FROM tree_values WHERE device_id = ? ORDER BY uri`,
          [deviceId],
        )
      ).map(toTreeValue);
    }
    const prefix = `${root}/`;
    const rows = await this.driver.all(
      `SELECT ${TABLE_COLUMNS.tree_values} FROM tree_values WHERE device_id = ? AND (uri = ? OR substr(uri, 1, ?) = ?) ORDER BY uri`,
      [deviceId, root, prefix.length, prefix],
    );
    return rows.map(toTreeValue);
  }

  async listAlerts(deviceId: string, request?: PageRequest): Promise<Page<GenericAlertRecord>> {
    return this.#newestFirst('alerts', deviceId, request, toAlert);
  }

  async listMessages(deviceId: string, request?: PageRequest): Promise<Page<MessageRecord>> {
    // Read-your-writes: every exchange committed before this call is in the page.
    await this.messageLog.flush();
    return readMessagePage(this.driver, deviceId, request);
  }

  async pruneMessages(policy: RetentionPolicy = this.#retention, run: PruneBudget = {}): Promise<number> {
    await this.messageLog.flush();
    return pruneMessageLog(this.driver, policy, this.#clock.now(), {
      ...(this.#retentionChunks === undefined ? {} : { chunks: this.#retentionChunks }),
      ...(run.budgetMs === undefined ? {} : { budgetMs: run.budgetMs, cursor: this.#pruneCursor }),
    });
  }

  async close(): Promise<void> {
    await this.messageLog.flush();
    await this.driver.close();
  }
}
