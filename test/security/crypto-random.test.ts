/** The pooled CSPRNG behind nonces (src/platform/random.ts). */
import { describe, expect, it } from 'vitest';
import { cryptoRandom } from '../../src/platform/random.js';
import { generateNonce, NONCE_BYTES } from '../../src/security/nonce.js';

describe('cryptoRandom', () => {
  it('never hands out the same nonce twice across many pool refills', () => {
    const seen = new Set<string>();
    // 20 000 × 16 bytes: about 78 refills of the 4 KiB pool.
    for (let i = 0; i < 20_000; i++) seen.add(generateNonce(cryptoRandom));
    expect(seen.size).toBe(20_000);
    expect(Buffer.from([...seen][0]!, 'base64')).toHaveLength(NONCE_BYTES);
  });

  it('gives each caller its own copy: changing one result changes no other', () => {
    const a = cryptoRandom.bytes(16);
    const copy = Uint8Array.from(a);
    const b = cryptoRandom.bytes(16);
    b.fill(0);
    expect(a).toEqual(copy);
    expect(a.buffer).not.toBe(b.buffer);
  });

  it('serves every length, including requests larger than the pool, from fresh bytes', () => {
    for (const length of [0, 1, 15, 16, 17, 1024, 1025, 4096, 10_000]) {
      const bytes = cryptoRandom.bytes(length);
      expect(bytes).toHaveLength(length);
      // 10 000 random bytes all zero (or any long run) would be a broken source.
      if (length >= 1024) expect(new Set(bytes).size).toBeGreaterThan(200);
    }
  });

  it('looks uniform: every byte value appears, none far more often than the others', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 4096; i++) for (const byte of cryptoRandom.bytes(16)) counts[byte]!++;
    // 65 536 bytes: 256 expected per value; a fair source stays well inside 128–400.
    expect(Math.min(...counts)).toBeGreaterThan(128);
    expect(Math.max(...counts)).toBeLessThan(400);
  });
});
