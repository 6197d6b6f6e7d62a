/**
 * The Store contract (store.ts) in SQL, written once for both dialects over the SqlDriver port.
 * Only `loadExchange` differs: one statement on both, with the dialect's JSON aggregation (json_agg /
 * json_group_array) returning the session and the pending commands beside the device row.
 */
import type { Clock } from '../../platform/clock.js';
import { systemClock } from '../../platform/clock.js';
import type { CommandSpec } from './command-spec.js';
import type { Row, SqlDriver, SqlExecutor, SqlValue } from './sql-driver.js';
import {
  clientSecretDigest,
  compress,
  encodeCursor,
  normalizeUri,
  resolvePage,
  toAlert,
  toCommand,
  toDevice,
  toMessage,
  toSession,
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
  Page,
  PageRequest,
  RetentionPolicy,
  Store,
  TreeValue,
} from './store.js';
import { DuplicateError, StaleSessionError, StoreRequestError } from './store.js';

export interface SqlStoreOptions {
  readonly clock?: Clock;
  /**
   * Message log retention. `maxPerDevice` is also applied on every commit that logs messages, so the log never
   * grows past it; `maxAgeMs` is applied by `pruneMessages()`. Default: 7 days, 200 messages per device.
   */
  readonly retention?: RetentionPolicy;
}

export const DEFAULT_RETENTION: Required<RetentionPolicy> = {
  maxAgeMs: 7 * 24 * 3600_000,
  maxPerDevice: 200,
};

const DEVICE_COLUMNS: Record<string, string> = {
  username: 'username',
  authType: 'auth_type',
  serverPassword: 'server_password',
  notifyAddress: 'notify_address',
  clientNonce: 'client_nonce',
  serverNonce: 'server_nonce',
  failedAuthCount: 'failed_auth_count',
  lockedUntil: 'locked_until',
  lastSeen: 'last_seen',
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

/**
 * Columns are always named, never all-columns: a process still running while a newer one migrates keeps getting
 * the rows it knows (PostgreSQL refuses to run a prepared statement whose result columns changed).
 */
const DEVICE_COLUMNS_SQL = [
  'device_id',
  'username',
  'client_secret_digest',
  'auth_type',
  'server_password',
  'client_nonce',
  'server_nonce',
  'notify_address',
  'failed_auth_count',
  'locked_until',
  'last_seen',
  'created_at',
];
const TABLE_COLUMNS = {
  tree_values: 'uri, data, format, type, updated_at',
  alerts: 'id, device_id, session_id, code, correlator, items, received_at',
  messages: 'id, device_id, session_id, direction, content_type, body, size, created_at',
} as const;
const columns = (list: readonly string[], alias?: string): string =>
  list.map((c) => (alias === undefined ? c : `${alias}.${c}`)).join(', ');
const SESSION_COLUMNS = ['device_id', 'session_id', 'snapshot', 'version', 'created_at', 'updated_at'];
const COMMAND_COLUMNS = [
  'id',
  'device_id',
  'spec',
  'state',
  'status',
  'child_statuses',
  'results',
  'session_id',
  'created_at',
  'sent_at',
  'done_at',
  'expires_at',
];

const DEVICE_SQL = columns(DEVICE_COLUMNS_SQL);
const COMMAND_SQL = columns(COMMAND_COLUMNS);
const TABLE_SQL = {
  commands: COMMAND_SQL,
  alerts: TABLE_COLUMNS.alerts,
  messages: TABLE_COLUMNS.messages,
} as const;
const pgObject = (alias: string, list: readonly string[]): string =>
  `json_build_object(${list.map((c) => `'${c}', ${alias}.${c}`).join(', ')})`;

/**
 * Pending = queued and unexpired, plus, when no session with this id is saved (a new session), commands still
 * `sent` in the device's other sessions (see Exchange.pending). Parameters: sessionId, now, sessionId, sessionId,
 * deviceId.
 */
const PENDING_WHERE = `c.device_id = d.device_id
  AND ((c.state = 'queued' AND (c.expires_at IS NULL OR c.expires_at > ?))
    OR (c.state = 'sent' AND c.session_id <> ?
        AND NOT EXISTS (SELECT 1 FROM sessions s2 WHERE s2.device_id = d.device_id AND s2.session_id = ?)))`;

const LOAD_EXCHANGE_PG = `SELECT ${columns(DEVICE_COLUMNS_SQL, 'd')},
    (SELECT ${pgObject('s', SESSION_COLUMNS)} FROM sessions s WHERE s.device_id = d.device_id AND s.session_id = ?) AS session_json,
    (SELECT COALESCE(json_agg(${pgObject('c', COMMAND_COLUMNS)} ORDER BY c.id), '[]'::json)
      FROM commands c WHERE ${PENDING_WHERE}) AS pending_json
  FROM devices d WHERE d.device_id = ?`;

const sqliteObject = (alias: string, columns: readonly string[]): string =>
  `json_object(${columns.map((c) => `'${c}', ${alias}.${c}`).join(', ')})`;

const LOAD_EXCHANGE_SQLITE = `SELECT ${columns(DEVICE_COLUMNS_SQL, 'd')},
    (SELECT ${sqliteObject('s', SESSION_COLUMNS)} FROM sessions s
      WHERE s.device_id = d.device_id AND s.session_id = ?) AS session_json,
    (SELECT json_group_array(${sqliteObject('c', COMMAND_COLUMNS)} ORDER BY c.id) FROM commands c
      WHERE ${PENDING_WHERE}) AS pending_json
  FROM devices d WHERE d.device_id = ?`;

function parseJsonColumn(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

export class SqlStore implements Store {
  readonly driver: SqlDriver;
  readonly #clock: Clock;
  readonly #retention: RetentionPolicy;

  constructor(driver: SqlDriver, options: SqlStoreOptions = {}) {
    this.driver = driver;
    this.#clock = options.clock ?? systemClock;
    this.#retention = options.retention ?? DEFAULT_RETENTION;
  }

  // ── devices ──────────────────────────────────────────────────────────────────────────────────────────────────────

  async createDevice(device: NewDevice): Promise<DeviceRecord> {
    const now = this.#clock.now();
    const rows = await this.driver.all(
      `INSERT INTO devices (device_id, username, client_secret_digest, auth_type, server_password, notify_address, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id) DO NOTHING RETURNING ${DEVICE_SQL}`,
      [
        device.deviceId,
        device.username,
        clientSecretDigest(device.username, device.password),
        device.authType,
        device.serverPassword,
        device.notifyAddress ?? null,
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
      const changed = await this.#patchDevice(tx, deviceId, patch);
      if (!changed) return undefined;
      const row = (await tx.all(`SELECT ${DEVICE_SQL} FROM devices WHERE device_id = ?`, [deviceId]))[0];
      return row === undefined ? undefined : toDevice(row);
    });
  }

  /** Returns false when the device does not exist. */
  async #patchDevice(tx: SqlExecutor, deviceId: string, patch: DevicePatch): Promise<boolean> {
    const sets: string[] = [];
    const params: SqlValue[] = [];
    for (const [key, column] of Object.entries(DEVICE_COLUMNS)) {
      const value = (patch as Record<string, unknown>)[key];
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      params.push(value as SqlValue);
    }
    if (patch.username !== undefined && patch.password === undefined) {
      throw new StoreRequestError(
        'password',
        'is required when the username changes (the stored digest covers both)',
      );
    }
    if (patch.password !== undefined) {
      let username = patch.username;
      if (username === undefined) {
        const row = (await tx.all(`SELECT username FROM devices WHERE device_id = ?`, [deviceId]))[0];
        if (row === undefined) return false;
        username = String(row['username']);
      }
      sets.push(`client_secret_digest = ?`);
      params.push(clientSecretDigest(username, patch.password));
    }
    if (sets.length === 0) {
      return (await tx.all(`SELECT 1 AS found FROM devices WHERE device_id = ?`, [deviceId])).length > 0;
    }
    const { changes } = await tx.run(`UPDATE devices SET ${sets.join(', ')} WHERE device_id = ?`, [
      ...params,
      deviceId,
    ]);
    return changes > 0;
  }

  async deleteDevice(deviceId: string): Promise<boolean> {
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
    table: 'commands' | 'alerts' | 'messages',
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
    // back as JSON columns beside the device row.
    const row = (
      await this.driver.all(this.driver.dialect === 'postgres' ? LOAD_EXCHANGE_PG : LOAD_EXCHANGE_SQLITE, [
        sessionId,
        this.#clock.now(),
        sessionId,
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

  async commitExchange(commit: ExchangeCommit): Promise<CommitResult> {
    const now = this.#clock.now();
    const { deviceId, session } = commit;
    if ((commit.markSent?.length ?? 0) > 0 && (session === undefined || 'end' in session)) {
      throw new StoreRequestError('markSent', 'commands can only be marked sent in a session that is saved');
    }
    if ((commit.outcomes?.length ?? 0) > 0 && session === undefined) {
      throw new StoreRequestError('outcomes', 'outcomes belong to a session: name it');
    }
    // The idle fast path: a commit that is one statement (a device patch, or one failure count) needs no
    // transaction, so it costs one round trip.
    const empty = (list: readonly unknown[] | undefined): boolean => list === undefined || list.length === 0;
    const singleStatement =
      session === undefined &&
      empty(commit.markSent) &&
      empty(commit.outcomes) &&
      empty(commit.treeValues) &&
      empty(commit.alerts) &&
      empty(commit.messages) &&
      (commit.device === undefined || commit.authFailure === undefined) &&
      commit.device?.password === undefined;
    const run = <T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> =>
      singleStatement ? fn(this.driver) : this.driver.transaction(fn);
    return run(async (tx) => {
      let sessionVersion = 0;
      if (session !== undefined) {
        if ('end' in session) {
          if (session.expectedVersion > 0) {
            const { changes } = await tx.run(
              `DELETE FROM sessions WHERE device_id = ? AND session_id = ? AND version = ?`,
              [deviceId, session.sessionId, session.expectedVersion],
            );
            if (changes === 0)
              throw new StaleSessionError(deviceId, session.sessionId, session.expectedVersion);
          }
        } else if (session.expectedVersion === 0) {
          const { changes } = await tx.run(
            `INSERT INTO sessions (device_id, session_id, snapshot, version, created_at, updated_at)
             SELECT device_id, ?, ?, 1, ?, ? FROM devices WHERE device_id = ?
             ON CONFLICT (device_id, session_id) DO NOTHING`,
            [session.sessionId, JSON.stringify(session.snapshot), now, now, deviceId],
          );
          if (changes === 0) throw new StaleSessionError(deviceId, session.sessionId, 0);
          // A device runs one session at a time: its earlier sessions are over. Their undelivered commands go back
          // to the queue (and are usually marked sent again below, in this same transaction). Sessions are locked
          // before commands, in every transaction, so concurrent writers cannot dead-lock.
          await tx.run(`DELETE FROM sessions WHERE device_id = ? AND session_id <> ?`, [
            deviceId,
            session.sessionId,
          ]);
          await tx.run(
            `UPDATE commands SET state = 'queued', session_id = NULL, sent_at = NULL
             WHERE device_id = ? AND state = 'sent' AND session_id <> ?`,
            [deviceId, session.sessionId],
          );
          sessionVersion = 1;
        } else {
          const { changes } = await tx.run(
            `UPDATE sessions SET snapshot = ?, version = version + 1, updated_at = ?
             WHERE device_id = ? AND session_id = ? AND version = ?`,
            [JSON.stringify(session.snapshot), now, deviceId, session.sessionId, session.expectedVersion],
          );
          if (changes === 0)
            throw new StaleSessionError(deviceId, session.sessionId, session.expectedVersion);
          sessionVersion = session.expectedVersion + 1;
        }
      }

      if (commit.device !== undefined) await this.#patchDevice(tx, deviceId, commit.device);

      let auth: { failedAuthCount: number; lockedUntil: number | null } | undefined;
      if (commit.authFailure !== undefined) {
        const row = (
          await tx.all(
            `UPDATE devices SET failed_auth_count = failed_auth_count + 1,
               locked_until = CASE WHEN failed_auth_count + 1 >= ? THEN ? ELSE locked_until END
             WHERE device_id = ? RETURNING failed_auth_count, locked_until`,
            [commit.authFailure.maxFailures, now + commit.authFailure.lockMs, deviceId],
          )
        )[0];
        if (row !== undefined) {
          const lockedUntil = row['locked_until'];
          auth = {
            failedAuthCount: Number(row['failed_auth_count']),
            lockedUntil: lockedUntil === null || lockedUntil === undefined ? null : Number(lockedUntil),
          };
        }
      }

      for (const id of commit.markSent ?? []) {
        const { changes } = await tx.run(
          `UPDATE commands SET state = 'sent', session_id = ?, sent_at = ?
           WHERE id = ? AND device_id = ? AND state = 'queued' AND (expires_at IS NULL OR expires_at > ?)`,
          [session!.sessionId, now, id, deviceId, now],
        );
        // Cancelled, expired or sent elsewhere since the read: the exchange was built on stale data.
        if (changes === 0)
          throw new StaleSessionError(deviceId, session!.sessionId, session!.expectedVersion);
      }

      const completed: number[] = [];
      for (const outcome of commit.outcomes ?? []) {
        const { changes } = await tx.run(
          `UPDATE commands SET state = ?, status = ?, child_statuses = ?, results = ?, done_at = ?
           WHERE id = ? AND device_id = ? AND state = 'sent' AND session_id = ?`,
          [
            outcome.state,
            outcome.status,
            outcome.childStatuses === undefined ? null : JSON.stringify(outcome.childStatuses),
            JSON.stringify(outcome.results ?? []),
            now,
            outcome.id,
            deviceId,
            session!.sessionId,
          ],
        );
        if (changes > 0) completed.push(outcome.id);
      }

      for (const value of commit.treeValues ?? []) {
        await tx.run(
          `INSERT INTO tree_values (device_id, uri, data, format, type, updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (device_id, uri) DO UPDATE SET data = excluded.data, format = excluded.format,
             type = excluded.type, updated_at = excluded.updated_at`,
          [deviceId, normalizeUri(value.uri), value.data, value.format, value.type, now],
        );
      }

      const alertIds: number[] = [];
      for (const alert of commit.alerts ?? []) {
        const row = (
          await tx.all(
            `INSERT INTO alerts (device_id, session_id, code, correlator, items, received_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
            [deviceId, alert.sessionId, alert.code, alert.correlator, JSON.stringify(alert.items), now],
          )
        )[0];
        if (row !== undefined) alertIds.push(Number(row['id']));
      }

      for (const message of commit.messages ?? []) {
        await tx.run(
          `INSERT INTO messages (device_id, session_id, direction, content_type, body, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [
            deviceId,
            message.sessionId,
            message.direction,
            message.contentType,
            compress(message.body),
            message.body.byteLength,
            now,
          ],
        );
      }
      const keep = this.#retention.maxPerDevice;
      if ((commit.messages?.length ?? 0) > 0 && keep !== undefined) {
        await tx.run(
          `DELETE FROM messages WHERE device_id = ? AND id <= (
             SELECT id FROM messages WHERE device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
          [deviceId, deviceId, keep],
        );
      }

      if (session !== undefined && 'end' in session) {
        // Session over: what was sent and never answered is delivered again in the next session.
        await tx.run(
          `UPDATE commands SET state = 'queued', session_id = NULL, sent_at = NULL
                      WHERE device_id = ? AND session_id = ? AND state = 'sent'`,
          [deviceId, session.sessionId],
        );
      }

      const result: CommitResult = { sessionVersion, completed, alertIds };
      return auth === undefined ? result : { ...result, ...auth };
    });
  }

  async requeueOrphaned(options: { idleMs: number }): Promise<number> {
    const cutoff = this.#clock.now() - options.idleMs;
    return this.driver.transaction(async (tx) => {
      // Sessions first, then commands (the lock order of every transaction). A session advanced meanwhile has a
      // fresh updated_at and is kept (PostgreSQL re-checks the condition on the row it waited for).
      await tx.run(`DELETE FROM sessions WHERE updated_at < ?`, [cutoff]);
      // `sent_at < cutoff`: a command marked sent by a commit that raced this sweep belongs to a session saved at
      // that moment, which this statement's snapshot may not show yet; such a command is never this old.
      const { changes } = await tx.run(
        `UPDATE commands SET state = 'queued', session_id = NULL, sent_at = NULL
         WHERE state = 'sent' AND sent_at < ? AND NOT EXISTS (
           SELECT 1 FROM sessions s WHERE s.device_id = commands.device_id AND s.session_id = commands.session_id)`,
        [cutoff],
      );
      return changes;
    });
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
    return this.#newestFirst('messages', deviceId, request, toMessage);
  }

  async pruneMessages(policy: RetentionPolicy = this.#retention): Promise<number> {
    let deleted = 0;
    if (policy.maxAgeMs !== undefined) {
      deleted += (
        await this.driver.run(`DELETE FROM messages WHERE created_at < ?`, [
          this.#clock.now() - policy.maxAgeMs,
        ])
      ).changes;
    }
    if (policy.maxPerDevice !== undefined) {
      deleted += (
        await this.driver.run(
          `DELETE FROM messages WHERE id IN (
             SELECT id FROM (
               SELECT id, ROW_NUMBER() OVER (PARTITION BY device_id ORDER BY id DESC) AS rn FROM messages) ranked
             WHERE rn > ?)`,
          [policy.maxPerDevice],
        )
      ).changes;
    }
    return deleted;
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}
