/**
 * The direct writer (model → XML text) must give exactly what the Element path gives (model → Element → XML text),
 * and refuse what it refuses with the same error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EncodeError } from '../../../src/errors.js';
import { messageToElement } from '../../../src/syncml/mapping/index.js';
import type { SyncMLMessage } from '../../../src/syncml/model.js';
import { messageToXml, serializeXml } from '../../../src/syncml/xml/index.js';
import { decodeXml } from '../../../src/syncml/xml/index.js';
import { messageArb } from '../../support/arbitraries.js';
import { readFileSync, readdirSync } from 'node:fs';

function outcome(write: () => string): unknown {
  try {
    return { xml: write() };
  } catch (error) {
    if (!(error instanceof EncodeError)) throw error;
    return { code: error.code, message: error.message };
  }
}

const viaElements = (m: SyncMLMessage) => serializeXml(messageToElement(m), { declaration: true });

describe('messageToXml', () => {
  it('writes the same text as serializeXml(messageToElement(m)) for generated messages', () => {
    fc.assert(
      fc.property(messageArb(), (message) => {
        expect(messageToXml(message)).toBe(viaElements(message));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses binary Data, invalid numbers and characters XML cannot carry as the Element path does', () => {
    fc.assert(
      fc.property(messageArb({ binary: true }), (message) => {
        expect(outcome(() => messageToXml(message))).toEqual(outcome(() => viaElements(message)));
      }),
      { numRuns: 300 },
    );
    const base = decodeXml(
      readFileSync(new URL('../../fixtures/libdmclient/PKG1_resend_after_401_md5.xml', import.meta.url)),
    );
    const broken: SyncMLMessage[] = [
      { ...base, header: { ...base.header, msgId: -1 } },
      { ...base, header: { ...base.header, sessionId: 'a\u0001b' } },
      { ...base, header: { ...base.header, meta: { maxMsgSize: 1.5 } } },
      { ...base, header: { ...base.header, target: { locUri: 'x\ud800' } } },
    ];
    for (const message of broken) {
      const written = outcome(() => messageToXml(message));
      expect(written).toHaveProperty('code');
      expect(written).toEqual(outcome(() => viaElements(message)));
    }
  });

  it('writes the captured libdmclient messages byte for byte as the Element path does', () => {
    const dir = new URL('../../fixtures/libdmclient/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.xml'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const message = decodeXml(readFileSync(new URL(file, dir)));
      expect(messageToXml(message)).toBe(viaElements(message));
    }
  });
});
