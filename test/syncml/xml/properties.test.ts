/** Property tests: the XML codec is symmetric (STYLE.md habit 3) and never crashes on hostile input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DecodeError } from '../../../src/errors.js';
import { decodeXml, encodeXml, parseXml, serializeXml } from '../../../src/syncml/xml/index.js';
import { messageToElement } from '../../../src/syncml/mapping/index.js';
import { messageArb } from '../../support/arbitraries.js';

const FIXTURE = readFileSync(
  new URL('../../fixtures/libdmclient/PKG1_resend_after_401_md5.xml', import.meta.url),
);

describe('XML codec properties', () => {
  it('decode(encode(m)) deep-equals m for generated messages', () => {
    fc.assert(
      fc.property(messageArb(), (message) => {
        expect(decodeXml(encodeXml(message))).toEqual(message);
      }),
      { numRuns: 400 },
    );
  });

  it('encoding is deterministic (compactness is checked byte for byte against the captures)', () => {
    fc.assert(
      fc.property(messageArb(), (message) => {
        expect(encodeXml(message)).toEqual(encodeXml(structuredClone(message)));
      }),
      { numRuns: 100 },
    );
  });

  it('parseXml(serializeXml(e)) deep-equals e for the Element trees of generated messages', () => {
    fc.assert(
      fc.property(messageArb(), (message) => {
        const element = messageToElement(message);
        expect(parseXml(serializeXml(element))).toEqual(element);
      }),
      { numRuns: 200 },
    );
  });

  it('truncated or corrupted messages fail only with DecodeError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: FIXTURE.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        (at, byte, truncate) => {
          const input = truncate ? FIXTURE.subarray(0, at) : Uint8Array.from(FIXTURE);
          if (!truncate) input[at] = byte;
          try {
            decodeXml(input);
          } catch (error) {
            expect(error).toBeInstanceOf(DecodeError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('random text fails only with DecodeError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        try {
          decodeXml(`<SyncML xmlns="SYNCML:SYNCML1.2">${text}</SyncML>`);
        } catch (error) {
          expect(error).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
