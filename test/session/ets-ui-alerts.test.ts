/** ets.md §2.6 (user interaction, DG-UI-*) and §2.7 (Generic Alert and client events, DG-GA-*), paired engines. */
import { describe, expect, it } from 'vitest';
import type { Alert, Command, Item, Replace } from '../../src/syncml/model.js';
import { textData } from '../../src/syncml/model.js';
import { parseUiOptions, type UiAnswer, type UiHandler, type UiRequest } from '../../src/session/index.js';
import { ENCODINGS, Pair, statusesOf } from './harness.js';

const ui = (code: number, options: string, text: string, choices: string[] = []): Alert => ({
  kind: 'Alert',
  cmdId: 0,
  code,
  items: [
    { data: textData(options) },
    { data: textData(text) },
    ...choices.map((c) => ({ data: textData(c) })),
  ],
});
const setOff: Replace = {
  kind: 'Replace',
  cmdId: 0,
  items: [{ target: { locUri: './Vendor/Setting' }, data: textData('off') }],
};

async function run(
  encoding: 'xml' | 'wbxml',
  commands: Record<string, Command>,
  answer: UiHandler | undefined,
) {
  const requests: UiRequest[] = [];
  const handler: UiHandler | undefined =
    answer === undefined
      ? undefined
      : (request) => {
          requests.push(request);
          return answer(request);
        };
  const pair = new Pair({
    encoding,
    account: {},
    ...(handler === undefined ? {} : { client: { ui: handler } }),
    beforeServer: (s, turn) => {
      if (turn === 1) for (const [id, c] of Object.entries(commands)) s.enqueue(id, c);
    },
  });
  await pair.run();
  const outcome = (id: string) => {
    const e = pair.serverEvents.find((x) => x.type === 'outcome' && x.id === id);
    return e?.type === 'outcome' ? e : undefined;
  };
  return { pair, requests, outcome };
}

const always =
  (a: UiAnswer): UiHandler =>
  () =>
    a;

for (const encoding of ENCODINGS) {
  describe(`ets §2.6 over ${encoding}`, () => {
    it('DG-UI-01: 1100 with MINDT=10 is shown with its minimum display time; 200', async () => {
      const { requests, outcome } = await run(
        encoding,
        { d: ui(1100, 'MINDT=10', 'Hello') },
        always({ type: 'ok' }),
      );
      expect(requests[0]).toMatchObject({ kind: 'display', text: 'Hello', options: { minDisplayTime: 10 } });
      expect(outcome('d')?.code).toBe(200);
    });

    it('DG-UI-02: 1101 answered yes / no / cancel → 200 / 304 / 214', async () => {
      for (const [answer, code] of [
        [{ type: 'confirm', accepted: true }, 200],
        [{ type: 'confirm', accepted: false }, 304],
        [{ type: 'cancel' }, 214],
      ] as const) {
        const { outcome } = await run(encoding, { c: ui(1101, '', 'Sure?') }, always(answer));
        expect(outcome('c')?.code).toBe(code);
      }
    });

    it('DG-UI-03: Sequence{1101, Replace} answered no → 304, 215, Sequence 200', async () => {
      const { pair, outcome } = await run(
        encoding,
        { s: { kind: 'Sequence', cmdId: 0, commands: [ui(1101, '', 'Go?'), setOff] } },
        always({ type: 'confirm', accepted: false }),
      );
      expect(outcome('s')).toMatchObject({ code: 200, children: [304, 215] });
      expect(pair.tree.nodes.get('./Vendor/Setting')).toBe('on');
    });

    it('DG-UI-04: Atomic{1101, Replace} answered no → Atomic 507, Replace 216, nothing changed', async () => {
      const { pair, outcome } = await run(
        encoding,
        { a: { kind: 'Atomic', cmdId: 0, commands: [ui(1101, '', 'Go?'), setOff] } },
        always({ type: 'confirm', accepted: false }),
      );
      expect(outcome('a')).toMatchObject({ code: 507, children: [304, 216] });
      expect(pair.tree.nodes.get('./Vendor/Setting')).toBe('on');
    });

    it('DG-UI-05: 1101 in SyncBody answered no does not stop the following Replace (200)', async () => {
      const { pair, outcome } = await run(
        encoding,
        { c: ui(1101, '', 'Go?'), r: setOff },
        always({ type: 'confirm', accepted: false }),
      );
      expect(outcome('c')?.code).toBe(304);
      expect(outcome('r')?.code).toBe(200);
      expect(pair.tree.nodes.get('./Vendor/Setting')).toBe('off');
    });

    it('DG-UI-06: 1102 IT=N&MAXLEN=5, user types -1.23 → 200 with the text in Item/Data', async () => {
      const { requests, outcome } = await run(
        encoding,
        { t: ui(1102, 'IT=N&MAXLEN=5&ET=P&DR=John+Doe', 'Amount') },
        always({ type: 'text', text: '-1.23' }),
      );
      expect(requests[0]?.options).toEqual({
        inputType: 'N',
        maxLength: 5,
        echoType: 'P',
        defaultResponse: 'John Doe',
      });
      expect(outcome('t')?.code).toBe(200);
      expect(outcome('t')?.statusItems.map((i: Item) => i.data)).toEqual([textData('-1.23')]);
    });

    it('DG-UI-07: 1103 with 3 choices, the 2nd picked → 200 with one Item "2"', async () => {
      const { requests, outcome } = await run(
        encoding,
        { c: ui(1103, 'DR=1', 'Pick', ['red', 'green', 'blue']) },
        always({ type: 'choice', selected: [2] }),
      );
      expect(requests[0]?.choices).toEqual(['red', 'green', 'blue']);
      expect(outcome('c')?.statusItems.map((i: Item) => i.data)).toEqual([textData('2')]);
    });

    it('DG-UI-08: 1104, 2 and 3 picked → 200 with two Items', async () => {
      const { outcome } = await run(
        encoding,
        { c: ui(1104, 'DR=2-3', 'Pick', ['a', 'b', 'c']) },
        always({ type: 'choice', selected: [2, 3] }),
      );
      expect(outcome('c')?.code).toBe(200);
      expect(outcome('c')?.statusItems.map((i: Item) => i.data)).toEqual([textData('2'), textData('3')]);
    });

    it('DG-UI-09: a device without UI answers 406 to every 110x', async () => {
      const { outcome } = await run(
        encoding,
        { a: ui(1100, '', 'x'), b: ui(1101, '', 'y'), c: ui(1102, '', 'z') },
        undefined,
      );
      expect([outcome('a')?.code, outcome('b')?.code, outcome('c')?.code]).toEqual([406, 406, 406]);
    });

    it('DG-UI-10: MAXDT=5 and no user action → 408', async () => {
      const { requests, outcome } = await run(
        encoding,
        { c: ui(1101, 'MAXDT=5', 'Hurry') },
        always({ type: 'timeout' }),
      );
      expect(requests[0]?.options.maxDisplayTime).toBe(5);
      expect(outcome('c')?.code).toBe(408);
    });

    it('DG-UI-11: an unknown option is ignored silently', async () => {
      expect(parseUiOptions('FOO=1&MINDT=2')).toEqual({ minDisplayTime: 2 });
      const { requests, outcome } = await run(
        encoding,
        { d: ui(1100, 'FOO=1&MINDT=2', 'Hi') },
        always({ type: 'ok' }),
      );
      expect(requests[0]?.options).toEqual({ minDisplayTime: 2 });
      expect(outcome('d')?.code).toBe(200);
    });

    it('a cancelled UI alert stops the message: later commands get 215 (protocol.md §12)', async () => {
      const { pair, outcome } = await run(
        encoding,
        { c: ui(1101, '', 'Go?'), r: setOff },
        always({ type: 'cancel' }),
      );
      expect(outcome('c')?.code).toBe(214);
      expect(outcome('r')?.code).toBe(215);
      expect(pair.tree.nodes.get('./Vendor/Setting')).toBe('on');
    });

    it('a UI alert with fewer than two Items → 412', async () => {
      const bad: Alert = { kind: 'Alert', cmdId: 0, code: 1100, items: [{ data: textData('') }] };
      const { outcome } = await run(encoding, { b: bad }, always({ type: 'ok' }));
      expect(outcome('b')?.code).toBe(412);
    });
  });

  describe(`ets §2.7 over ${encoding}`, () => {
    const gaItem = (data: string): Item => ({
      source: { locUri: './FUMO/Pkg1' },
      meta: {
        type: 'Reversed-Domain-Name: org.openmobilealliance.dm.firmwareupdate.download',
        format: 'chr',
        mark: 'critical',
      },
      data: textData(data),
    });

    it('DG-GA-01: a Generic Alert with Type, Format, Mark, Source and Data → surfaced as an event, 200', async () => {
      const pair = new Pair({ encoding, account: {} });
      pair.client.addAlert({ id: 'fw', correlator: 'c-77', items: [gaItem('200')] });
      await pair.run();
      const event = pair.serverEvents.find((e) => e.type === 'client-alert');
      expect(event).toMatchObject({
        type: 'client-alert',
        code: 1226,
        status: 200,
        alert: { correlator: 'c-77', items: [gaItem('200')] },
      });
      expect(pair.clientEvents).toContainEqual({ type: 'alert-status', id: 'fw', code: 200 });
      expect(statusesOf(pair.messages('server')[0]!).map((s) => s.cmd)).toEqual([
        'SyncHdr',
        'Alert',
        'Replace',
        'Alert',
      ]);
    });

    it('DG-GA-02: a Generic Alert of an unknown Type → 415 (server policy)', async () => {
      const pair = new Pair({
        encoding,
        account: {},
        server: {
          alertStatus: (alert) =>
            alert.items.every((i) => i.meta?.type?.includes('openmobilealliance') === true) ? 200 : 415,
        },
      });
      pair.client.addAlert({
        id: 'x',
        items: [{ meta: { type: 'com.example.unknown', format: 'chr' }, data: textData('?') }],
      });
      await pair.run();
      expect(pair.clientEvents).toContainEqual({ type: 'alert-status', id: 'x', code: 415 });
    });

    it('DG-GA-03: one Generic Alert with 3 Items → one status covering all; sent mid-session in Package 3', async () => {
      const pair = new Pair({
        encoding,
        account: {},
        beforeServer: (s, turn) =>
          turn === 1 &&
          s.enqueue('g', { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] }),
      });
      const start = await pair.client.start();
      const p1 = pair.record('client', start.outgoing!, 1);
      const server = pair.server();
      server.enqueue('g', { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] });
      const r1 = await server.receive(p1.message);
      pair.snapshot = server.snapshot();
      pair.client.addAlert({ id: 'three', items: [gaItem('1'), gaItem('2'), gaItem('3')] });
      const p3 = await pair.client.receive(pair.record('server', r1.outgoing!, 1).message);
      const r2 = await pair.server().receive(pair.record('client', p3.outgoing!, 2).message);
      const alerts = statusesOf(r2.outgoing!.message).filter((s) => s.cmd === 'Alert');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.code).toBe(200);
      expect(r2.events).toContainEqual(
        expect.objectContaining({
          type: 'client-alert',
          alert: expect.objectContaining({ items: [gaItem('1'), gaItem('2'), gaItem('3')] }),
        }),
      );
    });

    it('DG-GA-04: a Client Event 1224 with Meta Type/Format → 200, or 406 when the server cannot process it', async () => {
      for (const status of [200, 406]) {
        const pair = new Pair({ encoding, account: {}, server: { alertStatus: () => status } });
        pair.client.addAlert({
          id: 'ev',
          code: 1224,
          items: [{ meta: { type: 'com.microsoft/MDM/LoginStatus', format: 'chr' }, data: textData('user') }],
        });
        await pair.run();
        expect(pair.serverEvents).toContainEqual(
          expect.objectContaining({ type: 'client-alert', code: 1224, status }),
        );
        expect(pair.clientEvents).toContainEqual({ type: 'alert-status', id: 'ev', code: status });
      }
    });
  });
}
