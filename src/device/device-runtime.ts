/**
 * The device runtime: one management tree (standard objects + a profile), one DM account, and the loop that
 * drives the sans-I/O ClientSession over HTTP. The CLI, the tests and the load generator all run sessions
 * through `runSession`, so a simulated device takes exactly the code path of a real one.
 *
 * Per session: Package 1 (Alert 1201, or 1200 with the trigger's session id) with the DevInfo Replace, any
 * Generic Alerts still owed; then POST / decode / receive until the engine has nothing more to send. After the
 * session the tree, the account and both nonces are saved through the tree's store, so the next run presents
 * credentials built on the stored nonce without a new challenge (DG-AUT-03).
 */
import { LocalProtocolError, OmadmError } from '../errors.js';
import { systemClock, type Clock } from '../platform/clock.js';
import { cryptoRandom, type Random } from '../platform/random.js';
import { ClientSession, type ClientEvent, type ClientStep } from '../session/client-session.js';
import type { UiHandler } from '../session/ui-alert.js';
import type { VerifiedNotification } from '../notification/notification.js';
import type { Secret } from '../session/types.js';
import { encodeMessage } from '../syncml/codec.js';
import { contentTypeFor, type Encoding } from '../syncml/content-type.js';
import type { CommandContext, CommandExecutor, CommandOutcome } from '../syncml/command-outcome.js';
import type { Command, SyncMLMessage } from '../syncml/model.js';
import { TreeCommandExecutor, type TreeCommandContext } from '../tree/command-executor.js';
import type { ManagementTree } from '../tree/management-tree.js';
import type { GenericAlert } from '../tree/plugin.js';
import { MemoryTreeStore, type TreeStore } from '../tree/tree-store.js';
import { fromB64 } from '../security/digest.js';
import { readSettings, TreeNonceStore, type AccountSettings } from './dm-account.js';
import { buildDeviceTree } from './device-tree.js';
import { postMessage, redactUrl, TransportError } from './http-transport.js';
import { alertItems, readPendingAlerts, writePendingAlerts, type PendingAlert } from './pending-alerts.js';
import type { DeviceProfile } from './profiles/profile.js';
import { genericProfile } from './profiles/profiles.js';
import { devInfoItems } from '../tree/standard-objects.js';
import { SummaryBuilder, type SessionOutcome, type SessionSummary } from './session-summary.js';

/** One message as it crossed the wire, for the verbose hook. */
export interface WireMessage {
  readonly direction: 'out' | 'in';
  readonly url: string;
  readonly message: SyncMLMessage;
  readonly bytes: Uint8Array;
  readonly contentType: string;
}

export interface DeviceRuntimeOptions {
  /** ./DevInfo/DevId and the SyncHdr Source. */
  readonly deviceId: string;
  /** The DMAcc for the server this device talks to (written into the tree at open). */
  readonly account: AccountSettings;
  /** The server must authenticate itself with the SRVCRED secret (account.serverPassword) in every session. */
  readonly requireServerAuth?: boolean;
  readonly encoding?: Encoding;
  readonly profile?: DeviceProfile;
  /** Where the tree (with the account and nonces) persists; default in memory. */
  readonly store?: TreeStore;
  /** UI alerts 1100–1104; absent → 406 (no UI). */
  readonly ui?: UiHandler;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly fetch?: typeof fetch;
  /** Largest message the device accepts (sent as MaxMsgSize, enforced on receipt). Default 16384. */
  readonly maxMsgSize?: number;
  /** Largest object the device accepts (MaxObjSize). Default 1 MiB. */
  readonly maxObjSize?: number;
  /** Per HTTP request. Default 30 s. */
  readonly httpTimeoutMs?: number;
  /** A session exchanging more messages than this is abandoned. Default 500. */
  readonly maxMessages?: number;
  /** Verbose hook: each message decoded, both directions. */
  readonly onMessage?: (message: WireMessage) => void;
  /** Device-side log lines (Exec handlers, alerts). */
  readonly log?: (line: string) => void;
}

export interface SessionRequest {
  /** `server` answers a Package 0 (Alert 1200) with the trigger's session id (protocol.md §3.2). */
  readonly initiator?: 'client' | 'server';
  /** Required for server-initiated sessions: the trigger's id as upper-case hex. */
  readonly sessionId?: string;
  /**
   * The trigger's digest matched only the special resync nonce (security.md §8.3): these bytes. The session builds
   * its credentials on them and verifies the server on them, whatever `requireServerAuth` says (§8.3 step 4: the
   * server nonce is refreshed only by a device that verifies the server).
   */
  readonly resyncNonce?: Uint8Array;
}

/** The session a verified Package 0 asks for: Alert 1200 with its session id, on the resync nonce if it matched that. */
export function sessionRequestFor(notification: VerifiedNotification): SessionRequest {
  return {
    initiator: 'server',
    sessionId: notification.sessionIdText,
    ...(notification.nonceUsed === 'resync' ? { resyncNonce: notification.nonce } : {}),
  };
}

export class DeviceRuntime {
  readonly tree: ManagementTree;
  readonly deviceId: string;
  readonly serverId: string;
  readonly #o: DeviceRuntimeOptions;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #encoding: Encoding;
  readonly #executor: CommandExecutor;
  #reported: GenericAlert[] = [];
  #running: Promise<unknown> = Promise.resolve();
  #alertSeq = 0;

  private constructor(options: DeviceRuntimeOptions, tree: ManagementTree, reported: GenericAlert[]) {
    this.#o = options;
    this.tree = tree;
    this.#reported = reported;
    this.deviceId = options.deviceId;
    this.serverId = options.account.serverId;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? cryptoRandom;
    this.#encoding = options.encoding ?? 'xml';
    const onTree = new TreeCommandExecutor(tree);
    const encoding = this.#encoding;
    // The tree formats binary values and TNDS per encoding; the engine's context carries only the ServerID.
    this.#executor = {
      execute: (command: Command, context: CommandContext): Promise<CommandOutcome> => {
        const withEncoding: TreeCommandContext = { ...context, encoding };
        return onTree.execute(command, withEncoding);
      },
    };
  }

  /** Builds the tree (standard objects, account, profile) over the saved state; see device-tree.ts. */
  static async open(options: DeviceRuntimeOptions): Promise<DeviceRuntime> {
    const clock = options.clock ?? systemClock;
    const reported: GenericAlert[] = [];
    const tree = await buildDeviceTree({
      deviceId: options.deviceId,
      account: options.account,
      profile: options.profile ?? genericProfile,
      store: options.store ?? new MemoryTreeStore(),
      now: () => clock.now(),
      log: (line) => options.log?.(line),
      onGenericAlert: (alert) => reported.push(alert),
    });
    return new DeviceRuntime(options, tree, reported);
  }

  /** The SRVCRED secret and nonce, for verifying Package 0 (security.md §8.2). */
  async serverCredentials(serverId: string): Promise<{ password: string; nonce?: Uint8Array } | undefined> {
    const account = await readSettings(this.tree, serverId);
    if (account?.serverPassword === undefined) return undefined;
    const nonce = await new TreeNonceStore(this.tree).get(serverId, 'server-to-client');
    return { password: account.serverPassword, ...(nonce === undefined ? {} : { nonce: fromB64(nonce) }) };
  }

  /** Generic Alerts waiting for the next session. */
  async pendingAlerts(): Promise<readonly PendingAlert[]> {
    return readPendingAlerts(this.tree);
  }

  /** Runs one session; never two at once on one device (later calls wait). Never throws: see the summary. */
  runSession(request: SessionRequest = {}): Promise<SessionSummary> {
    const run = this.#running.then(() => this.#session(request));
    this.#running = run.catch(() => undefined);
    return run;
  }

  async #session(request: SessionRequest): Promise<SessionSummary> {
    const started = this.#clock.now();
    const initiator = request.initiator ?? 'client';
    const sessionId = request.sessionId ?? this.#newSessionId();
    const summary = new SummaryBuilder();
    const end: { outcome: SessionOutcome; reason: string | undefined; errorCode: string | undefined } = {
      outcome: 'internal-error',
      reason: 'the session did not start',
      errorCode: undefined,
    };
    let session: ClientSession | undefined;
    const acknowledged = new Set<string>();
    const finish = (o: SessionOutcome, why?: string, code?: string): void => {
      end.outcome = o;
      end.reason = why;
      end.errorCode = code;
    };
    try {
      const account = await readSettings(this.tree, this.serverId);
      if (account === undefined)
        throw new LocalProtocolError('no-account', `no usable DM account for server ${this.serverId}`);
      const pending = (await readPendingAlerts(this.tree)).filter(
        (a) => a.serverId === undefined || a.serverId === this.serverId,
      );
      session = new ClientSession({
        serverUri: account.serverUrl,
        serverId: account.serverId,
        deviceId: this.deviceId,
        sessionId,
        initiator,
        devInfo: await devInfoItems(this.tree),
        credentials: { auth: account.auth, username: account.username, password: account.password },
        ...this.#serverSecret(account, request.resyncNonce !== undefined),
        ...(request.resyncNonce === undefined ? {} : { resyncNonce: request.resyncNonce }),
        executor: this.#executor,
        ...(this.#o.ui === undefined ? {} : { ui: this.#o.ui }),
        nonces: new TreeNonceStore(this.tree),
        random: this.#random,
        clock: this.#clock,
        measure: (message) => encodeMessage(message, contentTypeFor(this.#encoding)).length,
        maxMsgSize: this.#o.maxMsgSize ?? 16384,
        maxObjSize: this.#o.maxObjSize ?? 1024 * 1024,
      });
      for (const alert of pending) {
        session.addAlert({
          id: alert.id,
          ...(alert.correlator === undefined ? {} : { correlator: alert.correlator }),
          items: alertItems(alert),
        });
        summary.alertsSent++;
      }
      const onEvents = (step: ClientStep): void => {
        for (const event of step.events) this.#onEvent(event, summary, acknowledged, finish);
      };
      let step = await session.start();
      onEvents(step);
      const max = this.#o.maxMessages ?? 500;
      while (step.outgoing !== undefined) {
        if (summary.messagesSent >= max) {
          session.abort();
          finish('protocol-error', `session exceeded ${max} messages; abandoned`, 'too-many-messages');
          break;
        }
        const contentType = contentTypeFor(this.#encoding);
        const url = step.outgoing.url ?? account.serverUrl;
        const body = encodeMessage(step.outgoing.message, contentType);
        const hmac = step.outgoing.hmacHeader(body);
        summary.sent(step.outgoing.message, body.length);
        this.#o.onMessage?.({
          direction: 'out',
          url,
          message: step.outgoing.message,
          bytes: body,
          contentType,
        });
        const exchange = await postMessage({
          url,
          body,
          contentType,
          hmac,
          timeoutMs: this.#o.httpTimeoutMs ?? 30_000,
          limits: { maxBytes: this.#o.maxMsgSize ?? 16384 },
          ...(this.#o.fetch === undefined ? {} : { fetch: this.#o.fetch }),
        });
        summary.received(exchange.message, exchange.bytes.length);
        this.#o.onMessage?.({
          direction: 'in',
          url,
          message: exchange.message,
          bytes: exchange.bytes,
          contentType: exchange.contentType,
        });
        step = await session.receive(exchange.message, {
          body: exchange.bytes,
          ...(exchange.hmac === undefined ? {} : { hmac: exchange.hmac }),
        });
        onEvents(step);
      }
    } catch (error) {
      if (error instanceof OmadmError) {
        const kind: SessionOutcome =
          error instanceof TransportError
            ? 'transport-error'
            : error instanceof LocalProtocolError
              ? 'internal-error'
              : 'protocol-error';
        finish(kind, error.message, error.code);
      } else {
        finish('internal-error', error instanceof Error ? error.message : String(error), 'internal-error');
      }
    } finally {
      await this.#settleAlerts(acknowledged);
      await this.tree.save();
    }
    return {
      deviceId: this.deviceId,
      serverId: this.serverId,
      sessionId,
      initiator,
      ok: end.outcome === 'completed',
      outcome: end.outcome,
      ...(end.reason === undefined ? {} : { reason: oneLine(end.reason) }),
      ...(end.errorCode === undefined ? {} : { errorCode: end.errorCode }),
      startedAt: new Date(started).toISOString(),
      durationMs: this.#clock.now() - started,
      packages: { sent: summary.packagesSent, received: summary.packagesReceived },
      messages: { sent: summary.messagesSent, received: summary.messagesReceived },
      bytes: { sent: summary.bytesSent, received: summary.bytesReceived },
      commands: summary.commands(),
      challenges: summary.challenges,
      authenticated: session?.authenticated ?? false,
      ...(this.#o.requireServerAuth === true || request.resyncNonce !== undefined
        ? { serverAuthenticated: session?.serverAuthenticated ?? false }
        : {}),
      ...(request.resyncNonce === undefined ? {} : { nonceResync: true }),
      alerts: { sent: summary.alertsSent, acknowledged: summary.alertsAcknowledged },
    };
  }

  #serverSecret(account: AccountSettings, resync: boolean): { serverCredentials?: Secret } {
    if (this.#o.requireServerAuth !== true && !resync) return {};
    if (account.serverPassword === undefined) {
      throw new LocalProtocolError(
        'no-server-secret',
        'server authentication is required but the account has no server password',
      );
    }
    return {
      serverCredentials: {
        auth: account.auth,
        username: account.serverUsername ?? account.serverId,
        password: account.serverPassword,
      },
    };
  }

  #onEvent(
    event: ClientEvent,
    summary: SummaryBuilder,
    acknowledged: Set<string>,
    finish: (o: SessionOutcome, why?: string, code?: string) => void,
  ): void {
    switch (event.type) {
      case 'challenged':
        summary.challenges++;
        return;
      case 'alert-status':
        if (event.code >= 200 && event.code < 300 && !acknowledged.has(event.id)) {
          acknowledged.add(event.id);
          summary.alertsAcknowledged++;
        }
        return;
      case 'server-auth-failed':
        this.#o.log?.(`server ${this.serverId} failed to authenticate (${event.reason})`);
        return;
      case 'ended': {
        const reasons: Record<string, string> = {
          'aborted-by-peer': 'the server aborted the session (Alert 1223)',
          aborted: 'the device aborted the session',
          timeout: 'the server stopped answering',
        };
        const why = event.error?.message ?? reasons[event.reason];
        finish(event.reason, event.reason === 'completed' ? undefined : why, event.error?.code);
        return;
      }
      default:
        return;
    }
  }

  /** Drops acknowledged alerts and queues the ones Exec handlers reported during the session. */
  async #settleAlerts(acknowledged: ReadonlySet<string>): Promise<void> {
    const fresh = this.#reported.splice(0);
    const stored = await readPendingAlerts(this.tree);
    if (acknowledged.size === 0 && fresh.length === 0) return;
    const kept = stored.filter((a) => !acknowledged.has(a.id));
    for (const alert of fresh) {
      kept.push({ ...alert, id: `${this.#clock.now().toString(36)}-${(++this.#alertSeq).toString(36)}` });
      this.#o.log?.(`queued Generic Alert ${alert.type} (${alert.data}) for the next session`);
    }
    await writePendingAlerts(this.tree, kept);
  }

  /** protocol.md §3.2: a client-chosen SessionID, here 1–4 upper-case hex digits, never 0. */
  #newSessionId(): string {
    const [a = 0, b = 1] = this.#random.bytes(2);
    return ((a << 8) | b || 1).toString(16).toUpperCase();
  }

  /** For messages and logs: where this device posts (tokens in RespURIs hidden). */
  get serverUrlForDisplay(): string {
    return redactUrl(this.#o.account.serverUrl);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
