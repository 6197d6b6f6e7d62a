/** The idle fast path's write filters (src/server/dm/write-avoidance.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../src/syncml/codec.js';
import type { Item } from '../../src/syncml/model.js';
import { boundedMeasure, DevInfoMemo } from '../../src/server/dm/write-avoidance.js';
import { messageArb } from '../support/arbitraries.js';

const XML = 'application/vnd.syncml.dm+xml';
const WBXML = 'application/vnd.syncml.dm+wbxml';

describe('boundedMeasure', () => {
  it('never answers less than the real encoded size (XML and WBXML), so the packer never overfills a message', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          messageArb().map((message) => ({ message, type: XML })),
          messageArb({ tndsOnly: true, binary: true }).map((message) => ({ message, type: WBXML })),
        ),
        ({ message, type }) => {
          const exact = (m: typeof message) => encodeMessage(m, type).byteLength;
          const measured = boundedMeasure(exact, () => 1_000_000)(message);
          expect(measured).toBeGreaterThanOrEqual(exact(message));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodes for real when the limit is unknown or the bound is not clearly below it', () => {
    let calls = 0;
    const exact = () => (calls++, 42);
    expect(boundedMeasure(exact, () => undefined)({ header: {} as never, body: [], final: true })).toBe(42);
    expect(boundedMeasure(exact, () => 100)({ header: {} as never, body: [], final: true })).toBe(42);
    expect(calls).toBe(2);
  });
});

describe('DevInfoMemo', () => {
  const items = (lang: string): Item[] => [
    { source: { locUri: './DevInfo/DevId' }, data: { kind: 'text', text: 'dev-1' } },
    { source: { locUri: './DevInfo/Lang' }, data: { kind: 'text', text: lang } },
  ];
  it('reports DevInfo as changed the first time and whenever a value changes, not when repeated', () => {
    const memo = new DevInfoMemo();
    expect(memo.changed('d', items('en'))).toBe(true);
    expect(memo.changed('d', items('en'))).toBe(false);
    expect(memo.changed('d', items('fr'))).toBe(true);
    expect(memo.changed('other', items('fr'))).toBe(true);
    memo.forget('d');
    expect(memo.changed('d', items('fr'))).toBe(true);
  });
  it('stays within its capacity, forgetting the oldest device first', () => {
    const memo = new DevInfoMemo(2);
    memo.changed('a', items('en'));
    memo.changed('b', items('en'));
    memo.changed('c', items('en'));
    expect(memo.changed('a', items('en'))).toBe(true);
    expect(memo.changed('c', items('en'))).toBe(false);
  });
});
