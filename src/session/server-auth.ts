/** Client authentication on the server side: checks, challenges with fresh nonces, bounded retries. */
import type { SyncMLMessage } from '../syncml/model.js';
import { StatusCode } from '../syncml/constants.js';
import type { AuthName } from '../syncml/constants.js';
import type { Random } from '../platform/random.js';
import { AuthenticationError, type OmadmError } from '../errors.js';
import { generateNonce, type NonceStore } from '../security/nonce.js';
import { presentedScheme, verifyCredentials } from '../security/verify.js';
import { challenge } from './commands.js';
import type { DeviceAccount, ServerEvent } from './server-session.js';
import type { Received } from './types.js';

/** What the server remembers about the client's authentication (JSON, inside the session snapshot). */
export interface ClientAuthState {
  authenticated: boolean;
  scheme?: AuthName;
  /** The scheme we challenged for: answering with another one terminates the session (DG-AUT-11). */
  challengedWith?: AuthName;
  attempts: number;
  /** The last nonce we issued (what md5/HMAC credentials must be computed with). */
  nonce?: string;
}

export type ClientAuthResult =
  | { readonly ok: true; readonly code: number; readonly chal?: ReturnType<typeof challenge> }
  | {
      readonly ok: false;
      readonly code: number;
      readonly chal?: ReturnType<typeof challenge>;
      readonly terminate: boolean;
      readonly error: OmadmError;
    };

/**
 * Authenticates the client's message (security.md §3–§6, protocol.md §4.1). Mutates `a` (part of the session
 * snapshot). A failure either challenges again with a fresh nonce or terminates: the server never loops.
 */
export async function authenticateClient(
  a: ClientAuthState,
  message: SyncMLMessage,
  received: Received,
  account: DeviceAccount | undefined,
  ports: {
    readonly nonces: NonceStore;
    readonly random: Random;
    readonly maxAuthAttempts: number | undefined;
    emit(event: ServerEvent): void;
  },
): Promise<ClientAuthResult> {
  const { header } = message;
  const deviceId = header.source.locUri;
  const refuse = (code: number, message: string) =>
    ({
      ok: false,
      code,
      terminate: true,
      error: new AuthenticationError('client-auth-failed', message, { status: code }),
    }) as const;
  if (account === undefined) {
    ports.emit({ type: 'client-auth-failed', reason: 'unknown-device', attempt: 1, final: true });
    return refuse(StatusCode.INVALID_CREDENTIALS, `device ${deviceId} is not known to this server`);
  }
  const secret = account.client;
  if (secret === undefined) return { ok: true, code: StatusCode.OK };
  if (a.authenticated && secret.auth !== 'hmac') return { ok: true, code: StatusCode.OK };
  const nonce = a.nonce ?? (await ports.nonces.get(deviceId, 'client-to-server'));
  const presented = {
    cred: header.cred,
    hmacHeader: received.hmac,
    body: received.body,
    locName: header.source.locName,
  };
  const check = verifyCredentials(presented, secret, nonce);
  // md5 and HMAC need a nonce we issued; without one the client must be challenged first.
  if (check.ok && (secret.auth === 'basic' || nonce !== undefined)) {
    if (!a.authenticated) ports.emit({ type: 'client-authenticated', auth: secret.auth });
    a.authenticated = true;
    a.scheme = secret.auth;
    delete a.challengedWith;
    if (secret.auth === 'basic') return { ok: true, code: StatusCode.AUTHENTICATION_ACCEPTED };
    // security.md §6: NextNonce for the next session (md5, with 212) or the next message (HMAC, with 200).
    const next = await issueNonce(a, deviceId, ports);
    const code = secret.auth === 'hmac' ? StatusCode.OK : StatusCode.AUTHENTICATION_ACCEPTED;
    return { ok: true, code, chal: challenge(secret.auth, next) };
  }
  const presentedAs = presentedScheme(presented);
  const reason = check.ok ? 'no-nonce' : check.reason;
  const code = reason === 'missing' ? StatusCode.MISSING_CREDENTIALS : StatusCode.INVALID_CREDENTIALS;
  a.attempts++;
  const mismatch =
    a.challengedWith !== undefined && presentedAs !== undefined && presentedAs !== a.challengedWith;
  const final = mismatch || a.authenticated || a.attempts > (ports.maxAuthAttempts ?? 3);
  ports.emit({
    type: 'client-auth-failed',
    reason: mismatch ? 'wrong-type' : reason,
    attempt: a.attempts,
    final,
  });
  if (mismatch) {
    // security.md / protocol.md §4.1 (DG-AUT-11): challenged for one scheme, answered with another → terminate.
    return refuse(
      StatusCode.INVALID_CREDENTIALS,
      `client answered a ${String(a.challengedWith)} challenge with ${String(presentedAs)}`,
    );
  }
  if (a.authenticated) return refuse(code, `client failed per-message ${secret.auth} authentication`);
  if (final)
    return refuse(code, `client failed authentication ${a.attempts} times; the server does not loop`);
  // security.md §6 / DG-AUT-08: one more challenge, with a fresh nonce.
  a.challengedWith = secret.auth;
  const next = secret.auth === 'basic' ? undefined : await issueNonce(a, deviceId, ports);
  return {
    ok: false,
    code,
    chal: challenge(secret.auth, next),
    terminate: false,
    error: new AuthenticationError('client-challenged', reason),
  };
}

async function issueNonce(
  a: ClientAuthState,
  deviceId: string,
  ports: { readonly nonces: NonceStore; readonly random: Random },
): Promise<string> {
  const nonce = generateNonce(ports.random);
  a.nonce = nonce;
  await ports.nonces.set(deviceId, 'client-to-server', nonce);
  return nonce;
}
