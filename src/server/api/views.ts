/**
 * What the REST API shows of stored records (secrets never leave), and the validation of request bodies and query
 * parameters. Times are ISO 8601 strings (UTC), or null.
 */
import type { UiMode } from '../../notification/trigger.js';
import type { AuthName } from '../../syncml/constants.js';
import type { QueueNotification } from '../queue/command-queue.js';
import type {
  CommandRecord,
  DevicePatch,
  DeviceRecord,
  GenericAlertRecord,
  MessageRecord,
  NewDevice,
  PageRequest,
  TreeValue,
} from '../store/store.js';
import { HttpError } from './http-util.js';

/** Turns a message's bytes into something to show (e.g. the SyncML codec's decodeMessage). May throw. */
export type MessageDecoder = (bytes: Uint8Array, contentType: string) => unknown;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function deviceView(d: DeviceRecord) {
  return {
    deviceId: d.deviceId,
    username: d.username,
    authType: d.authType,
    serverAuthType: d.serverAuthType,
    notifyAddress: d.notifyAddress,
    notifyOnQueue: d.notifyOnQueue,
    lastSeen: iso(d.lastSeen),
    createdAt: iso(d.createdAt),
    failedAuthCount: d.failedAuthCount,
    lockedUntil: iso(d.lockedUntil),
  };
}

export function commandView(c: CommandRecord) {
  return {
    id: c.id,
    deviceId: c.deviceId,
    command: c.spec,
    state: c.state,
    status: c.status,
    childStatuses: c.childStatuses,
    results: c.results.map((r) => ({ target: r.target, data: r.data, format: r.format, type: r.type })),
    sessionId: c.sessionId,
    createdAt: iso(c.createdAt),
    sentAt: iso(c.sentAt),
    doneAt: iso(c.doneAt),
    expiresAt: iso(c.expiresAt),
    deliveries: c.deliveries,
    reason: c.reason,
  };
}

export function treeValueView(v: TreeValue) {
  return { uri: v.uri, data: v.data, format: v.format, type: v.type, updatedAt: iso(v.updatedAt) };
}

export function alertView(a: GenericAlertRecord) {
  return {
    id: a.id,
    deviceId: a.deviceId,
    sessionId: a.sessionId,
    code: a.code,
    correlator: a.correlator,
    items: a.items,
    receivedAt: iso(a.receivedAt),
  };
}

const TEXT_TYPES = /(\+xml|\/xml|^text\/|json)/i;

export function messageView(m: MessageRecord, decode: MessageDecoder | undefined) {
  const text = TEXT_TYPES.test(m.contentType.split(';')[0] ?? '');
  const view: Record<string, unknown> = {
    id: m.id,
    deviceId: m.deviceId,
    sessionId: m.sessionId,
    direction: m.direction,
    contentType: m.contentType,
    size: m.size,
    createdAt: iso(m.createdAt),
    bodyEncoding: text ? 'utf8' : 'base64',
    body: text ? Buffer.from(m.body).toString('utf8') : Buffer.from(m.body).toString('base64'),
  };
  if (decode !== undefined) {
    try {
      view['decoded'] = decode(m.body, m.contentType);
    } catch (error) {
      view['decodeError'] = error instanceof Error ? error.message : String(error);
    }
  }
  return view;
}

// ── validation ─────────────────────────────────────────────────────────────────────────────────────────────────────

const AUTH_NAMES: readonly AuthName[] = ['md5', 'basic', 'hmac'];
const MAX_TEXT = 1024;

function invalid(field: string, message: string): HttpError {
  return new HttpError(400, 'invalid-body', `${field}: ${message}`, { field });
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('body', 'must be a JSON object');
  return body as Record<string, unknown>;
}

function text(obj: Record<string, unknown>, key: string, required: boolean): string | undefined {
  const v = obj[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw invalid(key, 'must be a non-empty string');
  if (v.length > MAX_TEXT) throw invalid(key, `longer than ${MAX_TEXT} characters`);
  for (let i = 0; i < v.length; i++)
    if (v.charCodeAt(i) < 0x20) throw invalid(key, 'contains control characters');
  return v;
}

function authType(
  obj: Record<string, unknown>,
  required: boolean,
  key: 'authType' | 'serverAuthType' = 'authType',
): AuthName | undefined {
  const v = obj[key];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || !(AUTH_NAMES as readonly string[]).includes(v)) {
    throw invalid(key, `must be one of ${AUTH_NAMES.join(', ')}`);
  }
  return v as AuthName;
}

function notifyAddress(obj: Record<string, unknown>): string | null | undefined {
  if (obj['notifyAddress'] === null) return null;
  return text(obj, 'notifyAddress', false);
}

function flag(obj: Record<string, unknown>, key: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid(key, 'must be true or false');
  return v;
}

function onlyKnown(obj: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(obj)) if (!known.includes(key)) throw invalid(key, 'is not a known field');
}

export function parseNewDevice(body: unknown): NewDevice {
  const obj = object(body);
  onlyKnown(obj, [
    'deviceId',
    'username',
    'password',
    'authType',
    'serverAuthType',
    'serverPassword',
    'notifyAddress',
    'notifyOnQueue',
  ]);
  const address = notifyAddress(obj);
  const onQueue = flag(obj, 'notifyOnQueue');
  const serverAuth = authType(obj, false, 'serverAuthType');
  return {
    deviceId: text(obj, 'deviceId', true)!,
    username: text(obj, 'username', true)!,
    password: text(obj, 'password', true)!,
    authType: authType(obj, true)!,
    serverPassword: text(obj, 'serverPassword', true)!,
    ...(serverAuth === undefined ? {} : { serverAuthType: serverAuth }),
    ...(address === undefined ? {} : { notifyAddress: address }),
    ...(onQueue === undefined ? {} : { notifyOnQueue: onQueue }),
  };
}

export function parseDevicePatch(body: unknown): DevicePatch {
  const obj = object(body);
  onlyKnown(obj, [
    'username',
    'password',
    'authType',
    'serverAuthType',
    'serverPassword',
    'notifyAddress',
    'notifyOnQueue',
    'unlock',
  ]);
  const patch: { -readonly [K in keyof DevicePatch]: DevicePatch[K] } = {};
  const username = text(obj, 'username', false);
  const password = text(obj, 'password', false);
  const auth = authType(obj, false);
  const serverPassword = text(obj, 'serverPassword', false);
  const address = notifyAddress(obj);
  if (username !== undefined) {
    if (password === undefined) throw invalid('password', 'is required when the username changes');
    patch.username = username;
  }
  if (password !== undefined) patch.password = password;
  if (auth !== undefined) patch.authType = auth;
  // null: follow authType again.
  if (obj['serverAuthType'] === null) patch.serverAuthType = null;
  else {
    const serverAuth = authType(obj, false, 'serverAuthType');
    if (serverAuth !== undefined) patch.serverAuthType = serverAuth;
  }
  if (serverPassword !== undefined) patch.serverPassword = serverPassword;
  if (address !== undefined) patch.notifyAddress = address;
  const onQueue = flag(obj, 'notifyOnQueue');
  if (onQueue !== undefined) patch.notifyOnQueue = onQueue;
  const unlock = obj['unlock'];
  if (unlock !== undefined) {
    if (unlock !== true) throw invalid('unlock', 'must be true (clears the failure count and any lockout)');
    patch.failedAuthCount = 0;
    patch.lockedUntil = null;
  }
  return patch;
}

/** Optional `ttlSeconds` beside a command: how long it may wait in the queue before it expires. */
export function parseTtl(body: unknown): number | undefined {
  const v = (body as Record<string, unknown>)['ttlSeconds'];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 365 * 24 * 3600) {
    throw invalid('ttlSeconds', 'must be an integer number of seconds from 1 to 31536000');
  }
  return v;
}

const UI_MODES: readonly UiMode[] = ['not-specified', 'background', 'informative', 'user-interaction'];

/** The optional body of `POST …/notify`: `{uiMode?}` (security.md §8.1 ui-mode). */
export function parseNotifyRequest(body: unknown): { uiMode?: UiMode; nonceResync?: boolean } {
  if (body === undefined) return {};
  const obj = object(body);
  onlyKnown(obj, ['uiMode', 'nonceResync']);
  const v = obj['uiMode'];
  if (v !== undefined && (typeof v !== 'string' || !(UI_MODES as readonly string[]).includes(v)))
    throw invalid('uiMode', `must be one of ${UI_MODES.join(', ')}`);
  const resync = obj['nonceResync'];
  if (resync !== undefined && typeof resync !== 'boolean') throw invalid('nonceResync', 'must be a boolean');
  return {
    ...(v === undefined ? {} : { uiMode: v as UiMode }),
    ...(resync === undefined ? {} : { nonceResync: resync }),
  };
}

/** How a notification attempted while queueing is shown beside the queued command. */
export function queueNotificationView(n: QueueNotification) {
  return n.outcome === 'failed'
    ? { outcome: n.outcome, code: n.code, message: n.message }
    : { outcome: n.outcome, sessionId: n.sessionId, notifiedAt: iso(n.notifiedAt) };
}

function badQuery(field: string, message: string): HttpError {
  return new HttpError(400, 'invalid-query', `${field}: ${message}`, { field });
}

/** `?notify=true|false` on `POST …/commands`. */
export function parseNotifyQuery(query: URLSearchParams): boolean | undefined {
  const v = query.get('notify');
  if (v === null) return undefined;
  if (v !== 'true' && v !== 'false') throw badQuery('notify', 'must be true or false');
  return v === 'true';
}

export function parsePageQuery(query: URLSearchParams): PageRequest {
  const page: { limit?: number; cursor?: string; offset?: number } = {};
  const limit = query.get('limit');
  if (limit !== null) {
    if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000) {
      throw badQuery('limit', 'must be an integer from 1 to 1000');
    }
    page.limit = Number(limit);
  }
  const offset = query.get('offset');
  if (offset !== null) {
    if (!/^\d{1,9}$/.test(offset)) throw badQuery('offset', 'must be a non-negative integer');
    page.offset = Number(offset);
  }
  const cursor = query.get('cursor');
  if (cursor !== null) {
    if (offset !== null) throw badQuery('cursor', 'use either cursor or offset, not both');
    page.cursor = cursor;
  }
  return page;
}
