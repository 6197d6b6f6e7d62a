/** Row ↔ record mapping, cursors and small value helpers shared by the SQL store. */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { AuthName } from '../../syncml/constants.js';
import type { CommandSpec } from './command-spec.js';
import type {
  CommandRecord,
  CommandState,
  DeviceRecord,
  GenericAlertItem,
  GenericAlertRecord,
  MessageDirection,
  NotificationUiMode,
  PendingNotification,
  MessageRecord,
  PageRequest,
  ResultItem,
  SessionRecord,
  TreeValue,
} from './store.js';
import { StoreRequestError } from './store.js';
import type { Row } from './sql-driver.js';

/**
 * `B64(MD5(username ":" password))`: the stored form of a client password (security.md §3). md5 digests and HMAC
 * start from it; basic credentials are verified by hashing what the client sent and comparing.
 */
export function clientSecretDigest(username: string, password: string): string {
  return createHash('md5').update(`${username}:${password}`, 'utf8').digest('base64');
}

/** A message log body written before segments (migration 5): gzipped on its own. */
export function decompress(body: Uint8Array): Uint8Array {
  return new Uint8Array(gunzipSync(body));
}

/** `DevInfo/Mod/` → `./DevInfo/Mod`; `.` and `./` stay the root. */
export function normalizeUri(uri: string): string {
  let out = uri.trim();
  while (out.length > 1 && out.endsWith('/')) out = out.slice(0, -1);
  if (out === '.' || out === '') return '.';
  if (!out.startsWith('./') && !out.startsWith('.')) out = `./${out}`;
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

function json<T>(v: unknown, fallback: T): T {
  if (v === null || v === undefined) return fallback;
  if (typeof v === 'string') return JSON.parse(v) as T;
  return v as T;
}

export function toDevice(row: Row): DeviceRecord {
  return {
    deviceId: str(row['device_id']),
    username: str(row['username']),
    clientSecretDigest: str(row['client_secret_digest']),
    authType: str(row['auth_type']) as AuthName,
    // NULL: the same scheme both ways (a device registered before migration 3, or without a separate one).
    serverAuthType: (strOrNull(row['server_auth_type']) ?? str(row['auth_type'])) as AuthName,
    serverPassword: str(row['server_password']),
    clientNonce: strOrNull(row['client_nonce']),
    serverNonce: strOrNull(row['server_nonce']),
    notifyAddress: strOrNull(row['notify_address']),
    notifyOnQueue: num(row['notify_on_queue']) !== 0,
    failedAuthCount: num(row['failed_auth_count']),
    lockedUntil: numOrNull(row['locked_until']),
    lastSeen: numOrNull(row['last_seen']),
    createdAt: num(row['created_at']),
    nonceResyncUntil: numOrNull(row['nonce_resync_until']),
  };
}

export function toSession(row: Row): SessionRecord {
  return {
    deviceId: str(row['device_id']),
    sessionId: str(row['session_id']),
    snapshot: json<unknown>(row['snapshot'], null),
    version: num(row['version']),
    createdAt: num(row['created_at']),
    updatedAt: num(row['updated_at']),
  };
}

export function toCommand(row: Row): CommandRecord {
  return {
    id: num(row['id']),
    deviceId: str(row['device_id']),
    spec: json<CommandSpec>(row['spec'], { command: 'Get', target: '.' }),
    state: str(row['state']) as CommandState,
    status: numOrNull(row['status']),
    childStatuses: json<number[] | null>(row['child_statuses'], null),
    results: json<ResultItem[]>(row['results'], []),
    sessionId: strOrNull(row['session_id']),
    createdAt: num(row['created_at']),
    sentAt: numOrNull(row['sent_at']),
    doneAt: numOrNull(row['done_at']),
    expiresAt: numOrNull(row['expires_at']),
    deliveries: num(row['deliveries'] ?? 0),
    reason: strOrNull(row['reason']) as CommandRecord['reason'],
  };
}

export function toPendingNotification(row: Row): PendingNotification {
  return {
    deviceId: str(row['device_id']),
    sessionId: str(row['session_id']),
    uiMode: str(row['ui_mode']) as NotificationUiMode,
    notifiedAt: num(row['notified_at']),
  };
}

export function toTreeValue(row: Row): TreeValue {
  return {
    uri: str(row['uri']),
    data: strOrNull(row['data']),
    format: strOrNull(row['format']),
    type: strOrNull(row['type']),
    updatedAt: num(row['updated_at']),
  };
}

export function toAlert(row: Row): GenericAlertRecord {
  return {
    id: num(row['id']),
    deviceId: str(row['device_id']),
    sessionId: strOrNull(row['session_id']),
    code: num(row['code']),
    correlator: strOrNull(row['correlator']),
    items: json<GenericAlertItem[]>(row['items'], []),
    receivedAt: num(row['received_at']),
  };
}

/** `body`: the message's bytes, already taken out of its segment (or gunzipped, for a row from before segments). */
export function toMessage(row: Row, body: Uint8Array): MessageRecord {
  return {
    id: num(row['id']),
    deviceId: str(row['device_id']),
    sessionId: strOrNull(row['session_id']),
    direction: str(row['direction']) as MessageDirection,
    contentType: str(row['content_type']),
    body,
    size: num(row['size']),
    createdAt: num(row['created_at']),
  };
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

export interface ResolvedPage<K> {
  readonly limit: number;
  /** Key after which (in list order) the page starts, from a cursor. */
  readonly after: K | undefined;
  readonly offset: number;
}

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): unknown {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null && 'k' in parsed) return parsed.k;
  } catch {
    // fall through
  }
  throw new StoreRequestError('cursor', 'is not a cursor this server issued');
}

export function resolvePage<K extends string | number>(
  page: PageRequest | undefined,
  keyType: 'string' | 'number',
): ResolvedPage<K> {
  const limit = page?.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new StoreRequestError('limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  const offset = page?.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0)
    throw new StoreRequestError('offset', 'must be a non-negative integer');
  let after: K | undefined;
  if (page?.cursor !== undefined) {
    const key = decodeCursor(page.cursor);
    if (typeof key !== keyType) throw new StoreRequestError('cursor', 'is not a cursor for this list');
    after = key as K;
  }
  return { limit, after, offset: after === undefined ? offset : 0 };
}
