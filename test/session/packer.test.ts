/**
 * The packer alone (protocol.md §6–§8), driven like an engine drives it: pack, send, pack the rest into the next
 * message with a fresh header, until nothing is left. Sizes are the real encoded bytes of each encoding.
 */
import { describe, expect, it } from 'vitest';
import { LocalProtocolError } from '../../src/errors.js';
import type { Command, Item, Results, Status, SyncMLMessage } from '../../src/syncml/model.js';
import { textData } from '../../src/syncml/model.js';
import { buildHeader, headerStatus } from '../../src/session/commands.js';
import { pack, splitsItems, type PendingCommand } from '../../src/session/packer.js';
import { ENCODINGS, encode, type Encoding } from './harness.js';

const header = (msgId: number) =>
  buildHeader({
    sessionId: '1A',
    msgId,
    target: { locUri: 'http://127.0.0.1/dm' },
    source: { locUri: 'IMEI:1' },
  });
/** The server's message these commands answer (MsgRef 4), with the Get as its CmdID 7. */
const SERVER_MSG = 4;
const GET_CMD = 7;

const leaf = (i: number, text = `value ${i}`): Item => ({
  source: { locUri: `./Vendor/Node${i}` },
  meta: { format: 'chr' },
  data: textData(text),
});
const results = (items: readonly Item[]): Results => ({
  kind: 'Results',
  cmdId: 0,
  msgRef: SERVER_MSG,
  cmdRef: GET_CMD,
  meta: { type: 'text/plain' },
  items,
});
const getStatus: Status = {
  kind: 'Status',
  cmdId: 0,
  msgRef: SERVER_MSG,
  cmdRef: GET_CMD,
  cmd: 'Get',
  targetRefs: [],
  sourceRefs: [],
  code: 200,
  items: [],
};

/** Packs `commands` over as many messages as it takes; every message starts with a SyncHdr Status (overhead 1). */
function packAll(commands: readonly Command[], maxMsgSize: number, encoding: Encoding): SyncMLMessage[] {
  const measure = (m: SyncMLMessage): number => encode(m, encoding).length;
  const messages: SyncMLMessage[] = [];
  let rest: readonly PendingCommand[] = commands.map((command) => ({ command, tag: command.kind }));
  for (let msgId = 1; msgId === 1 || rest.length > 0; msgId++) {
    if (msgId > 500) throw new Error('the packer made no progress');
    const hdr = header(msgId);
    const peer = { ...header(msgId), msgId: SERVER_MSG + msgId };
    const result = pack({
      header: hdr,
      commands: [{ command: headerStatus(peer, 200) }, ...rest],
      final: true,
      maxMsgSize,
      measure,
      role: 'client',
      overhead: 1,
    });
    messages.push(result.message);
    rest = result.rest;
  }
  return messages;
}

const resultsOf = (messages: readonly SyncMLMessage[]): Results[] =>
  messages.flatMap((m) => m.body.filter((c): c is Results => c.kind === 'Results'));

for (const encoding of ENCODINGS) {
  describe(`packer over ${encoding}`, () => {
    it('DG-MSG-01: a Results of 200 items is spread over several Results, each message within MaxMsgSize, items in order', () => {
      const items = Array.from({ length: 200 }, (_, i) => leaf(i));
      const maxMsgSize = 1000;
      const messages = packAll([getStatus, results(items)], maxMsgSize, encoding);
      expect(messages.length).toBeGreaterThan(3);
      for (const m of messages) expect(encode(m, encoding).length).toBeLessThanOrEqual(maxMsgSize);
      // protocol.md §6: only the last message closes the package.
      expect(messages.map((m) => m.final)).toEqual([...messages.slice(1).map(() => false), true]);
      const parts = resultsOf(messages);
      expect(parts.length).toBe(messages.length);
      // The same Results each time (MsgRef, CmdRef, Meta), with a CmdID fresh in its message and never 0.
      for (const part of parts)
        expect(part).toMatchObject({ msgRef: SERVER_MSG, cmdRef: GET_CMD, meta: { type: 'text/plain' } });
      for (const m of messages) {
        const ids = m.body.map((c) => c.cmdId);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).not.toContain(0);
      }
      expect(parts.flatMap((p) => p.items)).toEqual(items);
      // The Get's Status precedes its Results (representation.md §6).
      expect(messages[0]!.body.map((c) => c.kind)).toEqual(['Status', 'Status', 'Results']);
      // Each message is full: the next part's first item would not have fitted beside it.
      messages.slice(0, -1).forEach((m, i) => {
        const next = parts[i + 1]!.items[0]!;
        const grown = {
          ...m,
          body: m.body.map((c) => (c.kind === 'Results' ? { ...c, items: [...c.items, next] } : c)),
          final: true,
        };
        expect(encode(grown, encoding).length).toBeGreaterThan(maxMsgSize);
      });
    });

    it('DG-MSG-01 with DG-LO-01: an item too large for any message is chunked alone, between Results of the items around it', () => {
      const big = 'x'.repeat(2500);
      const items = [
        ...Array.from({ length: 30 }, (_, i) => leaf(i)),
        leaf(30, big),
        ...Array.from({ length: 30 }, (_, i) => leaf(31 + i)),
      ];
      const maxMsgSize = 900;
      const messages = packAll([getStatus, results(items)], maxMsgSize, encoding);
      for (const m of messages) expect(encode(m, encoding).length).toBeLessThanOrEqual(maxMsgSize);
      const parts = resultsOf(messages);
      const chunks = parts.filter((p) => p.items[0]!.source?.locUri === './Vendor/Node30');
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      // A chunk travels alone in its Results: nothing may be inserted between the chunks (protocol.md §8).
      for (const chunk of chunks) expect(chunk.items).toHaveLength(1);
      const chunkItems = chunks.map((c) => c.items[0]!);
      expect(chunkItems.map((i) => i.moreData === true)).toEqual([
        ...chunkItems.slice(1).map(() => true),
        false,
      ]);
      expect(chunkItems[0]!.meta).toEqual({ format: 'chr', size: 2500 });
      expect(chunkItems.slice(1).every((i) => i.meta?.size === undefined)).toBe(true);
      expect(chunkItems.map((i) => (i.data?.kind === 'text' ? i.data.text : '')).join('')).toBe(big);
      // The chunks are contiguous, and the items around them keep their order.
      const first = parts.indexOf(chunks[0]!);
      expect(parts.slice(first, first + chunks.length)).toEqual(chunks);
      const others = parts.filter((p) => !chunks.includes(p)).flatMap((p) => p.items);
      expect(others).toEqual(items.filter((_, i) => i !== 30));
      expect(
        parts
          .slice(0, first)
          .flatMap((p) => p.items)
          .at(-1),
      ).toEqual(leaf(29));
      expect(parts[first + chunks.length]!.items[0]).toEqual(leaf(31));
    });

    it('a listing of thousands of items costs a few measurements per message, not the whole answer each time', () => {
      const items = Array.from({ length: 3000 }, (_, i) => leaf(i));
      const calls: number[] = [];
      let rest: readonly PendingCommand[] = [{ command: results(items) }];
      const sent: Item[] = [];
      for (let msgId = 1; rest.length > 0; msgId++) {
        let count = 0;
        let largest = 0;
        const measure = (m: SyncMLMessage): number => {
          count++;
          const size = encode(m, encoding).length;
          largest = Math.max(largest, size);
          return size;
        };
        const result = pack({
          header: header(msgId),
          commands: rest,
          final: true,
          maxMsgSize: 1000,
          measure,
          role: 'client',
        });
        calls.push(count);
        // No measured message was much bigger than what a message may hold (the full answer is ~100 kB).
        expect(largest).toBeLessThan(4000);
        sent.push(...resultsOf([result.message]).flatMap((r) => r.items));
        rest = result.rest;
      }
      expect(sent).toEqual(items);
      expect(calls.length).toBeGreaterThan(100);
      expect(Math.max(...calls)).toBeLessThanOrEqual(12);
    });

    it('a Results that fits whole is not split, and one that cannot be split and never fits is refused', () => {
      const small = packAll([getStatus, results([leaf(1), leaf(2)])], 1000, encoding);
      expect(small).toHaveLength(1);
      expect(resultsOf(small).map((r) => r.items.length)).toEqual([2]);
      // Embedded XML cannot be chunked: a single such item larger than a message has no way out.
      const huge: Item = {
        source: { locUri: './Vendor/Tnds' },
        data: {
          kind: 'xml',
          element: {
            name: 'MgmtTree',
            namespace: 'syncml:dmddf1.2',
            children: [{ name: 'VerDTD', children: ['y'.repeat(3000)] }],
          },
        },
      };
      expect(() => packAll([results([leaf(1), huge])], 800, encoding)).toThrow(LocalProtocolError);
    });

    it('only Results are split: a Replace of many items and a UI Alert stay one command each', () => {
      const many = Array.from({ length: 60 }, (_, i) => ({
        target: { locUri: `./Vendor/Node${i}` },
        data: textData(`value ${i}`),
      }));
      const replace: Command = { kind: 'Replace', cmdId: 0, items: many };
      const uiAlert: Command = { kind: 'Alert', cmdId: 0, code: 1103, items: many };
      expect(splitsItems(results(many))).toBe(true);
      expect(splitsItems(results(many.slice(0, 1)))).toBe(false);
      expect(splitsItems(replace)).toBe(false);
      expect(splitsItems(uiAlert)).toBe(false);
      // protocol.md §6: such a command must fit into one message; the packer refuses rather than cut it.
      expect(() => packAll([replace], 1000, encoding)).toThrow(/cannot fit a Replace/);
      expect(() => packAll([uiAlert], 1000, encoding)).toThrow(/cannot fit a Alert/);
      // With room for it, a Replace waits for the next message whole (order kept) instead of being cut.
      const alone = encode(packAll([replace], 100_000, encoding)[0]!, encoding).length;
      const messages = packAll([results(many), replace], alone + 40, encoding);
      expect(messages.length).toBeGreaterThan(1);
      const replaces = messages.flatMap((m) => m.body.filter((c) => c.kind === 'Replace'));
      expect(replaces).toHaveLength(1);
      expect(replaces[0]).toMatchObject({ items: many });
      const kinds = messages.flatMap((m) => m.body.filter((c) => c.kind !== 'Status').map((c) => c.kind));
      expect(kinds.at(-1)).toBe('Replace');
    });

    it('a Status too large even alone (TargetRefs of a Get of hundreds of nodes) goes without its optional refs', () => {
      const targetRefs = Array.from({ length: 200 }, (_, i) => `./Vendor/Node${i}`);
      const status: Status = { ...getStatus, targetRefs };
      const messages = packAll([status, results([leaf(1)])], 1000, encoding);
      const sent = messages.flatMap((m) =>
        m.body.filter((c): c is Status => c.kind === 'Status' && c.cmd === 'Get'),
      );
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({
        msgRef: SERVER_MSG,
        cmdRef: GET_CMD,
        code: 200,
        targetRefs: [],
        sourceRefs: [],
      });
      // One that fits keeps them.
      const few = packAll([{ ...getStatus, targetRefs: targetRefs.slice(0, 3) }], 1000, encoding);
      expect(
        few[0]!.body.find((c): c is Status => c.kind === 'Status' && c.cmd === 'Get')?.targetRefs,
      ).toEqual(targetRefs.slice(0, 3));
    });
  });
}
