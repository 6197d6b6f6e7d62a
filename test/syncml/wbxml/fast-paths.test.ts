/**
 * The reader's fast paths agree with the general ones they short-cut: one-byte mb_u_int32 read inline, ASCII
 * strings sliced from a Latin-1 window of the input, coded tags recognised before the global-token switch.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import { CODE_PAGES } from '../../../src/syncml/wbxml/code-pages.js';
import { WbxmlCursor } from '../../../src/syncml/wbxml/cursor.js';
import { readWbxml } from '../../../src/syncml/wbxml/index.js';
import { readMbUint32 } from '../../../src/syncml/wbxml/mb-uint32.js';
import { HEADER, bytes, strI } from './wbxml-bytes.js';

type Outcome = { value: number; next: number } | { code: string; message: string; where: string | undefined };

function outcome(run: () => { value: number; next: number }): Outcome {
  try {
    const { value, next } = run();
    return { value, next };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return { code: error.code, message: error.message, where: error.where };
  }
}

const utf8 = new TextEncoder();

describe('WBXML reader fast paths', () => {
  it('reads a multi-byte integer inline exactly as readMbUint32 does, errors included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 7 }), fc.nat(3), fc.nat(1000), (data, pos, base) => {
        const cursor = new WbxmlCursor(data, base);
        cursor.pos = pos;
        const fast = outcome(() => ({ value: cursor.mbInt(), next: cursor.pos }));
        const general = outcome(() => readMbUint32(data, pos, { value: 0, next: 0 }, base));
        expect(fast).toEqual(general);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads inline strings as UTF-8 decoding gives them, also across the edges of the Latin-1 window', () => {
    const noNul = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replaceAll('\0', ''));
    const ascii = fc.string({ unit: fc.integer({ min: 1, max: 0x7f }).map((c) => String.fromCharCode(c)) });
    fc.assert(
      fc.property(
        fc.integer({ min: 4000, max: 4200 }),
        fc.array(fc.oneof(noNul, ascii), { minLength: 1, maxLength: 40 }),
        (padding, texts) => {
          // The padding puts later strings around the 4096-byte window edge.
          const data = bytes(new Array<number>(padding).fill(0x41), 0, ...texts.map((t) => [t, 0]));
          const cursor = new WbxmlCursor(data, 0);
          expect(cursor.inlineString()).toBe('A'.repeat(padding));
          for (const text of texts) {
            const start = cursor.pos;
            expect(cursor.inlineString()).toBe(text);
            expect(cursor.pos).toBe(start + utf8.encode(text).length + 1);
          }
          expect(cursor.pos).toBe(data.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives the same text in a document whatever its offset (window reuse and refill)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ maxLength: 30 }).map((s) => s.replaceAll('\0', '')),
          { minLength: 1, maxLength: 300 },
        ),
        (texts) => {
          // <SyncML> of <Data> elements, each with one string: texts are not merged, so each must read back.
          const body = texts.map((t) => [0x4f, ...strI(t), 0x01]);
          const root = readWbxml(bytes(HEADER, 0x6d, body, 0x01)).root;
          expect(root.children).toHaveLength(texts.length);
          root.children.forEach((child, i) => {
            const expected = texts[i]!.length === 0 ? [] : [texts[i]];
            expect(child).toEqual({ name: 'Data', ns: 'SYNCML:SYNCML1.2', children: expected });
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('reads every byte as the root token by the token table: coded tags by name, global tokens never as tags', () => {
    for (let b = 0; b < 0x100; b++) {
      const identity = b & 0x3f;
      // An empty attribute list (END) after a tag with attributes, an END after a tag with content.
      const input = bytes(HEADER, b, (b & 0x80) !== 0 ? [0x01] : [], (b & 0x40) !== 0 ? [0x01] : []);
      let result: { name: string } | { code: string };
      try {
        result = { name: readWbxml(input).root.name };
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        result = { code: error.code };
      }
      const name = identity >= 5 ? CODE_PAGES[0]!.names[identity] : undefined;
      if (identity < 5) expect(result, `byte 0x${b.toString(16)}`).toHaveProperty('code');
      else if (name === undefined) expect(result).toEqual({ code: 'wbxml-unknown-token' });
      else expect(result, `byte 0x${b.toString(16)}`).toEqual({ name });
    }
  });
});
