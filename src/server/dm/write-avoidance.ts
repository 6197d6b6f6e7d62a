/**
 * Two small costs the idle fast path avoids (STYLE.md: "most devices have nothing queued"):
 *
 * - `DevInfoMemo`: Package 1 repeats ./DevInfo in every session, and it almost never changes. The values are
 *   written as last known tree values the first time this process sees them and again only when they change.
 *   The memo is only a write filter, bounded, per process: another process (or a restart) writes them once more.
 * - `boundedMeasure`: the packer asks for the encoded size of the message after every command it adds; encoding
 *   each time makes packing quadratic. A cheap upper bound answers when it is far below the limit (an XML or
 *   WBXML encoding is never larger than 5 × its JSON form + 1 KiB: tags at most double short values, and `&amp;`
 *   is the worst escape), and the real encoder measures only messages near the limit.
 */
import type { Item, SyncMLMessage } from '../../syncml/model.js';
import { hash } from 'node:crypto';

export class DevInfoMemo {
  readonly #seen = new Map<string, string>();
  constructor(readonly capacity = 100_000) {}

  /** Whether these items differ from the ones last recorded for the device (and records them). */
  changed(deviceId: string, items: readonly Item[]): boolean {
    // One string, hashed once: a hash.update per field crosses into C++ twenty times per Package 1.
    let text = '';
    for (const item of items) {
      const data = item.data;
      text +=
        `${item.source?.locUri ?? item.target?.locUri ?? ''}\u0000${item.meta?.format ?? ''}\u0000` +
        `${item.meta?.type ?? ''}\u0000` +
        (data === undefined
          ? ''
          : data.kind === 'text'
            ? `t${data.text}`
            : data.kind === 'binary'
              ? `b${Buffer.from(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength).toString('base64')}`
              : `x${JSON.stringify(data.element)}`) +
        '\u0001';
    }
    const digest = hash('sha1', text, 'base64');
    if (this.#seen.get(deviceId) === digest) return false;
    this.#seen.delete(deviceId);
    this.#seen.set(deviceId, digest);
    if (this.#seen.size > this.capacity) {
      const oldest = this.#seen.keys().next();
      if (oldest.done !== true) this.#seen.delete(oldest.value);
    }
    return true;
  }

  /** Forget a device (its write failed, so the values were not stored). */
  forget(deviceId: string): void {
    this.#seen.delete(deviceId);
  }
}

export function boundedMeasure(
  exact: (message: SyncMLMessage) => number,
  limit: () => number | undefined,
): (message: SyncMLMessage) => number {
  return (message) => {
    const max = limit();
    if (max !== undefined) {
      const bound =
        5 *
          JSON.stringify(message, (_key, value: unknown) =>
            value instanceof Uint8Array ? `${'x'.repeat(Math.ceil(value.length * 1.4))}` : value,
          ).length +
        1024;
      if (bound < max) return bound;
    }
    return exact(message);
  };
}
