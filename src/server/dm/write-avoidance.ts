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
import { createHash } from 'node:crypto';

export class DevInfoMemo {
  readonly #seen = new Map<string, string>();
  constructor(readonly capacity = 100_000) {}

  /** Whether these items differ from the ones last recorded for the device (and records them). */
  changed(deviceId: string, items: readonly Item[]): boolean {
    const hash = createHash('sha1');
    for (const item of items) {
      hash.update(item.source?.locUri ?? item.target?.locUri ?? '');
      hash.update('\u0000');
      hash.update(item.meta?.format ?? '');
      hash.update('\u0000');
      hash.update(item.meta?.type ?? '');
      hash.update('\u0000');
      const data = item.data;
      hash.update(
        data === undefined
          ? ''
          : data.kind === 'text'
            ? data.text
            : data.kind === 'binary'
              ? data.bytes
              : JSON.stringify(data.element),
      );
      hash.update('\u0001');
    }
    const digest = hash.digest('base64');
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
