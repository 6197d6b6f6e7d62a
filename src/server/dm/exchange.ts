/**
 * One DM request, statelessly: read everything in one query (`Store.loadExchange`), authenticate, run the session
 * engine restored from its snapshot, and write everything in one transaction (`Store.commitExchange`): the session
 * snapshot (optimistically versioned, so two processes cannot both advance one session), the device's nonces and
 * counters, commands marked sent, outcomes (sent → done|failed, exactly once), last known tree values, generic
 * alerts and the compressed message log. Events are published after the commit.
 *
 * "The database is the session" (Fleet): any server process answers any message of any session. An idle
 * authenticated check-in costs one store read and one store write.
 *
 * Client authentication is done here, against the stored `B64(MD5(user:pass))` (the store never keeps the
 * password), before the engine sees the message; the engine runs with no client secret and this layer puts the
 * verdict (212, or 200 + NextNonce per message for HMAC, security.md §5–§6) on the SyncHdr Status it produced.
 */
import { RemoteProtocolError } from '../../errors.js';
import type { AuthName } from '../../syncml/constants.js';
import { AlertCode, StatusCode } from '../../syncml/constants.js';
import type { Chal, SyncMLMessage } from '../../syncml/model.js';
import { encodeMessage } from '../../syncml/codec.js';
import type { Clock } from '../../platform/clock.js';
import type { Random } from '../../platform/random.js';
import { generateNonce, type NonceDirection, type NonceStore } from '../../security/nonce.js';
import { challenge } from '../../session/commands.js';
import { ServerSession, type ServerSessionOptions } from '../../session/server-session.js';
import type { Json } from '../../session/json.js';
import type { EventBus, ServerEvent } from '../events/event-bus.js';
import type {
  DevicePatch,
  DeviceRecord,
  Exchange,
  ExchangeCommit,
  LockoutPolicy,
  NewMessage,
  SessionWrite,
  Store,
} from '../store/store.js';
import { challengeReply, decoyCredentials, serverCredentials } from './challenge-reply.js';
import { BasicVerifyMemo, schemeOf, type Presented } from './credentials.js';
import type { DmExchangePort, DmReply, DmRequest } from './dm-handler.js';
import { commandOf } from './queue-mapping.js';
import { boundedMeasure, DevInfoMemo } from './write-avoidance.js';
import { effectsOf, withHeaderVerdict } from './engine-effects.js';
import { acceptsResyncCredentials, RESYNC_NONCE_B64 } from './nonce-resync.js';
import { challengesSeen, fromEngineIds, lastServerMsgId, toEngineRefs } from './msg-ids.js';

export interface DmExchangeOptions {
  readonly store: Store;
  readonly events?: EventBus;
  readonly clock: Clock;
  readonly random: Random;
  /** Our ServerID: SyncHdr Source of our messages and the user name in our credentials (DMAcc SRVCRED AAuthName). */
  readonly serverId: string;
  /** RespURI to send (protocol.md §9), e.g. the load balancer's `https://dm.example.com/dm`. */
  readonly respUri?: string;
  /** Lock a device after this many wrong credentials in a row, for `lockMs`. Default 10 failures, 5 minutes. */
  readonly lockout?: LockoutPolicy;
  /**
   * Failed authentications in one session answered with a new challenge after the first one; the next failure
   * gets a final answer without a Chal (protocol.md §10). Default 3: four challenges at most per session.
   */
  readonly maxAuthAttempts?: number;
  /** Challenge type for a device ID we do not know when the message presents no scheme. Default md5. */
  readonly defaultAuth?: AuthName;
  /** Largest message we accept (MaxMsgSize we announce). Default 1 MiB. */
  readonly maxMsgSize?: number;
  /** Largest object we accept (MaxObjSize we announce). Default 4 MiB. */
  readonly maxObjSize?: number;
  /** Errors that are ours (a failed publish): for logging. */
  readonly onError?: (error: unknown) => void;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 10, lockMs: 5 * 60_000 };
export const DEFAULT_MAX_AUTH_ATTEMPTS = 3;

/** What we keep per session besides the engine's snapshot. */
interface SessionSnapshot {
  readonly engine: Json;
  readonly auth: { readonly scheme: AuthName; readonly authenticated: boolean };
  /** The client's MsgID last answered: a message at or below it is a replay (or a retry racing the original). */
  readonly lastMsgId?: number;
  /** Messages we sent as challenges before the engine took over: added to the engine's MsgIDs (msg-ids.ts). */
  readonly msgIdOffset?: number;
}

/** Room left in every message for the Chal this layer adds to the SyncHdr Status after packing. */
const CHAL_RESERVE = 192;

/**
 * command.done for commands the store failed because their last delivery allowed went unanswered (a client that
 * never answers, such as libdmclient for Atomic): status null, reason `unanswered`.
 */
export function unansweredEvents(deviceId: string, ids: readonly number[], at: number): ServerEvent[] {
  return ids.map((commandId) => ({
    type: 'command.done',
    deviceId,
    commandId,
    state: 'failed',
    status: null,
    reason: 'unanswered',
    at,
  }));
}

/** Wrong credentials count toward the lockout; missing ones too once this session was challenged. */
function countsAsFailure(reason: string, request: DmRequest): boolean {
  return (
    reason === 'wrong' ||
    reason === 'wrong-type' ||
    (reason === 'missing' && challengesSeen(request.message) > 0)
  );
}

function isSessionStart(message: SyncMLMessage): boolean {
  return message.body.some(
    (c) =>
      c.kind === 'Alert' &&
      (c.code === AlertCode.CLIENT_INITIATED_MGMT || c.code === AlertCode.SERVER_INITIATED_MGMT),
  );
}

/** Nonces read from the device row and written back in the exchange's one commit. */
class PatchNonces implements NonceStore {
  client: string | null;
  server: string | null;
  readonly patch: { clientNonce?: string; serverNonce?: string } = {};
  constructor(device: DeviceRecord) {
    this.client = device.clientNonce;
    this.server = device.serverNonce;
  }
  get(_account: string, direction: NonceDirection): string | undefined {
    return (direction === 'client-to-server' ? this.client : this.server) ?? undefined;
  }
  set(_account: string, direction: NonceDirection, nonce: string): void {
    if (direction === 'client-to-server') {
      this.client = nonce;
      this.patch.clientNonce = nonce;
    } else {
      this.server = nonce;
      this.patch.serverNonce = nonce;
    }
  }
}

export class DmExchange implements DmExchangePort {
  readonly #o: DmExchangeOptions;
  readonly #lockout: LockoutPolicy;
  readonly #devInfo = new DevInfoMemo();
  readonly #basic = new BasicVerifyMemo();

  constructor(options: DmExchangeOptions) {
    this.#o = options;
    this.#lockout = options.lockout ?? DEFAULT_LOCKOUT;
  }

  async handle(request: DmRequest): Promise<DmReply> {
    const { header } = request.message;
    const deviceId = header.source.locUri;
    let exchange = await this.#o.store.loadExchange(deviceId, header.sessionId);
    if (exchange === undefined) return await this.#unknownDevice(request);
    const now = this.#o.clock.now();
    const device = exchange.device;
    if (device.lockedUntil !== null && now < device.lockedUntil) return await this.#locked(request, device);

    // A new session reusing the SessionID of one that never completed (libdmclient always sends SessionID 1).
    const restart = exchange.session !== undefined && header.msgId === 1 && isSessionStart(request.message);
    const stored =
      exchange.session === undefined || restart ? undefined : (exchange.session.snapshot as SessionSnapshot);

    if (stored !== undefined && stored.lastMsgId !== undefined && header.msgId <= stored.lastMsgId) {
      // protocol.md §5.2: MsgIDs only grow within a session. Answering this one again would advance the session twice.
      throw new RemoteProtocolError(
        'duplicate-message',
        `message ${header.msgId} of session ${JSON.stringify(header.sessionId)} was already answered (last ${stored.lastMsgId})`,
        { httpStatus: 409 },
      );
    }

    const presented: Presented = {
      cred: header.cred,
      locName: header.source.locName,
      hmacHeader: request.hmacHeader,
      body: request.body,
    };
    const nonces = new PatchNonces(device);
    const auth = device.authType;
    // Already authenticated for the session (212) needs no credentials again, except with HMAC (every message).
    const trusted = stored?.auth.authenticated === true && auth !== 'hmac';
    let hdrCode: number | undefined;
    let hdrChal: Chal | undefined;
    let resynced = false;
    if (!trusted) {
      // md5 and HMAC need a nonce we issued: before the first one the device is challenged, and that is no failure.
      const noNonceYet = auth !== 'basic' && device.clientNonce === null;
      const check = noNonceYet ? undefined : this.#basic.verify(deviceId, presented, device);
      // security.md §8.3: or credentials on the special nonce, answering the resync trigger we sent (nonce-resync.ts).
      resynced = check?.ok !== true && acceptsResyncCredentials(presented, device, now);
      if (resynced) {
        // Our credentials toward the device are built on the special nonce too (§8.3 step 4), and it stays our view
        // of the device's server nonce until the device's Chal replaces it with a fresh one.
        nonces.set(deviceId, 'server-to-client', RESYNC_NONCE_B64);
      } else if (check === undefined || !check.ok) {
        const presentedAny = schemeOf(presented) !== undefined;
        const reason = check === undefined ? (presentedAny ? 'first-contact' : 'missing') : check.reason;
        // A failed attempt to start over does not end the session in flight (only its own device could).
        return this.#refuse(request, exchange, nonces, reason, !restart);
      }
      if (auth === 'basic') {
        hdrCode = StatusCode.AUTHENTICATION_ACCEPTED;
      } else {
        // security.md §6: NextNonce for the next session (md5, with 212) or the next message (HMAC, with 200).
        const next = generateNonce(this.#o.random);
        nonces.set(deviceId, 'client-to-server', next);
        hdrCode = auth === 'hmac' ? StatusCode.OK : StatusCode.AUTHENTICATION_ACCEPTED;
        hdrChal = challenge(auth, next);
      }
    }

    if (restart && exchange.session !== undefined) {
      // Authenticated as a new session: the old one is over; its undelivered commands go back to the queue and
      // are delivered in this one (read again below).
      await this.#o.store.commitExchange({
        deviceId,
        session: { sessionId: header.sessionId, expectedVersion: exchange.session.version, end: true },
      });
      exchange = await this.#o.store.loadExchange(deviceId, header.sessionId);
      if (exchange === undefined) return await this.#unknownDevice(request);
    }

    const engineOptions = this.#engineOptions(request, device, nonces);
    const engine =
      stored === undefined
        ? new ServerSession(engineOptions)
        : ServerSession.restore(stored.engine, engineOptions);
    // Commands taken from the queue (one query, in loadExchange), handed to the engine in this exchange.
    const markSent: number[] = [];
    for (const command of exchange.pending) {
      engine.enqueue(String(command.id), commandOf(command.spec));
      markSent.push(command.id);
    }
    const offset = stored === undefined ? lastServerMsgId(request.message) : (stored.msgIdOffset ?? 0);
    const step = await engine.receive(toEngineRefs(request.message, offset), {
      body: request.body,
      ...(request.hmacHeader === undefined ? {} : { hmac: request.hmacHeader }),
    });
    const outgoing = step.outgoing;
    if (outgoing === undefined) throw new Error('the server session produced no answer');
    const numbered = fromEngineIds(outgoing.message, offset);
    const reply = hdrCode === undefined ? numbered : withHeaderVerdict(numbered, hdrCode, hdrChal);
    const body = encodeMessage(reply, request.contentType);

    // What the engine learned, in the shape the store keeps it.
    const { outcomes, treeValues, alerts, started, initiator, devInfoWritten, endReason } = effectsOf(
      step.events,
      {
        deviceId,
        sessionId: header.sessionId,
        devInfo: this.#devInfo,
      },
    );

    const ended = engine.state === 'ended';
    const version = exchange.session?.version ?? 0;
    // A session that ends in the exchange that started it (an idle check-in, an abort in Package 1) writes nothing
    // about itself, and the commands it was handed stay queued: it sent none of them. Except those it settled
    // without sending (413: larger than the device's MaxObjSize, protocol.md §7): they are recorded as failed, in a
    // session saved for that and ended right after.
    const settledUnsent = ended && version === 0 ? outcomes.map((o) => o.id) : [];
    const snapshot = (): SessionSnapshot => ({
      engine: engine.snapshot(),
      auth: { scheme: auth, authenticated: true },
      lastMsgId: header.msgId,
      msgIdOffset: offset,
    });
    const sessionWrite: SessionWrite | undefined = ended
      ? version === 0
        ? settledUnsent.length === 0
          ? undefined
          : { sessionId: header.sessionId, expectedVersion: 0, snapshot: snapshot() }
        : { sessionId: header.sessionId, expectedVersion: version, end: true }
      : { sessionId: header.sessionId, expectedVersion: version, snapshot: snapshot() };
    const sent =
      settledUnsent.length > 0
        ? settledUnsent
        : sessionWrite !== undefined && !('end' in sessionWrite)
          ? markSent
          : [];
    const patch: { -readonly [K in keyof DevicePatch]: DevicePatch[K] } = { ...nonces.patch, lastSeen: now };
    if (device.failedAuthCount !== 0) patch.failedAuthCount = 0;
    if (device.lockedUntil !== null) patch.lockedUntil = null;
    const messages: NewMessage[] = [
      { sessionId: header.sessionId, direction: 'in', contentType: request.contentType, body: request.body },
      { sessionId: header.sessionId, direction: 'out', contentType: request.contentType, body },
    ];
    const commit: ExchangeCommit = {
      deviceId,
      ...(sessionWrite === undefined ? {} : { session: sessionWrite }),
      device: patch,
      ...(sent.length === 0 ? {} : { markSent: sent }),
      ...(outcomes.length === 0 || sessionWrite === undefined ? {} : { outcomes }),
      ...(treeValues.length === 0 ? {} : { treeValues }),
      ...(alerts.length === 0 ? {} : { alerts }),
      messages,
      // The offer admits this session only: taken in this commit, or the commit fails (a replay racing it).
      ...(resynced ? { consumeNonceResync: true as const } : {}),
    };
    let result;
    try {
      result = await this.#o.store.commitExchange(commit);
      if (settledUnsent.length > 0) {
        await this.#o.store.commitExchange({
          deviceId,
          session: { sessionId: header.sessionId, expectedVersion: result.sessionVersion, end: true },
        });
      }
    } catch (error) {
      if (devInfoWritten) this.#devInfo.forget(deviceId);
      throw error;
    }

    const at = now;
    const events: ServerEvent[] = [];
    if (started)
      events.push({
        type: 'session.started',
        deviceId,
        sessionId: header.sessionId,
        ...(initiator === undefined ? {} : { initiator }),
        at,
      });
    for (const id of result.completed) {
      const outcome = outcomes.find((o) => o.id === id);
      events.push({
        type: 'command.done',
        deviceId,
        commandId: id,
        state: outcome?.state ?? 'done',
        status: outcome?.status ?? null,
        ...(outcome?.reason === undefined ? {} : { reason: outcome.reason }),
        at,
      });
    }
    events.push(...unansweredEvents(deviceId, result.unanswered, at));
    result.alertIds.forEach((alertId, i) => {
      const alert = alerts[i];
      if (alert === undefined) return;
      events.push({
        type: 'generic-alert',
        deviceId,
        alertId,
        code: alert.code,
        correlator: alert.correlator,
        types: alert.items.flatMap((item) => (item.type === null ? [] : [item.type])),
        at,
      });
    });
    if (ended)
      events.push({
        type: 'session.ended',
        deviceId,
        sessionId: header.sessionId,
        reason: endReason ?? 'completed',
        at,
      });
    this.#publish(events);
    const hmac = outgoing.hmacHeader(body);
    return hmac === undefined ? { body } : { body, hmacHeader: hmac };
  }

  #engineOptions(request: DmRequest, device: DeviceRecord, nonces: NonceStore): ServerSessionOptions {
    const contentType = request.contentType;
    // security.md §2/§9: we authenticate to the device with its SRVCRED scheme, which may differ from its CLCRED one.
    const server = {
      auth: device.serverAuthType,
      username: this.#o.serverId,
      password: device.serverPassword,
    };
    return {
      serverUri: this.#o.serverId,
      ...(this.#o.respUri === undefined ? {} : { respUri: this.#o.respUri }),
      // The client is authenticated by this layer (against the stored digest); the engine checks nothing more.
      credentials: { lookup: () => ({ server }) },
      nonces,
      random: this.#o.random,
      clock: this.#o.clock,
      measure: boundedMeasure(
        (message) => encodeMessage(message, contentType).byteLength + CHAL_RESERVE,
        () => request.message.header.meta?.maxMsgSize,
      ),
      maxMsgSize: this.#o.maxMsgSize ?? 1024 * 1024,
      maxObjSize: this.#o.maxObjSize ?? 4 * 1024 * 1024,
    };
  }

  /** Wrong or missing credentials: Statuses only, a fresh nonce, the failure counted (lockout). */
  async #refuse(
    request: DmRequest,
    exchange: Exchange,
    nonces: PatchNonces,
    reason: 'missing' | 'first-contact' | 'wrong' | 'wrong-type',
    endSession: boolean,
  ): Promise<DmReply> {
    const { header } = request.message;
    const device = exchange.device;
    const session = endSession ? exchange.session : undefined;
    const deviceId = device.deviceId;
    const final = this.#lastChance(request);
    const nonce = device.authType === 'basic' || final ? undefined : generateNonce(this.#o.random);
    if (nonce !== undefined) nonces.set(deviceId, 'client-to-server', nonce);
    const identity = {
      auth: device.serverAuthType,
      username: this.#o.serverId,
      password: device.serverPassword,
      nonce: device.serverNonce,
    };
    const credentials = serverCredentials(identity);
    const reply = challengeReply({
      request: request.message,
      msgId: lastServerMsgId(request.message) + 1,
      code: reason === 'missing' ? StatusCode.MISSING_CREDENTIALS : StatusCode.INVALID_CREDENTIALS,
      auth: device.authType,
      nonce,
      serverUri: this.#o.serverId,
      credentials,
      final,
      ...(this.#o.respUri === undefined ? {} : { respUri: this.#o.respUri }),
    });
    const body = encodeMessage(reply, request.contentType);
    // Not presenting credentials, or presenting them before we ever issued a nonce, is how a session normally
    // begins (challenge, then Package 1 again). Wrong credentials count toward the lockout, and so do missing ones
    // once this session was challenged (a client answering a challenge with nothing has failed it).
    const counts = countsAsFailure(reason, request);
    const result = await this.#o.store.commitExchange({
      deviceId,
      ...(session === undefined
        ? {}
        : { session: { sessionId: header.sessionId, expectedVersion: session.version, end: true } }),
      ...(Object.keys(nonces.patch).length === 0 ? {} : { device: nonces.patch }),
      ...(counts ? { authFailure: this.#lockout } : {}),
      messages: [
        {
          sessionId: header.sessionId,
          direction: 'in',
          contentType: request.contentType,
          body: request.body,
        },
        { sessionId: header.sessionId, direction: 'out', contentType: request.contentType, body },
      ],
    });
    const at = this.#o.clock.now();
    const events: ServerEvent[] = [...unansweredEvents(deviceId, result.unanswered, at)];
    // A challenge is how sessions begin; only credentials that were wrong are reported.
    if (counts)
      events.push({ type: 'auth.failure', deviceId, reason, lockedUntil: result.lockedUntil ?? null, at });
    if (session !== undefined)
      events.push({
        type: 'session.ended',
        deviceId,
        sessionId: header.sessionId,
        reason: 'auth-failed',
        at,
      });
    this.#publish(events);
    const hmac = credentials.hmacHeader(body);
    return hmac === undefined ? { body } : { body, hmacHeader: hmac };
  }

  /**
   * protocol.md §10 / security.md §6 (repeated authentication failure terminates the session): the client's own
   * numbering says how many of our challenges this session has seen (challenges are answered statelessly, so the
   * store keeps no count). Past the bound the answer is final: no Chal, so the client stops. A client that hides
   * the count (MsgID 1, no MsgRef) starts a new session by its own numbering; the device lockout bounds those.
   */
  #lastChance(request: DmRequest): boolean {
    return challengesSeen(request.message) > (this.#o.maxAuthAttempts ?? DEFAULT_MAX_AUTH_ATTEMPTS);
  }

  /**
   * A locked device gets the same answer as a wrong password (a challenge, final past the bound); nothing is
   * checked, and the store work is the same as for a refusal (the nonce and the message log), so the answer takes
   * as long. The nonce is kept: once the lock has expired the device may answer it.
   */
  async #locked(request: DmRequest, device: DeviceRecord): Promise<DmReply> {
    const final = this.#lastChance(request);
    const nonce = device.authType === 'basic' || final ? undefined : generateNonce(this.#o.random);
    const credentials = serverCredentials({
      auth: device.serverAuthType,
      username: this.#o.serverId,
      password: device.serverPassword,
      nonce: device.serverNonce,
    });
    const code =
      schemeOf(this.#presented(request)) === undefined
        ? StatusCode.MISSING_CREDENTIALS
        : StatusCode.INVALID_CREDENTIALS;
    const body = encodeMessage(
      challengeReply({
        request: request.message,
        msgId: lastServerMsgId(request.message) + 1,
        code,
        auth: device.authType,
        nonce,
        serverUri: this.#o.serverId,
        credentials,
        final,
        ...(this.#o.respUri === undefined ? {} : { respUri: this.#o.respUri }),
      }),
      request.contentType,
    );
    const { sessionId } = request.message.header;
    await this.#o.store.commitExchange({
      deviceId: device.deviceId,
      ...(nonce === undefined ? {} : { device: { clientNonce: nonce } }),
      messages: [
        { sessionId, direction: 'in', contentType: request.contentType, body: request.body },
        { sessionId, direction: 'out', contentType: request.contentType, body },
      ],
    });
    this.#publish([
      {
        type: 'auth.failure',
        deviceId: device.deviceId,
        reason: 'locked',
        lockedUntil: device.lockedUntil,
        at: this.#o.clock.now(),
      },
    ]);
    const hmac = credentials.hmacHeader(body);
    return hmac === undefined ? { body } : { body, hmacHeader: hmac };
  }

  /**
   * A device ID we do not know: a challenge shaped like a known device's (same scheme as presented, final past the
   * same bound), and the same store work as a known device's refusal: one commit patching the device row with the
   * new nonce and counting the failure when a known device's would count (on an ID that matches no row, it
   * changes nothing). Only the message log is left out (it belongs to a device).
   */
  async #unknownDevice(request: DmRequest): Promise<DmReply> {
    const presented = this.#presented(request);
    const scheme = schemeOf(presented);
    const auth: AuthName =
      scheme === undefined || scheme === 'unknown' ? (this.#o.defaultAuth ?? 'md5') : scheme;
    const final = this.#lastChance(request);
    const nonce = auth === 'basic' || final ? undefined : generateNonce(this.#o.random);
    const credentials = decoyCredentials(auth, this.#o.serverId, (n) => this.#o.random.bytes(n));
    const code = scheme === undefined ? StatusCode.MISSING_CREDENTIALS : StatusCode.INVALID_CREDENTIALS;
    const body = encodeMessage(
      challengeReply({
        request: request.message,
        msgId: lastServerMsgId(request.message) + 1,
        code,
        auth,
        nonce,
        serverUri: this.#o.serverId,
        credentials,
        final,
        ...(this.#o.respUri === undefined ? {} : { respUri: this.#o.respUri }),
      }),
      request.contentType,
    );
    const reason = scheme === undefined ? 'missing' : 'wrong';
    await this.#o.store.commitExchange({
      deviceId: request.message.header.source.locUri,
      ...(nonce === undefined ? {} : { device: { clientNonce: nonce } }),
      ...(countsAsFailure(reason, request) ? { authFailure: this.#lockout } : {}),
    });
    this.#publish([
      {
        type: 'auth.failure',
        deviceId: request.message.header.source.locUri,
        reason: 'unknown-device',
        at: this.#o.clock.now(),
      },
    ]);
    const hmac = credentials.hmacHeader(body);
    return hmac === undefined ? { body } : { body, hmacHeader: hmac };
  }

  #presented(request: DmRequest): Presented {
    const { header } = request.message;
    return {
      cred: header.cred,
      locName: header.source.locName,
      hmacHeader: request.hmacHeader,
      body: request.body,
    };
  }

  /**
   * Publishes after the commit without holding up the answer. Handed to the bus at once, in order: an EventBus
   * delivers events in the order `publish` was called (the PostgreSQL bus batches them into one NOTIFY statement at a
   * time), so subscribers see this process's events in order without a round trip per event in between.
   */
  #publish(events: readonly ServerEvent[]): void {
    const bus = this.#o.events;
    if (bus === undefined) return;
    for (const event of events) bus.publish(event).catch((error: unknown) => this.#o.onError?.(error));
  }
}
