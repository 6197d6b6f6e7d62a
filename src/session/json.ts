/** JSON-safe copies of model values: Uint8Array becomes `{ "$bytes": "<base64>" }` and back. */
import { b64, fromB64 } from '../security/digest.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return { $bytes: b64(value) };
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const [key, v] of Object.entries(value)) if (v !== undefined) out[key] = toJson(v);
    return out;
  }
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  throw new TypeError(`cannot snapshot a ${typeof value}`);
}

export function fromJson<T>(value: Json): T {
  const revive = (v: Json): unknown => {
    if (Array.isArray(v)) return v.map(revive);
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$bytes' && typeof v['$bytes'] === 'string')
        return fromB64(v['$bytes']);
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(v)) if (inner !== null) out[key] = revive(inner);
      return out;
    }
    return v;
  };
  return revive(value) as T;
}
