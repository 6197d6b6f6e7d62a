/**
 * The sans-I/O DM client engine (protocol.md §2–§10). It turns the server's decoded messages into the next
 * client message plus events. Commands are executed through an injected CommandExecutor and user interaction
 * through an injected UiHandler (both may be async); nonces persist through an injected NonceStore. No sockets,
 * timers or randomness inside: time comes from the injected Clock, nonces from the injected Random.
 */
import type { Alert, Command, Cred, Item, Status, SyncMLMessage } from '../syncml/model.js';
import type { CommandExecutor } from '../syncml/command-outcome.js';
import { AlertCode, AUTH_TYPE_BY_NAME, authNameOf, StatusCode, type AuthName } from '../syncml/constants.js';
import type { Clock } from '../platform/clock.js';
import type { Random } from '../platform/random.js';
import { AuthenticationError, LocalProtocolError, type OmadmError, RemoteProtocolError } from '../errors.js';
import { b64, basicCredential, fromB64, hmacMac, md5Credential } from '../security/digest.js';
import { buildHmacHeader } from '../security/hmac-header.js';
import { generateNonce, type NonceStore } from '../security/nonce.js';
import { verifyCredentials } from '../security/verify.js';
import { StateMachine, type TransitionTable } from './state-machine.js';
import {
  alert,
  buildHeader,
  challenge,
  checkHeader,
  headerStatus,
  needsAnswer,
  statusesForAll,
} from './commands.js';
import { pack, type Measure, type PendingCommand } from './packer.js';
import type { UiHandler } from './ui-alert.js';
import { ClientCommandRunner } from './client-commands.js';
import type { EndReason, Outgoing, Received, Secret } from './types.js';

export type ClientState = 'idle' | 'setup' | 'management' | 'ended';
export type ClientTrigger = 'start' | 'receive' | 'challenged' | 'respond' | 'end' | 'abort' | 'timeout';

/**
 * The client's state machine. setup = Package 1 sent, waiting for Package 2; management = Package 3 sent.
 * `challenged` keeps the client in setup: protocol.md §4.2 (1) sends Package 1 again.
 */
export const CLIENT_TRANSITIONS: TransitionTable<ClientState, ClientTrigger> = {
  idle: { start: 'setup', abort: 'ended' },
  setup: {
    receive: 'setup',
    challenged: 'setup',
    respond: 'management',
    end: 'ended',
    abort: 'ended',
    timeout: 'ended',
  },
  management: {
    receive: 'management',
    respond: 'management',
    end: 'ended',
    abort: 'ended',
    timeout: 'ended',
  },
  ended: {},
};

/** A Generic Alert (1226) or Client Event (1224) raised by the device (protocol.md §13). */
export interface ClientAlert {
  /** The caller's id, echoed in the `alert-status` event that reports the server's answer. */
  readonly id: string;
  readonly code?: typeof AlertCode.GENERIC_ALERT | typeof AlertCode.CLIENT_EVENT;
  readonly correlator?: string;
  /** Each Item with Meta Type and Format and Data; Source/LocURI when the MO requires it. */
  readonly items: readonly Item[];
}

export type ClientEvent =
  | { readonly type: 'authenticated'; readonly auth: AuthName | undefined; readonly code: number }
  | { readonly type: 'challenged'; readonly auth: AuthName; readonly attempt: number }
  | { readonly type: 'server-authenticated'; readonly auth: AuthName }
  | { readonly type: 'server-auth-failed'; readonly reason: string }
  | { readonly type: 'alert-status'; readonly id: string; readonly code: number }
  | { readonly type: 'large-object-rejected'; readonly code: number }
  | { readonly type: 'ended'; readonly reason: EndReason; readonly error?: OmadmError };

export interface ClientStep {
  /** The next message to send, or undefined when the client sends nothing (session over, or nothing to say). */
  readonly outgoing: Outgoing | undefined;
  readonly events: readonly ClientEvent[];
}

export interface ClientSessionOptions {
  /** DMAcc AppAddr: where Package 1 goes, and the SyncHdr Target of every message. */
  readonly serverUri: string;
  /** DMAcc ServerID: the NonceStore account and the CommandContext for the executor. */
  readonly serverId: string;
  /** SyncHdr Source/LocURI: the same value as ./DevInfo/DevId. */
  readonly deviceId: string;
  /** Client-chosen for client-initiated sessions; for server-initiated ones use `sessionIdFromTrigger`. */
  readonly sessionId: string;
  /** `server` answers a Package 0 with Alert 1200; default `client` (1201). */
  readonly initiator?: 'client' | 'server';
  /** The ./DevInfo Items for the Replace in Package 1 (Source/LocURI + Data each). */
  readonly devInfo: readonly Item[];
  /** Credentials the client presents to the server (DMAcc CLCRED). */
  readonly credentials?: Secret;
  /** Send credentials in Package 1 before being challenged. Default true when `credentials` is set. */
  readonly credentialsUpFront?: boolean;
  /** Credentials the server must present (DMAcc SRVCRED). When set, the server must authenticate. */
  readonly serverCredentials?: Secret;
  readonly executor: CommandExecutor;
  /** The device's user interface; without it UI alerts are answered 406 (protocol.md §12). */
  readonly ui?: UiHandler;
  readonly nonces: NonceStore;
  readonly random: Random;
  readonly clock: Clock;
  /** Encoded size of a message (the real encoder's length); without it packages are never split. */
  readonly measure?: Measure;
  /** Largest message the client accepts (sent as MaxMsgSize). */
  readonly maxMsgSize?: number;
  /** Largest object the client accepts (sent as MaxObjSize; 413 above it). */
  readonly maxObjSize?: number;
  /** How many challenges the client answers before giving up. Default 3. */
  readonly maxAuthAttempts?: number;
  /** Inactivity after which `tick()` ends the session. Default 5 minutes. */
  readonly timeoutMs?: number;
  /**
   * security.md §8.3: this session answers a Package 0 whose digest matched only the special resync nonce (these
   * bytes: `VerifiedNotification.nonce`). Package 1 credentials are built on it (step 2) and the server's
   * credentials are verified on it (step 4) instead of the stored nonces; the fresh nonces the session brings
   * replace both. Once the server accepted us, it holds the special nonce as our server nonce too (until our Chal
   * reaches it), so it is stored as such: an idle session, which never answers the server, still leaves both sides
   * agreeing.
   */
  readonly resyncNonce?: Uint8Array;
}

/** protocol.md §5.1: the trigger's 16-bit session id as upper-case hex without leading zeros. */
export function sessionIdFromTrigger(id: number): string {
  return (id & 0xffff).toString(16).toUpperCase();
}

interface SentRecord {
  readonly tag: string | undefined;
  readonly command: Command;
}

const AUTH_FAILURES: ReadonlySet<number> = new Set([
  StatusCode.INVALID_CREDENTIALS,
  StatusCode.MISSING_CREDENTIALS,
]);

export class ClientSession {
  readonly #o: ClientSessionOptions;
  readonly #machine = new StateMachine<ClientState, ClientTrigger>('client', CLIENT_TRANSITIONS, 'idle');
  #url: string;
  #msgId = 0;
  #scheme: AuthName | undefined;
  #sendCred: boolean;
  #clientNonce: string | undefined;
  #serverNonce: string | undefined;
  /** The nonce our Chal in the message being composed issues to the server (saved once that message is sent). */
  #issuedServerNonce: string | undefined;
  #resyncSettled = false;
  #authenticated = false;
  #authAttempts = 0;
  #serverAuthenticated = false;
  #serverAuthFailures = 0;
  #serverMaxMsgSize: number | undefined;
  #serverMaxObjSize: number | undefined;
  #outbox: PendingCommand[] = [];
  #alerts: PendingCommand[] = [];
  #package1Alerts: PendingCommand[] = [];
  #sent = new Map<string, SentRecord>();
  readonly #runner: ClientCommandRunner;
  #lastActivity: number;
  #events: ClientEvent[] = [];

  constructor(options: ClientSessionOptions) {
    this.#o = options;
    this.#url = options.serverUri;
    this.#scheme = options.credentials?.auth;
    this.#sendCred = options.credentials !== undefined && (options.credentialsUpFront ?? true);
    this.#lastActivity = options.clock.now();
    this.#runner = new ClientCommandRunner({
      executor: options.executor,
      ui: options.ui,
      serverId: options.serverId,
      maxObjSize: options.maxObjSize,
      serverMaxObjSize: () => this.#serverMaxObjSize,
      emit: (event) => this.#events.push(event),
    });
  }

  get state(): ClientState {
    return this.#machine.state;
  }
  /** Where the next message goes: the server URI, or the latest RespURI (protocol.md §9). */
  get url(): string {
    return this.#url;
  }
  get sessionId(): string {
    return this.#o.sessionId;
  }
  /** Whether the server accepted the client's credentials for the session (212) or this message (200). */
  get authenticated(): boolean {
    return this.#authenticated;
  }
  get serverAuthenticated(): boolean {
    return this.#serverAuthenticated;
  }

  /** Queues a Generic Alert / Client Event for the next message (Package 1 when called before `start`). */
  addAlert(input: ClientAlert): void {
    if (this.#machine.state === 'ended') {
      throw new LocalProtocolError(
        'session-ended',
        `client session in state ended cannot handle event add-alert`,
      );
    }
    const command: Alert = {
      kind: 'Alert',
      cmdId: 0,
      code: input.code ?? AlertCode.GENERIC_ALERT,
      ...(input.correlator === undefined ? {} : { correlator: input.correlator }),
      items: input.items,
    };
    this.#alerts.push({ command, tag: `alert:${input.id}` });
  }

  /** Package 1 (protocol.md §3.2): Alert 1200/1201, Replace ./DevInfo, Cred when configured, Final. */
  async start(): Promise<ClientStep> {
    this.#machine.fire('start');
    const resync = this.#o.resyncNonce === undefined ? undefined : b64(this.#o.resyncNonce);
    this.#clientNonce = resync ?? (await this.#o.nonces.get(this.#o.serverId, 'client-to-server'));
    this.#serverNonce = resync ?? (await this.#o.nonces.get(this.#o.serverId, 'server-to-client'));
    this.#package1Alerts = this.#alerts;
    this.#alerts = [];
    const outgoing = this.#send([...this.#package1()], true);
    return this.#step(outgoing);
  }

  /** Session abort (Alert 1223, protocol.md §6): the client stops; any answer is ignored. */
  abort(): ClientStep {
    const wasIdle = this.#machine.state === 'idle';
    this.#machine.fire('abort');
    this.#events.push({ type: 'ended', reason: 'aborted' });
    if (wasIdle) return this.#step(undefined);
    const outgoing = this.#send([{ command: alert(AlertCode.SESSION_ABORT), tag: 'abort' }], true);
    return this.#step(outgoing);
  }

  /** The caller tells the engine time passed: ends the session after `timeoutMs` of silence from the server. */
  tick(): ClientStep {
    const state = this.#machine.state;
    if (
      (state === 'setup' || state === 'management') &&
      this.#o.clock.now() - this.#lastActivity >= (this.#o.timeoutMs ?? 300_000)
    ) {
      this.#machine.fire('timeout');
      this.#events.push({ type: 'ended', reason: 'timeout' });
    }
    return this.#step(undefined);
  }

  /** Consumes one server message; returns the next client message (or none) and events. */
  async receive(message: SyncMLMessage, received: Received = {}): Promise<ClientStep> {
    const step = await this.#receive(message, received);
    const issued = this.#issuedServerNonce;
    this.#issuedServerNonce = undefined;
    // security.md §7: the nonce we issue in our Chal is the one the server will compute its next credentials with,
    // so it is saved only when a message carrying it goes out. The server's last message of a session is never
    // answered: a nonce drawn for it never reaches the server, and saving it would refuse the server next time.
    if (issued !== undefined && step.outgoing !== undefined) {
      await this.#o.nonces.set(this.#o.serverId, 'server-to-client', issued);
      this.#resyncSettled = true; // a fresh nonce reached the server: the special one is never ours again
    }
    return step;
  }

  async #receive(message: SyncMLMessage, received: Received): Promise<ClientStep> {
    this.#machine.fire('receive');
    this.#lastActivity = this.#o.clock.now();
    const { header, body } = message;
    checkHeader(header, 'server');
    if (header.sessionId !== this.#o.sessionId) {
      throw new RemoteProtocolError(
        'session-id-mismatch',
        `server answered SessionID ${header.sessionId} in client session ${this.#o.sessionId}`,
      );
    }
    // protocol.md §9: every later message of the session goes to the RespURI.
    if (header.respUri !== undefined && header.respUri !== '') this.#url = header.respUri;
    if (header.meta?.maxMsgSize !== undefined) this.#serverMaxMsgSize = header.meta.maxMsgSize;
    if (header.meta?.maxObjSize !== undefined) this.#serverMaxObjSize = header.meta.maxObjSize;

    // Server → client authentication (security.md §6), decided before anything is executed.
    const serverHdr = await this.#checkServer(message, received);

    // Client → server authentication: the Status for our SyncHdr.
    const ours = body.find((c): c is Status => c.kind === 'Status' && c.cmdRef === 0);
    if (ours !== undefined) {
      const outcome = await this.#onHeaderStatus(ours, serverHdr.status);
      if (outcome !== undefined) return outcome;
    }

    if (serverHdr.failed) {
      // protocol.md §4.2 (2): with no commands, the client MUST NOT answer with only a challenge: the session ends.
      if (!needsAnswer(body) || this.#serverAuthFailures > (this.#o.maxAuthAttempts ?? 3)) {
        return this.#end(
          'peer-auth-failed',
          new AuthenticationError('server-auth-failed', 'server did not authenticate itself'),
        );
      }
      // DG-AUT-06: challenge the server; every command gets the same failure code; nothing is executed.
      const statuses = statusesForAll(body, header.msgId, serverHdr.code);
      const pending: PendingCommand[] = [serverHdr.status, ...statuses].map((command) => ({ command }));
      this.#machine.fire('respond');
      return this.#step(this.#send(pending, message.final));
    }

    const replies: PendingCommand[] = [];
    let cancelled = false;
    for (const command of body) {
      if (command.kind === 'Status') {
        this.#onStatus(command, header.msgId);
        continue;
      }
      if (command.kind === 'Results') continue; // a server never sends Results; nothing to answer.
      if (command.kind === 'Alert' && command.code === AlertCode.SESSION_ABORT) {
        // protocol.md §6 / DG-SES-07: the client stops and sends no response.
        return this.#end('aborted-by-peer');
      }
      if (cancelled) {
        // protocol.md §12: after a cancelled UI alert, unprocessed commands get 215.
        replies.push(
          ...statusesForAll([command], header.msgId, StatusCode.NOT_EXECUTED).map((c) => ({ command: c })),
        );
        continue;
      }
      const result = await this.#runner.process(command, header.msgId);
      replies.push(...result.replies);
      if (result.cancelled) cancelled = true;
    }

    const hasAnswers = replies.length > 0;
    const ourPackageOpen = this.#outbox.length > 0 || this.#alerts.length > 0;
    if (message.final && !hasAnswers && !ourPackageOpen) {
      // protocol.md §10: nothing needs an answer; a header-Status-only message is never sent.
      return this.#end('completed');
    }
    const head: PendingCommand[] = [{ command: serverHdr.status }];
    // protocol.md §6: a server answering our unfinished package with Alert 1222 is pulling the rest of it
    // (its "Next Message response"); then our package may close even though that message has no Final.
    const pulled =
      !message.final &&
      ourPackageOpen &&
      body.some((c) => c.kind === 'Alert' && c.code === AlertCode.NEXT_MESSAGE);
    // protocol.md §6: otherwise the receiver of a non-final message asks for the next one with Alert 1222.
    if (!message.final && !pulled) head.push({ command: alert(AlertCode.NEXT_MESSAGE), tag: 'next' });
    const pending = [...head, ...replies, ...this.#outbox, ...this.#alerts];
    this.#outbox = [];
    this.#alerts = [];
    this.#machine.fire('respond');
    const final = (message.final || pulled) && !this.#runner.receivingLargeObject;
    return this.#step(this.#send(pending, final, head.length + (pulled ? 1 : 0)));
  }

  // ---- authentication -------------------------------------------------------------------------------------

  async #checkServer(
    message: SyncMLMessage,
    received: Received,
  ): Promise<{ code: number; status: Status; failed: boolean }> {
    const { header } = message;
    const secret = this.#o.serverCredentials;
    if (secret === undefined || (this.#serverAuthenticated && secret.auth !== 'hmac')) {
      return { code: StatusCode.OK, status: headerStatus(header, StatusCode.OK), failed: false };
    }
    const check = verifyCredentials(
      { cred: header.cred, hmacHeader: received.hmac, body: received.body, locName: header.source.locName },
      secret,
      this.#serverNonce,
    );
    // security.md §7: the verifier issues a fresh nonce; `receive` persists it once it was sent.
    const nonce = generateNonce(this.#o.random);
    this.#serverNonce = nonce;
    this.#issuedServerNonce = nonce;
    if (check.ok) {
      const first = !this.#serverAuthenticated;
      this.#serverAuthenticated = true;
      if (first) this.#events.push({ type: 'server-authenticated', auth: secret.auth });
      // security.md §5: with HMAC each message is verified on its own: 200, never 212.
      const code = secret.auth === 'hmac' ? StatusCode.OK : StatusCode.AUTHENTICATION_ACCEPTED;
      return { code, status: headerStatus(header, code, challenge(secret.auth, nonce)), failed: false };
    }
    this.#serverAuthFailures++;
    const code = check.reason === 'missing' ? StatusCode.MISSING_CREDENTIALS : StatusCode.INVALID_CREDENTIALS;
    this.#events.push({ type: 'server-auth-failed', reason: check.reason });
    return { code, status: headerStatus(header, code, challenge(secret.auth, nonce)), failed: true };
  }

  /** Handles the Status for our SyncHdr; returns a step when it decides the whole answer (challenge, failure). */
  async #onHeaderStatus(status: Status, serverHdr: Status): Promise<ClientStep | undefined> {
    const nextNonce = status.chal?.meta.nextNonce;
    if (status.code === StatusCode.AUTHENTICATION_ACCEPTED || status.code === StatusCode.OK) {
      await this.#adoptResyncNonce();
      if (nextNonce !== undefined) await this.#takeNonce(nextNonce);
      if (this.#sendCred || this.#scheme === 'hmac') {
        if (!this.#authenticated)
          this.#events.push({ type: 'authenticated', auth: this.#scheme, code: status.code });
        this.#authenticated = true;
      }
      // protocol.md §4.1: 212 = authenticated for the session; 200 = this message only, send Cred again.
      if (status.code === StatusCode.AUTHENTICATION_ACCEPTED && this.#scheme !== 'hmac')
        this.#sendCred = false;
      return undefined;
    }
    if (!AUTH_FAILURES.has(status.code)) {
      return this.#end(
        'auth-failed',
        new RemoteProtocolError('header-refused', `server refused the SyncHdr with status ${status.code}`, {
          status: status.code,
        }),
      );
    }
    const requested =
      status.chal === undefined ? undefined : authNameOf(status.chal.meta.type ?? AUTH_TYPE_BY_NAME.basic);
    const credentials = this.#o.credentials;
    const fail = (message: string): ClientStep =>
      this.#end(
        'auth-failed',
        new AuthenticationError('client-auth-failed', message, { status: status.code }),
      );
    if (status.chal === undefined)
      return fail(`server refused the credentials (${status.code}) without a challenge`);
    if (requested === undefined)
      return fail(`server challenged with unsupported type ${String(status.chal.meta.type)}`);
    if (credentials === undefined)
      return fail(`server asked for ${requested} credentials and none are configured`);
    // protocol.md §4.2 (1): resend "with the credentials requested". A password serves every scheme, but never
    // downgrade a digest account to basic, which would put the password on the wire.
    if (requested === 'basic' && credentials.auth !== 'basic') {
      return fail(`server asked for basic credentials; this account only sends ${credentials.auth} digests`);
    }
    if (this.#authenticated)
      return fail(`server challenged again (${status.code}) after accepting the credentials`);
    this.#authAttempts++;
    if (this.#authAttempts > (this.#o.maxAuthAttempts ?? 3)) {
      return fail(`server refused the credentials ${this.#authAttempts} times (last status ${status.code})`);
    }
    if (this.#machine.state !== 'setup')
      return fail(`server challenged (${status.code}) outside the setup phase`);
    this.#scheme = requested;
    this.#sendCred = true;
    if (nextNonce !== undefined) await this.#takeNonce(nextNonce);
    this.#events.push({ type: 'challenged', auth: requested, attempt: this.#authAttempts });
    // protocol.md §4.2 (1): the client reverts to Package 1 — Alert and DevInfo again, with the requested
    // credentials and a Status for the server's SyncHdr, in the same session, to the RespURI if one was given.
    this.#machine.fire('challenged');
    this.#outbox = [];
    return this.#step(this.#send([{ command: serverHdr }, ...this.#package1()], true));
  }

  /**
   * security.md §8.3: the server accepted credentials on the special nonce, so it took our resync and now builds its
   * credentials (and Package 0) on that nonce until our Chal gives it a fresh one: store it as our server nonce
   * (a fresh one issued later in this session replaces it in `receive`). Only from a trusted server, as in §7; not
   * after a challenge (then the server accepted credentials on its own nonce and took no resync), nor once a fresh
   * nonce of ours went out.
   */
  async #adoptResyncNonce(): Promise<void> {
    const nonce = this.#o.resyncNonce;
    if (nonce === undefined || this.#resyncSettled || this.#authAttempts > 0) return;
    if (this.#o.serverCredentials !== undefined && !this.#serverAuthenticated) return;
    this.#resyncSettled = true;
    await this.#o.nonces.set(this.#o.serverId, 'server-to-client', b64(nonce));
  }

  /**
   * security.md §7: use a nonce from the server for the next credentials; persist it only when the server is
   * trusted (authenticated, or no server authentication configured), so an impostor cannot plant nonces.
   */
  async #takeNonce(nonce: string): Promise<void> {
    this.#clientNonce = nonce;
    if (this.#o.serverCredentials === undefined || this.#serverAuthenticated) {
      await this.#o.nonces.set(this.#o.serverId, 'client-to-server', nonce);
    }
  }

  #onStatus(status: Status, serverMsgId: number): void {
    if (status.cmdRef === 0) return;
    void serverMsgId;
    const record = this.#sent.get(`${status.msgRef ?? this.#msgId}:${status.cmdRef}`);
    if (record?.tag?.startsWith('alert:') === true) {
      this.#events.push({ type: 'alert-status', id: record.tag.slice('alert:'.length), code: status.code });
    }
  }

  // ---- composing ---------------------------------------------------------------------------------------------

  #package1(): PendingCommand[] {
    const code =
      this.#o.initiator === 'server' ? AlertCode.SERVER_INITIATED_MGMT : AlertCode.CLIENT_INITIATED_MGMT;
    const devInfo: Command = { kind: 'Replace', cmdId: 0, items: this.#o.devInfo };
    return [
      { command: alert(code), tag: 'session' },
      { command: devInfo, tag: 'devinfo' },
      ...this.#package1Alerts,
    ];
  }

  #cred(): { cred?: Cred; locName?: string } {
    const credentials = this.#o.credentials;
    if (credentials === undefined || this.#scheme === undefined) return {};
    if (this.#scheme === 'hmac') return { locName: credentials.username };
    if (!this.#sendCred) return {};
    const meta = { type: AUTH_TYPE_BY_NAME[this.#scheme], format: 'b64' };
    if (this.#scheme === 'basic')
      return { cred: { meta, data: basicCredential(credentials.username, credentials.password) } };
    const nonce = fromB64(this.#clientNonce ?? '');
    return {
      cred: { meta, data: md5Credential(credentials.username, credentials.password, nonce) },
      locName: credentials.username,
    };
  }

  #send(commands: readonly PendingCommand[], final: boolean, overhead = 0): Outgoing {
    const msgId = ++this.#msgId;
    const { cred, locName } = this.#cred();
    const header = buildHeader({
      sessionId: this.#o.sessionId,
      msgId,
      target: { locUri: this.#o.serverUri },
      source: { locUri: this.#o.deviceId, ...(locName === undefined ? {} : { locName }) },
      ...(cred === undefined ? {} : { cred }),
      meta: {
        ...(this.#o.maxMsgSize === undefined ? {} : { maxMsgSize: this.#o.maxMsgSize }),
        ...(this.#o.maxObjSize === undefined ? {} : { maxObjSize: this.#o.maxObjSize }),
      },
    });
    const result = pack({
      header,
      commands,
      final,
      maxMsgSize: this.#serverMaxMsgSize,
      measure: this.#o.measure,
      role: 'client',
      overhead,
    });
    for (const packed of result.packed) {
      this.#sent.set(`${msgId}:${packed.cmdId}`, { tag: packed.tag, command: packed.command });
    }
    // What did not fit waits for the server's Alert 1222 (protocol.md §6).
    this.#outbox = [...result.rest];
    const credentials = this.#o.credentials;
    const hmacNonce = this.#clientNonce;
    const useHmac = credentials !== undefined && this.#scheme === 'hmac' && this.#sendCred;
    return {
      message: result.message,
      url: this.#url,
      hmacHeader: (body: Uint8Array) =>
        useHmac
          ? buildHmacHeader(
              credentials.username,
              hmacMac(credentials.username, credentials.password, fromB64(hmacNonce ?? ''), body),
            )
          : undefined,
    };
  }

  #end(reason: EndReason, error?: OmadmError): ClientStep {
    this.#machine.fire('end');
    this.#events.push(error === undefined ? { type: 'ended', reason } : { type: 'ended', reason, error });
    return this.#step(undefined);
  }

  #step(outgoing: Outgoing | undefined): ClientStep {
    const events = this.#events;
    this.#events = [];
    return { outgoing, events };
  }
}
