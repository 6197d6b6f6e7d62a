/** ets.md §2.1: session and packages, each scenario by its DG- id, in XML and WBXML. */
import { describe, expect, it } from 'vitest';
import type { Command, Get, Replace, SyncMLMessage } from '../../src/syncml/model.js';
import { sessionIdFromTrigger } from '../../src/session/index.js';
import { DEVICE_ID, ENCODINGS, Pair, SERVER_URI, ScriptedPeer, kinds, statusesOf } from './harness.js';

const get = (uri: string): Get => ({ kind: 'Get', cmdId: 0, items: [{ target: { locUri: uri } }] });
const replace = (uri: string, text: string): Replace => ({
  kind: 'Replace',
  cmdId: 0,
  items: [{ target: { locUri: uri }, data: { kind: 'text', text } }],
});

function allCmdIds(commands: readonly Command[]): number[] {
  return commands.flatMap((c) => [
    c.cmdId,
    ...(c.kind === 'Atomic' || c.kind === 'Sequence' ? allCmdIds(c.commands) : []),
  ]);
}

for (const encoding of ENCODINGS) {
  describe(`ets §2.1 over ${encoding}`, () => {
    it('DG-SES-01: Package 1 of a client-initiated session', async () => {
      const peer = new ScriptedPeer(encoding, { maxMsgSize: 16384, maxObjSize: 65536 });
      const p1 = await peer.start();
      expect(p1.header).toMatchObject({
        verDtd: '1.2',
        verProto: 'DM/1.2',
        sessionId: '1A',
        msgId: 1,
        target: { locUri: SERVER_URI },
        source: { locUri: DEVICE_ID },
        meta: { maxMsgSize: 16384, maxObjSize: 65536 },
      });
      expect(kinds(p1)).toEqual(['Alert 1201', 'Replace']);
      const replace = p1.body[1] as { items: readonly { source?: { locUri: string }; data?: unknown }[] };
      expect(replace.items.map((i) => i.source?.locUri)).toEqual([
        './DevInfo/DevId',
        './DevInfo/Man',
        './DevInfo/Mod',
        './DevInfo/DmV',
        './DevInfo/Lang',
      ]);
      expect(replace.items.every((i) => i.data !== undefined)).toBe(true);
      expect(p1.final).toBe(true);
    });

    it('DG-SES-02: after a Package 0 the client sends Alert 1200 with the trigger session id in hex', async () => {
      expect(sessionIdFromTrigger(0x1234)).toBe('1234');
      expect(sessionIdFromTrigger(0x00ab)).toBe('AB');
      const peer = new ScriptedPeer(encoding, {
        initiator: 'server',
        sessionId: sessionIdFromTrigger(0x00ab),
      });
      const p1 = await peer.start();
      expect(p1.header.sessionId).toBe('AB');
      expect(kinds(p1)[0]).toBe('Alert 1200');
    });

    it('DG-SES-03: Package 2 starts with the SyncHdr Status, then Alert and Replace statuses, commands, Final', async () => {
      const pair = new Pair({
        encoding,
        account: {},
        beforeServer: (s, turn) => turn === 1 && s.enqueue('g', get('./DevInfo/Mod')),
      });
      await pair.run();
      const p2 = pair.messages('server')[0]!;
      expect(statusesOf(p2)).toEqual([
        { cmd: 'SyncHdr', cmdRef: 0, code: 200, msgRef: 1 },
        { cmd: 'Alert', cmdRef: 1, code: 200, msgRef: 1 },
        { cmd: 'Replace', cmdRef: 2, code: 200, msgRef: 1 },
      ]);
      expect(kinds(p2)).toEqual(['Status', 'Status', 'Status', 'Get']);
      expect(p2.final).toBe(true);
      expect(pair.serverEvents).toContainEqual(expect.objectContaining({ type: 'devinfo' }));
    });

    it('DG-SES-04: Package 2 with only Status + Final → the client sends nothing; session over', async () => {
      const peer = new ScriptedPeer(encoding);
      await peer.start();
      expect(
        await peer.reply([peer.hdrStatus(200), peer.status(1, 'Alert', 200), peer.status(2, 'Replace', 200)]),
      ).toBeUndefined();
      expect(peer.ended()).toEqual({ type: 'ended', reason: 'completed' });
    });

    it('DG-SES-05: Package 3 answers Get + Replace: SyncHdr Status first, statuses in order, Results after the Get status', async () => {
      const peer = new ScriptedPeer(encoding);
      await peer.start();
      const p3 = (await peer.reply([
        peer.hdrStatus(200),
        peer.status(1, 'Alert', 200),
        get('./DevInfo/Mod'),
        replace('./Vendor/Setting', 'off'),
      ]))!;
      expect(kinds(p3)).toEqual(['Status', 'Status', 'Results', 'Status']);
      expect(statusesOf(p3)).toEqual([
        { cmd: 'SyncHdr', cmdRef: 0, code: 200, msgRef: 1 },
        { cmd: 'Get', cmdRef: 3, code: 200, msgRef: 1 },
        { cmd: 'Replace', cmdRef: 4, code: 200, msgRef: 1 },
      ]);
      expect(p3.body[2]).toMatchObject({ kind: 'Results', msgRef: 1, cmdRef: 3 });
      expect(p3.final).toBe(true);
      expect(peer.tree.nodes.get('./Vendor/Setting')).toBe('off');
    });

    it('DG-SES-06: MsgIDs go up by one per sender; CmdIDs unique per message, never 0, restarting at 1', async () => {
      const pair = new Pair({
        encoding,
        account: {},
        beforeServer: (s, turn) => {
          if (turn === 1)
            s.enqueue('a', {
              kind: 'Sequence',
              cmdId: 0,
              commands: [get('./DevInfo/Mod'), replace('./Vendor/Setting', 'x')],
            });
          if (turn === 2) s.enqueue('b', get('./Vendor/Setting'));
        },
      });
      await pair.run();
      for (const from of ['client', 'server'] as const) {
        const messages = pair.messages(from);
        expect(messages.map((m) => m.header.msgId)).toEqual(messages.map((_, i) => i + 1));
        for (const m of messages) {
          const ids = allCmdIds(m.body);
          expect(ids[0]).toBe(1);
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids).not.toContain(0);
        }
      }
      expect(pair.serverEvents).toContainEqual(
        expect.objectContaining({ type: 'outcome', id: 'a', code: 200, children: [200, 200] }),
      );
    });

    it('DG-SES-07: Alert 1223 from the server → the client stops and sends nothing', async () => {
      const peer = new ScriptedPeer(encoding);
      await peer.start();
      const answer = await peer.reply([
        peer.hdrStatus(200),
        replace('./Vendor/Setting', 'never'),
        { kind: 'Alert', cmdId: 0, code: 1223, items: [] },
      ]);
      expect(answer).toBeUndefined();
      expect(peer.ended()).toEqual({ type: 'ended', reason: 'aborted-by-peer' });
      expect(peer.client.state).toBe('ended');
    });

    it('DG-SES-08: Alert 1223 from the client → Status for SyncHdr and the Alert only; the session ends', async () => {
      const pair = new Pair({
        encoding,
        account: {},
        beforeServer: (s, turn) => turn === 1 && s.enqueue('g', get('./DevInfo/Mod')),
      });
      const start = await pair.client.start();
      const p1 = pair.record('client', start.outgoing!, 1);
      let server = pair.server();
      server.enqueue('g', get('./DevInfo/Mod'));
      const r1 = await server.receive(p1.message);
      pair.snapshot = server.snapshot();
      const back = pair.record('server', r1.outgoing!, 1);
      await pair.client.receive(back.message);
      const abort = pair.client.abort();
      expect(kinds(abort.outgoing!.message)).toEqual(['Alert 1223']);
      expect(abort.outgoing!.message.final).toBe(true);
      expect(abort.events).toEqual([{ type: 'ended', reason: 'aborted' }]);
      server = pair.server();
      server.enqueue('late', get('./Vendor/Setting'));
      const r2 = await server.receive(pair.record('client', abort.outgoing!, 2).message);
      expect(kinds(r2.outgoing!.message)).toEqual(['Status', 'Status']);
      expect(statusesOf(r2.outgoing!.message).map((s) => s.cmd)).toEqual(['SyncHdr', 'Alert']);
      expect(server.state).toBe('ended');
      expect(r2.events).toContainEqual({ type: 'ended', reason: 'aborted-by-peer' });
    });

    it('DG-SES-09 and DG-SES-10: no Status for Results; Package 4 without work is Status(SyncHdr) + Final', async () => {
      const pair = new Pair({
        encoding,
        account: {},
        beforeServer: (s, turn) => turn === 1 && s.enqueue('g', get('./DevInfo/Mod')),
      });
      await pair.run();
      const p4 = pair.messages('server').at(-1)!;
      expect(kinds(p4)).toEqual(['Status']);
      expect(statusesOf(p4)[0]!.cmd).toBe('SyncHdr');
      expect(p4.final).toBe(true);
      expect(pair.serverEvents).toContainEqual(
        expect.objectContaining({
          type: 'outcome',
          id: 'g',
          code: 200,
          results: [expect.objectContaining({ source: { locUri: './DevInfo/Mod' } })],
        }),
      );
      expect(pair.serverEvents.at(-1)).toEqual({ type: 'ended', reason: 'completed' });
    });

    it('DG-SES-11: the client only ever emits Alert, Replace (DevInfo), Results and Status', async () => {
      const pair = new Pair({
        encoding,
        account: {},
        beforeServer: (s, turn) => {
          if (turn !== 1) return;
          s.enqueue('1', get('./DevInfo/Mod'));
          s.enqueue('2', {
            kind: 'Add',
            cmdId: 0,
            items: [{ target: { locUri: './Vendor/New' }, data: { kind: 'text', text: 'v' } }],
          });
          s.enqueue('3', { kind: 'Delete', cmdId: 0, items: [{ target: { locUri: './Vendor/New' } }] });
          s.enqueue('4', { kind: 'Exec', cmdId: 0, items: [{ target: { locUri: './Vendor/Run' } }] });
          s.enqueue('5', {
            kind: 'Atomic',
            cmdId: 0,
            commands: [replace('./Vendor/Setting', 'a'), get('./Nope')],
          });
        },
      });
      pair.client.addAlert({
        id: 'ga',
        items: [{ meta: { type: 'org.example.ready', format: 'chr' }, data: { kind: 'text', text: 'ok' } }],
      });
      await pair.run();
      const allowed = new Set(['Alert', 'Replace', 'Results', 'Status']);
      for (const m of pair.messages('client')) for (const c of m.body) expect(allowed.has(c.kind)).toBe(true);
      const replaces = pair
        .messages('client')
        .flatMap((m: SyncMLMessage) => m.body.filter((c) => c.kind === 'Replace'));
      for (const r of replaces)
        for (const item of (r as { items: readonly { source?: { locUri: string } }[] }).items)
          expect(item.source?.locUri.startsWith('./DevInfo/')).toBe(true);
    });
  });
}
