/**
 * The real server (port 0, SQLite) driven by the real ClientSession over HTTP: DM sessions end to end, every
 * command type with its outcome, all authentication types in XML and WBXML, legacy content types, events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/server/events/event-bus.js';
import type { AuthName } from '../../src/syncml/constants.js';
import { createTestDevice, runSession } from './support/device.js';
import { waitFor } from './support/wait.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer;
const seen: ServerEvent[] = [];

beforeAll(async () => {
  t = await startTestServer();
  t.server.events.subscribe((event) => seen.push(event));
});
afterAll(async () => {
  await t.close();
});

describe('DM sessions over HTTP', () => {
  const matrix: [AuthName, 'xml' | 'wbxml'][] = [
    ['basic', 'xml'],
    ['basic', 'wbxml'],
    ['md5', 'xml'],
    ['md5', 'wbxml'],
    ['hmac', 'xml'],
    ['hmac', 'wbxml'],
  ];

  it.each(matrix)(
    'DG-AUT-07/09: %s over %s: challenged first, then authenticated; both sides verified; a Get completes',
    async (auth, encoding) => {
      const device = await createTestDevice({ auth });
      await t.api.register(device);
      const id = await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Mod' });
      const run = await runSession(device, { url: t.dm, encoding });
      expect(run.ended?.reason, JSON.stringify(run.events)).toBe('completed');
      expect(run.events.some((e) => e.type === 'server-authenticated')).toBe(true);
      for (const r of run.responses) {
        expect(r.contentType).toBe(
          encoding === 'xml' ? 'application/vnd.syncml.dm+xml' : 'application/vnd.syncml.dm+wbxml',
        );
        // DG-AUT-10: with HMAC every server message carries x-syncml-hmac over its exact bytes.
        if (auth === 'hmac') expect(r.hmac).toMatch(/^algorithm=MD5, username="omadm", mac=/);
        else expect(r.hmac).toBeNull();
      }
      const command = await t.api.command(device.deviceId, id);
      expect(command).toMatchObject({
        state: 'done',
        status: 200,
        results: [{ target: './DevInfo/Mod', data: 'R100' }],
      });
      // A second session needs no challenge: the nonce from the first one's 212/200 Chal is used (DG-AUT-03). Both
      // sides are verified again, HMAC included: the client saves only a server nonce it actually sent
      // (security.md §7), not one drawn for the server's last message, which it never answers.
      const again = await runSession(device, { url: t.dm, encoding });
      expect(again.ended?.reason, JSON.stringify(again.events)).toBe('completed');
      expect(again.events.some((e) => e.type === 'server-authenticated')).toBe(true);
      expect(again.events.some((e) => e.type === 'server-auth-failed')).toBe(false);
      expect(again.events.some((e) => e.type === 'challenged')).toBe(false);
      expect(again.sent).toBe(1);
    },
  );

  it('DG-SES-03: Package 2 starts with Status(SyncHdr) with MsgRef and CmdRef 0, then Statuses for Alert and Replace', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    const run = await runSession(device, { url: t.dm });
    const package2 = run.responses[0]!.message!;
    const [hdr, alert, replace] = package2.body;
    expect(hdr).toMatchObject({ kind: 'Status', cmdRef: 0, cmd: 'SyncHdr', msgRef: 1, code: 212 });
    expect(alert).toMatchObject({ kind: 'Status', cmd: 'Alert', code: 200 });
    expect(replace).toMatchObject({ kind: 'Status', cmd: 'Replace', code: 200 });
    expect(package2.final).toBe(true);
  });

  it('DG-SES-06: our MsgIDs increase by 1 through a challenge and the session after it; MsgRefs point at them', async () => {
    const device = await createTestDevice({ auth: 'md5' });
    await t.api.register(device);
    const ids = [
      await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Mod' }),
      await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Man' }),
    ];
    // Challenged, then wrong credentials until the client gives up: each challenge numbered after the last.
    const refused = await runSession(device, { url: t.dm, password: 'wrong-at-first' });
    expect(refused.ended?.reason).toBe('auth-failed');
    const refusedIds = refused.responses.map((r) => r.message?.header.msgId);
    expect(refusedIds.length).toBeGreaterThan(2);
    expect(refusedIds).toEqual(refusedIds.map((_, i) => i + 1));
    const ok = await runSession(device, { url: t.dm });
    expect(ok.ended?.reason).toBe('completed');
    const msgIds = ok.responses.map((r) => r.message?.header.msgId);
    expect(msgIds).toEqual(msgIds.map((_, i) => i + 1));
    for (const id of ids) expect((await t.api.command(device.deviceId, id)).state).toBe('done');
    // With a challenge first: 1 (challenge), then 2, 3 from the engine, and outcomes still correlate.
    const fresh = await createTestDevice({ auth: 'md5' });
    await t.api.register(fresh);
    const get = await t.api.enqueue(fresh.deviceId, { command: 'Get', target: './DevInfo/Lang' });
    const challenged = await runSession(fresh, { url: t.dm });
    expect(challenged.events.filter((e) => e.type === 'challenged')).toHaveLength(1);
    expect(challenged.responses.map((r) => r.message?.header.msgId)).toEqual([1, 2, 3]);
    expect(await t.api.command(fresh.deviceId, get)).toMatchObject({
      state: 'done',
      results: [{ data: 'en-US' }],
    });
  });

  it('every command type reaches a final state with the device status; Get results become last known tree values', async () => {
    const device = await createTestDevice({ auth: 'md5' });
    await t.api.register(device);
    const enqueue = (c: unknown) => t.api.enqueue(device.deviceId, c);
    const ids = {
      add: await enqueue({
        command: 'Add',
        target: './Vendor/Color',
        data: 'red',
        format: 'chr',
        type: 'text/plain',
      }),
      replace: await enqueue({ command: 'Replace', target: './Vendor/Color', data: 'blue', format: 'chr' }),
      get: await enqueue({ command: 'Get', target: './Vendor/Color' }),
      copy: await enqueue({ command: 'Copy', target: './Vendor/Shade', source: './Vendor/Color' }),
      getDir: await enqueue({ command: 'Get', target: './DevDetail/FwV' }),
      exec: await enqueue({ command: 'Exec', target: './DevDetail/Ext/Ops/Reboot' }),
      del: await enqueue({ command: 'Delete', target: './Vendor/Color' }),
      missing: await enqueue({ command: 'Get', target: './Vendor/Nope' }),
      alert: await enqueue({ command: 'Alert', code: 1100, items: ['MINDT=1', 'Maintenance tonight'] }),
      atomic: await enqueue({
        command: 'Atomic',
        commands: [
          { command: 'Add', target: './Vendor/A', data: '1', format: 'chr' },
          { command: 'Replace', target: './Vendor/Missing', data: '2', format: 'chr' },
        ],
      }),
      sequence: await enqueue({
        command: 'Sequence',
        commands: [
          { command: 'Replace', target: './Vendor/Shade', data: 'green', format: 'chr' },
          { command: 'Get', target: './Vendor/Shade' },
        ],
      }),
    };
    const shown: string[] = [];
    const run = await runSession(device, {
      url: t.dm,
      ui: (request) => {
        shown.push(request.text);
        return { type: 'ok' };
      },
    });
    expect(run.ended?.reason).toBe('completed');
    const view = async (id: number) => t.api.command(device.deviceId, id);
    expect(await view(ids.add)).toMatchObject({ state: 'done', status: 200 });
    expect(await view(ids.replace)).toMatchObject({ state: 'done', status: 200 });
    expect(await view(ids.copy)).toMatchObject({
      state: expect.stringMatching(/done|failed/),
      status: expect.any(Number),
    });
    expect(await view(ids.exec)).toMatchObject({ state: 'done', status: 200 });
    expect(device.reboots).toBe(1);
    expect(await view(ids.del)).toMatchObject({ state: 'done', status: 200 });
    expect(await view(ids.missing)).toMatchObject({ state: 'failed', status: 404, results: [] });
    expect((await view(ids.alert)).status).toBe(200);
    expect(shown).toEqual(['Maintenance tonight']);
    expect(await view(ids.atomic)).toMatchObject({ state: 'failed', status: 507, childStatuses: [216, 404] });
    expect(await view(ids.sequence)).toMatchObject({
      state: 'done',
      status: 200,
      childStatuses: [200, 200],
      results: [{ target: './Vendor/Shade', data: 'green' }],
    });
    const get = await view(ids.get);
    expect(get).toMatchObject({
      state: 'done',
      status: 200,
      results: [{ target: './Vendor/Color', data: 'blue', format: 'chr' }],
    });
    expect(get.sentAt).not.toBeNull();
    expect(get.doneAt).not.toBeNull();
    // Results and DevInfo are the last known tree values.
    expect(await t.api.tree(device.deviceId, './Vendor')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ uri: './Vendor/Color', data: 'blue' }),
        expect.objectContaining({ uri: './Vendor/Shade', data: 'green' }),
      ]),
    );
    const devInfo = await t.api.tree(device.deviceId, './DevInfo');
    expect(devInfo).toEqual(
      expect.arrayContaining([expect.objectContaining({ uri: './DevInfo/DevId', data: device.deviceId })]),
    );
    // The device's tree really changed.
    expect(device.tree.has('./Vendor/Color')).toBe(false);
    expect(device.tree.has('./Vendor/A')).toBe(false);
    // Each outcome was published once.
    const done = await waitFor(() => {
      const events = seen.filter((e) => e.type === 'command.done' && e.deviceId === device.deviceId);
      return events.length === Object.keys(ids).length ? events : undefined;
    }, 'a command.done event per command');
    expect(new Set(done.map((e) => (e.type === 'command.done' ? e.commandId : 0))).size).toBe(
      Object.keys(ids).length,
    );
  });

  it('DG-GA-01/DG-CMD-13: an Exec answered 202 is followed by a Generic Alert with its Correlator, stored and published', async () => {
    const device = await createTestDevice({ auth: 'md5' });
    await t.api.register(device);
    const id = await t.api.enqueue(device.deviceId, {
      command: 'Exec',
      target: './DevDetail/Ext/Ops/Update',
      data: 'fw-2.0',
    });
    await runSession(device, { url: t.dm });
    expect(await t.api.command(device.deviceId, id)).toMatchObject({ state: 'done', status: 202 });
    await waitFor(() => (device.raised.length > 0 ? true : undefined), 'the device to raise its alert');
    const raised = device.raised.splice(0);
    const run = await runSession(device, {
      url: t.dm,
      alerts: raised.map((a, i) => ({
        id: `ga${i}`,
        ...(a.correlator === undefined ? {} : { correlator: a.correlator }),
        items: [
          {
            source: { locUri: a.sourceUri },
            meta: { type: a.type, format: a.format ?? 'int', mark: 'informational' },
            data: { kind: 'text', text: a.data },
          },
        ],
      })),
    });
    expect(run.events).toContainEqual({ type: 'alert-status', id: 'ga0', code: 200 });
    const alerts = await t.api.call<{
      items: { code: number; items: { type: string; data: string; source: string }[] }[];
    }>('GET', `/devices/${encodeURIComponent(device.deviceId)}/alerts`);
    expect(alerts.body.items[0]).toMatchObject({
      code: 1226,
      items: [
        {
          source: './DevDetail/Ext/Ops/Update',
          type: 'org.openmobilealliance.dm.firmwareupdate.update',
          data: '200',
        },
      ],
    });
    await waitFor(
      () => seen.find((e) => e.type === 'generic-alert' && e.deviceId === device.deviceId),
      'the generic-alert event',
    );
  });

  it('legacy application/vnd.syncml+xml and +wbxml are accepted and answered with the DM content type', async () => {
    for (const encoding of ['xml', 'wbxml'] as const) {
      const device = await createTestDevice({ auth: 'md5' });
      await t.api.register(device);
      const run = await runSession(device, { url: t.dm, encoding, legacy: true });
      expect(run.ended?.reason).toBe('completed');
      expect(run.responses.map((r) => r.contentType)).toEqual(
        run.responses.map(() => `application/vnd.syncml.dm+${encoding}`),
      );
    }
  });

  it('session events: session.started and session.ended are published for a session with commands', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Man' });
    await runSession(device, { url: t.dm });
    const mine = await waitFor(() => {
      const e = seen.filter((x) => x.deviceId === device.deviceId);
      return e.some((x) => x.type === 'session.ended') ? e : undefined;
    }, 'session.ended');
    expect(mine.map((e) => e.type)).toEqual(['session.started', 'command.done', 'session.ended']);
  });

  it('the message log holds both directions of every exchange, decoded by the REST API', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    await runSession(device, { url: t.dm, encoding: 'wbxml' });
    const log = await t.api.call<{ items: { direction: string; contentType: string; size: number }[] }>(
      'GET',
      `/devices/${encodeURIComponent(device.deviceId)}/messages`,
    );
    expect(log.body.items.map((m) => m.direction)).toEqual(['out', 'in']);
    expect(log.body.items.every((m) => m.size > 0)).toBe(true);
  });
});
