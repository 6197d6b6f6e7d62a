/** ets.md §2.3: several messages per package, MaxMsgSize, large objects in both directions (DG-MSG-*, DG-LO-*). */
import { describe, expect, it } from 'vitest';
import type { Command, Item } from '../../src/syncml/model.js';
import { ENCODINGS, MapTree, Pair, ScriptedPeer, kinds, statusesOf } from './harness.js';

const get = (uri: string): Command => ({ kind: 'Get', cmdId: 0, items: [{ target: { locUri: uri } }] });
const big = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');

for (const encoding of ENCODINGS) {
  describe(`ets §2.3 over ${encoding}`, () => {
    it('DG-MSG-01, DG-MSG-02, DG-MSG-04: a small server MaxMsgSize splits Package 3; the server pulls with 1222 and sends nothing new', async () => {
      const nodes: Record<string, string> = {};
      for (let i = 0; i < 15; i++) nodes[`./Vendor/Node${i}`] = `value-${i}-${big(40)}`;
      const pair = new Pair({
        encoding,
        account: {},
        tree: new MapTree(nodes),
        server: { maxMsgSize: 1200 },
        beforeServer: (s, turn) => {
          if (turn === 1) for (let i = 0; i < 15; i++) s.enqueue(`g${i}`, get(`./Vendor/Node${i}`));
          else if (turn === 2) s.enqueue('late', get('./Vendor/Node0'));
        },
      });
      await pair.run();
      const client = pair.transcript.filter((e) => e.from === 'client');
      const pkg3 = client.slice(1, client.findIndex((e, i) => i > 0 && e.message.final) + 1);
      expect(pkg3.length).toBeGreaterThan(1);
      for (const e of pkg3) expect(e.bytes.length).toBeLessThanOrEqual(1200);
      expect(pkg3.map((e) => e.message.final)).toEqual([...pkg3.slice(1).map(() => false), true]);
      // Every server answer to a non-final client message: Status(SyncHdr) + Alert 1222, no Final, no command.
      const serverMessages = pair.messages('server');
      for (let i = 1; i < pkg3.length; i++) {
        const pull = serverMessages[i]!;
        expect(kinds(pull).filter((k) => k !== 'Status')).toEqual(['Alert 1222']);
        expect(pull.final).toBe(false);
      }
      const outcomes = pair.serverEvents.filter((e) => e.type === 'outcome' && e.id.startsWith('g'));
      expect(outcomes).toHaveLength(15);
      for (const o of outcomes) expect(o.type === 'outcome' && o.results).toHaveLength(1);
    });

    it('DG-MSG-03: a server message carrying Alert 1222 gets Status 200 and the client continues its package', async () => {
      const tree = new MapTree(
        Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`./N${i}`, big(200)])),
      );
      const peer = new ScriptedPeer(encoding, {}, tree);
      await peer.start();
      const first = (await peer.reply(
        [peer.hdrStatus(200), ...Array.from({ length: 10 }, (_, i) => get(`./N${i}`))],
        { maxMsgSize: 1500 },
      ))!;
      expect(first.final).toBe(false);
      const sentResults = (m: typeof first) =>
        m.body.filter((c) => c.kind === 'Results' && c.items[0]?.moreData !== true).length;
      let total = sentResults(first);
      let last = first;
      for (let guard = 0; !last.final && guard < 20; guard++) {
        last = (await peer.reply([peer.hdrStatus(200), { kind: 'Alert', cmdId: 0, code: 1222, items: [] }], {
          final: false,
        }))!;
        expect(statusesOf(last).find((s) => s.cmd === 'Alert')?.code).toBe(200);
        expect(kinds(last)).not.toContain('Alert 1222');
        total += sentResults(last);
      }
      expect(last.final).toBe(true);
      expect(total).toBe(10);
    });

    it('DG-LO-01: a Replace too big for the client MaxMsgSize arrives in chunks: 213 each, then 200 and committed', async () => {
      const value = big(3000);
      const pair = new Pair({
        encoding,
        account: {},
        client: { maxMsgSize: 1000 },
        beforeServer: (s, turn) =>
          turn === 1 &&
          s.enqueue('lo', {
            kind: 'Replace',
            cmdId: 0,
            items: [
              {
                target: { locUri: './Vendor/Blob' },
                meta: { format: 'chr', type: 'text/plain' },
                data: { kind: 'text', text: value },
              },
            ],
          }),
      });
      await pair.run();
      expect(pair.tree.nodes.get('./Vendor/Blob')).toBe(value);
      const server = pair.transcript.filter((e) => e.from === 'server');
      const chunks = server.flatMap((e) =>
        e.message.body.filter((c): c is Extract<Command, { kind: 'Replace' }> => c.kind === 'Replace'),
      );
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      for (const e of server) expect(e.bytes.length).toBeLessThanOrEqual(1000);
      const items = chunks.map((c) => c.items[0]!);
      expect(items.map((i) => i.moreData === true)).toEqual([...items.slice(1).map(() => true), false]);
      expect(items[0]!.meta?.size).toBe(3000);
      expect(items.slice(1).every((i) => i.meta?.size === undefined)).toBe(true);
      const clientStatuses = pair
        .messages('client')
        .flatMap((m) => statusesOf(m).filter((s) => s.cmd === 'Replace'));
      expect(clientStatuses.map((s) => s.code)).toEqual([...items.slice(1).map(() => 213), 200]);
      const withChunk = pair.messages('client').filter((m) => statusesOf(m).some((s) => s.code === 213));
      for (const m of withChunk) {
        expect(kinds(m)).toContain('Alert 1222');
        expect(m.final).toBe(false);
      }
      expect(pair.serverEvents).toContainEqual(
        expect.objectContaining({ type: 'outcome', id: 'lo', code: 200 }),
      );
    });

    it('DG-LO-02: reassembled size ≠ Size → 424 and the node is unchanged', async () => {
      const peer = new ScriptedPeer(encoding);
      await peer.start();
      const chunk = (text: string, more: boolean, size?: number): Command => ({
        kind: 'Replace',
        cmdId: 0,
        items: [
          {
            target: { locUri: './Vendor/Setting' },
            ...(size === undefined ? {} : { meta: { size } }),
            data: { kind: 'text', text },
            ...(more ? { moreData: true } : {}),
          },
        ],
      });
      const a = (await peer.reply([peer.hdrStatus(200), chunk('abcde', true, 12)], { final: false }))!;
      expect(statusesOf(a).map((s) => s.code)).toEqual([200, 213]);
      const b = (await peer.reply([peer.hdrStatus(200), chunk('fgh', false)]))!;
      expect(
        statusesOf(b)
          .filter((s) => s.cmd === 'Replace')
          .map((s) => s.code),
      ).toEqual([424]);
      expect(peer.tree.nodes.get('./Vendor/Setting')).toBe('on');
      expect(peer.tree.log).toEqual([]);
    });

    it('DG-LO-03: a new command before the last chunk → Alert 1225 naming the broken target; nothing committed', async () => {
      const peer = new ScriptedPeer(encoding);
      await peer.start();
      await peer.reply(
        [
          peer.hdrStatus(200),
          {
            kind: 'Replace',
            cmdId: 0,
            items: [
              {
                target: { locUri: './Vendor/Setting' },
                meta: { size: 10 },
                data: { kind: 'text', text: 'abcde' },
                moreData: true,
              },
            ],
          },
        ],
        { final: false },
      );
      const add: Command = {
        kind: 'Add',
        cmdId: 0,
        items: [{ target: { locUri: './Vendor/Other' }, data: { kind: 'text', text: 'new' } }],
      };
      const answer = (await peer.reply([peer.hdrStatus(200), add]))!;
      const alert1225 = answer.body.find((c) => c.kind === 'Alert' && c.code === 1225) as
        { items: readonly Item[] } | undefined;
      expect(alert1225?.items[0]?.target?.locUri).toBe('./Vendor/Setting');
      expect(peer.tree.nodes.get('./Vendor/Setting')).toBe('on');
      expect(statusesOf(answer).find((s) => s.cmd === 'Add')?.code).toBe(200);
      expect(peer.tree.nodes.get('./Vendor/Other')).toBe('new');
    });

    it('DG-LO-04: the server never sends an object larger than the client MaxObjSize', async () => {
      const pair = new Pair({
        encoding,
        account: {},
        client: { maxObjSize: 100 },
        beforeServer: (s, turn) => {
          if (turn !== 1) return;
          s.enqueue('huge', {
            kind: 'Replace',
            cmdId: 0,
            items: [{ target: { locUri: './Vendor/Blob' }, data: { kind: 'text', text: big(500) } }],
          });
          s.enqueue('small', {
            kind: 'Replace',
            cmdId: 0,
            items: [{ target: { locUri: './Vendor/Setting' }, data: { kind: 'text', text: 'x' } }],
          });
        },
      });
      await pair.run();
      expect(pair.serverEvents).toContainEqual(
        expect.objectContaining({ type: 'outcome', id: 'huge', code: 413 }),
      );
      expect(pair.serverEvents).toContainEqual(
        expect.objectContaining({ type: 'outcome', id: 'small', code: 200 }),
      );
      expect(pair.tree.nodes.has('./Vendor/Blob')).toBe(false);
    });

    it('DG-LO-05: an object larger than the client MaxObjSize → 413', async () => {
      const peer = new ScriptedPeer(encoding, { maxObjSize: 8 });
      await peer.start();
      const answer = (await peer.reply(
        [
          peer.hdrStatus(200),
          {
            kind: 'Replace',
            cmdId: 0,
            items: [
              {
                target: { locUri: './Vendor/Setting' },
                meta: { size: 20 },
                data: { kind: 'text', text: 'abcdefghij' },
                moreData: true,
              },
            ],
          },
        ],
        { final: false },
      ))!;
      expect(statusesOf(answer).find((s) => s.cmd === 'Replace')?.code).toBe(413);
      const whole = (await peer.reply([
        peer.hdrStatus(200),
        {
          kind: 'Replace',
          cmdId: 0,
          items: [
            { target: { locUri: './Vendor/Other' }, data: { kind: 'text', text: 'way too long here' } },
          ],
        },
      ]))!;
      expect(statusesOf(whole).find((s) => s.cmd === 'Replace')?.code).toBe(413);
      expect(peer.tree.log).toEqual([]);
    });

    it('DG-LO-06: toward a client without large-object support the server never chunks (local 413)', async () => {
      const pair = new Pair({
        encoding,
        account: {},
        client: { maxMsgSize: 1000 },
        server: { largeObjects: false },
        beforeServer: (s, turn) => {
          if (turn !== 1) return;
          s.enqueue('lo', {
            kind: 'Replace',
            cmdId: 0,
            items: [{ target: { locUri: './Vendor/Blob' }, data: { kind: 'text', text: big(3000) } }],
          });
          s.enqueue('ok', {
            kind: 'Replace',
            cmdId: 0,
            items: [{ target: { locUri: './Vendor/Setting' }, data: { kind: 'text', text: 'x' } }],
          });
        },
      });
      await pair.run();
      const chunks = pair
        .messages('server')
        .flatMap((m) => m.body)
        .filter((c) => 'items' in c && c.items.some((i) => i.moreData === true));
      expect(chunks).toEqual([]);
      expect(pair.serverEvents).toContainEqual(
        expect.objectContaining({ type: 'outcome', id: 'lo', code: 413 }),
      );
      expect(pair.serverEvents).toContainEqual(
        expect.objectContaining({ type: 'outcome', id: 'ok', code: 200 }),
      );
      expect(pair.tree.nodes.has('./Vendor/Blob')).toBe(false);
    });

    it('large object client → server: Results of a big node go out in chunks, the server answers 213 and reassembles', async () => {
      const value = big(6000);
      const pair = new Pair({
        encoding,
        account: {},
        tree: new MapTree({ './Vendor/Log': value }),
        server: { maxMsgSize: 1600 },
        beforeServer: (s, turn) => turn === 1 && s.enqueue('log', get('./Vendor/Log')),
      });
      await pair.run();
      const results = pair.messages('client').flatMap((m) => m.body.filter((c) => c.kind === 'Results'));
      expect(results.length).toBeGreaterThanOrEqual(3);
      for (const e of pair.transcript.filter((x) => x.from === 'client'))
        expect(e.bytes.length).toBeLessThanOrEqual(1600);
      const serverResultsStatuses = pair
        .messages('server')
        .flatMap((m) => statusesOf(m).filter((s) => s.cmd === 'Results'));
      expect(serverResultsStatuses.map((s) => s.code)).toEqual(results.slice(1).map(() => 213));
      const outcome = pair.serverEvents.find((e) => e.type === 'outcome' && e.id === 'log');
      expect(outcome?.type === 'outcome' && outcome.results[0]?.data).toEqual({ kind: 'text', text: value });
      expect(pair.clientEvents.at(-1)).toEqual({ type: 'ended', reason: 'completed' });
    });
  });
}
