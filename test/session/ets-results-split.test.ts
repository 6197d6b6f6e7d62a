/**
 * ets.md §2.3 for an answer with many items: a device answering a Get with ~200 items under a small server
 * MaxMsgSize spreads the Results over several Results (same MsgRef/CmdRef, fresh CmdIDs) in several messages,
 * a single item too big for any message still travels as a large object, and the server puts every item back
 * together, in order, for the Get's outcome (DG-MSG-01, DG-MSG-02, DG-MSG-04, DG-LO-01 in the client → server
 * direction).
 */
import { describe, expect, it } from 'vitest';
import type { CommandOutcome } from '../../src/syncml/command-outcome.js';
import type { Command, Item, Results } from '../../src/syncml/model.js';
import { textData } from '../../src/syncml/model.js';
import type { ServerEvent } from '../../src/session/index.js';
import { ENCODINGS, MapTree, Pair, kinds, statusesOf, type Exchange } from './harness.js';

/** A MapTree that also answers `<interior>?list=StructData` with one Item per leaf below it, in tree order. */
class ListingTree extends MapTree {
  override execute(command: Command): CommandOutcome {
    const uri =
      command.kind === 'Get' && command.items.length === 1 ? (command.items[0]!.target?.locUri ?? '') : '';
    const listed = /^(.+)\?list=StructData$/.exec(uri);
    if (listed === null) return super.execute(command);
    this.log.push('Get');
    const prefix = `${listed[1]!}/`;
    const results: Item[] = [...this.nodes]
      .filter(([node]) => node.startsWith(prefix))
      .map(([node, value]) => ({
        source: { locUri: node },
        meta: { format: 'chr', type: 'text/plain' },
        data: textData(value),
      }));
    return { code: 200, results };
  }
}

const COUNT = 200;
const node = (i: number): string => `./Vendor/Log/Entry${String(i).padStart(3, '0')}`;
const valueOf = (i: number): string => `entry ${i} of the vendor log`;
const filler = (n: number): string =>
  Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');

function entries(bigAt?: number, bigLength = 0): Record<string, string> {
  const nodes: Record<string, string> = {};
  for (let i = 0; i < COUNT; i++) nodes[node(i)] = i === bigAt ? filler(bigLength) : valueOf(i);
  return nodes;
}

function outcomeOf(pair: Pair, id: string): Extract<ServerEvent, { type: 'outcome' }> | undefined {
  return pair.serverEvents.find(
    (e): e is Extract<ServerEvent, { type: 'outcome' }> => e.type === 'outcome' && e.id === id,
  );
}

const textOf = (item: Item): string => (item.data?.kind === 'text' ? item.data.text : '');

/** The Results the client sent, each with the message it went in. */
function clientResults(pair: Pair): { exchange: Exchange; results: Results; index: number }[] {
  return pair.transcript
    .filter((e) => e.from === 'client')
    .flatMap((exchange) =>
      exchange.message.body.flatMap((c, index) =>
        c.kind === 'Results' ? [{ exchange, results: c, index }] : [],
      ),
    );
}

/** The Get the server sent (message and CmdID), found by its first target. */
function sentGet(pair: Pair, target: string): { msgId: number; cmdId: number } {
  for (const m of pair.messages('server')) {
    for (const c of m.body) {
      if (c.kind === 'Get' && c.items[0]?.target?.locUri === target)
        return { msgId: m.header.msgId, cmdId: c.cmdId };
    }
  }
  throw new Error(`the server never sent a Get of ${target}`);
}

/** Checks the rules every split answer keeps, returns the Results in the order they were sent. */
function expectWellFormedSplit(
  pair: Pair,
  get: { msgId: number; cmdId: number },
  maxMsgSize: number,
): Results[] {
  const client = pair.transcript.filter((e) => e.from === 'client');
  for (const e of client) expect(e.bytes.length).toBeLessThanOrEqual(maxMsgSize);
  // DG-MSG-01: Package 3 spans several messages and only its last carries Final.
  const pkg3 = client.slice(1, client.findIndex((e, i) => i > 0 && e.message.final) + 1);
  expect(pkg3.length).toBeGreaterThan(2);
  expect(pkg3.map((e) => e.message.final)).toEqual([...pkg3.slice(1).map(() => false), true]);
  // CmdIDs stay unique (and never 0) within each message.
  for (const e of client) {
    const ids = e.message.body.map((c) => c.cmdId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).not.toContain(0);
  }
  // The parts answering this Get: the same MsgRef/CmdRef on each, in messages of their own.
  const parts = clientResults(pair).filter(
    ({ results }) => results.msgRef === get.msgId && results.cmdRef === get.cmdId,
  );
  expect(parts.length).toBeGreaterThan(2);
  expect(new Set(parts.map((p) => p.exchange)).size).toBeGreaterThan(2);
  // representation.md §6: the Results come after the Status of the Get (in the first part's message, before it).
  const first = parts[0]!;
  const statusIndex = first.exchange.message.body.findIndex(
    (c) => c.kind === 'Status' && c.cmd === 'Get' && c.cmdRef === get.cmdId && c.msgRef === get.msgId,
  );
  expect(statusIndex).toBeGreaterThanOrEqual(0);
  expect(statusIndex).toBeLessThan(first.index);
  // DG-MSG-02 / DG-MSG-04: every answer to a non-final client message pulls with 1222 and sends no command.
  const server = pair.messages('server');
  client.forEach((e, i) => {
    if (i === 0 || e.message.final) return;
    const answer = server[i]!;
    expect(answer.final).toBe(false);
    expect(kinds(answer).filter((k) => k !== 'Status')).toEqual(['Alert 1222']);
  });
  return parts.map((p) => p.results);
}

for (const encoding of ENCODINGS) {
  describe(`ets §2.3 Results with many items over ${encoding}`, () => {
    it('DG-MSG-01, DG-MSG-02, DG-MSG-04: a Get of 200 nodes is answered by Results spread over messages within MaxMsgSize; the server gets all items in order', async () => {
      const maxMsgSize = 1500;
      const targets = Array.from({ length: COUNT }, (_, i) => node(i));
      const pair = new Pair({
        encoding,
        account: {},
        tree: new MapTree(entries()),
        server: { maxMsgSize },
        beforeServer: (s, turn) => {
          if (turn === 1)
            s.enqueue('many', {
              kind: 'Get',
              cmdId: 0,
              items: targets.map((locUri) => ({ target: { locUri } })),
            });
          if (turn === 2)
            s.enqueue('after', {
              kind: 'Get',
              cmdId: 0,
              items: [{ target: { locUri: './Vendor/Setting' } }],
            });
        },
      });
      pair.tree.nodes.set('./Vendor/Setting', 'on');
      await pair.run(200);
      const get = sentGet(pair, targets[0]!);
      const parts = expectWellFormedSplit(pair, get, maxMsgSize);
      // The Get's Status cannot be split and 200 TargetRefs would not fit any message: it goes without them.
      const getStatus = pair
        .messages('client')
        .flatMap((m) => m.body)
        .find(
          (c) => c.kind === 'Status' && c.cmd === 'Get' && c.msgRef === get.msgId && c.cmdRef === get.cmdId,
        );
      expect(getStatus).toMatchObject({ code: 200, targetRefs: [], sourceRefs: [] });
      // No item is cut: the pieces are whole items, the split is between them.
      expect(parts.flatMap((r) => r.items).every((item) => item.moreData !== true)).toBe(true);
      const outcome = outcomeOf(pair, 'many');
      expect(outcome?.code).toBe(200);
      expect(outcome?.results.map((item) => item.source?.locUri)).toEqual(targets);
      expect(outcome?.results.map(textOf)).toEqual(targets.map((_, i) => valueOf(i)));
      // The command queued meanwhile went out only after the client's package closed, and was answered.
      expect(outcomeOf(pair, 'after')?.results.map(textOf)).toEqual(['on']);
      expect(pair.clientEvents.at(-1)).toEqual({ type: 'ended', reason: 'completed' });
      expect(pair.serverState()).toBe('ended');
    });

    it('DG-MSG-01 with DG-LO-01 toward the server: ?list=StructData of 200 leaves, one of them larger than a message, arrives whole and in order', async () => {
      const maxMsgSize = 1200;
      const bigAt = 120;
      const pair = new Pair({
        encoding,
        account: {},
        tree: new ListingTree(entries(bigAt, 4000)),
        // Both directions are limited: the server's own messages must fit the client's MaxMsgSize too.
        client: { maxMsgSize },
        server: { maxMsgSize },
        beforeServer: (s, turn) =>
          turn === 1 &&
          s.enqueue('list', {
            kind: 'Get',
            cmdId: 0,
            items: [{ target: { locUri: './Vendor/Log?list=StructData' } }],
          }),
      });
      await pair.run(200);
      for (const e of pair.transcript.filter((x) => x.from === 'server'))
        expect(e.bytes.length).toBeLessThanOrEqual(maxMsgSize);
      const parts = expectWellFormedSplit(pair, sentGet(pair, './Vendor/Log?list=StructData'), maxMsgSize);
      // The big leaf went alone, in chunks: Size on the first, MoreData on all but the last (protocol.md §8).
      const chunks = parts.filter((r) => r.items.length === 1 && r.items[0]!.source?.locUri === node(bigAt));
      expect(chunks.length).toBeGreaterThanOrEqual(4);
      const chunkItems = chunks.map((r) => r.items[0]!);
      expect(chunkItems.map((i) => i.moreData === true)).toEqual([
        ...chunkItems.slice(1).map(() => true),
        false,
      ]);
      expect(chunkItems[0]!.meta?.size).toBe(4000);
      expect(chunkItems.slice(1).every((i) => i.meta?.size === undefined)).toBe(true);
      // Items before it and after it travel in their own Results, not inside the chunked one.
      const sources = parts.map((r) => r.items.map((i) => i.source?.locUri));
      const firstChunk = parts.indexOf(chunks[0]!);
      const lastChunk = parts.indexOf(chunks.at(-1)!);
      expect(sources.slice(0, firstChunk).flat().at(-1)).toBe(node(bigAt - 1));
      expect(sources[lastChunk + 1]?.[0]).toBe(node(bigAt + 1));
      // The server answered each non-final chunk with 213 and nothing else about Results.
      const resultsStatuses = pair
        .messages('server')
        .flatMap((m) => statusesOf(m).filter((s) => s.cmd === 'Results'));
      expect(resultsStatuses.map((s) => s.code)).toEqual(chunks.slice(1).map(() => 213));
      const outcome = outcomeOf(pair, 'list');
      expect(outcome?.code).toBe(200);
      expect(outcome?.results.map((item) => item.source?.locUri)).toEqual(
        Array.from({ length: COUNT }, (_, i) => node(i)),
      );
      expect(outcome?.results.map(textOf)).toEqual(
        Array.from({ length: COUNT }, (_, i) => (i === bigAt ? filler(4000) : valueOf(i))),
      );
      expect(pair.clientEvents.at(-1)).toEqual({ type: 'ended', reason: 'completed' });
      expect(pair.serverState()).toBe('ended');
    });
  });
}
