/** Nonces (security.md §7): issued by the verifier, 16 random bytes, Base64 on the wire, raw bytes in digests. */
import type { Random } from '../platform/random.js';
import { b64 } from './digest.js';

export const NONCE_BYTES = 16;

/** A fresh nonce as Base64 text (what goes into NextNonce), from the injected Random. */
export function generateNonce(random: Random): string {
  return b64(random.bytes(NONCE_BYTES));
}

/**
 * Which credentials a nonce is for:
 * - `client-to-server`: used in credentials the client sends to the server (issued by the server; DMAcc CLCRED
 *   AAuthData on the device);
 * - `server-to-client`: used in credentials the server sends to the client (issued by the client; DMAcc SRVCRED
 *   AAuthData on the device).
 */
export type NonceDirection = 'client-to-server' | 'server-to-client';

/**
 * Where nonces persist between sessions. The caller implements it (DMAcc on a device, a table on a server).
 * `account` names the peer relationship (the device id on a server, the ServerID on a device).
 */
export interface NonceStore {
  get(account: string, direction: NonceDirection): string | undefined | Promise<string | undefined>;
  set(account: string, direction: NonceDirection, nonce: string): void | Promise<void>;
}

/** An in-memory NonceStore: for tests, simulations and single-process tools. */
export class MemoryNonceStore implements NonceStore {
  readonly #nonces = new Map<string, string>();
  get(account: string, direction: NonceDirection): string | undefined {
    return this.#nonces.get(`${direction}\u0000${account}`);
  }
  set(account: string, direction: NonceDirection, nonce: string): void {
    this.#nonces.set(`${direction}\u0000${account}`, nonce);
  }
}
