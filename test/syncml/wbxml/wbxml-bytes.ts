/** Test helpers for writing WBXML by hand: bytes from numbers, raw strings and nested arrays. */
export type Part = number | string | readonly Part[];

/** Concatenates bytes: numbers are single bytes, strings their UTF-8 bytes (no NUL added). */
export function bytes(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  const add = (p: Part): void => {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') out.push(...new TextEncoder().encode(p));
    else p.forEach(add);
  };
  parts.forEach(add);
  return Uint8Array.from(out);
}

/** STR_I: 0x03, the UTF-8 bytes, NUL. */
export function strI(text: string): Part[] {
  return [0x03, text, 0x00];
}

/** Bytes from a hex dump such as `02 a4 01 6a`. */
export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
}

export function toHex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex');
}

/** Header of a DM 1.2 message: WBXML 1.2, public id 0x1201, UTF-8, empty string table. */
export const HEADER = [0x02, 0xa4, 0x01, 0x6a, 0x00] as const;
