/** Engine behaviour outside the ETS catalogue: the transition tables, timeouts, snapshots, refusals. */
import { describe, expect, it } from 'vitest';
import { LocalProtocolError, RemoteProtocolError } from '../../src/errors.js';
import { ManualClock } from '../../src/platform/clock.js';
import { SeededRandom } from '../../src/platform/random.js';
import { MemoryNonceStore } from '../../src/security/nonce.js';
import {
  CLIENT_TRANSITIONS,
  SERVER_TRANSITIONS,
  ServerSession,
  StateMachine,
} from '../../src/session/index.js';
import { DEVICE_ID, MapTree, Pair, ScriptedPeer, SERVER_URI, kinds } from './harness.js';

describe('transition tables', () => {
  it('an illegal move throws a LocalProtocolError naming role, state and event', () => {
    const machine = new StateMachine('client', CLIENT_TRANSITIONS, 'idle');
    expect(() => machine.fire('receive')).toThrow(LocalProtocolError);
    expect(() => machine.fire('receive')).toThrow('client session in state idle cannot handle event receive');
    machine.fire('start');
    expect(machine.state).toBe('setup');
    expect(machine.can('challenged')).toBe(true);
    const server = new StateMachine('server', SERVER_TRANSITIONS, 'ended');
    expect(() => server.fire('receive')).toThrow('server session in state ended cannot handle event receive');
  });

  it('a client cannot receive before start, nor anything after the end', async () => {
    const peer = new ScriptedPeer('xml');
    await expect(
      peer.client.receive({
        header: {
          verDtd: '1.2',
          verProto: 'DM/1.2',
          sessionId: '1A',
          msgId: 1,
          target: { locUri: DEVICE_ID },
          source: { locUri: SERVER_URI },
        },
        body: [],
        final: true,
      }),
    ).rejects.toThrow('client session in state idle cannot handle event receive');
    await peer.start();
    await peer.reply([peer.hdrStatus(200)]);
    expect(peer.client.state).toBe('ended');
    await expect(peer.reply([peer.hdrStatus(200)])).rejects.toThrow(
      'client session in state ended cannot handle event receive',
    );
    expect(() => peer.client.addAlert({ id: 'x', items: [] })).toThrow(LocalProtocolError);
  });

  it('a server session that ended refuses further messages and enqueues', async () => {
    const pair = new Pair({ encoding: 'xml', account: {} });
    await pair.run();
    const server = pair.server();
    expect(server.state).toBe('ended');
    expect(() => server.enqueue('x', { kind: 'Get', cmdId: 0, items: [] })).toThrow(
      'server session in state ended cannot handle event enqueue (x)',
    );
    await expect(server.receive(pair.messages('client')[0]!)).rejects.toThrow(
      'server session in state ended cannot handle event receive',
    );
  });
});

describe('refusals say who is at fault', () => {
  it('a server answer for another SessionID is a RemoteProtocolError', async () => {
    const peer = new ScriptedPeer('xml');
    await peer.start();
    const wrong = {
      header: {
        verDtd: '1.2',
        verProto: 'DM/1.2',
        sessionId: 'FF',
        msgId: 1,
        target: { locUri: DEVICE_ID },
        source: { locUri: SERVER_URI },
      },
      body: [],
      final: true,
    };
    await expect(peer.client.receive(wrong)).rejects.toThrow(RemoteProtocolError);
  });

  it('VerProto other than DM/1.2 → RemoteProtocolError with status 513', async () => {
    const server = new ServerSession({
      serverUri: SERVER_URI,
      credentials: { lookup: () => ({}) },
      nonces: new MemoryNonceStore(),
      random: new SeededRandom(),
      clock: new ManualClock(),
    });
    const message = {
      header: {
        verDtd: '1.2',
        verProto: 'DM/1.1',
        sessionId: '1',
        msgId: 1,
        target: { locUri: SERVER_URI },
        source: { locUri: DEVICE_ID },
      },
      body: [],
      final: true,
    };
    await expect(server.receive(message)).rejects.toMatchObject({ status: 513 });
  });

  it('an unknown device is refused with 401 and no challenge; the server does not loop', async () => {
    const server = new ServerSession({
      serverUri: SERVER_URI,
      credentials: { lookup: () => undefined },
      nonces: new MemoryNonceStore(),
      random: new SeededRandom(),
      clock: new ManualClock(),
    });
    const message = {
      header: {
        verDtd: '1.2',
        verProto: 'DM/1.2',
        sessionId: '1',
        msgId: 1,
        target: { locUri: SERVER_URI },
        source: { locUri: 'nobody' },
      },
      body: [{ kind: 'Alert' as const, cmdId: 1, code: 1201, items: [] }],
      final: true,
    };
    const step = await server.receive(message);
    expect(
      step.outgoing!.message.body.map((c) =>
        c.kind === 'Status' ? [c.cmd, c.code, c.chal === undefined] : c.kind,
      ),
    ).toEqual([
      ['SyncHdr', 401, true],
      ['Alert', 401, true],
    ]);
    expect(server.state).toBe('ended');
  });

  it('a client that may only Replace DevInfo: other commands get 405 from the server', async () => {
    const server = new ServerSession({
      serverUri: SERVER_URI,
      credentials: { lookup: () => ({}) },
      nonces: new MemoryNonceStore(),
      random: new SeededRandom(),
      clock: new ManualClock(),
    });
    const message = {
      header: {
        verDtd: '1.2',
        verProto: 'DM/1.2',
        sessionId: '1',
        msgId: 1,
        target: { locUri: SERVER_URI },
        source: { locUri: DEVICE_ID },
      },
      body: [
        { kind: 'Alert' as const, cmdId: 1, code: 1201, items: [] },
        {
          kind: 'Replace' as const,
          cmdId: 2,
          items: [{ target: { locUri: './Other' }, data: { kind: 'text' as const, text: 'x' } }],
        },
        { kind: 'Get' as const, cmdId: 3, items: [{ target: { locUri: './X' } }] },
      ],
      final: true,
    };
    const step = await server.receive(message);
    expect(step.outgoing!.message.body.map((c) => (c.kind === 'Status' ? c.code : 0))).toEqual([
      200, 200, 405, 405,
    ]);
  });
});

describe('timeouts are events', () => {
  it('client: silence past timeoutMs ends the session with reason timeout', async () => {
    const peer = new ScriptedPeer('xml', { timeoutMs: 30_000 });
    await peer.start();
    peer.clock.advance(29_999);
    expect(peer.client.tick().events).toEqual([]);
    peer.clock.advance(1);
    expect(peer.client.tick().events).toEqual([{ type: 'ended', reason: 'timeout' }]);
    expect(peer.client.state).toBe('ended');
  });

  it('server: a restored session idle past timeoutMs ends on tick()', async () => {
    const pair = new Pair({
      encoding: 'xml',
      account: {},
      server: { timeoutMs: 60_000 },
      beforeServer: (s, turn) =>
        turn === 1 &&
        s.enqueue('g', { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] }),
    });
    const start = await pair.client.start();
    const server = pair.server();
    server.enqueue('g', { kind: 'Get', cmdId: 0, items: [{ target: { locUri: './DevInfo/Mod' } }] });
    await server.receive(pair.record('client', start.outgoing!, 1).message);
    pair.snapshot = server.snapshot();
    pair.clock.advance(59_000);
    expect(pair.server().tick().events).toEqual([]);
    pair.clock.advance(1_000);
    const later = pair.server();
    expect(later.tick().events).toEqual([{ type: 'ended', reason: 'timeout' }]);
    expect(later.state).toBe('ended');
  });
});

describe('server snapshots', () => {
  it('are plain JSON, carry binary data, and every request may be answered by a fresh engine', async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255, 128]);
    const tree = new MapTree();
    const pair = new Pair({
      encoding: 'wbxml',
      account: { client: { auth: 'md5', username: 'u', password: 'p' } },
      client: { credentialsUpFront: false },
      tree,
      beforeServer: (s, turn) =>
        turn === 1 &&
        s.enqueue('bin', {
          kind: 'Replace',
          cmdId: 0,
          items: [
            { target: { locUri: './Vendor/Bin' }, meta: { format: 'bin' }, data: { kind: 'binary', bytes } },
          ],
        }),
    });
    await pair.run();
    const json = JSON.stringify(pair.snapshot);
    expect(JSON.parse(json)).toEqual(pair.snapshot);
    expect(tree.nodes.get('./Vendor/Bin')).toBe(Buffer.from(bytes).toString('latin1'));
    expect(pair.serverEvents).toContainEqual(
      expect.objectContaining({ type: 'outcome', id: 'bin', code: 200 }),
    );
  });

  it('restore refuses a snapshot of another version', () => {
    const options = {
      serverUri: SERVER_URI,
      credentials: { lookup: () => ({}) },
      nonces: new MemoryNonceStore(),
      random: new SeededRandom(),
      clock: new ManualClock(),
    };
    expect(() => ServerSession.restore({ version: 99, data: {} }, options)).toThrow(LocalProtocolError);
  });
});

describe('client abort before and during a session', () => {
  it('abort before start sends nothing; after start sends Alert 1223 with Final', async () => {
    const idle = new ScriptedPeer('xml');
    expect(idle.client.abort()).toEqual({
      outgoing: undefined,
      events: [{ type: 'ended', reason: 'aborted' }],
    });
    const peer = new ScriptedPeer('xml');
    await peer.start();
    const step = peer.client.abort();
    expect(kinds(step.outgoing!.message)).toEqual(['Alert 1223']);
    expect(step.outgoing!.message.final).toBe(true);
  });
});

describe('MaxMsgSize too small for the exchange', () => {
  it('ends with a clear LocalProtocolError instead of pulling messages forever', async () => {
    const pair = new Pair({
      encoding: 'xml',
      account: {
        client: { auth: 'hmac', username: 'dev-user', password: 'devpw' },
        server: { auth: 'hmac', username: 'srv', password: 'srvpw' },
      },
      client: { credentialsUpFront: false, maxMsgSize: 700 },
    });
    const error: unknown = await pair.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LocalProtocolError);
    expect((error as LocalProtocolError).message).toMatch(/MaxMsgSize 700/);
  });
});
