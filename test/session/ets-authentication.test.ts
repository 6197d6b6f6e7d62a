/** ets.md §2.2: authentication and the Package 1/2 loop, each scenario by its DG- id. */
import { describe, expect, it } from 'vitest';
import {
  basicCredential,
  fromB64,
  hmacMac,
  buildHmacHeader,
  md5Credential,
  parseHmacHeader,
} from '../../src/security/index.js';
import { ServerSession } from '../../src/session/index.js';
import { SeededRandom } from '../../src/platform/random.js';
import { ManualClock } from '../../src/platform/clock.js';
import { MemoryNonceStore } from '../../src/security/nonce.js';
import type { SyncMLMessage } from '../../src/syncml/model.js';
import {
  DEVICE_ID,
  DEV_INFO,
  ENCODINGS,
  Pair,
  SERVER_ID,
  SERVER_URI,
  ScriptedPeer,
  decode,
  encode,
  kinds,
  statusesOf,
} from './harness.js';

const md5Meta = { type: 'syncml:auth-md5', format: 'b64' };

function package1(
  options: {
    msgId?: number;
    cred?: SyncMLMessage['header']['cred'];
    locName?: string;
    alertCred?: boolean;
  } = {},
): SyncMLMessage {
  return {
    header: {
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: '7',
      msgId: options.msgId ?? 1,
      target: { locUri: SERVER_URI },
      source: { locUri: DEVICE_ID, ...(options.locName === undefined ? {} : { locName: options.locName }) },
      ...(options.cred === undefined ? {} : { cred: options.cred }),
    },
    body: [
      {
        kind: 'Alert',
        cmdId: 1,
        code: 1201,
        items: [],
        ...(options.alertCred === true && options.cred !== undefined ? { cred: options.cred } : {}),
      },
      { kind: 'Replace', cmdId: 2, items: DEV_INFO },
    ],
    final: true,
  };
}

function md5Server(nonces = new MemoryNonceStore()) {
  return new ServerSession({
    serverUri: SERVER_URI,
    credentials: { lookup: () => ({ client: { auth: 'md5', username: 'Bruce2', password: 'OhBehave' } }) },
    nonces,
    random: new SeededRandom(5),
    clock: new ManualClock(),
  });
}

for (const encoding of ENCODINGS) {
  describe(`ets §2.2 over ${encoding}`, () => {
    const roundTrip = (m: SyncMLMessage) => decode(encode(m, encoding), encoding);

    it('DG-AUT-01: 407 + basic Chal → Package 1 again with syncml:auth-basic Cred = B64(user:pass)', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'basic', username: 'Bruce2', password: 'OhBehave' },
        credentialsUpFront: false,
      });
      await peer.start();
      const again = await peer.reply([
        peer.hdrStatus(407, { meta: { type: 'syncml:auth-basic', format: 'b64' } }),
        peer.status(1, 'Alert', 407),
        peer.status(2, 'Replace', 407),
      ]);
      expect(again!.header.msgId).toBe(2);
      expect(kinds(again!)).toEqual(['Status', 'Alert 1201', 'Replace']);
      expect(again!.header.cred).toEqual({
        meta: { type: 'syncml:auth-basic', format: 'b64' },
        data: 'QnJ1Y2UyOk9oQmVoYXZl',
      });
    });

    it('DG-AUT-02: 401 + md5 Chal → md5 Cred on the decoded nonce, LocName, Format b64', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'md5', username: 'Bruce2', password: 'OhBehave' },
        credentialsUpFront: false,
      });
      await peer.start();
      const again = await peer.reply([
        peer.hdrStatus(401, { meta: { ...md5Meta, nextNonce: 'ZG9iZWhhdmUNCg==' } }),
        peer.status(1, 'Alert', 401),
        peer.status(2, 'Replace', 401),
      ]);
      expect(again!.header.cred).toEqual({ meta: md5Meta, data: 'kHLLLSPq49co1xndU6F2HQ==' });
      expect(again!.header.source.locName).toBe('Bruce2');
    });

    it('DG-AUT-03: 212 + NextNonce → no Cred for the rest of the session; nonce stored for the next session', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'md5', username: 'Bruce2', password: 'OhBehave' },
      });
      peer.nonces.set(SERVER_ID, 'client-to-server', 'Tm9uY2U=');
      const p1 = await peer.start();
      expect(p1.header.cred?.data).toBe('Zz6EivR3yeaaENcRN6lpAQ==');
      const p3 = await peer.reply([
        peer.hdrStatus(212, { meta: { ...md5Meta, nextNonce: 'bmV4dA==' } }),
        peer.status(1, 'Alert', 200),
        peer.status(2, 'Replace', 200),
        { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] },
      ]);
      expect(p3!.header.cred).toBeUndefined();
      expect(peer.nonces.get(SERVER_ID, 'client-to-server')).toBe('bmV4dA==');
      const next = new ScriptedPeer(encoding, {
        credentials: { auth: 'md5', username: 'Bruce2', password: 'OhBehave' },
        nonces: peer.nonces,
      });
      const p1next = await next.start();
      expect(p1next.header.cred?.data).toBe(md5Credential('Bruce2', 'OhBehave', fromB64('bmV4dA==')));
    });

    it('DG-AUT-04: 200 after Cred → Cred repeated in the next message, recomputed with the new nonce', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'md5', username: 'Bruce2', password: 'OhBehave' },
      });
      peer.nonces.set(SERVER_ID, 'client-to-server', 'Tm9uY2U=');
      await peer.start();
      const p3 = await peer.reply([
        peer.hdrStatus(200, { meta: { ...md5Meta, nextNonce: 'bmV4dA==' } }),
        peer.status(1, 'Alert', 200),
        peer.status(2, 'Replace', 200),
        { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] },
      ]);
      expect(p3!.header.cred?.data).toBe(md5Credential('Bruce2', 'OhBehave', fromB64('bmV4dA==')));
    });

    it('DG-AUT-06: wrong server Cred with commands → 401 + Chal + NextNonce on SyncHdr, 401 on every command, nothing executed', async () => {
      const peer = new ScriptedPeer(encoding, {
        credentials: { auth: 'basic', username: 'dev', password: 'pw' },
        serverCredentials: { auth: 'md5', username: SERVER_ID, password: 'srvpw' },
      });
      await peer.start();
      const answer = await peer.reply(
        [
          peer.hdrStatus(212),
          peer.status(1, 'Alert', 200),
          peer.status(2, 'Replace', 200),
          {
            kind: 'Replace',
            cmdId: 0,
            items: [{ target: { locUri: './Vendor/Setting' }, data: { kind: 'text', text: 'off' } }],
          },
          {
            kind: 'Sequence',
            cmdId: 0,
            commands: [{ kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] }],
          },
        ],
        { cred: { meta: md5Meta, data: 'AAAAAAAAAAAAAAAAAAAAAA==' }, locName: SERVER_ID },
      );
      expect(statusesOf(answer!).map((s) => [s.cmd, s.code])).toEqual([
        ['SyncHdr', 401],
        ['Replace', 401],
        ['Sequence', 401],
        ['Get', 401],
      ]);
      const chal = (answer!.body[0] as { chal?: { meta: { type?: string; nextNonce?: string } } }).chal;
      expect(chal?.meta.type).toBe('syncml:auth-md5');
      expect(peer.nonces.get(SERVER_ID, 'server-to-client')).toBe(chal?.meta.nextNonce);
      expect(peer.tree.log).toEqual([]);
      expect(peer.tree.nodes.get('./Vendor/Setting')).toBe('on');
    });

    it('DG-AUT-07: Package 1 without Cred when the server requires it → 407 + Chal (md5, b64, NextNonce), Status only', async () => {
      const server = md5Server();
      const step = await server.receive(roundTrip(package1()));
      const reply = roundTrip(step.outgoing!.message);
      expect(reply.body.every((c) => c.kind === 'Status')).toBe(true);
      expect(statusesOf(reply).map((s) => s.code)).toEqual([407, 407, 407]);
      const chal = (
        reply.body[0] as { chal?: { meta: { type?: string; format?: string; nextNonce?: string } } }
      ).chal!;
      expect(chal.meta.type).toBe('syncml:auth-md5');
      expect(chal.meta.format).toBe('b64');
      expect(fromB64(chal.meta.nextNonce!)).toHaveLength(16);
      expect(server.state).toBe('setup');
    });

    it('DG-AUT-08: md5 Cred on a stale nonce → 401 with a fresh NextNonce', async () => {
      const nonces = new MemoryNonceStore();
      nonces.set(DEVICE_ID, 'client-to-server', 'Y3VycmVudA==');
      const server = md5Server(nonces);
      const stale = md5Credential('Bruce2', 'OhBehave', fromB64('b2xk'));
      const step = await server.receive(
        roundTrip(package1({ cred: { meta: md5Meta, data: stale }, locName: 'Bruce2' })),
      );
      const hdr = step.outgoing!.message.body[0] as { code: number; chal?: { meta: { nextNonce?: string } } };
      expect(hdr.code).toBe(401);
      expect(hdr.chal?.meta.nextNonce).not.toBe('Y3VycmVudA==');
      expect(nonces.get(DEVICE_ID, 'client-to-server')).toBe(hdr.chal?.meta.nextNonce);
    });

    it('DG-AUT-09: correct md5 Cred → 212 with a Chal carrying the next-session nonce', async () => {
      const nonces = new MemoryNonceStore();
      nonces.set(DEVICE_ID, 'client-to-server', 'Tm9uY2U=');
      const server = md5Server(nonces);
      const step = await server.receive(
        roundTrip(package1({ cred: { meta: md5Meta, data: 'Zz6EivR3yeaaENcRN6lpAQ==' }, locName: 'Bruce2' })),
      );
      const hdr = step.outgoing!.message.body[0] as { code: number; chal?: { meta: { nextNonce?: string } } };
      expect(hdr.code).toBe(212);
      expect(hdr.chal?.meta.nextNonce).toBeDefined();
      expect(step.events).toContainEqual({ type: 'client-authenticated', auth: 'md5' });
    });

    it('DG-AUT-10: HMAC on every message; 200 + new NextNonce each time; a missing header is an auth failure', async () => {
      const pair = new Pair({
        encoding,
        account: { client: { auth: 'hmac', username: 'dev-user', password: 'devpw' } },
        client: { credentialsUpFront: false },
        beforeServer: (server, turn) => {
          if (turn === 2)
            server.enqueue('g1', { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] });
          if (turn === 3)
            server.enqueue('g2', {
              kind: 'Get',
              cmdId: 0,
              items: [{ target: { locUri: './Vendor/Setting' } }],
            });
        },
      });
      await pair.run();
      const client = pair.transcript.filter((e) => e.from === 'client');
      expect(client.map((e) => e.hmac === undefined)).toEqual([true, false, false, false]);
      for (const e of client.slice(1))
        expect(parseHmacHeader(e.hmac)).toMatchObject({ algorithm: 'MD5', username: 'dev-user' });
      const nonces = pair
        .messages('server')
        .slice(1)
        .map((m) => {
          const hdr = m.body[0] as { code: number; chal?: { meta: { nextNonce?: string } } };
          expect(hdr.code).toBe(200);
          return hdr.chal?.meta.nextNonce;
        });
      expect(new Set(nonces).size).toBe(nonces.length);

      // A message without the header when HMAC is required is an authentication failure.
      const fresh = new Pair({
        encoding,
        account: { client: { auth: 'hmac', username: 'dev-user', password: 'devpw' } },
      });
      fresh.serverNonces.set(DEVICE_ID, 'client-to-server', 'bm9uY2U=');
      fresh.clientNonces.set(SERVER_ID, 'client-to-server', 'bm9uY2U=');
      const start = await fresh.client.start();
      const bytes = encode(start.outgoing!.message, encoding);
      expect(start.outgoing!.hmacHeader(bytes)).toBe(
        buildHmacHeader('dev-user', hmacMac('dev-user', 'devpw', fromB64('bm9uY2U='), bytes)),
      );
      const refused = await fresh.server().receive(decode(bytes, encoding), { body: bytes });
      expect((refused.outgoing!.message.body[0] as { code: number }).code).toBe(407);
    });

    it('DG-AUT-11: a client answering an md5 challenge with basic credentials is terminated', async () => {
      const server = md5Server();
      const first = await server.receive(roundTrip(package1()));
      expect((first.outgoing!.message.body[0] as { code: number }).code).toBe(407);
      const basic = {
        meta: { type: 'syncml:auth-basic', format: 'b64' },
        data: basicCredential('Bruce2', 'OhBehave'),
      };
      const second = await server.receive(roundTrip(package1({ msgId: 2, cred: basic })));
      const hdr = second.outgoing!.message.body[0] as { code: number; chal?: unknown };
      expect(hdr.code).toBe(401);
      expect(hdr.chal).toBeUndefined();
      expect(server.state).toBe('ended');
      expect(second.events).toContainEqual(expect.objectContaining({ type: 'ended', reason: 'auth-failed' }));
    });

    it('DG-AUT-12: Cred inside a command is not accepted (only the SyncHdr Cred counts)', async () => {
      const nonces = new MemoryNonceStore();
      nonces.set(DEVICE_ID, 'client-to-server', 'Tm9uY2U=');
      const server = md5Server(nonces);
      const message = package1({
        cred: { meta: md5Meta, data: 'Zz6EivR3yeaaENcRN6lpAQ==' },
        alertCred: true,
      });
      const { cred: _cred, ...header } = message.header;
      const onlyInAlert: SyncMLMessage = { ...message, header };
      expect(onlyInAlert.body[0]).toHaveProperty('cred');
      const step = await server.receive(roundTrip(onlyInAlert));
      expect((step.outgoing!.message.body[0] as { code: number }).code).toBe(407);
    });
  });
}

describe('HMAC verified on every message (security.md §5)', () => {
  it('a wrong mac mid-session terminates: 401 for the SyncHdr and every command, Results included', async () => {
    const pair = new Pair({
      encoding: 'xml',
      account: { client: { auth: 'hmac', username: 'dev-user', password: 'devpw' } },
    });
    pair.clientNonces.set(SERVER_ID, 'client-to-server', 'bm9uY2U=');
    pair.serverNonces.set(DEVICE_ID, 'client-to-server', 'bm9uY2U=');
    const start = await pair.client.start();
    const p1 = pair.record('client', start.outgoing!, 1);
    const server = pair.server();
    server.enqueue('g', { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] });
    const r1 = await server.receive(p1.message, { body: p1.bytes, hmac: p1.hmac! });
    expect((r1.outgoing!.message.body[0] as { code: number }).code).toBe(200);
    const p3 = await pair.client.receive(pair.record('server', r1.outgoing!, 1).message);
    const bytes = encode(p3.outgoing!.message, 'xml');
    const forged = buildHmacHeader('dev-user', 'AAAAAAAAAAAAAAAAAAAAAA==');
    const r2 = await server.receive(decode(bytes, 'xml'), { body: bytes, hmac: forged });
    expect(statusesOf(r2.outgoing!.message).map((s) => [s.cmd, s.code])).toEqual([
      ['SyncHdr', 401],
      ['Results', 401],
    ]);
    expect(server.state).toBe('ended');
    expect(r2.events).toContainEqual(expect.objectContaining({ type: 'ended', reason: 'auth-failed' }));
    expect(r2.events).not.toContainEqual(expect.objectContaining({ type: 'outcome' }));
  });
});
