/**
 * The sans-I/O DM server engine (protocol.md §2–§10, security.md §6–§7). One instance answers one client
 * message at a time and can be frozen between HTTP requests: `snapshot()` is plain JSON and
 * `ServerSession.restore(snapshot, options)` continues it in any process (the database is the session).
 * Commands to send come from the caller (`enqueue`, keyed by the caller's ids); their outcomes come back as
 * `outcome` events with the same ids. Credentials are looked up through an injected port.
 */
import type { Alert, Command, Cred, Item, Results, Status, SyncHdr, SyncMLMessage } from '../syncml/model.js';
import { AlertCode, AUTH_TYPE_BY_NAME, authNameOf, StatusCode, type AuthName } from '../syncml/constants.js';
import type { Clock } from '../platform/clock.js';
import type { Random } from '../platform/random.js';
import { AuthenticationError, LocalProtocolError, type OmadmError, RemoteProtocolError } from '../errors.js';
import { basicCredential, fromB64, hmacMac, md5Credential } from '../security/digest.js';
import { buildHmacHeader } from '../security/hmac-header.js';
import type { NonceStore } from '../security/nonce.js';
import { StateMachine, type TransitionTable } from './state-machine.js';
import {
  alert,
  buildHeader,
  checkHeader,
  commandStatus,
  headerStatus,
  needsAnswer,
  numberCommands,
  statusesForAll,
} from './commands.js';
import { pack, smallestChunk, type Measure, type PendingCommand } from './packer.js';
import {
  appendChunk,
  assemble,
  dataSize,
  objectKey,
  startObject,
  type IncomingObject,
} from './large-object.js';
import { fromJson, toJson, type Json } from './json.js';
import type { EndReason, Outgoing, Received, Secret } from './types.js';
import { authenticateClient, type ClientAuthState } from './server-auth.js';

export type ServerState = 'idle' | 'setup' | 'management' | 'ended';
export type ServerTrigger = 'receive' | 'challenge' | 'respond' | 'end' | 'timeout';

/** idle = nothing received yet; setup = the client was challenged and must resend Package 1. */
export const SERVER_TRANSITIONS: TransitionTable<ServerState, ServerTrigger> = {
  idle: { receive: 'idle', challenge: 'setup', respond: 'management', end: 'ended', timeout: 'ended' },
  setup: { receive: 'setup', challenge: 'setup', respond: 'management', end: 'ended', timeout: 'ended' },
  management: { receive: 'management', respond: 'management', end: 'ended', timeout: 'ended' },
  ended: {},
};

/** What the server knows about one device. */
export interface DeviceAccount {
  /** How the device must authenticate to us (its DMAcc CLCRED). Undefined: no DM-level client authentication. */
  readonly client?: Secret;
  /** How we authenticate to the device (its DMAcc SRVCRED). Undefined: we send no credentials. */
  readonly server?: Secret;
}

/** The credentials port: finds a device's account by its device id (SyncHdr Source) and user name (LocName). */
export interface CredentialsLookup {
  lookup(
    deviceId: string,
    username: string | undefined,
  ): DeviceAccount | undefined | Promise<DeviceAccount | undefined>;
}

export interface ServerSessionOptions {
  /** Our URI: SyncHdr Source of our messages. */
  readonly serverUri: string;
  /** RespURI to put in every message (protocol.md §9), e.g. a per-session URL. */
  readonly respUri?: string;
  readonly credentials: CredentialsLookup;
  readonly nonces: NonceStore;
  readonly random: Random;
  readonly clock: Clock;
  readonly measure?: Measure;
  /** Largest message we accept (sent as MaxMsgSize). */
  readonly maxMsgSize?: number;
  /** Largest object we accept (sent as MaxObjSize; 413 above it). */
  readonly maxObjSize?: number;
  /** Failed authentications answered with a new challenge before the session is terminated. Default 3. */
  readonly maxAuthAttempts?: number;
  readonly timeoutMs?: number;
  /**
   * Whether the client accepts large objects (its ./DevDetail/LrgObj). When false the server never chunks toward
   * it: a command that cannot fit into the client's MaxMsgSize gets a local 413 outcome (DG-LO-06). Default true.
   * Either way a command that can reach the client neither whole nor in chunks gets that local 413.
   */
  readonly largeObjects?: boolean;
  /** Send our credentials (SRVCRED) before the client challenges us. Default true. */
  readonly credentialsUpFront?: boolean;
  /** Status for a Generic Alert / Client Event (protocol.md §13). Default 200. */
  readonly alertStatus?: (alert: Alert) => number;
}

export interface CommandResult {
  readonly id: string;
  /**
   * The command's Status code; a local 413 (with `reason: 'too-large'`) when it was never sent because it could
   * not reach the client: larger than its MaxObjSize, or too big for its MaxMsgSize and not chunkable.
   */
  readonly code: number;
  /** Set when the engine settled the command itself without sending it. */
  readonly reason?: 'too-large';
  /** Items of the Results (Gets), reassembled when they came in chunks. */
  readonly results: readonly Item[];
  /** Codes of an Atomic's / Sequence's children, in order. */
  readonly children: readonly (number | undefined)[];
  /** Items carried in the Status (e.g. the text typed for a 1102 alert, the choices of 1103/1104). */
  readonly statusItems: readonly Item[];
}

export type ServerEvent =
  | {
      readonly type: 'session-started';
      readonly deviceId: string;
      readonly sessionId: string;
      readonly initiator: 'client' | 'server';
    }
  | { readonly type: 'devinfo'; readonly items: readonly Item[] }
  | { readonly type: 'client-authenticated'; readonly auth: AuthName }
  | {
      readonly type: 'client-auth-failed';
      readonly reason: string;
      readonly attempt: number;
      readonly final: boolean;
    }
  | { readonly type: 'challenged-by-client'; readonly auth: AuthName | undefined; readonly code: number }
  | { readonly type: 'server-authenticated'; readonly code: number }
  | { readonly type: 'client-alert'; readonly code: number; readonly alert: Alert; readonly status: number }
  | ({ readonly type: 'outcome' } & CommandResult)
  /** Commands the client never answered although its package was complete (the session ended anyway). */
  | { readonly type: 'unanswered'; readonly ids: readonly string[] }
  | { readonly type: 'ended'; readonly reason: EndReason; readonly error?: OmadmError };

export interface ServerStep {
  /** The response to send (a server always answers a client message). */
  readonly outgoing: Outgoing | undefined;
  readonly events: readonly ServerEvent[];
}

interface Pending {
  id: string;
  command: Command;
  code?: number;
  results: Item[];
  children: (number | undefined)[];
  statusItems: Item[];
  awaitingResults: boolean;
}

/** Everything the engine remembers between messages: plain data, so it snapshots as JSON. */
interface Data {
  state: ServerState;
  sessionId?: string;
  deviceId?: string;
  msgId: number;
  clientAuth: ClientAuthState;
  /** `scheme`: the one the client challenged us for, when it differs from our account's (used once switched). */
  serverAuth: { accepted: boolean; sendCred: boolean; failures: number; nonce?: string; scheme?: AuthName };
  clientMaxMsgSize?: number;
  clientMaxObjSize?: number;
  queue: { id: string; command: Command }[];
  outbox: PendingCommand[];
  /** `chunk`: a non-final chunk of a large object (protocol.md §8), answered 213 while the transfer goes on. */
  sent: Record<string, { id: string; child?: number; chunk?: boolean }>;
  pending: Record<string, Pending>;
  incoming?: { object: IncomingObject; id?: string };
  lastActivity: number;
}

const SNAPSHOT_VERSION = 1;

/** Never switch our credentials to a weaker scheme than our account's on a device's request. */
const SCHEME_STRENGTH: Readonly<Record<AuthName, number>> = { basic: 0, md5: 1, hmac: 2 };

export class ServerSession {
  readonly #o: ServerSessionOptions;
  #machine: StateMachine<ServerState, ServerTrigger>;
  #d: Data;
  #events: ServerEvent[] = [];

  /** A new session, waiting for Package 1. */
  constructor(options: ServerSessionOptions) {
    this.#o = options;
    this.#d = {
      state: 'idle',
      msgId: 0,
      clientAuth: { authenticated: false, attempts: 0 },
      serverAuth: { accepted: false, sendCred: options.credentialsUpFront ?? true, failures: 0 },
      queue: [],
      outbox: [],
      sent: {},
      pending: {},
      lastActivity: options.clock.now(),
    };
    this.#machine = new StateMachine('server', SERVER_TRANSITIONS, this.#d.state);
  }

  /** Continues a session from `snapshot()` output, possibly in another process. */
  static restore(snapshot: Json, options: ServerSessionOptions): ServerSession {
    const value = fromJson<{ version: number; data: Data }>(snapshot);
    if (value.version !== SNAPSHOT_VERSION) {
      throw new LocalProtocolError(
        'snapshot-version',
        `server session snapshot version ${String(value.version)} is not ${SNAPSHOT_VERSION}`,
      );
    }
    const session = new ServerSession(options);
    session.#d = value.data;
    session.#machine = new StateMachine('server', SERVER_TRANSITIONS, value.data.state);
    return session;
  }

  /** The whole session state as JSON (store it between HTTP requests). */
  snapshot(): Json {
    return toJson({ version: SNAPSHOT_VERSION, data: { ...this.#d, state: this.#machine.state } });
  }

  get state(): ServerState {
    return this.#machine.state;
  }
  get sessionId(): string | undefined {
    return this.#d.sessionId;
  }
  get deviceId(): string | undefined {
    return this.#d.deviceId;
  }
  /** Commands enqueued and not yet answered. */
  get queued(): number {
    return this.#d.queue.length + this.#d.outbox.length + Object.keys(this.#d.pending).length;
  }

  /**
   * Queues a management command; CmdIDs are assigned when it is sent. `id` comes back in its `outcome` event.
   * Commands are sent when the client's package is complete (protocol.md §6, DG-MSG-04).
   */
  enqueue(id: string, command: Command): void {
    if (this.#machine.state === 'ended') {
      throw new LocalProtocolError(
        'session-ended',
        `server session in state ended cannot handle event enqueue (${id})`,
      );
    }
    if (command.kind === 'Status' || command.kind === 'Results') {
      throw new LocalProtocolError(
        'not-a-management-command',
        `server cannot enqueue a ${command.kind}: the engine writes those`,
      );
    }
    this.#d.queue.push({ id, command });
  }

  /** The caller tells the engine time passed: ends a session idle for `timeoutMs` (default 5 minutes). */
  tick(): ServerStep {
    const state = this.#machine.state;
    if (state !== 'ended' && this.#o.clock.now() - this.#d.lastActivity >= (this.#o.timeoutMs ?? 300_000)) {
      this.#machine.fire('timeout');
      this.#events.push({ type: 'ended', reason: 'timeout' });
    }
    return this.#step(undefined);
  }

  /** Consumes one client message and produces the response. */
  async receive(message: SyncMLMessage, received: Received = {}): Promise<ServerStep> {
    this.#machine.fire('receive');
    const { header, body } = message;
    checkHeader(header, 'client');
    this.#d.lastActivity = this.#o.clock.now();
    if (this.#d.sessionId === undefined) {
      this.#d.sessionId = header.sessionId;
      this.#d.deviceId = header.source.locUri;
      const initiated = body.find(
        (c): c is Alert => c.kind === 'Alert' && c.code === AlertCode.SERVER_INITIATED_MGMT,
      );
      this.#events.push({
        type: 'session-started',
        deviceId: header.source.locUri,
        sessionId: header.sessionId,
        initiator: initiated === undefined ? 'client' : 'server',
      });
    } else if (header.sessionId !== this.#d.sessionId || header.source.locUri !== this.#d.deviceId) {
      throw new RemoteProtocolError(
        'session-mismatch',
        `client sent SessionID ${header.sessionId} from ${header.source.locUri} into session ${this.#d.sessionId} of ${String(this.#d.deviceId)}`,
      );
    }
    if (header.meta?.maxMsgSize !== undefined) this.#d.clientMaxMsgSize = header.meta.maxMsgSize;
    if (header.meta?.maxObjSize !== undefined) this.#d.clientMaxObjSize = header.meta.maxObjSize;
    const account = await this.#o.credentials.lookup(header.source.locUri, header.source.locName);

    const auth = await authenticateClient(this.#d.clientAuth, message, received, account, {
      nonces: this.#o.nonces,
      random: this.#o.random,
      maxAuthAttempts: this.#o.maxAuthAttempts,
      emit: (event) => this.#events.push(event),
    });
    if (!auth.ok) {
      // protocol.md §4.1: the failure response holds only Status, one per command received, all 401/407.
      const statuses: Command[] = [
        headerStatus(header, auth.code, auth.chal),
        ...statusesForAll(body, header.msgId, auth.code),
      ];
      if (auth.terminate) {
        this.#machine.fire('end');
        this.#events.push({ type: 'ended', reason: 'auth-failed', error: auth.error });
      } else {
        this.#machine.fire('challenge');
      }
      return this.#step(
        await this.#send(
          statuses.map((command) => ({ command })),
          true,
          account,
        ),
      );
    }

    const replies: PendingCommand[] = [];
    let aborted = false;
    let challengedByClient = false;
    for (const command of body) {
      switch (command.kind) {
        case 'Status':
          if (command.cmdRef === 0)
            challengedByClient = (await this.#onHeaderStatus(command, account)) || challengedByClient;
          else this.#onStatus(command, challengedByClient);
          break;
        case 'Results':
          replies.push(...this.#onResults(command, header.msgId));
          break;
        case 'Alert': {
          if (command.code === AlertCode.SESSION_ABORT) aborted = true;
          if (command.noResp !== true)
            replies.push({ command: commandStatus(command, header.msgId, this.#alertCode(command)) });
          break;
        }
        case 'Replace':
          if (
            command.items.length > 0 &&
            command.items.every((item) =>
              (item.source?.locUri ?? item.target?.locUri ?? '').startsWith('./DevInfo'),
            )
          ) {
            this.#events.push({ type: 'devinfo', items: command.items });
            if (command.noResp !== true)
              replies.push({ command: commandStatus(command, header.msgId, StatusCode.OK) });
            break;
          }
          // A client may only Replace its DevInfo (protocol.md §3.2).
          if (command.noResp !== true)
            replies.push({ command: commandStatus(command, header.msgId, StatusCode.COMMAND_NOT_ALLOWED) });
          break;
        default:
          if (!('noResp' in command && command.noResp === true)) {
            replies.push({ command: commandStatus(command, header.msgId, StatusCode.COMMAND_NOT_ALLOWED) });
          }
      }
    }
    if (challengedByClient) this.#requeueRefused();
    const hdr: PendingCommand = { command: headerStatus(header, auth.code, auth.chal) };

    if (aborted) {
      // protocol.md §6 / DG-SES-08: Status for the SyncHdr and the Alert only; no new command; the session ends.
      this.#flushOutcomes();
      const outgoing = await this.#send([hdr, ...replies], true, account);
      this.#machine.fire('end');
      this.#events.push({ type: 'ended', reason: 'aborted-by-peer' });
      return this.#step(outgoing);
    }
    if (
      this.#d.serverAuth.failures > (this.#o.maxAuthAttempts ?? 3) ||
      (challengedByClient && account?.server === undefined)
    ) {
      const outgoing = await this.#send([hdr, ...replies], true, account);
      this.#machine.fire('end');
      this.#events.push({
        type: 'ended',
        reason: 'peer-auth-failed',
        error: new AuthenticationError('server-auth-refused', 'the client refused the server credentials'),
      });
      return this.#step(outgoing);
    }
    if (!message.final && this.#d.outbox.length === 0) {
      // protocol.md §6 / DG-MSG-02: Next Message response: Status + Alert 1222, no new command, no Final.
      this.#machine.fire('respond');
      return this.#step(
        await this.#send([hdr, ...replies, { command: alert(AlertCode.NEXT_MESSAGE) }], false, account),
      );
    }
    if (message.final) this.#flushOutcomes();
    if (message.final && this.#d.outbox.length === 0) this.#takeQueue(account);
    const pendingOut = [hdr, ...replies, ...this.#d.outbox];
    this.#d.outbox = [];
    const outgoing = await this.#send(pendingOut, true, account);
    if (outgoing.message.final && !needsAnswer(outgoing.message.body)) {
      // protocol.md §10 / DG-SES-10: nothing left needing an answer: this message closes the session.
      const unanswered = Object.keys(this.#d.pending);
      if (unanswered.length > 0) this.#events.push({ type: 'unanswered', ids: unanswered });
      this.#d.pending = {};
      this.#machine.fire('end');
      this.#events.push({ type: 'ended', reason: 'completed' });
    } else {
      this.#machine.fire('respond');
    }
    return this.#step(outgoing);
  }

  // ---- authentication -----------------------------------------------------------------------------------------

  /** The client's verdict on our credentials. Returns true when it challenged us (401/407). */
  async #onHeaderStatus(status: Status, account: DeviceAccount | undefined): Promise<boolean> {
    const s = this.#d.serverAuth;
    const nextNonce = status.chal?.meta.nextNonce;
    if (nextNonce !== undefined && this.#d.deviceId !== undefined) {
      // security.md §7: the client is authenticated here, so its nonce may be persisted.
      s.nonce = nextNonce;
      await this.#o.nonces.set(this.#d.deviceId, 'server-to-client', nextNonce);
    }
    if (status.code === StatusCode.AUTHENTICATION_ACCEPTED || status.code === StatusCode.OK) {
      if (!s.accepted && account?.server !== undefined)
        this.#events.push({ type: 'server-authenticated', code: status.code });
      s.accepted = account?.server !== undefined;
      if (status.code === StatusCode.AUTHENTICATION_ACCEPTED && this.#serverScheme(account) !== 'hmac')
        s.sendCred = false;
      return false;
    }
    if (status.code !== StatusCode.INVALID_CREDENTIALS && status.code !== StatusCode.MISSING_CREDENTIALS)
      return false;
    const requested =
      status.chal === undefined ? undefined : authNameOf(status.chal.meta.type ?? AUTH_TYPE_BY_NAME.basic);
    this.#events.push({ type: 'challenged-by-client', auth: requested, code: status.code });
    s.failures++;
    s.accepted = false;
    s.sendCred = true;
    if (
      requested !== undefined &&
      account?.server !== undefined &&
      requested !== this.#serverScheme(account)
    ) {
      // security.md §6: 401/407 + Chal means "resend with the requested scheme" (the device's SRVCRED AAuthType
      // may differ from ours: libdmclient's shipped account has the client on basic and the server on md5). We
      // switch once per session, and never down to basic, which would put our secret on the wire in clear;
      // anything else terminates (protocol.md §4.1: a side challenged for a scheme it will not use ends the session).
      const switchable =
        s.scheme === undefined && SCHEME_STRENGTH[requested] >= SCHEME_STRENGTH[account.server.auth];
      if (switchable) s.scheme = requested;
      else s.failures = Number.MAX_SAFE_INTEGER;
    }
    return true;
  }

  /** The scheme we authenticate to the device with: our account's, or the one the device asked for. */
  #serverScheme(account: DeviceAccount | undefined): AuthName | undefined {
    return this.#d.serverAuth.scheme ?? account?.server?.auth;
  }

  #onStatus(status: Status, challengedByClient: boolean): void {
    const ref = this.#d.sent[`${status.msgRef ?? this.#d.msgId}:${status.cmdRef}`];
    if (ref === undefined) return;
    const pending = this.#d.pending[ref.id];
    if (pending === undefined || status.code === StatusCode.CHUNKED_ITEM_ACCEPTED) return;
    if (ref.chunk === true && status.code >= 200 && status.code < 300) {
      // protocol.md §8: a chunked command's status is the one of its LAST chunk. A success other than 213 for an
      // earlier chunk means the client did not buffer it (libdmclient ignores MoreData): not the final word.
      return;
    }
    if (ref.chunk === true) {
      // protocol.md §8: an error for a non-final chunk ends the transfer; it is the command's final status.
      this.#d.outbox = this.#d.outbox.filter((queued) => queued.tag !== ref.id);
    }
    if (ref.child !== undefined) {
      pending.children[ref.child] = status.code;
      return;
    }
    pending.code = status.code;
    pending.statusItems = [...status.items];
    if (
      challengedByClient &&
      (status.code === StatusCode.INVALID_CREDENTIALS || status.code === StatusCode.MISSING_CREDENTIALS)
    ) {
      delete pending.code;
    }
  }

  /** Commands the client refused because we were not authenticated go out again with credentials. */
  #requeueRefused(): void {
    const again: { id: string; command: Command }[] = [];
    for (const [id, pending] of Object.entries(this.#d.pending)) {
      if (pending.code === undefined && !pending.awaitingResults) {
        again.push({ id, command: pending.command });
        delete this.#d.pending[id];
      }
    }
    this.#d.queue.unshift(...again);
  }

  #onResults(results: Results, msgRef: number): PendingCommand[] {
    const ref = this.#d.sent[`${results.msgRef ?? this.#d.msgId}:${results.cmdRef}`];
    const pending = ref === undefined ? undefined : this.#d.pending[ref.id];
    const item = results.items[0];
    if (
      results.items.length === 1 &&
      item !== undefined &&
      (item.moreData === true || this.#d.incoming !== undefined)
    ) {
      let incoming = this.#d.incoming;
      if (incoming === undefined) {
        const size = item.meta?.size ?? results.meta?.size;
        if (size !== undefined && this.#o.maxObjSize !== undefined && size > this.#o.maxObjSize) {
          return [{ command: commandStatus(results, msgRef, StatusCode.REQUEST_ENTITY_TOO_LARGE) }];
        }
        incoming = {
          object: startObject('Results', item, results.meta),
          ...(ref === undefined ? {} : { id: ref.id }),
        };
      } else if (incoming.object.key === objectKey('Results', item)) {
        incoming = { ...incoming, object: appendChunk(incoming.object, item) };
      } else {
        // protocol.md §8: another object before the last chunk → Alert 1225; the broken one is dropped.
        const uri = incoming.object.first.source?.locUri;
        delete this.#d.incoming;
        return [
          {
            command: alert(AlertCode.NO_END_OF_DATA, uri === undefined ? [] : [{ source: { locUri: uri } }]),
          },
          ...this.#onResults(results, msgRef),
        ];
      }
      if (pending !== undefined) pending.awaitingResults = item.moreData === true;
      if (item.moreData === true) {
        this.#d.incoming = incoming;
        return [{ command: commandStatus(results, msgRef, StatusCode.CHUNKED_ITEM_ACCEPTED) }];
      }
      delete this.#d.incoming;
      const whole = assemble(incoming.object);
      if (incoming.object.size !== undefined && whole.size !== incoming.object.size) {
        return [{ command: commandStatus(results, msgRef, StatusCode.SIZE_MISMATCH) }];
      }
      pending?.results.push(whole.item);
      return [];
    }
    pending?.results.push(...results.items);
    // protocol.md §5.5 / DG-SES-09: no Status for Results that were received fine.
    return [];
  }

  #alertCode(command: Alert): number {
    const code = command.code ?? 0;
    switch (code) {
      case AlertCode.CLIENT_INITIATED_MGMT:
      case AlertCode.SERVER_INITIATED_MGMT:
      case AlertCode.NEXT_MESSAGE:
      case AlertCode.SESSION_ABORT:
        return StatusCode.OK;
      case AlertCode.GENERIC_ALERT:
      case AlertCode.CLIENT_EVENT: {
        const status = this.#o.alertStatus?.(command) ?? StatusCode.OK;
        this.#events.push({ type: 'client-alert', code, alert: command, status });
        return status;
      }
      case AlertCode.NO_END_OF_DATA:
        return StatusCode.OK;
      default:
        // protocol.md §12: UI alerts sent by a client are ignored; unknown alerts are not supported.
        return StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED;
    }
  }

  #flushOutcomes(): void {
    // Forget correlations of commands that were answered, so snapshots stay small in long sessions.
    for (const [key, ref] of Object.entries(this.#d.sent)) {
      const pending = this.#d.pending[ref.id];
      if (pending === undefined || (pending.code !== undefined && !pending.awaitingResults))
        delete this.#d.sent[key];
    }
    for (const [id, pending] of Object.entries(this.#d.pending)) {
      if (pending.code === undefined || pending.awaitingResults) continue;
      this.#events.push({
        type: 'outcome',
        id,
        code: pending.code,
        results: pending.results,
        children: pending.children,
        statusItems: pending.statusItems,
      });
      delete this.#d.pending[id];
    }
  }

  #takeQueue(account: DeviceAccount | undefined): void {
    for (const { id, command } of this.#d.queue) {
      const max = this.#d.clientMaxObjSize;
      // protocol.md §7 / DG-LO-04: never send an object larger than the client's MaxObjSize.
      const tooBigObject =
        max !== undefined && 'items' in command && command.items.some((item) => dataSize(item.data) > max);
      if (tooBigObject || !this.#canReachClient(command, account)) {
        // One command that can never be sent must not end the session: it is settled here, the rest goes out.
        this.#events.push({
          type: 'outcome',
          id,
          code: StatusCode.REQUEST_ENTITY_TOO_LARGE,
          reason: 'too-large',
          results: [],
          children: [],
          statusItems: [],
        });
        continue;
      }
      this.#d.outbox.push({ command, tag: id });
    }
    this.#d.queue = [];
  }

  /**
   * Whether `command` can reach the client within its MaxMsgSize (protocol.md §7: the server MUST honour it). Every
   * command must fit into one message; only a large object's data may span messages (protocol.md §6, §8). Judged
   * against the smallest message that may have to carry it: our SyncHdr (credentials and all) with its Status, and
   * the Status for the client's Alert 1222, which every later message of a package split over several carries
   * (the client asks for each with 1222, protocol.md §6). A command that would fit only beside the SyncHdr Status
   * alone is refused as well: once deferred it would never fit again. Chunked (unless the client takes no large
   * objects), a command needs room for one unit of its first chunk (Size and MoreData included) in such a message.
   */
  #canReachClient(command: Command, account: DeviceAccount | undefined): boolean {
    const max = this.#d.clientMaxMsgSize;
    const measure = this.#o.measure;
    if (max === undefined || measure === undefined) return true;
    const header = this.#header(this.#d.msgId + 1, account);
    const companions: Command[] = [
      { ...headerStatus(header, StatusCode.OK), cmdId: 1 },
      // Generous MsgRef and CmdRef: the Status of a later message must not be larger than the one measured here.
      { ...commandStatus(alert(AlertCode.NEXT_MESSAGE), 9999, StatusCode.OK), cmdRef: 99, cmdId: 2 },
    ];
    const fits = (candidate: Command): boolean =>
      measure({ header, body: [...companions, ...numberCommands([candidate], 3).commands], final: true }) <=
      max;
    if (fits(command)) return true;
    const chunk = this.#o.largeObjects === false ? undefined : smallestChunk(command);
    return chunk !== undefined && fits(chunk);
  }

  // ---- composing ----------------------------------------------------------------------------------------------

  #cred(account: DeviceAccount | undefined): { cred?: Cred; locName?: string } {
    const secret = account?.server;
    const s = this.#d.serverAuth;
    const scheme = this.#serverScheme(account);
    if (secret === undefined || scheme === undefined) return {};
    if (scheme === 'hmac') return { locName: secret.username };
    if (!s.sendCred) return {};
    const meta = { type: AUTH_TYPE_BY_NAME[scheme], format: 'b64' };
    if (scheme === 'basic')
      return { cred: { meta, data: basicCredential(secret.username, secret.password) } };
    return {
      cred: { meta, data: md5Credential(secret.username, secret.password, fromB64(s.nonce ?? '')) },
      locName: secret.username,
    };
  }

  /** Our SyncHdr for message `msgId`: credentials (security.md §6), RespURI (protocol.md §9), our limits (§7). */
  #header(msgId: number, account: DeviceAccount | undefined): SyncHdr {
    const { cred, locName } = this.#cred(account);
    return buildHeader({
      sessionId: this.#d.sessionId ?? '',
      msgId,
      target: { locUri: this.#d.deviceId ?? '' },
      source: { locUri: this.#o.serverUri, ...(locName === undefined ? {} : { locName }) },
      ...(cred === undefined ? {} : { cred }),
      ...(this.#o.respUri === undefined ? {} : { respUri: this.#o.respUri }),
      meta: {
        ...(this.#o.maxMsgSize === undefined ? {} : { maxMsgSize: this.#o.maxMsgSize }),
        ...(this.#o.maxObjSize === undefined ? {} : { maxObjSize: this.#o.maxObjSize }),
      },
    });
  }

  async #send(
    commands: readonly PendingCommand[],
    final: boolean,
    account: DeviceAccount | undefined,
    overhead = 1,
  ): Promise<Outgoing> {
    const msgId = ++this.#d.msgId;
    const deviceId = this.#d.deviceId ?? '';
    if (this.#d.serverAuth.nonce === undefined && account?.server !== undefined) {
      const stored = await this.#o.nonces.get(deviceId, 'server-to-client');
      if (stored !== undefined) this.#d.serverAuth.nonce = stored;
    }
    const header = this.#header(msgId, account);
    const result = pack({
      header,
      commands,
      final,
      maxMsgSize: this.#d.clientMaxMsgSize,
      measure: this.#o.measure,
      role: 'server',
      overhead,
      chunking: this.#o.largeObjects !== false,
    });
    for (const packed of result.packed) {
      if (packed.tag === undefined) continue;
      this.#d.sent[`${msgId}:${packed.cmdId}`] = packed.chunk
        ? { id: packed.tag, chunk: true }
        : { id: packed.tag };
      const original = commands.find((c) => c.tag === packed.tag);
      const noResp = 'noResp' in packed.command && packed.command.noResp === true;
      if (this.#d.pending[packed.tag] === undefined && original !== undefined && !noResp) {
        this.#d.pending[packed.tag] = {
          id: packed.tag,
          command: original.command,
          results: [],
          children: [],
          statusItems: [],
          awaitingResults: false,
        };
      }
      const sent = packed.command;
      if (sent.kind === 'Atomic' || sent.kind === 'Sequence') {
        sent.commands.forEach((child, index) => {
          this.#d.sent[`${msgId}:${child.cmdId}`] = { id: packed.tag!, child: index };
        });
      }
    }
    this.#d.outbox = [...result.rest, ...this.#d.outbox];
    const secret = account?.server;
    const nonce = this.#d.serverAuth.nonce;
    const sendHmac = this.#d.serverAuth.sendCred;
    const scheme = this.#serverScheme(account);
    return {
      message: result.message,
      url: undefined,
      hmacHeader: (body: Uint8Array) =>
        secret !== undefined && scheme === 'hmac' && sendHmac
          ? buildHmacHeader(
              secret.username,
              hmacMac(secret.username, secret.password, fromB64(nonce ?? ''), body),
            )
          : undefined,
    };
  }

  #step(outgoing: Outgoing | undefined): ServerStep {
    this.#d.state = this.#machine.state;
    const events = this.#events;
    this.#events = [];
    return { outgoing, events };
  }
}
