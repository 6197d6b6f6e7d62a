/**
 * protocol.md §6–§8: every command must fit into one message of the client's MaxMsgSize, which the server MUST
 * honour (§7); only a large object's data may span messages (§8). A queued command that can reach the client
 * neither whole nor in chunks is settled by the engine with a local 413 (`reason: 'too-large'`), and the session
 * goes on with the rest of the queue instead of dying.
 */
import { describe, expect, it } from 'vitest';
import type { Command, Get, Item, Replace } from '../../src/syncml/model.js';
import type { ServerEvent } from '../../src/session/index.js';
import { ENCODINGS, MapTree, Pair } from './harness.js';

const LIMIT = 1500;
const text = (n: number): string =>
  Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
const get = (...uris: string[]): Get => ({
  kind: 'Get',
  cmdId: 0,
  items: uris.map((uri): Item => ({ target: { locUri: uri } })),
});
const replace = (uri: string, data: string): Replace => ({
  kind: 'Replace',
  cmdId: 0,
  items: [{ target: { locUri: uri }, data: { kind: 'text', text: data } }],
});

function outcome(pair: Pair, id: string): Extract<ServerEvent, { type: 'outcome' }> | undefined {
  return pair.serverEvents.find(
    (e): e is Extract<ServerEvent, { type: 'outcome' }> => e.type === 'outcome' && e.id === id,
  );
}

/** A session with `queued` enqueued before Package 1 is answered, against a client limited to `LIMIT` bytes. */
async function session(
  encoding: 'xml' | 'wbxml',
  queued: Record<string, Command>,
  extra: { largeObjects?: boolean } = {},
): Promise<Pair> {
  const pair = new Pair({
    encoding,
    account: {},
    tree: new MapTree({ './Vendor/Setting': 'on', './DevInfo/Mod': 'X1' }),
    client: { maxMsgSize: LIMIT },
    ...(extra.largeObjects === undefined ? {} : { server: { largeObjects: extra.largeObjects } }),
    beforeServer: (server, turn) => {
      if (turn === 1) for (const [id, command] of Object.entries(queued)) server.enqueue(id, command);
    },
  });
  await pair.run();
  return pair;
}

function expectWithinLimit(pair: Pair): void {
  for (const exchange of pair.transcript.filter((e) => e.from === 'server'))
    expect(exchange.bytes.length).toBeLessThanOrEqual(LIMIT);
}

for (const encoding of ENCODINGS) {
  describe(`a command that cannot fit the client's MaxMsgSize, over ${encoding}`, () => {
    it('protocol.md §6/§7: a Get of 200 nodes (never split, never chunked) ends 413 locally; the next command is delivered', async () => {
      const nodes = Array.from({ length: 200 }, (_, i) => `./Vendor/Node${i}`);
      const pair = await session(encoding, { huge: get(...nodes), small: get('./DevInfo/Mod') });
      expect(outcome(pair, 'huge')).toMatchObject({ code: 413, reason: 'too-large', results: [] });
      expect(outcome(pair, 'small')).toMatchObject({
        code: 200,
        results: [expect.objectContaining({ data: { kind: 'text', text: 'X1' } })],
      });
      expect(outcome(pair, 'small')).not.toHaveProperty('reason');
      // The huge Get never went out; the client executed only the small one.
      expect(pair.tree.log).toEqual(['Get']);
      expect(pair.serverEvents.at(-1)).toEqual({ type: 'ended', reason: 'completed' });
      expectWithinLimit(pair);
    });

    it('protocol.md §11/§6: an Atomic (one unit, never chunked) too big for one message ends 413; nothing of it is executed', async () => {
      const atomic: Command = {
        kind: 'Atomic',
        cmdId: 0,
        commands: [replace('./Vendor/A', text(900)), replace('./Vendor/B', text(900))],
      };
      const pair = await session(encoding, { atomic, after: replace('./Vendor/Setting', 'off') });
      expect(outcome(pair, 'atomic')).toMatchObject({ code: 413, reason: 'too-large', children: [] });
      expect(outcome(pair, 'after')).toMatchObject({ code: 200 });
      expect(pair.tree.nodes.has('./Vendor/A')).toBe(false);
      expect(pair.tree.nodes.get('./Vendor/Setting')).toBe('off');
      expectWithinLimit(pair);
    });

    it('protocol.md §8: an Add whose chunks could not fit either (its Target alone exceeds the limit) ends 413', async () => {
      const target = `./Vendor/${text(LIMIT)}`;
      const add: Command = {
        kind: 'Add',
        cmdId: 0,
        items: [{ target: { locUri: target }, data: { kind: 'text', text: text(4000) } }],
      };
      const pair = await session(encoding, { add, small: get('./Vendor/Setting') });
      expect(outcome(pair, 'add')).toMatchObject({ code: 413, reason: 'too-large' });
      expect(outcome(pair, 'small')).toMatchObject({ code: 200 });
      expect(pair.tree.log).toEqual(['Get']);
      expectWithinLimit(pair);
    });

    it('protocol.md §8: a large object that can be chunked is still chunked, not refused', async () => {
      const pair = await session(encoding, { blob: replace('./Vendor/Blob', text(4000)) });
      expect(outcome(pair, 'blob')).toMatchObject({ code: 200 });
      expect(outcome(pair, 'blob')).not.toHaveProperty('reason');
      expect(pair.tree.nodes.get('./Vendor/Blob')).toBe(text(4000));
      expectWithinLimit(pair);
    });

    it('whatever its size, a Sequence either arrives or ends 413 — the session never dies (the band that fits only beside the SyncHdr Status included)', async () => {
      const codes = new Set<number>();
      for (let size = 700; size <= 1500; size += 8) {
        const sequence: Command = {
          kind: 'Sequence',
          cmdId: 0,
          commands: [replace('./Vendor/Seq', text(size))],
        };
        // Behind a Replace that is answered in the same package, so the Sequence may have to wait for a later message.
        const pair = await session(encoding, {
          first: replace('./Vendor/Setting', 'off'),
          sequence,
          last: get('./Vendor/Setting'),
        });
        const seq = outcome(pair, 'sequence');
        expect(seq, `size ${size}`).toBeDefined();
        codes.add(seq!.code);
        if (seq!.code === 413) {
          expect(seq!.reason).toBe('too-large');
          expect(pair.tree.nodes.has('./Vendor/Seq')).toBe(false);
        } else {
          expect(seq!.code, `size ${size}`).toBe(200);
          expect(pair.tree.nodes.get('./Vendor/Seq')).toBe(text(size));
        }
        expect(outcome(pair, 'first')?.code).toBe(200);
        expect(outcome(pair, 'last')?.code).toBe(200);
        expect(pair.serverEvents.at(-1)).toEqual({ type: 'ended', reason: 'completed' });
        expectWithinLimit(pair);
      }
      // The sizes swept cross the limit: some arrived, some were refused.
      expect([...codes].sort()).toEqual([200, 413]);
    });

    it('DG-LO-06: toward a client without large objects, an object too big for one message ends 413 instead of being chunked', async () => {
      const pair = await session(
        encoding,
        { blob: replace('./Vendor/Blob', text(4000)), small: get('./Vendor/Setting') },
        { largeObjects: false },
      );
      expect(outcome(pair, 'blob')).toMatchObject({ code: 413, reason: 'too-large' });
      expect(outcome(pair, 'small')).toMatchObject({ code: 200 });
      expectWithinLimit(pair);
    });
  });
}
