/**
 * The server's one storage port. "The database is the session" (Fleet): everything a DM exchange needs lives
 * here, so any server process can answer any package of any session. Two implementations (SQLite, PostgreSQL)
 * run through the same contract suite, test/server/store-contract.ts.
 *
 * Contract, common to every method:
 * - Times are milliseconds since the epoch, taken from the store's Clock (never the caller's wall clock).
 * - Methods never return secrets they were not asked for: `DeviceRecord` carries the stored secrets because the
 *   DM endpoint needs them to verify and build credentials; the REST API projects them away.
 * - Unknown device ids are not errors: getters return `undefined`, lists return empty pages.
 * - A command reaches a final state (done | failed | expired | cancelled) exactly once; final states never change.
 *
 * Command state machine (one row of the queue):
 *
 *     queued ──markSent──▶ sent ──outcome──▶ done | failed
 *       │  ▲                 │
 *       │  └──requeue────────┤   (session ended/abandoned without an outcome: delivered again next session)
 *       │                    └──give up──▶ failed, reason `unanswered`, status null
 *       ├──expiry──▶ expired     (expiresAt passed while still queued)
 *       └──cancel──▶ cancelled   (operator DELETE while still queued)
 *
 * Delivery attempts are bounded: every markSent counts one delivery (`deliveries`). Where a command still `sent`
 * would go back to the queue (its session ended, a new session of the device replaced it, or `requeueOrphaned`
 * abandoned it), one delivered `maxDeliveries` times (a store option, default 3) fails instead, in the same
 * statement's transaction, so a command the device never answers (libdmclient sends no Status for Atomic) reaches
 * a final state exactly once instead of going out in every session forever.
 *
 * Sessions in flight carry an optimistic `version`: a write names the version it read, and only one writer per
 * version succeeds (`StaleSessionError` for the other), so two processes cannot both advance one session.
 */
import { OmadmError } from '../../errors.js';
import type { AuthName } from '../../syncml/constants.js';
import type { CommandSpec } from './command-spec.js';

export type CommandState = 'queued' | 'sent' | 'done' | 'failed' | 'expired' | 'cancelled';
export const FINAL_COMMAND_STATES: readonly CommandState[] = ['done', 'failed', 'expired', 'cancelled'];

export interface DeviceRecord {
  readonly deviceId: string;
  /** The client's user name (AAuthName of CLCRED). */
  readonly username: string;
  /**
   * `B64(MD5(username ":" password))` of the client's password (security.md §3, §7). Enough to verify md5 digests
   * and HMAC (both start from this value) and basic (hash what the client sent and compare): the plain password is
   * never stored. See `clientSecretDigest()`.
   */
  readonly clientSecretDigest: string;
  readonly authType: AuthName;
  /**
   * How the server authenticates to the device (its DMAcc SRVCRED AAuthType: security.md §2, §9 — one AAuthType per
   * direction). The same as `authType` unless set otherwise.
   */
  readonly serverAuthType: AuthName;
  /** The server's password toward this device (SRVCRED AAuthSecret); needed in clear to build basic credentials. */
  readonly serverPassword: string;
  /** Base64 nonce the server issued (Chal NextNonce) and expects in the client's next credentials, or null. */
  readonly clientNonce: string | null;
  /** Base64 nonce the client issued to the server, used to build the server's credentials and package 0, or null. */
  readonly serverNonce: string | null;
  /** Where Package 0 goes (e.g. `http://127.0.0.1:9000/notify`, an SMS gateway address), or null. */
  readonly notifyAddress: string | null;
  /** Queueing a command also sends the device a Package 0 (the notify-on-queue policy). Default false. */
  readonly notifyOnQueue: boolean;
  /** Authentication failures since the last success. */
  readonly failedAuthCount: number;
  /** While `now < lockedUntil` the device is refused without checking credentials. */
  readonly lockedUntil: number | null;
  readonly lastSeen: number | null;
  readonly createdAt: number;
  /**
   * security.md §8.3: the server sent this device a Package 0 signed with the special resync nonce, and until this
   * time accepts, once, Package 1 credentials built on that nonce (`ExchangeCommit.consumeNonceResync`). Null: no
   * resync offered.
   */
  readonly nonceResyncUntil: number | null;
}

export interface NewDevice {
  readonly deviceId: string;
  readonly username: string;
  /** The client's password; only its digest is stored. */
  readonly password: string;
  readonly authType: AuthName;
  /** Default: the same as `authType`. */
  readonly serverAuthType?: AuthName;
  readonly serverPassword: string;
  readonly notifyAddress?: string | null;
  readonly notifyOnQueue?: boolean;
}

/**
 * Changes to a device. Changing `username` without `password` is refused (the digest covers both);
 * `password` alone re-derives the digest with the stored user name.
 */
export interface DevicePatch {
  readonly username?: string;
  readonly password?: string;
  readonly authType?: AuthName;
  /** null: the same as `authType` again. */
  readonly serverAuthType?: AuthName | null;
  readonly serverPassword?: string;
  readonly notifyAddress?: string | null;
  readonly notifyOnQueue?: boolean;
  readonly clientNonce?: string | null;
  readonly serverNonce?: string | null;
  readonly failedAuthCount?: number;
  readonly lockedUntil?: number | null;
  readonly lastSeen?: number | null;
  /** Offer a nonce resync until this time (null withdraws the offer). */
  readonly nonceResyncUntil?: number | null;
}

export interface SessionRecord {
  readonly deviceId: string;
  /** The SyncHdr SessionID: unique per device only, so sessions are keyed by (deviceId, sessionId). */
  readonly sessionId: string;
  /** The session engine's JSON snapshot, as saved. */
  readonly snapshot: unknown;
  /** Starts at 1 when the session is created; +1 on every successful save. */
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** One value the device returned in Results (a Get's item). */
export interface ResultItem {
  readonly target: string;
  readonly data: string | null;
  readonly format: string | null;
  readonly type: string | null;
}

export interface CommandRecord {
  readonly id: number;
  readonly deviceId: string;
  readonly spec: CommandSpec;
  readonly state: CommandState;
  /** The device's status code (the container's for Atomic/Sequence), once known. */
  readonly status: number | null;
  /** Atomic/Sequence: one status code per child, in order, once known. */
  readonly childStatuses: readonly number[] | null;
  readonly results: readonly ResultItem[];
  /** Session the command was last sent in (kept after completion for the record). */
  readonly sessionId: string | null;
  readonly createdAt: number;
  readonly sentAt: number | null;
  readonly doneAt: number | null;
  /** After this time a still-queued command is expired instead of sent; null = never. */
  readonly expiresAt: number | null;
  /** How many sessions it was handed to (markSent: sent, or settled there unsent as too-large), crashes included. */
  readonly deliveries: number;
  /**
   * Why it failed without (or before) the device's status: `unanswered` (status null: no answer after the last
   * delivery allowed), `too-large` (status 413: never sent, it cannot reach the device within its MaxMsgSize or
   * MaxObjSize). Null otherwise.
   */
  readonly reason: CommandFailureReason | null;
}

export type CommandFailureReason = 'unanswered' | 'too-large';
export const DEFAULT_MAX_DELIVERIES = 3;

/** The device's answer to one sent command. */
export interface CommandOutcome {
  readonly id: number;
  /** `done` for a 2xx status, `failed` otherwise; the caller decides. */
  readonly state: 'done' | 'failed';
  readonly status: number;
  readonly childStatuses?: readonly number[];
  readonly results?: readonly ResultItem[];
  /** Settled by the server itself (a local 413 for a command that could not be sent). */
  readonly reason?: 'too-large';
}

export interface TreeValue {
  readonly uri: string;
  readonly data: string | null;
  readonly format: string | null;
  readonly type: string | null;
  readonly updatedAt: number;
}

export interface GenericAlertItem {
  readonly source: string | null;
  readonly type: string | null;
  readonly format: string | null;
  readonly mark: string | null;
  readonly data: string | null;
}

export interface NewGenericAlert {
  readonly sessionId: string | null;
  /** 1226 for Generic Alert, 1224 for Client Event. */
  readonly code: number;
  readonly correlator: string | null;
  readonly items: readonly GenericAlertItem[];
}

export interface GenericAlertRecord extends NewGenericAlert {
  readonly id: number;
  readonly deviceId: string;
  readonly receivedAt: number;
}

export type MessageDirection = 'in' | 'out';

export interface NewMessage {
  readonly sessionId: string | null;
  readonly direction: MessageDirection;
  readonly contentType: string;
  /** The message exactly as on the wire; stored gzip-compressed. */
  readonly body: Uint8Array;
}

export interface MessageRecord extends NewMessage {
  readonly id: number;
  readonly deviceId: string;
  readonly createdAt: number;
  /** Uncompressed size in bytes. */
  readonly size: number;
}

/** A page of a list. `nextCursor` is opaque; pass it back as `cursor` for the next page (absent on the last page). */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

export interface PageRequest {
  /** 1..1000, default 50. */
  readonly limit?: number;
  /** From a previous page's `nextCursor`. Takes precedence over `offset`. */
  readonly cursor?: string;
  readonly offset?: number;
}

export interface DeviceQuery extends PageRequest {
  /** Only devices whose id starts with this (case-sensitive). */
  readonly idPrefix?: string;
}

export interface LockoutPolicy {
  /** Failures (since the last success) that lock the device. */
  readonly maxFailures: number;
  /** How long a lockout lasts. */
  readonly lockMs: number;
}

export interface PruneBudget {
  /** Milliseconds after which a run starts no new chunk (it resumes in the next budgeted run). */
  readonly budgetMs?: number;
}

export interface RetentionPolicy {
  /** Delete messages older than this. */
  readonly maxAgeMs?: number;
  /** Keep at most this many (newest) messages per device. */
  readonly maxPerDevice?: number;
}

/** What one DM request reads: one query, whatever the state of the device. */
export interface Exchange {
  readonly device: DeviceRecord;
  /** The session in flight with this id, if one was saved. */
  readonly session: SessionRecord | undefined;
  /**
   * Commands to deliver, oldest first, unexpired: the queued ones, and, when `session` is undefined (a new session
   * starts), also those still `sent` in the device's previous sessions (a device runs one session at a time, so
   * those sessions are over). Committing the new session puts them back to the queue in the same transaction.
   */
  readonly pending: readonly CommandRecord[];
}

/** Session change in a commit. */
export type SessionWrite =
  /** Create (`expectedVersion: 0`) or advance the session; fails with StaleSessionError if the version moved. */
  | { readonly sessionId: string; readonly expectedVersion: number; readonly snapshot: unknown }
  /** The session is over: delete it and put its commands still `sent` back to `queued`. */
  | { readonly sessionId: string; readonly expectedVersion: number; readonly end: true };

/**
 * Everything one DM request writes, applied in one transaction in this order: session, device patch, auth failure,
 * markSent, outcomes, tree values, alerts, messages. If any step fails nothing is written.
 */
export interface ExchangeCommit {
  readonly deviceId: string;
  readonly session?: SessionWrite;
  readonly device?: DevicePatch;
  /** Count one authentication failure atomically, locking the device when the policy says so. */
  readonly authFailure?: LockoutPolicy;
  /** Commands now sent in `session.sessionId` (must be queued, or pending from a previous session). */
  readonly markSent?: readonly number[];
  readonly outcomes?: readonly CommandOutcome[];
  readonly treeValues?: readonly Omit<TreeValue, 'updatedAt'>[];
  readonly alerts?: readonly NewGenericAlert[];
  readonly messages?: readonly NewMessage[];
  /**
   * The exchange accepted credentials built on the special resync nonce (security.md §8.3): the device's offer is
   * taken in this commit, exactly once across processes. Without an offer still unexpired at commit time the
   * commit fails with NonceResyncTakenError and nothing is written. Applied before the device patch.
   */
  readonly consumeNonceResync?: true;
}

export interface CommitResult {
  /** The session's version after the commit (0 when it ended or none was written). */
  readonly sessionVersion: number;
  /** Ids of outcomes that moved a command to its final state (others were already final or not sent here). */
  readonly completed: readonly number[];
  /**
   * Commands this commit failed with reason `unanswered` (status null): still `sent` after their last delivery
   * allowed when their session ended or a new session of the device replaced it.
   */
  readonly unanswered: readonly number[];
  /** Alert records created, in order. */
  readonly alertIds: readonly number[];
  /** After `authFailure`: the counters now stored. */
  readonly failedAuthCount?: number;
  readonly lockedUntil?: number | null;
}

export type CancelResult = 'cancelled' | 'not-found' | 'not-queued';

export interface OrphanSweep {
  /** Commands put back to `queued`. */
  readonly requeued: number;
  /** Commands failed with reason `unanswered` (their last delivery allowed went unanswered). */
  readonly unanswered: readonly { readonly deviceId: string; readonly id: number }[];
}

/** Package 0 UI modes (security.md §8.1), as stored. */
export type NotificationUiMode = 'not-specified' | 'background' | 'informative' | 'user-interaction';

/**
 * A Package 0 the server sent that the device has not answered yet: answering means a Package 1 with Alert 1200 and
 * `sessionId` as its SyncHdr SessionID (security.md §8.4).
 */
export interface PendingNotification {
  readonly deviceId: string;
  /** The trigger's session id as SyncHdr text (upper-case hex, no leading zeros). */
  readonly sessionId: string;
  readonly uiMode: NotificationUiMode;
  readonly notifiedAt: number;
}

export interface Store {
  // ── devices ────────────────────────────────────────────────────────────────────────────────────────────────────
  /** Throws DuplicateError (`device-exists`, HTTP 409) when the id is taken. */
  createDevice(device: NewDevice): Promise<DeviceRecord>;
  getDevice(deviceId: string): Promise<DeviceRecord | undefined>;
  /** Ordered by deviceId. */
  listDevices(query?: DeviceQuery): Promise<Page<DeviceRecord>>;
  /** Returns the updated device, or undefined if unknown. */
  updateDevice(deviceId: string, patch: DevicePatch): Promise<DeviceRecord | undefined>;
  /** Deletes the device and everything about it (sessions, queue, tree values, alerts, messages). */
  deleteDevice(deviceId: string): Promise<boolean>;

  // ── command queue ──────────────────────────────────────────────────────────────────────────────────────────────
  /** Returns undefined for an unknown device. */
  enqueueCommand(
    deviceId: string,
    spec: CommandSpec,
    options?: { expiresAt?: number },
  ): Promise<CommandRecord | undefined>;
  getCommand(deviceId: string, id: number): Promise<CommandRecord | undefined>;
  /** History, newest first. */
  listCommands(deviceId: string, page?: PageRequest): Promise<Page<CommandRecord>>;
  /** queued → cancelled. Anything else is left alone. */
  cancelCommand(deviceId: string, id: number): Promise<CancelResult>;
  /** queued commands whose expiresAt has passed → expired. Returns how many. */
  expireDue(): Promise<number>;

  // ── sessions and DM exchanges ──────────────────────────────────────────────────────────────────────────────────
  /** The idle fast path's one read. Undefined when the device is unknown. */
  loadExchange(deviceId: string, sessionId: string): Promise<Exchange | undefined>;
  /** The exchange's one write (one transaction). Throws StaleSessionError on a version race; nothing is written. */
  commitExchange(commit: ExchangeCommit): Promise<CommitResult>;
  /**
   * Crash recovery: sessions not saved for `idleMs` are abandoned: they are deleted and their commands still
   * `sent` go back to `queued` (delivered again in the next session), or, delivered `maxDeliveries` times already,
   * fail with reason `unanswered`.
   */
  requeueOrphaned(options: { idleMs: number }): Promise<OrphanSweep>;

  // ── Package 0 notifications ────────────────────────────────────────────────────────────────────────────────────
  /**
   * Records a notification about to be sent, `notifiedAt` = now. The same (device, sessionId) again replaces the
   * record (a re-trigger of the same session). Pending records of this device older than the store's
   * `pendingNotificationMs` are forgotten in the same write. Undefined for an unknown device.
   */
  recordNotification(
    deviceId: string,
    notification: { readonly sessionId: string; readonly uiMode: NotificationUiMode },
  ): Promise<PendingNotification | undefined>;
  /** The device's notifications still pending (younger than `pendingNotificationMs`), oldest first. */
  listPendingNotifications(deviceId: string): Promise<readonly PendingNotification[]>;
  /**
   * The device answered (or delivery failed): removes and returns the pending notification, exactly once across
   * every process sharing the database; undefined when there is none (or it is older than `pendingNotificationMs`).
   */
  takePendingNotification(deviceId: string, sessionId: string): Promise<PendingNotification | undefined>;

  // ── what the server learned ────────────────────────────────────────────────────────────────────────────────────
  /** Last known values at `path` and below (`./DevInfo` matches `./DevInfo` and `./DevInfo/...`), by uri. */
  getTree(deviceId: string, path: string): Promise<readonly TreeValue[]>;
  /** Newest first. */
  listAlerts(deviceId: string, page?: PageRequest): Promise<Page<GenericAlertRecord>>;
  /** Newest first; bodies decompressed. */
  listMessages(deviceId: string, page?: PageRequest): Promise<Page<MessageRecord>>;
  /**
   * Applies the retention policy (the store's default when omitted) and reclaims the log's storage. Returns how many
   * messages were deleted. Without a budget every device and segment is covered; with `budgetMs`, the run stops
   * starting new chunks once that time has passed and the next budgeted run goes on from there (housekeeping).
   * Either way the work is cut into short statements with turns of the event loop between them.
   */
  pruneMessages(policy?: RetentionPolicy, run?: PruneBudget): Promise<number>;

  close(): Promise<void>;
}

/** A write that names a session version another writer already moved past (or a session that is gone). */
export class StaleSessionError extends OmadmError {
  constructor(deviceId: string, sessionId: string, expectedVersion: number) {
    super(
      'stale-session',
      `session ${JSON.stringify(sessionId)} of device ${JSON.stringify(deviceId)} is no longer at version ${expectedVersion}`,
      { httpStatus: 409 },
    );
  }
}

/** A commit meant to take the device's nonce resync offer found none (already taken, expired or withdrawn). */
export class NonceResyncTakenError extends OmadmError {
  constructor(deviceId: string) {
    super('nonce-resync-taken', `device ${JSON.stringify(deviceId)} has no nonce resync offer left to take`, {
      httpStatus: 409,
    });
  }
}

export class DuplicateError extends OmadmError {
  constructor(code: string, message: string) {
    super(code, message, { httpStatus: 409 });
  }
}

/** A caller asked the store for something its contract refuses (bad cursor, username change without password…). */
export class StoreRequestError extends OmadmError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('invalid-request', `${field}: ${message}`, { httpStatus: 400 });
    this.field = field;
  }
}
