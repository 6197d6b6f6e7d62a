import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../src/errors.js';
import { ByteSink } from '../../../src/syncml/wbxml/byte-sink.js';
import { mbUint32Bytes, readMbUint32, writeMbUint32 } from '../../../src/syncml/wbxml/mb-uint32.js';

function read(bytes: number[]): { value: number; next: number } {
  return readMbUint32(Uint8Array.from(bytes), 0, { value: 0, next: 0 });
}

describe('mb_u_int32 (wbxml.md §1)', () => {
  it.each([
    [0x6a, [0x6a]],
    [0x1201, [0xa4, 0x01]],
    [300, [0x82, 0x2c]],
    [0, [0x00]],
    [0xffffffff, [0x8f, 0xff, 0xff, 0xff, 0x7f]],
  ])('%i is %j', (value, encoded) => {
    expect(mbUint32Bytes(value)).toEqual(encoded);
    const sink = new ByteSink(1);
    writeMbUint32(sink, value);
    expect(Array.from(sink.view())).toEqual(encoded);
    expect(read(encoded)).toEqual({ value, next: encoded.length });
  });

  it('reads back whatever it writes, for every 32-bit value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const sink = new ByteSink(1);
        writeMbUint32(sink, value);
        expect(read(Array.from(sink.view()))).toEqual({ value, next: sink.length });
      }),
    );
  });

  it.each([
    ['more than 5 bytes', [0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 'wbxml-bad-integer'],
    ['a value over 32 bits', [0x9f, 0xff, 0xff, 0xff, 0x7f], 'wbxml-bad-integer'],
    ['input ending after a continuation byte', [0x81], 'wbxml-truncated'],
    ['empty input', [], 'wbxml-truncated'],
  ])('refuses %s', (_, encoded, code) => {
    expect(() => read(encoded)).toThrow(DecodeError);
    expect(() => read(encoded)).toThrow(expect.objectContaining({ code }) as Error);
  });

  it('reports offsets relative to an outer document', () => {
    const error = (() => {
      try {
        readMbUint32(Uint8Array.from([0, 0x81]), 1, { value: 0, next: 0 }, 100);
      } catch (e) {
        return e as DecodeError;
      }
      throw new Error('no error');
    })();
    expect(error.where).toBe('byte 102');
  });
});
