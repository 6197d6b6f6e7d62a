import { randomBytes } from 'node:crypto';

/** Randomness as a port: nonces and tokens come from here, never from Math.random. */
export interface Random {
  bytes(length: number): Uint8Array;
}

export const cryptoRandom: Random = { bytes: (length) => new Uint8Array(randomBytes(length)) };

/**
 * Deterministic bytes from a seed (xorshift32). For tests and simulations only: never for real nonces.
 */
export class SeededRandom implements Random {
  #state: number;
  constructor(seed = 0x2545f491) {
    this.#state = seed >>> 0 || 1;
  }
  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      let x = this.#state;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.#state = x >>> 0;
      out[i] = this.#state & 0xff;
    }
    return out;
  }
}
