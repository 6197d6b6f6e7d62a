/**
 * The server engine against messages captured from libdmclient (test/fixtures/libdmclient, copies of the captures in shared/fixtures; see its
 * README): legacy content types, SessionID 1, DevInfo in reverse order, Status 212 + Chal from the client for
 * our SyncHdr, and Package 1 resent after a 401 md5 challenge.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/syncml/codec.js';
import { ContentType } from '../../src/syncml/content-type.js';
import type { SyncMLMessage } from '../../src/syncml/model.js';
import { ManualClock } from '../../src/platform/clock.js';
import { SeededRandom } from '../../src/platform/random.js';
import { fromB64, md5Credential, MemoryNonceStore } from '../../src/security/index.js';
import { ServerSession, type DeviceAccount, type ServerEvent } from '../../src/session/index.js';
import { statusesOf } from './harness.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/libdmclient', import.meta.url));
const SERVER = 'http://127.0.0.1:18080/dm';

function capture(name: string): { message: SyncMLMessage; body: Uint8Array } {
  const body = new Uint8Array(readFileSync(`${FIXTURES}/${name}`));
  const type = name.endsWith('.wbxml') ? ContentType.LEGACY_WBXML : ContentType.LEGACY_XML;
  return { message: decodeMessage(body, type), body };
}

function server(account: DeviceAccount, nonces = new MemoryNonceStore()): ServerSession {
  return new ServerSession({
    serverUri: SERVER,
    credentials: { lookup: (deviceId) => (deviceId === 'DMCtest' ? account : undefined) },
    nonces,
    random: new SeededRandom(3),
    clock: new ManualClock(),
  });
}

const basicAlice: DeviceAccount = {
  client: { auth: 'basic', username: 'alice', password: 'alicepw' },
  server: { auth: 'md5', username: 'srv', password: 'srvpw' },
};

describe('libdmclient captures', () => {
  for (const [pkg1, pkg3] of [
    ['PKG1_xml_basic-cred.xml', 'PKG3_xml.xml'],
    ['PKG1_wbxml.wbxml', 'PKG3_wbxml.wbxml'],
  ] as const) {
    it(`${pkg1} then ${pkg3}: basic accepted (212), our Get at CmdID 4 answered, the client's 212 + Chal nonce kept`, async () => {
      const nonces = new MemoryNonceStore();
      const s = server(basicAlice, nonces);
      const p1 = capture(pkg1);
      s.enqueue('mod', { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] });
      const r1 = await s.receive(p1.message, { body: p1.body });
      const p2 = r1.outgoing!.message;
      expect(p2.header).toMatchObject({
        sessionId: '1',
        msgId: 1,
        target: { locUri: 'DMCtest' },
        source: { locUri: SERVER },
      });
      // libdmclient expects the server to authenticate itself with md5.
      expect(p2.header.cred?.meta?.type).toBe('syncml:auth-md5');
      expect(statusesOf(p2)).toEqual([
        { cmd: 'SyncHdr', cmdRef: 0, code: 212, msgRef: 1 },
        { cmd: 'Alert', cmdRef: 1, code: 200, msgRef: 1 },
        { cmd: 'Replace', cmdRef: 2, code: 200, msgRef: 1 },
      ]);
      expect(p2.body[3]).toMatchObject({ kind: 'Get', cmdId: 4 });
      const devinfo = r1.events.find(
        (e): e is Extract<ServerEvent, { type: 'devinfo' }> => e.type === 'devinfo',
      );
      expect(devinfo?.items.map((i) => i.source?.locUri)).toContain('./DevInfo/DevId');

      const snapshot = JSON.parse(JSON.stringify(s.snapshot())) as ReturnType<ServerSession['snapshot']>;
      const again = ServerSession.restore(snapshot, {
        serverUri: SERVER,
        credentials: { lookup: () => basicAlice },
        nonces,
        random: new SeededRandom(4),
        clock: new ManualClock(),
      });
      const p3 = capture(pkg3);
      const r2 = await again.receive(p3.message, { body: p3.body });
      expect(r2.events).toContainEqual(
        expect.objectContaining({
          type: 'outcome',
          id: 'mod',
          code: 200,
          results: [expect.objectContaining({ data: { kind: 'text', text: 'test model' } })],
        }),
      );
      expect(r2.events).toContainEqual({ type: 'server-authenticated', code: 212 });
      const chal = (p3.message.body[0] as { chal?: { meta: { nextNonce?: string } } }).chal;
      expect(nonces.get('DMCtest', 'server-to-client')).toBe(chal?.meta.nextNonce);
      if (pkg3.endsWith('.xml')) expect(chal?.meta.nextNonce).toBe('aXZFZkxURHNmcjA9');
      expect(statusesOf(r2.outgoing!.message).map((x) => x.cmd)).toEqual(['SyncHdr']);
      expect(r2.outgoing!.message.header.cred).toBeUndefined();
      expect(again.state).toBe('ended');
    });
  }

  it('PKG1_resend_after_401_md5.xml: the shape of a Package 1 resent after an md5 challenge is accepted', async () => {
    const md5Account: DeviceAccount = {
      client: { auth: 'md5', username: 'DMCtest', password: 'devpw' },
      server: { auth: 'md5', username: 'srv', password: 'srvpw' },
    };
    const nonces = new MemoryNonceStore();
    const s = server(md5Account, nonces);
    // libdmclient's first Package 1 of that run, without credentials.
    const first = capture('PKG1_xml_basic-cred.xml').message;
    const { cred: _cred, ...header } = first.header;
    const r1 = await s.receive({ ...first, header });
    const challenge = r1.outgoing!.message;
    expect(statusesOf(challenge).map((x) => x.code)).toEqual([407, 407, 407]);
    const nonce = (challenge.body[0] as { chal?: { meta: { nextNonce?: string } } }).chal!.meta.nextNonce!;

    // The captured resend, its md5 Cred recomputed for our nonce and the account's password.
    const resend = capture('PKG1_resend_after_401_md5.xml').message;
    const cred = { ...resend.header.cred!, data: md5Credential('DMCtest', 'devpw', fromB64(nonce)) };
    const r2 = await s.receive({ ...resend, header: { ...resend.header, cred } });
    const p2 = r2.outgoing!.message;
    expect(statusesOf(p2)).toEqual([
      { cmd: 'SyncHdr', cmdRef: 0, code: 212, msgRef: 2 },
      { cmd: 'Alert', cmdRef: 2, code: 200, msgRef: 2 },
      { cmd: 'Replace', cmdRef: 3, code: 200, msgRef: 2 },
    ]);
    expect(r2.events).toContainEqual({ type: 'client-authenticated', auth: 'md5' });
    // The client's own Status 212 + Chal for our SyncHdr: the nonce it wants next time is kept.
    expect(nonces.get('DMCtest', 'server-to-client')).toBe('QkYvdkZ6RE1QYnM9');
    expect(s.state).toBe('ended');

    // The capture exactly as sent (a digest over another server's nonce) is refused with a fresh challenge.
    const t = server(md5Account);
    await t.receive({ ...first, header });
    const r3 = await t.receive(resend);
    expect(statusesOf(r3.outgoing!.message).map((x) => x.code)).toEqual([401, 401, 401]);
    expect(r3.outgoing!.message.body.every((c) => c.kind === 'Status')).toBe(true);
  });
});
