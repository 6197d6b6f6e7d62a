/**
 * The real server over HTTP and a real device (ClientSession over a ManagementTree): commands that cannot be
 * delivered do not kill the session and do not go out forever.
 * - protocol.md §6–§8: a command that fits no message of the device's MaxMsgSize and cannot be chunked ends
 *   `failed`, status 413, reason `too-large`; the rest of the queue is delivered in the same session.
 * - A command the device never answers (libdmclient sends no Status for Atomic) is delivered `maxDeliveries` times
 *   (sessions, crash recovery included), then ends `failed` with status null and reason `unanswered`, once, with a
 *   `command.done` event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncMLMessage } from '../../src/syncml/model.js';
import type { ServerEvent } from '../../src/server/events/event-bus.js';
import { createTestDevice, runSession, type TestDevice } from './support/device.js';
import { startTestServer, type TestServer } from './support/server.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function serverWithDevice(
  config: Parameters<typeof startTestServer>[0] = {},
): Promise<{ t: TestServer; device: TestDevice; events: ServerEvent[] }> {
  t = await startTestServer(config);
  const device = await createTestDevice();
  await t.api.register(device);
  const events: ServerEvent[] = [];
  t.server.events.subscribe((event) => events.push(event));
  return { t, device, events };
}

interface FullCommandView {
  readonly state: string;
  readonly status: number | null;
  readonly reason: string | null;
  readonly deliveries: number;
}

async function commandOf(server: TestServer, deviceId: string, id: number): Promise<FullCommandView> {
  return (await server.api.command(deviceId, id)) as unknown as FullCommandView;
}

/** libdmclient's way with Atomic: it executes it and sends no Status for it (nor for its children). */
function withoutAtomicStatus(message: SyncMLMessage): SyncMLMessage {
  return {
    ...message,
    body: message.body.filter((c) => c.kind !== 'Status' || (c.cmd !== 'Atomic' && c.cmd !== 'Add')),
  };
}

function sentKinds(run: Awaited<ReturnType<typeof runSession>>): string[] {
  return run.responses.flatMap((r) => r.message?.body.map((c) => c.kind) ?? []);
}

async function until(condition: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('DM server: commands it cannot deliver', () => {
  it('protocol.md §7: a Sequence too big for the device MaxMsgSize ends failed 413 (too-large); the next command is delivered in the same session', async () => {
    const { t, device, events } = await serverWithDevice();
    const gets = Array.from({ length: 60 }, (_, i) => ({ command: 'Get', target: `./DevInfo/Node${i}` }));
    const huge = await t.api.enqueue(device.deviceId, { command: 'Sequence', commands: gets });
    const small = await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Mod' });
    const run = await runSession(device, { url: t.dm, maxMsgSize: 1500 });
    expect(run.ended?.reason).toBe('completed');
    expect(sentKinds(run)).not.toContain('Sequence');
    expect(await commandOf(t, device.deviceId, huge)).toMatchObject({
      state: 'failed',
      status: 413,
      reason: 'too-large',
    });
    expect(await commandOf(t, device.deviceId, small)).toMatchObject({
      state: 'done',
      status: 200,
      reason: null,
      deliveries: 1,
    });
    expect((await t.api.command(device.deviceId, small)).results[0]?.data).toBe('R100');
    await until(async () => events.filter((e) => e.type === 'command.done').length === 2);
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'command.done',
        commandId: huge,
        state: 'failed',
        status: 413,
        reason: 'too-large',
      }),
    );
    // The next session does not send it again: it is final.
    const again = await runSession(device, { url: t.dm, maxMsgSize: 1500 });
    expect(sentKinds(again)).not.toContain('Sequence');
  });

  it('an Atomic the device never answers is sent in 3 sessions (maxDeliveries default), then ends failed, status null, reason unanswered, with one command.done', async () => {
    const { t, device, events } = await serverWithDevice();
    const atomic = await t.api.enqueue(device.deviceId, {
      command: 'Atomic',
      commands: [{ command: 'Add', target: './Vendor/Flag', data: 'on' }],
    });
    for (const n of [1, 2, 3]) {
      const run = await runSession(device, { url: t.dm, tamper: withoutAtomicStatus });
      expect(run.ended?.reason).toBe('completed');
      expect(sentKinds(run)).toContain('Atomic');
      const view = await commandOf(t, device.deviceId, atomic);
      expect(view).toMatchObject(
        n < 3
          ? { state: 'queued', deliveries: n, reason: null }
          : { state: 'failed', status: null, reason: 'unanswered', deliveries: 3 },
      );
    }
    const fourth = await runSession(device, { url: t.dm, tamper: withoutAtomicStatus });
    expect(sentKinds(fourth)).not.toContain('Atomic');
    await until(async () => events.some((e) => e.type === 'command.done'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.filter((e) => e.type === 'command.done')).toEqual([
      expect.objectContaining({
        deviceId: device.deviceId,
        commandId: atomic,
        state: 'failed',
        status: null,
        reason: 'unanswered',
      }),
    ]);
  });

  it('crash recovery counts as a delivery: with maxDeliveries 2, one unanswered session and one abandoned session end the command (housekeeping publishes command.done)', async () => {
    const { t, device, events } = await serverWithDevice({
      maxDeliveries: 2,
      housekeepingMs: 100,
      sessionIdleMs: 400,
    });
    const atomic = await t.api.enqueue(device.deviceId, {
      command: 'Atomic',
      commands: [{ command: 'Add', target: './Vendor/Flag', data: 'on' }],
    });
    await runSession(device, { url: t.dm, tamper: withoutAtomicStatus });
    expect(await commandOf(t, device.deviceId, atomic)).toMatchObject({ state: 'queued', deliveries: 1 });
    // The device receives Package 2 with the Atomic and is never heard from again.
    const lost = await runSession(device, { url: t.dm, stopAfter: 1 });
    expect(sentKinds(lost)).toContain('Atomic');
    expect(await commandOf(t, device.deviceId, atomic)).toMatchObject({ state: 'sent', deliveries: 2 });
    await until(async () => (await commandOf(t, device.deviceId, atomic)).state !== 'sent');
    expect(await commandOf(t, device.deviceId, atomic)).toMatchObject({
      state: 'failed',
      status: null,
      reason: 'unanswered',
      deliveries: 2,
    });
    await until(async () => events.some((e) => e.type === 'command.done'));
    expect(events.filter((e) => e.type === 'command.done')).toEqual([
      expect.objectContaining({ commandId: atomic, state: 'failed', status: null, reason: 'unanswered' }),
    ]);
  });
});
