/**
 * Profiles' Exec handlers and UI policies against the real ServerSession over HTTP: reboot, factory reset, the
 * firmware update that answers 202 and reports with a Generic Alert in the next session (DG-CMD-13), UI alerts
 * answered by policy (DG-UI-02, DG-UI-03, DG-UI-09) and dynamic nodes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceRuntime } from '../../src/device/device-runtime.js';
import { FUMO_UPDATE_ALERT } from '../../src/device/profiles/device-ops.js';
import { PROFILES, phoneProfile } from '../../src/device/profiles/profiles.js';
import type { DeviceProfile } from '../../src/device/profiles/profile.js';
import { autoAccept, autoReject } from '../../src/device/ui-policy.js';
import type { UiHandler } from '../../src/session/ui-alert.js';
import { ManualClock } from '../../src/platform/clock.js';
import type { ServerEvent } from '../../src/session/index.js';
import type { Command } from '../../src/syncml/model.js';
import { textData } from '../../src/syncml/model.js';
import { SessionServer } from './support/session-server.js';

const DEVICE_ID = 'IMEI:356938035643809';
let server: SessionServer;

beforeEach(async () => {
  server = await new SessionServer().start();
  server.accounts.set(DEVICE_ID, { client: { auth: 'md5', username: 'u', password: 'p' } });
});
afterEach(async () => server.stop());

function open(profile: DeviceProfile, extra: { ui?: UiHandler; clock?: ManualClock } = {}) {
  return DeviceRuntime.open({
    deviceId: DEVICE_ID,
    account: { serverId: 'srv', serverUrl: server.url, auth: 'md5', username: 'u', password: 'p' },
    profile,
    ...extra,
  });
}

const get = (uri: string): Command => ({ kind: 'Get', cmdId: 0, items: [{ target: { locUri: uri } }] });
const exec = (uri: string, correlator?: string): Command => ({
  kind: 'Exec',
  cmdId: 0,
  ...(correlator === undefined ? {} : { correlator }),
  items: [{ target: { locUri: uri } }],
});
const outcome = (events: readonly ServerEvent[], id: string) =>
  events.find((e) => e.type === 'outcome' && e.id === id) as
    Extract<ServerEvent, { type: 'outcome' }> | undefined;

describe('profiles', () => {
  it('every profile opens, answers Get ./DevInfo and names its model', async () => {
    for (const profile of Object.values(PROFILES)) {
      const runtime = await open(profile);
      server.enqueue(DEVICE_ID, `devinfo-${profile.name}`, get('./DevInfo/Mod'));
      const summary = await runtime.runSession();
      expect(summary.ok, profile.name).toBe(true);
      const o = outcome(server.events(DEVICE_ID), `devinfo-${profile.name}`);
      expect(o?.results[0]?.data).toEqual(textData(profile.identity.model));
    }
  });

  it('phone: dynamic nodes change with time (uptime, battery)', async () => {
    const clock = new ManualClock(1_750_000_000_000);
    const runtime = await open(phoneProfile, { clock });
    expect(await runtime.tree.readText('./DevDetail/Ext/Uptime')).toBe('0');
    expect(await runtime.tree.readText('./DevDetail/Ext/Battery/Level')).toBe('100');
    clock.advance(60 * 60 * 1000);
    expect(await runtime.tree.readText('./DevDetail/Ext/Uptime')).toBe('3600');
    expect(await runtime.tree.readText('./DevDetail/Ext/Battery/Level')).toBe('90');
    const signal = Number(await runtime.tree.readText('./DevDetail/Ext/Radio/SignalStrength'));
    expect(signal).toBeGreaterThanOrEqual(-110);
    expect(signal).toBeLessThanOrEqual(-60);
  });

  it('DG-CMD-13: reboot Exec answers 200 and restarts the uptime; AAuthSecret stays unreadable (DG-OBJ-04)', async () => {
    const clock = new ManualClock(1_750_000_000_000);
    const runtime = await open(phoneProfile, { clock });
    clock.advance(10 * 60 * 1000);
    server.enqueue(DEVICE_ID, 'reboot', exec('./Ops/Reboot'));
    server.enqueue(DEVICE_ID, 'secret', get('./DMAcc/srv/AppAuth/CLCRED/AAuthSecret'));
    const summary = await runtime.runSession();
    expect(summary.ok).toBe(true);
    const events = server.events(DEVICE_ID);
    expect(outcome(events, 'reboot')?.code).toBe(200);
    expect(outcome(events, 'secret')?.code).toBe(405);
    expect(await runtime.tree.readText('./DevDetail/Ext/Boot/Count')).toBe('2');
    expect(await runtime.tree.readText('./DevDetail/Ext/Uptime')).toBe('0');
  });

  it('factory reset wipes what servers put under ./Vendor', async () => {
    const runtime = await open(phoneProfile);
    server.enqueue(DEVICE_ID, 'add', {
      kind: 'Add',
      cmdId: 0,
      items: [{ target: { locUri: './Vendor/App/Key' }, data: textData('v') }],
    });
    expect((await runtime.runSession()).ok).toBe(true);
    expect(runtime.tree.has('./Vendor/App/Key')).toBe(true);
    server.enqueue(DEVICE_ID, 'wipe', exec('./Ops/FactoryReset'));
    expect((await runtime.runSession()).ok).toBe(true);
    expect(outcome(server.events(DEVICE_ID), 'wipe')?.code).toBe(200);
    expect(runtime.tree.node(['Vendor'])?.children).toEqual([]);
  });

  it('DG-CMD-13: firmware update answers 202, then a Generic Alert 1226 with the Correlator opens the next session', async () => {
    const runtime = await open(phoneProfile);
    server.enqueue(DEVICE_ID, 'version', {
      kind: 'Replace',
      cmdId: 0,
      items: [{ target: { locUri: './FUMO/PkgVersion' }, data: textData('AM5G-2.0.0') }],
    });
    server.enqueue(DEVICE_ID, 'data', {
      kind: 'Replace',
      cmdId: 0,
      items: [
        {
          target: { locUri: './FUMO/Update/PkgData' },
          meta: { format: 'b64' },
          data: textData(Buffer.from('firmware image').toString('base64')),
        },
      ],
    });
    server.enqueue(DEVICE_ID, 'update', exec('./FUMO/Update', 'fw-42'));
    const first = await runtime.runSession();
    expect(first.ok).toBe(true);
    expect(first.commands.Exec).toEqual({ '202': 1 });
    expect(outcome(server.events(DEVICE_ID), 'update')?.code).toBe(202);
    expect(await runtime.tree.readText('./DevDetail/FwV')).toBe('AM5G-2.0.0');
    expect(await runtime.pendingAlerts()).toHaveLength(1);

    const second = await runtime.runSession();
    expect(second).toMatchObject({ ok: true, alerts: { sent: 1, acknowledged: 1 } });
    const alerts = server.sessions[1]!.events.filter((e) => e.type === 'client-alert');
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert.type === 'client-alert' && alert.code).toBe(1226);
    if (alert.type === 'client-alert') {
      expect(alert.alert.correlator).toBe('fw-42');
      expect(alert.alert.items[0]).toMatchObject({
        source: { locUri: './FUMO/Update' },
        meta: { type: FUMO_UPDATE_ALERT, format: 'int' },
        data: textData('200'),
      });
    }
    expect(await runtime.pendingAlerts()).toHaveLength(0);
    // acknowledged: a third session sends nothing more
    expect((await runtime.runSession()).alerts.sent).toBe(0);
  });

  it('firmware update without a package reports 402 (corrupted package) and leaves FwV alone', async () => {
    const runtime = await open(phoneProfile);
    server.enqueue(DEVICE_ID, 'update', exec('./FUMO/Update', 'c1'));
    await runtime.runSession();
    const [pending] = await runtime.pendingAlerts();
    expect(pending).toMatchObject({ data: '402', correlator: 'c1', mark: 'critical' });
    expect(await runtime.tree.readText('./DevDetail/FwV')).toBe('AM5G-1.4.2');
  });
});

describe('UI alert policies', () => {
  const confirm = (text: string): Command => ({
    kind: 'Alert',
    cmdId: 0,
    code: 1101,
    items: [{ data: textData('') }, { data: textData(text) }],
  });

  it('DG-UI-02: auto-accept answers 1101 with 200, auto-reject with 304; DG-UI-09: no UI answers 406', async () => {
    for (const [ui, code] of [
      [autoAccept, 200],
      [autoReject, 304],
      [undefined, 406],
    ] as const) {
      const runtime = await open(phoneProfile, ui === undefined ? {} : { ui });
      server.enqueue(DEVICE_ID, 'ask', confirm('Install the update?'));
      expect((await runtime.runSession()).ok).toBe(true);
      expect(outcome(server.sessions.at(-1)!.events, 'ask')?.code).toBe(code);
    }
  });

  it('DG-UI-03: Sequence{1101, Replace} rejected → 304, Replace 215, Sequence 200', async () => {
    const runtime = await open(phoneProfile, { ui: autoReject });
    server.enqueue(DEVICE_ID, 'seq', {
      kind: 'Sequence',
      cmdId: 0,
      commands: [
        { kind: 'Alert', cmdId: 0, code: 1101, items: [{ data: textData('') }, { data: textData('Wipe?') }] },
        { kind: 'Replace', cmdId: 0, items: [{ target: { locUri: './FUMO/PkgName' }, data: textData('x') }] },
      ],
    });
    await runtime.runSession();
    const o = outcome(server.events(DEVICE_ID), 'seq');
    expect(o?.code).toBe(200);
    expect(o?.children).toEqual([304, 215]);
  });

  it('DG-UI-07: auto-accept picks the default response of a single choice', async () => {
    const runtime = await open(phoneProfile, { ui: autoAccept });
    server.enqueue(DEVICE_ID, 'pick', {
      kind: 'Alert',
      cmdId: 0,
      code: 1103,
      items: [
        { data: textData('DR=2') },
        { data: textData('Which?') },
        { data: textData('a') },
        { data: textData('b') },
        { data: textData('c') },
      ],
    });
    await runtime.runSession();
    const o = outcome(server.events(DEVICE_ID), 'pick');
    expect(o?.code).toBe(200);
    expect(o?.statusItems.map((i) => i.data)).toEqual([textData('2')]);
  });
});

describe('prompt UI policy (readline on a terminal)', () => {
  it('DG-UI-02/06/07/08: asks each question and answers with what was typed', async () => {
    const { PassThrough } = await import('node:stream');
    const { promptUi } = await import('../../src/device/ui-policy.js');
    const input = new PassThrough();
    const output = new PassThrough();
    const answers = ['n', '-1.23', '2', '2 3'];
    let shown = '';
    output.on('data', (chunk: Buffer) => {
      shown += chunk.toString();
      // answer each prompt as a person would, once it is on the screen
      if (/(\] |: )$/.test(chunk.toString())) input.write(`${answers.shift() ?? ''}\n`);
    });
    const ui = promptUi(input, output);
    try {
      const runtime = await open(phoneProfile, { ui: ui.handle });
      const alert = (code: number, ...texts: string[]): Command => ({
        kind: 'Alert',
        cmdId: 0,
        code,
        items: texts.map((t) => ({ data: textData(t) })),
      });
      server.enqueue(DEVICE_ID, 'confirm', alert(1101, '', 'Reboot now?'));
      server.enqueue(DEVICE_ID, 'text', alert(1102, 'IT=N&MAXLEN=5', 'Amount?'));
      server.enqueue(DEVICE_ID, 'single', alert(1103, '', 'Colour?', 'red', 'green', 'blue'));
      server.enqueue(DEVICE_ID, 'multi', alert(1104, '', 'Channels?', 'news', 'sport', 'music'));
      expect((await runtime.runSession()).ok).toBe(true);
    } finally {
      ui.close();
    }
    const events = server.events(DEVICE_ID);
    expect(outcome(events, 'confirm')?.code).toBe(304);
    expect(outcome(events, 'text')).toMatchObject({ code: 200, statusItems: [{ data: textData('-1.23') }] });
    expect(outcome(events, 'single')).toMatchObject({ code: 200, statusItems: [{ data: textData('2') }] });
    expect(outcome(events, 'multi')?.statusItems.map((i) => i.data)).toEqual([textData('2'), textData('3')]);
    expect(shown).toContain('Reboot now?');
    expect(shown).toContain('  3. blue');
  });
});

describe('other profiles', () => {
  it('windows: RebootNow and doWipe run; router: a server may rename the Wi-Fi', async () => {
    const { routerProfile, windowsProfile } = await import('../../src/device/profiles/profiles.js');
    const windows = await open(windowsProfile);
    server.enqueue(DEVICE_ID, 'reboot', exec('./Device/Vendor/MSFT/Reboot/RebootNow'));
    server.enqueue(
      DEVICE_ID,
      'battery',
      get('./Device/Vendor/MSFT/DeviceStatus/Battery/EstimatedChargeRemaining'),
    );
    server.enqueue(DEVICE_ID, 'wipe', exec('./Device/Vendor/MSFT/RemoteWipe/doWipe'));
    expect((await windows.runSession()).ok).toBe(true);
    let events = server.events(DEVICE_ID);
    expect(outcome(events, 'reboot')?.code).toBe(200);
    expect(outcome(events, 'wipe')?.code).toBe(200);
    expect(outcome(events, 'battery')?.results[0]?.data).toEqual(textData('100'));

    const router = await open(routerProfile);
    server.enqueue(DEVICE_ID, 'ssid', {
      kind: 'Replace',
      cmdId: 0,
      items: [{ target: { locUri: './DevDetail/Ext/WiFi/SSID' }, data: textData('guest') }],
    });
    server.enqueue(DEVICE_ID, 'rx', get('./DevDetail/Ext/WAN/RxBytes'));
    server.enqueue(DEVICE_ID, 'cpu', {
      kind: 'Replace',
      cmdId: 0,
      items: [{ target: { locUri: './DevDetail/Ext/CpuLoad' }, data: textData('1') }],
    });
    expect((await router.runSession()).ok).toBe(true);
    events = server.events(DEVICE_ID);
    expect(outcome(events, 'ssid')?.code).toBe(200);
    expect(await router.tree.readText('./DevDetail/Ext/WiFi/SSID')).toBe('guest');
    expect(outcome(events, 'rx')?.code).toBe(200);
    // a read-only dynamic node: the description has no Replace (tree.md §2 AccessType → 405)
    expect(outcome(events, 'cpu')?.code).toBe(405);
  });
});
