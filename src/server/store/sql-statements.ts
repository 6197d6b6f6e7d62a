/** SQL shared by the store's methods: column lists (always named) and the one-statement exchange read. */

/** DevicePatch field → column, for the fields written as given. */
export const DEVICE_PATCH_COLUMNS: Record<string, string> = {
  username: 'username',
  authType: 'auth_type',
  serverAuthType: 'server_auth_type',
  serverPassword: 'server_password',
  notifyAddress: 'notify_address',
  notifyOnQueue: 'notify_on_queue',
  clientNonce: 'client_nonce',
  serverNonce: 'server_nonce',
  failedAuthCount: 'failed_auth_count',
  lockedUntil: 'locked_until',
  lastSeen: 'last_seen',
  nonceResyncUntil: 'nonce_resync_until',
};

/**
 * Columns are always named, never all-columns: a process still running while a newer one migrates keeps getting
 * the rows it knows (PostgreSQL refuses to run a prepared statement whose result columns changed).
 */
const DEVICE_COLUMNS_SQL = [
  'device_id',
  'username',
  'client_secret_digest',
  'auth_type',
  'server_auth_type',
  'server_password',
  'client_nonce',
  'server_nonce',
  'notify_address',
  'notify_on_queue',
  'failed_auth_count',
  'locked_until',
  'last_seen',
  'created_at',
  'nonce_resync_until',
];
export const TABLE_COLUMNS = {
  tree_values: 'uri, data, format, type, updated_at',
  alerts: 'id, device_id, session_id, code, correlator, items, received_at',
  notifications: 'device_id, session_id, ui_mode, notified_at',
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
  'deliveries',
  'reason',
];

export const DEVICE_SQL = columns(DEVICE_COLUMNS_SQL);
export const COMMAND_SQL = columns(COMMAND_COLUMNS);
export const TABLE_SQL = {
  commands: COMMAND_SQL,
  alerts: TABLE_COLUMNS.alerts,
} as const;
const pgObject = (alias: string, list: readonly string[]): string =>
  `json_build_object(${list.map((c) => `'${c}', ${alias}.${c}`).join(', ')})`;

/**
 * Pending = queued and unexpired, plus, when no session with this id is saved (a new session), unexpired commands
 * still `sent` in the device's other sessions (see Exchange.pending). One that expired while sent is not handed out
 * again (markSent would refuse it): the new session's commit puts it back in the queue and `expireDue` ends it.
 * Nor is one delivered `maxDeliveries` times already: the new session's commit fails it (reason `unanswered`).
 * Parameters (LOAD_EXCHANGE_SQLITE): sessionId, now, sessionId, maxDeliveries, sessionId, deviceId.
 * `state IN (…)` first, though the OR below implies it: it lets both databases reach the pending rows through the
 * (device_id, state, id) index instead of reading the device's whole command history (measured on SQLite with 1 000
 * done commands per device: 272 µs per check-in without it, 15 µs with it).
 */
const pendingWhere = (sessionId: string): string => `c.device_id = d.device_id
  AND c.state IN ('queued', 'sent')
  AND (c.expires_at IS NULL OR c.expires_at > ?)
  AND (c.state = 'queued'
    OR (c.state = 'sent' AND c.session_id <> ${sessionId} AND c.deliveries < ?
        AND NOT EXISTS (SELECT 1 FROM sessions s2 WHERE s2.device_id = d.device_id AND s2.session_id = ${sessionId})))`;
const PENDING_WHERE = pendingWhere('?');

/**
 * The exchange's read on PostgreSQL, for many (device, session) pairs in one round trip (exchange-reads.ts): the
 * pairs come as two arrays, and each answer row carries `ord`, the 1-based position of its pair (a device that does
 * not exist has no row).
 * Parameters: now, maxDeliveries, deviceIds[], sessionIds[].
 */
export const LOAD_EXCHANGES_PG = `SELECT r.ord, ${columns(DEVICE_COLUMNS_SQL, 'd')},
    (SELECT ${pgObject('s', SESSION_COLUMNS)} FROM sessions s
      WHERE s.device_id = d.device_id AND s.session_id = r.session_id) AS session_json,
    (SELECT COALESCE(json_agg(${pgObject('c', COMMAND_COLUMNS)} ORDER BY c.id), '[]'::json)
      FROM commands c WHERE ${pendingWhere('r.session_id')}) AS pending_json
  FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS r(device_id, session_id, ord)
  JOIN devices d ON d.device_id = r.device_id`;

const sqliteObject = (alias: string, columns: readonly string[]): string =>
  `json_object(${columns.map((c) => `'${c}', ${alias}.${c}`).join(', ')})`;

export const LOAD_EXCHANGE_SQLITE = `SELECT ${columns(DEVICE_COLUMNS_SQL, 'd')},
    (SELECT ${sqliteObject('s', SESSION_COLUMNS)} FROM sessions s
      WHERE s.device_id = d.device_id AND s.session_id = ?) AS session_json,
    (SELECT json_group_array(${sqliteObject('c', COMMAND_COLUMNS)} ORDER BY c.id) FROM commands c
      WHERE ${PENDING_WHERE}) AS pending_json
  FROM devices d WHERE d.device_id = ?`;

export function parseJsonColumn(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}
