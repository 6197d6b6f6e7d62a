/**
 * The body of `Store.commitExchange`: everything one DM request writes, in the documented order, on one executor
 * (a transaction, or the bare driver when the commit is a single statement). The exchange's messages are not written
 * here: they go to the message log's buffer once this commit succeeded (message-log.ts).
 */
import type { SqlExecutor, SqlValue } from './sql-driver.js';
import { clientSecretDigest, normalizeUri } from './rows.js';
import { DEVICE_PATCH_COLUMNS } from './sql-statements.js';
import type { CommitResult, DevicePatch, ExchangeCommit } from './store.js';
import { NonceResyncTakenError, StaleSessionError, StoreRequestError } from './store.js';

/** Built once: every idle check-in patches the device row. */
const PATCH_COLUMN_LIST = Object.entries(DEVICE_PATCH_COLUMNS);

/** Returns false when the device does not exist. */
export async function patchDevice(tx: SqlExecutor, deviceId: string, patch: DevicePatch): Promise<boolean> {
  const sets: string[] = [];
  const params: SqlValue[] = [];
  for (const [key, column] of PATCH_COLUMN_LIST) {
    const value = (patch as Record<string, unknown>)[key];
    if (value === undefined) continue;
    sets.push(`${column} = ?`);
    // Booleans (notifyOnQueue) are 0/1 on both dialects.
    params.push(typeof value === 'boolean' ? (value ? 1 : 0) : (value as SqlValue));
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

/**
 * Commands still `sent` in the sessions `where` names go back to the queue, except those delivered `maxDeliveries`
 * times already: they fail (reason `unanswered`, status null). Returns the ids failed.
 */
async function requeueOrGiveUp(
  tx: SqlExecutor,
  where: string,
  params: readonly SqlValue[],
  now: number,
  maxDeliveries: number,
): Promise<number[]> {
  const failed = await tx.all(
    `UPDATE commands SET state = 'failed', reason = 'unanswered', done_at = ?
     WHERE ${where} AND state = 'sent' AND deliveries >= ? RETURNING id`,
    [now, ...params, maxDeliveries],
  );
  await tx.run(
    `UPDATE commands SET state = 'queued', session_id = NULL, sent_at = NULL WHERE ${where} AND state = 'sent'`,
    [...params],
  );
  return failed.map((row) => Number(row['id'])).sort((a, b) => a - b);
}

export async function applyCommit(
  tx: SqlExecutor,
  commit: ExchangeCommit,
  now: number,
  maxDeliveries: number,
): Promise<CommitResult> {
  const { deviceId, session } = commit;
  let sessionVersion = 0;
  const unanswered: number[] = [];
  if (session !== undefined) {
    if ('end' in session) {
      if (session.expectedVersion > 0) {
        const { changes } = await tx.run(
          `DELETE FROM sessions WHERE device_id = ? AND session_id = ? AND version = ?`,
          [deviceId, session.sessionId, session.expectedVersion],
        );
        if (changes === 0) throw new StaleSessionError(deviceId, session.sessionId, session.expectedVersion);
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
      unanswered.push(
        ...(await requeueOrGiveUp(
          tx,
          `device_id = ? AND session_id <> ?`,
          [deviceId, session.sessionId],
          now,
          maxDeliveries,
        )),
      );
      sessionVersion = 1;
    } else {
      const { changes } = await tx.run(
        `UPDATE sessions SET snapshot = ?, version = version + 1, updated_at = ?
         WHERE device_id = ? AND session_id = ? AND version = ?`,
        [JSON.stringify(session.snapshot), now, deviceId, session.sessionId, session.expectedVersion],
      );
      if (changes === 0) throw new StaleSessionError(deviceId, session.sessionId, session.expectedVersion);
      sessionVersion = session.expectedVersion + 1;
    }
  }

  if (commit.consumeNonceResync === true) {
    // security.md §8.3: the offer admits one session. The row's condition decides between concurrent takers.
    const { changes } = await tx.run(
      `UPDATE devices SET nonce_resync_until = NULL WHERE device_id = ? AND nonce_resync_until > ?`,
      [deviceId, now],
    );
    if (changes === 0) throw new NonceResyncTakenError(deviceId);
  }

  if (commit.device !== undefined) await patchDevice(tx, deviceId, commit.device);

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
      `UPDATE commands SET state = 'sent', session_id = ?, sent_at = ?, deliveries = deliveries + 1
       WHERE id = ? AND device_id = ? AND state = 'queued' AND (expires_at IS NULL OR expires_at > ?)`,
      [session!.sessionId, now, id, deviceId, now],
    );
    // Cancelled, expired or sent elsewhere since the read: the exchange was built on stale data.
    if (changes === 0) throw new StaleSessionError(deviceId, session!.sessionId, session!.expectedVersion);
  }

  const completed: number[] = [];
  for (const outcome of commit.outcomes ?? []) {
    const { changes } = await tx.run(
      `UPDATE commands SET state = ?, status = ?, child_statuses = ?, results = ?, done_at = ?, reason = ?
       WHERE id = ? AND device_id = ? AND state = 'sent' AND session_id = ?`,
      [
        outcome.state,
        outcome.status,
        outcome.childStatuses === undefined ? null : JSON.stringify(outcome.childStatuses),
        JSON.stringify(outcome.results ?? []),
        now,
        outcome.reason ?? null,
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

  if (session !== undefined && 'end' in session) {
    // Session over: what was sent and never answered is delivered again in the next session, up to maxDeliveries.
    unanswered.push(
      ...(await requeueOrGiveUp(
        tx,
        `device_id = ? AND session_id = ?`,
        [deviceId, session.sessionId],
        now,
        maxDeliveries,
      )),
    );
  }

  const result: CommitResult = { sessionVersion, completed, unanswered, alertIds };
  return auth === undefined ? result : { ...result, ...auth };
}
