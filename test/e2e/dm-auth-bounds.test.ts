/**
 * The real server over HTTP, driven by hand-written messages of a client that keeps failing authentication
 * (libdmclient resends Package 1 after every 401/407, forever): protocol.md §10 / security.md §6 — repeated
 * authentication failure terminates the session. After one challenge and `maxAuthAttempts` (3) more, the server's
 * answer carries no Chal and gives the commands 215 instead of 401/407, so the client has nothing to resend.
 * Unknown device, wrong password, missing credentials and a locked device look the same, bound included.
 * Also: a 413 settled in the session's only exchange is recorded (protocol.md §7).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage, decodeMessage } from '../../src/syncml/codec.js';
import type { Command, Cred, SyncMLMessage } from '../../src/syncml/model.js';
import { basicCredential } from '../../src/security/index.js';
import { createTestDevice, runSession } from './support/device.js';
import { startTestServer, type TestServer } from './support/server.js';

const XML = 'application/vnd.syncml.dm+xml';
let t: TestServer;

beforeAll(async () => {
  // The lockout is set high here so that it does not end these sessions first; it has its own test below.
  t = await startTestServer({ lockout: { maxFailures: 50, lockMs: 60_000 } });
});
afterAll(async () => {
  await t.close();
});

/** Package 1 (protocol.md §3.2), resent as libdmclient does: next MsgID, Status for our last SyncHdr. */
function package1(
  deviceId: string,
  msgId: number,
  cred: Cred | undefined,
  lastServerMsgId?: number,
): SyncMLMessage {
  const body: Command[] = [];
  if (lastServerMsgId !== undefined)
    body.push({
      kind: 'Status',
      cmdId: 0,
      msgRef: lastServerMsgId,
      cmdRef: 0,
      cmd: 'SyncHdr',
      targetRefs: [deviceId],
      sourceRefs: ['omadm'],
      code: 200,
      items: [],
    });
  body.push(
    { kind: 'Alert', cmdId: 0, code: 1201, items: [] },
    {
      kind: 'Replace',
      cmdId: 0,
      items: [
        { source: { locUri: './DevInfo/DevId' }, data: { kind: 'text', text: deviceId } },
        { source: { locUri: './DevInfo/Man' }, data: { kind: 'text', text: 'ACME' } },
      ],
    },
  );
  return {
    header: {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: '1',
      msgId,
      target: { locUri: t.dm },
      source: { locUri: deviceId },
      ...(cred === undefined ? {} : { cred }),
    },
    body: body.map((c, i) => ({ ...c, cmdId: i + 1 })),
    final: true,
  };
}

const basic = (user: string, password: string): Cred => ({
  meta: { type: 'syncml:auth-basic', format: 'b64' },
  data: basicCredential(user, password),
});

/** What the client sees of each answer, until the server stops challenging (at most `max` messages). */
async function keepTrying(deviceId: string, cred: Cred | undefined, max = 10): Promise<string[]> {
  const seen: string[] = [];
  let last: number | undefined;
  for (let msgId = 1; msgId <= max; msgId++) {
    const response = await fetch(t.dm, {
      method: 'POST',
      headers: { 'content-type': XML },
      body: encodeMessage(package1(deviceId, msgId, cred, last), XML),
    });
    expect(response.status).toBe(200);
    const answer = decodeMessage(new Uint8Array(await response.arrayBuffer()), XML);
    const hdr = answer.body[0];
    const codes = answer.body.map((c) => (c.kind === 'Status' ? `${c.cmd} ${c.code}` : c.kind));
    const challenged = hdr?.kind === 'Status' && hdr.chal !== undefined;
    seen.push(
      `${answer.header.msgId}: ${codes.join(', ')}${challenged ? ' +Chal' : ''}${answer.final ? ' Final' : ''}`,
    );
    if (!challenged) break;
    last = answer.header.msgId;
  }
  return seen;
}

function bounded(code: number): string[] {
  return [
    ...[1, 2, 3, 4].map((n) => `${n}: SyncHdr ${code}, Alert ${code}, Replace ${code} +Chal Final`),
    `5: SyncHdr ${code}, Alert 215, Replace 215 Final`,
  ];
}

describe('protocol.md §10 / security.md §6: challenges per session are bounded', () => {
  it('wrong password: four challenges, then a final 401 without Chal; the commands 215 (nothing to resend)', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    expect(await keepTrying(device.deviceId, basic(device.username, 'wrong'))).toEqual(bounded(401));
    const view = await t.api.call<{ failedAuthCount: number }>('GET', `/devices/${device.deviceId}`);
    expect(view.body.failedAuthCount).toBe(5);
  });

  it('missing credentials repeated after a challenge count as failures too, and are bounded the same way', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    expect(await keepTrying(device.deviceId, undefined)).toEqual(bounded(407));
    // The first 407 is how a session begins; the four after it are failures.
    const view = await t.api.call<{ failedAuthCount: number }>('GET', `/devices/${device.deviceId}`);
    expect(view.body.failedAuthCount).toBe(4);
  });

  it('an unknown device looks the same as a wrong password, bound included', async () => {
    expect(await keepTrying('IMEI:000000000000000', basic('someone', 'wrong'))).toEqual(bounded(401));
    expect(await keepTrying('IMEI:000000000000001', undefined)).toEqual(bounded(407));
  });

  it('a locked device looks the same too, bound included; a new session (MsgID 1) starts a new count', async () => {
    const locking = await startTestServer({ lockout: { maxFailures: 2, lockMs: 60_000 } });
    const previous = t;
    t = locking;
    try {
      const device = await createTestDevice({ auth: 'basic' });
      await t.api.register(device);
      expect(await keepTrying(device.deviceId, basic(device.username, 'wrong'))).toEqual(bounded(401));
      const view = await t.api.call<{ lockedUntil: string | null }>('GET', `/devices/${device.deviceId}`);
      expect(view.body.lockedUntil).not.toBeNull();
      // Locked: even the right password gets the same bounded answers.
      expect(await keepTrying(device.deviceId, basic(device.username, device.password))).toEqual(
        bounded(401),
      );
    } finally {
      t = previous;
      await locking.close();
    }
  });

  it('maxAuthAttempts is configurable: with 1, two challenges, then the final answer', async () => {
    const strict = await startTestServer({ maxAuthAttempts: 1 });
    const previous = t;
    t = strict;
    try {
      const device = await createTestDevice({ auth: 'basic' });
      await t.api.register(device);
      expect(await keepTrying(device.deviceId, basic(device.username, 'wrong'))).toEqual([
        '1: SyncHdr 401, Alert 401, Replace 401 +Chal Final',
        '2: SyncHdr 401, Alert 401, Replace 401 +Chal Final',
        '3: SyncHdr 401, Alert 215, Replace 215 Final',
      ]);
    } finally {
      t = previous;
      await strict.close();
    }
  });

  it('the real client stops at the final answer (it is told no challenge) and the queued command stays queued', async () => {
    const device = await createTestDevice({ auth: 'md5' });
    await t.api.register(device);
    const id = await t.api.enqueue(device.deviceId, { command: 'Get', target: './DevInfo/Mod' });
    const run = await runSession(device, { url: t.dm, password: 'wrong' });
    expect(run.ended?.reason).toBe('auth-failed');
    expect(run.sent).toBeLessThanOrEqual(5);
    expect((await t.api.command(device.deviceId, id)).state).toBe('queued');
  });
});

describe('protocol.md §7: an object larger than the device MaxObjSize, in a session of one exchange', () => {
  it('is recorded failed with 413 (the session ends at once: nothing else was queued)', async () => {
    const device = await createTestDevice({ auth: 'basic' });
    await t.api.register(device);
    const id = await t.api.enqueue(device.deviceId, {
      command: 'Replace',
      target: './DevInfo/Ext/Big',
      data: 'x'.repeat(2000),
      format: 'chr',
    });
    const run = await runSession(device, { url: t.dm, maxObjSize: 1000 });
    expect(run.ended?.reason).toBe('completed');
    expect(run.sent).toBe(1);
    expect(await t.api.command(device.deviceId, id)).toMatchObject({ state: 'failed', status: 413 });
    // The next session has nothing to deliver.
    const again = await runSession(device, { url: t.dm, maxObjSize: 1000 });
    expect(again.sent).toBe(1);
    expect(again.responses[0]?.message?.body.every((c) => c.kind === 'Status')).toBe(true);
  });
});
