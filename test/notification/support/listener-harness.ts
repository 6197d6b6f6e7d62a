/**
 * Runs the real device listener and records what it does, so delivery tests can wait for events instead of
 * sleeping. Sessions are gated: a test decides when each running session ends.
 */
import {
  listenForNotifications,
  type NotificationListener,
  type NotificationListenerEvent,
  type NotificationListenerOptions,
} from '../../../src/device/notification-listener.js';
import type { OmadmError } from '../../../src/errors.js';
import type { ServerCredentials, VerifiedNotification } from '../../../src/notification/index.js';

export const SERVER_ID = 'com.mgmtsrv.manage';
export const CREDENTIALS: ServerCredentials = {
  password: 'srvsecret',
  nonce: new TextEncoder().encode('nonce'),
};

type Recorded =
  | NotificationListenerEvent
  | { readonly kind: 'invalid'; readonly error: OmadmError; readonly source: string }
  | { readonly kind: 'session-started'; readonly notification: VerifiedNotification };

export class ListenerHarness {
  readonly events: Recorded[] = [];
  readonly sessions: VerifiedNotification[] = [];
  /** When true, each session waits for `finishSession()`; otherwise sessions end at once. */
  gated = false;
  #gates: (() => void)[] = [];
  #waiters: { predicate: (e: Recorded) => boolean; resolve: (e: Recorded) => void }[] = [];
  listener!: NotificationListener;

  static async start(
    listen: string,
    options: Partial<NotificationListenerOptions> = {},
  ): Promise<ListenerHarness> {
    const harness = new ListenerHarness();
    harness.listener = await listenForNotifications({
      listen,
      credentials: async (serverId) => (serverId === SERVER_ID ? CREDENTIALS : undefined),
      runSession: (notification) => harness.#runSession(notification),
      onInvalid: (error, source) => harness.#record({ kind: 'invalid', error, source }),
      onEvent: (event) => harness.#record(event),
      ...options,
    });
    return harness;
  }

  get address(): string {
    return this.listener.address;
  }

  /** Resolves with the first recorded event (past or future) matching `predicate`. */
  waitFor(predicate: (e: Recorded) => boolean, nth = 1): Promise<Recorded> {
    const matching = this.events.filter(predicate);
    const found = matching[nth - 1];
    if (found !== undefined) return Promise.resolve(found);
    let remaining = nth - matching.length;
    return new Promise((resolve) => {
      this.#waiters.push({
        predicate: (e) => predicate(e) && --remaining === 0,
        resolve,
      });
    });
  }

  waitForKind(kind: Recorded['kind'], nth = 1): Promise<Recorded> {
    return this.waitFor((e) => e.kind === kind, nth);
  }

  finishSession(): void {
    const gate = this.#gates.shift();
    if (gate === undefined) throw new Error('no session is waiting to finish');
    gate();
  }

  kinds(): string[] {
    return this.events.map((e) => e.kind);
  }

  async #runSession(notification: VerifiedNotification): Promise<void> {
    this.sessions.push(notification);
    this.#record({ kind: 'session-started', notification });
    if (this.gated) await new Promise<void>((resolve) => this.#gates.push(resolve));
  }

  #record(event: Recorded): void {
    this.events.push(event);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.predicate(event)) return true;
      w.resolve(event);
      return false;
    });
  }
}
