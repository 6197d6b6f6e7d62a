/**
 * The device's ear for Package 0: listens on `udp://IP:PORT` or `http://IP:PORT/path`, authenticates each
 * notification against the caller's DMAcc credentials, drops replays, and runs one session at a time.
 *
 * Policy, in order, for every notification received:
 * 1. decode and verify the digest (security.md §8.2; resync per the caller's policy, §8.3); failures go to
 *    `onInvalid` and start nothing (DG-NOT-02);
 * 2. only then consult the replay guard, so forged triggers cannot burn session ids; a trigger already seen is
 *    dropped (§8.4, DG-NOT-06);
 * 3. if no session runs, `runSession` starts; otherwise the notification waits in a single pending slot, and a
 *    later one replaces it: a burst during a session yields exactly one follow-up session, answering the newest
 *    session id (the server's queue holds the work; one session fetches all of it).
 *
 * `runSession` owns the session itself: Alert 1200, SyncHdr/SessionID = `sessionIdText`, and the UI mode
 * (DG-NOT-04: ask the user first for 'user-interaction', notify for 'informative').
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { LocalProtocolError, OmadmError } from '../errors.js';
import {
  authenticateNotification,
  decodeNotification,
  DEFAULT_NOTIFICATION_LIMITS,
  NotificationReplayGuard,
  type NotificationDecodeLimits,
  type ResyncPolicy,
  type ServerCredentials,
  type VerifiedNotification,
} from '../notification/index.js';
import { systemClock, type Clock } from '../platform/clock.js';
import { ContentType } from '../syncml/content-type.js';

export type CredentialLookup = (
  serverId: string,
) => ServerCredentials | undefined | Promise<ServerCredentials | undefined>;

export type NotificationListenerEvent =
  | { readonly kind: 'accepted'; readonly notification: VerifiedNotification; readonly source: string }
  | { readonly kind: 'replayed'; readonly notification: VerifiedNotification; readonly source: string }
  /** Superseded in the pending slot by a newer notification: it gets no session of its own. */
  | { readonly kind: 'coalesced'; readonly notification: VerifiedNotification }
  | { readonly kind: 'session-failed'; readonly notification: VerifiedNotification; readonly error: unknown }
  /** Our own fault, not the sender's: the credential lookup threw. */
  | {
      readonly kind: 'lookup-failed';
      readonly serverId: string;
      readonly error: unknown;
      readonly source: string;
    }
  /** Dropped unread because `maxInFlight` notifications were already being verified. */
  | { readonly kind: 'overloaded'; readonly source: string }
  /** A bug on our side while handling a notification; the listener keeps running. */
  | { readonly kind: 'listener-error'; readonly error: unknown; readonly source: string };

export interface NotificationListenerOptions {
  /** `udp://127.0.0.1:PORT`, `udp://[::1]:PORT` or `http://127.0.0.1:PORT/path`; port 0 picks a free port. */
  readonly listen: string;
  /** The SRVCRED credentials of the DMAcc whose ServerID matches, or undefined when there is none. */
  readonly credentials: CredentialLookup;
  /** Runs one DM session answering a verified notification. Never run twice at once. */
  readonly runSession: (notification: VerifiedNotification) => Promise<void>;
  /** A notification that did not decode or verify (the CLI prints these on stderr). */
  readonly onInvalid?: (error: OmadmError, source: string) => void;
  readonly onEvent?: (event: NotificationListenerEvent) => void;
  /** What to do when the digest fails with the stored nonce (§8.3). Default 'off'. */
  readonly resync?: ResyncPolicy;
  readonly limits?: Partial<NotificationDecodeLimits>;
  /** Share a guard across listeners; by default each listener has its own on `clock`. */
  readonly guard?: NotificationReplayGuard;
  readonly clock?: Clock;
  /** Most notifications verified at once; more are dropped with an 'overloaded' event (HTTP 503). Default 64. */
  readonly maxInFlight?: number;
}

export interface NotificationListener {
  /** The bound address, with the real port: what the server should store as the device's notifyAddress. */
  readonly address: string;
  /** Resolves when nothing is being verified, run or pending. */
  idle(): Promise<void>;
  /** Stops listening, discards the pending notification and waits for the running session to end. Idempotent. */
  close(): Promise<void>;
}

type Outcome =
  | { readonly kind: 'accepted' | 'replayed' }
  | { readonly kind: 'invalid'; readonly error: OmadmError }
  | { readonly kind: 'failed' };

/** Starts listening; resolves once bound. Throws LocalProtocolError for an unusable `listen` address. */
export async function listenForNotifications(
  options: NotificationListenerOptions,
): Promise<NotificationListener> {
  const runner = new NotificationRunner(options);
  const endpoint = listenEndpoint(options.listen);
  const maxBytes = options.limits?.maxBytes ?? DEFAULT_NOTIFICATION_LIMITS.maxBytes;
  const transport =
    endpoint.scheme === 'udp'
      ? await bindUdp(endpoint, (bytes, source) => void runner.receive(bytes, source))
      : await bindHttp(endpoint, maxBytes, (bytes, source) => runner.receive(bytes, source));
  let closing: Promise<void> | undefined;
  return {
    address: transport.address,
    idle: () => runner.idle(),
    // Idempotent: a second close() waits for the first.
    close: () =>
      (closing ??= (async () => {
        runner.stop();
        await transport.close();
        await runner.idle();
      })()),
  };
}

/** Verification, replay guard and the one-session-at-a-time loop; transport-free. */
class NotificationRunner {
  readonly #options: NotificationListenerOptions;
  readonly #guard: NotificationReplayGuard;
  readonly #inflight = new Set<Promise<unknown>>();
  #running: Promise<void> = Promise.resolve();
  #busy = false;
  #pending: VerifiedNotification | undefined;
  #stopped = false;

  constructor(options: NotificationListenerOptions) {
    this.#options = options;
    this.#guard = options.guard ?? new NotificationReplayGuard(options.clock ?? systemClock);
  }

  receive(bytes: Uint8Array, source: string): Promise<Outcome> {
    if (this.#inflight.size >= (this.#options.maxInFlight ?? 64)) {
      // A flood (or a slow credential store) must not grow memory without bound: shed load.
      this.#emit({ kind: 'overloaded', source });
      return Promise.resolve({ kind: 'failed' });
    }
    const work = this.#verifyAndDispatch(bytes, source).catch((error: unknown): Outcome => {
      this.#emit({ kind: 'listener-error', error, source });
      return { kind: 'failed' };
    });
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work));
    return work;
  }

  stop(): void {
    this.#stopped = true;
    this.#pending = undefined;
  }

  async idle(): Promise<void> {
    while (this.#inflight.size > 0 || this.#busy) {
      await Promise.allSettled([...this.#inflight, this.#running]);
    }
  }

  /** Callbacks are the caller's code: one that throws must not take the listener down. */
  #emit(event: NotificationListenerEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // ignored on purpose, see above
    }
  }

  async #verifyAndDispatch(bytes: Uint8Array, source: string): Promise<Outcome> {
    const onEvent = (event: NotificationListenerEvent): void => this.#emit(event);
    const onInvalid = (error: OmadmError, from: string): void => {
      try {
        this.#options.onInvalid?.(error, from);
      } catch {
        // the caller's reporting failed; the notification is dropped either way
      }
    };
    let notification: VerifiedNotification;
    try {
      const decoded = decodeNotification(bytes, this.#options.limits);
      let credentials: ServerCredentials | undefined;
      try {
        credentials = await this.#options.credentials(decoded.trigger.serverId);
      } catch (error) {
        onEvent({ kind: 'lookup-failed', serverId: decoded.trigger.serverId, error, source });
        return { kind: 'failed' };
      }
      const resync = this.#options.resync;
      notification = authenticateNotification(decoded, credentials, resync === undefined ? {} : { resync });
    } catch (error) {
      if (!(error instanceof OmadmError)) {
        onEvent({ kind: 'listener-error', error, source }); // a bug, not bad input: report, keep listening
        return { kind: 'failed' };
      }
      onInvalid(error, source);
      return { kind: 'invalid', error };
    }
    if (this.#stopped) return { kind: 'failed' };
    // After verification only: forged triggers must not poison the guard (§8.4).
    if (!this.#guard.admit(notification.trigger)) {
      onEvent({ kind: 'replayed', notification, source });
      return { kind: 'replayed' };
    }
    onEvent({ kind: 'accepted', notification, source });
    this.#dispatch(notification);
    return { kind: 'accepted' };
  }

  #dispatch(notification: VerifiedNotification): void {
    if (this.#busy) {
      if (this.#pending !== undefined) this.#emit({ kind: 'coalesced', notification: this.#pending });
      this.#pending = notification;
      return;
    }
    // #busy flips synchronously on both ends, so no notification can fall between "loop ended" and "idle".
    this.#busy = true;
    this.#running = this.#runLoop(notification);
  }

  async #runLoop(first: VerifiedNotification): Promise<void> {
    let next: VerifiedNotification | undefined = first;
    while (next !== undefined && !this.#stopped) {
      this.#pending = undefined;
      try {
        await this.#options.runSession(next);
      } catch (error) {
        this.#emit({ kind: 'session-failed', notification: next, error });
      }
      next = this.#pending;
    }
    this.#busy = false;
  }
}

interface Endpoint {
  readonly scheme: 'udp' | 'http';
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

interface Transport {
  readonly address: string;
  close(): Promise<void>;
}

function listenEndpoint(listen: string): Endpoint {
  const invalid = (why: string): LocalProtocolError =>
    new LocalProtocolError(
      'notification-listen-invalid',
      `cannot listen on ${JSON.stringify(listen)}: ${why}`,
    );
  let url: URL;
  try {
    url = new URL(listen);
  } catch {
    throw invalid('not a URL (expected udp://IP:PORT or http://IP:PORT/path)');
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme !== 'udp' && scheme !== 'http') throw invalid('the scheme must be udp: or http:');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) === 0) throw invalid('the host must be an IP address of a local interface');
  if (scheme === 'udp' && url.port === '') throw invalid('a UDP address needs a port');
  if (scheme === 'udp' && url.pathname !== '' && url.pathname !== '/')
    throw invalid('a UDP address has no path');
  const port = url.port === '' ? 80 : Number(url.port);
  return { scheme, host, port, path: url.pathname === '' ? '/' : url.pathname };
}

/** The address is well formed but the OS refused it (in use, not a local interface, no permission). */
function bindFailed(endpoint: Endpoint, cause: Error): LocalProtocolError {
  const where = `${endpoint.scheme}://${hostForUrl(endpoint.host)}:${endpoint.port}`;
  return new LocalProtocolError('notification-listen-failed', `cannot listen on ${where}: ${cause.message}`, {
    cause,
  });
}

function hostForUrl(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

async function bindUdp(
  endpoint: Endpoint,
  onMessage: (bytes: Uint8Array, source: string) => void,
): Promise<Transport> {
  const socket: Socket = createSocket(isIP(endpoint.host) === 6 ? 'udp6' : 'udp4');
  socket.on('message', (message, remote) => {
    onMessage(new Uint8Array(message), `udp://${hostForUrl(remote.address)}:${remote.port}`);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (cause) => {
      socket.close();
      reject(bindFailed(endpoint, cause));
    });
    socket.bind(endpoint.port, endpoint.host, () => {
      socket.removeAllListeners('error');
      resolve();
    });
  });
  // Errors after binding (ICMP noise on some platforms) must not crash the device.
  socket.on('error', () => undefined);
  const { port } = socket.address();
  return {
    address: `udp://${hostForUrl(endpoint.host)}:${port}`,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

async function bindHttp(
  endpoint: Endpoint,
  maxBytes: number,
  receive: (bytes: Uint8Array, source: string) => Promise<Outcome>,
): Promise<Transport> {
  const server: Server = createServer((request, response) => {
    void handleHttp(request, response, endpoint.path, maxBytes, receive);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(bindFailed(endpoint, cause)));
    server.listen(endpoint.port, endpoint.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `http://${hostForUrl(endpoint.host)}:${port}${endpoint.path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handleHttp(
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  maxBytes: number,
  receive: (bytes: Uint8Array, source: string) => Promise<Outcome>,
): Promise<void> {
  const reply = (status: number, text = '', headers: Record<string, string> = {}): void => {
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(text);
  };
  const requestPath = (request.url ?? '/').split('?')[0];
  if (requestPath !== path) return reply(404, `no notification endpoint at ${requestPath ?? ''}\n`);
  if (request.method !== 'POST') return reply(405, 'notifications are POSTed\n', { allow: 'POST' });
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== ContentType.NOTIFICATION) {
    return reply(415, `expected content type ${ContentType.NOTIFICATION}\n`, { connection: 'close' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        return reply(413, `notification exceeds ${maxBytes} bytes\n`, { connection: 'close' });
      }
      chunks.push(chunk);
    }
  } catch {
    return; // the sender went away mid-body: nothing to answer
  }
  const source = `http://${hostForUrl(request.socket.remoteAddress ?? 'unknown')}:${request.socket.remotePort ?? 0}`;
  const outcome = await receive(new Uint8Array(Buffer.concat(chunks)), source);
  switch (outcome.kind) {
    case 'accepted':
    case 'replayed': // a re-trigger of a pending session is legitimate (§8.4): accepted, nothing new starts
      return reply(202);
    case 'invalid': {
      // 401 would oblige a WWW-Authenticate challenge, which Package 0 has no use for: refuse with 403.
      const status = outcome.error.httpStatus === 401 ? 403 : outcome.error.httpStatus;
      return reply(status, `${outcome.error.code}: ${outcome.error.message}\n`);
    }
    case 'failed':
      return reply(503, 'notification not processed\n');
  }
}
