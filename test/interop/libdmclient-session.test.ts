/**
 * Interoperability with a real third-party client: Intel's libdmclient (`testdmclient`), captured on the wire
 * against this server (see test/fixtures/libdmclient-sessions/README.md for how and when). Each test replays the
 * client's captured messages, in order, to the real server over HTTP and compares what the server answers with
 * what it answered during the capture (same statuses, same commands, same credentials and nonces: the server's
 * 16-byte nonces are replayed from the capture). The second group guards the deviations of this server found in
 * those sessions, fixed since and captured again with the fixed server (README there).
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SeededRandom, type Random } from '../../src/platform/random.js';
import { decodeMessage } from '../../src/syncml/codec.js';
import type { Command, Data, Item, SyncMLMessage } from '../../src/syncml/model.js';
import { fromB64, md5Credential } from '../../src/security/index.js';
import { startTestServer, type TestServer } from '../e2e/support/server.js';

const FIXTURES = new URL('../fixtures/libdmclient-sessions/', import.meta.url);

interface Exchange {
  readonly client: string;
  readonly clientContentType: string;
  readonly server: string;
  readonly serverContentType: string;
  readonly httpStatus: number;
}
interface Manifest {
  readonly exchanges: readonly Exchange[];
  /** The server's 16-byte random draws (nonces) during the capture, hex, in order. */
  readonly serverRandom16: readonly string[];
}
interface Capture {
  readonly manifest: Manifest;
  bytes(file: string): Uint8Array;
}

function capture(name: string): Capture {
  const dir = new URL(`${name}/`, FIXTURES);
  return {
    manifest: JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as Manifest,
    bytes: (file) => new Uint8Array(readFileSync(new URL(file, dir))),
  };
}

/** Hands out the captured nonces for 16-byte draws (in order); anything else comes from a seeded generator. */
class ReplayRandom implements Random {
  readonly #queue: Uint8Array[] = [];
  readonly #fallback = new SeededRandom(0x1d1ce);
  push(hex: readonly string[]): void {
    for (const h of hex) this.#queue.push(new Uint8Array(Buffer.from(h, 'hex')));
  }
  bytes(length: number): Uint8Array {
    const next = length === 16 ? this.#queue.shift() : undefined;
    return next ?? this.#fallback.bytes(length);
  }
}

// libdmclient's test account (tests/mgtobj/DmAcc, ServerID `funambol`) and DevInfo/DevId.
const DEVICE_ID = 'DMCtest';
const SERVER_ID = 'funambol';
const CLIENT_USER = 'funambol';
const CLIENT_PASSWORD = 'funambol';
const SERVER_PASSWORD = 'srvpwd';

/** What was queued before each captured session, in order (CmdIDs depend on it). */
const MANAGEMENT = [
  { command: 'Get', target: './DevInfo/Mod' },
  { command: 'Add', target: './Vendor/memory/x', data: 'hello', format: 'chr', type: 'text/plain' },
  { command: 'Replace', target: './Vendor/memory/x', data: 'world', format: 'chr' },
  { command: 'Get', target: './Vendor/memory/x' },
  { command: 'Exec', target: './test/execute', data: 'go' },
  { command: 'Delete', target: './Vendor/memory/x' },
  { command: 'Get', target: './Vendor/memory/x' },
  { command: 'Get', target: './DevInfo/Ext' },
] as const;
const MANAGEMENT_OUTCOME = [
  ['done', 200, ['test model']],
  ['done', 200, []],
  ['done', 200, []],
  ['done', 200, ['world']],
  ['done', 200, []],
  ['done', 200, []],
  ['failed', 404, []],
  ['done', 200, ['Intel/other']],
] as const;
const UI_AND_LARGE_OBJECT = [
  { command: 'Alert', code: 1100, items: ['MINDT=5', 'Hello from omadm'] },
  { command: 'Alert', code: 1101, items: ['MINDT=5', 'Proceed?'] },
  {
    command: 'Add',
    target: './Vendor/memory/big',
    data: 'A'.repeat(30000),
    format: 'chr',
    type: 'text/plain',
  },
  { command: 'Get', target: './Vendor/memory/big' },
  { command: 'Get', target: './Nope/missing' },
  { command: 'Get', target: './DevInfo?list=Struct' },
] as const;

const ATOMIC_AND_PROPERTIES = [
  {
    command: 'Atomic',
    commands: [
      { command: 'Add', target: './Vendor/memory/a1', data: '1', format: 'chr' },
      { command: 'Add', target: './Vendor/memory/a2', data: '2', format: 'chr' },
    ],
  },
  {
    command: 'Atomic',
    commands: [
      { command: 'Add', target: './Vendor/memory/b1', data: '1', format: 'chr' },
      { command: 'Replace', target: './DevInfo/Mod', data: 'x', format: 'chr' },
    ],
  },
  { command: 'Copy', target: './Vendor/memory/c1', source: './Vendor/memory/a1' },
  { command: 'Get', target: './Vendor/memory/b1' },
  { command: 'Get', target: './DevInfo/Mod?prop=ACL' },
  { command: 'Get', target: './DevInfo/Mod?prop=Format' },
  { command: 'Replace', target: './DevInfo/Mod', data: 'x', format: 'chr' },
  { command: 'Get', target: './Vendor/memory' },
] as const;
const ATOMIC_AND_PROPERTIES_OUTCOME = [
  ['queued', null, []],
  ['queued', null, []],
  ['failed', 501, []],
  ['done', 200, ['1']],
  // libdmclient's ACL of ./DevInfo/Mod has no value: Results without Data.
  ['done', 200, [null]],
  ['done', 200, ['chr']],
  ['failed', 425, []],
  ['done', 200, ['b1/a2/a1']],
] as const;

let t: TestServer;
let random: ReplayRandom;

beforeEach(async () => {
  random = new ReplayRandom();
  t = await startTestServer({ serverId: SERVER_ID, random });
});
afterEach(async () => {
  await t.close();
});

async function register(
  authType: 'basic' | 'md5' | 'hmac',
  serverAuthType?: 'basic' | 'md5' | 'hmac',
): Promise<void> {
  const r = await t.api.call('POST', '/devices', {
    deviceId: DEVICE_ID,
    username: CLIENT_USER,
    password: CLIENT_PASSWORD,
    authType,
    ...(serverAuthType === undefined ? {} : { serverAuthType }),
    serverPassword: SERVER_PASSWORD,
  });
  expect(r.status).toBe(201);
}

async function enqueue(commands: readonly unknown[]): Promise<number[]> {
  const ids: number[] = [];
  for (const command of commands) ids.push(await t.api.enqueue(DEVICE_ID, command));
  return ids;
}

interface Reply {
  readonly status: number;
  readonly contentType: string | null;
  readonly message: SyncMLMessage;
}

/** Posts one captured client message as libdmclient did (its legacy Content-Type) and decodes the answer. */
async function post(c: Capture, exchange: Exchange): Promise<Reply> {
  const response = await fetch(t.dm, {
    method: 'POST',
    headers: { 'content-type': exchange.clientContentType },
    body: c.bytes(exchange.client),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const contentType = response.headers.get('content-type');
  expect(response.status).toBe(200);
  return {
    status: response.status,
    contentType,
    message: decodeMessage(bytes, contentType ?? exchange.serverContentType),
  };
}

function captured(c: Capture, exchange: Exchange): SyncMLMessage {
  return decodeMessage(c.bytes(exchange.server), exchange.serverContentType);
}

function dataText(data: Data | undefined): string {
  if (data === undefined) return '-';
  if (data.kind === 'text') return data.text.length > 40 ? `<${data.text.length} chars>` : data.text;
  return `<${data.kind}>`;
}

function itemText(item: Item): string {
  const uri = item.target?.locUri ?? item.source?.locUri ?? '';
  return `${uri}${item.moreData === true ? '+more' : ''}=${dataText(item.data)}`;
}

function commandText(c: Command): string {
  switch (c.kind) {
    case 'Status': {
      const chal =
        c.chal === undefined
          ? ''
          : ` chal=${c.chal.meta.type ?? '?'}${c.chal.meta.nextNonce === undefined ? '' : `/${c.chal.meta.nextNonce}`}`;
      return `Status ${c.cmd}#${c.cmdRef} ${c.code}${chal}`;
    }
    case 'Results':
      return `Results #${c.cmdRef} ${c.items.map(itemText).join(' ')}`;
    case 'Alert':
      return `Alert ${c.code ?? '?'} ${c.items.map(itemText).join(' ')}`;
    case 'Atomic':
    case 'Sequence':
      return `${c.kind} [${c.commands.map(commandText).join('; ')}]`;
    default:
      return `${c.kind} ${c.items.map(itemText).join(' ')}`;
  }
}

/** Everything that matters to the client, MsgID left out (see the MsgID test). */
function summary(m: SyncMLMessage): unknown {
  const cred = m.header.cred;
  return {
    sessionId: m.header.sessionId,
    target: m.header.target.locUri,
    source: m.header.source.locUri,
    cred: cred === undefined ? null : `${cred.meta?.type ?? '?'} ${cred.data}`,
    final: m.final,
    body: m.body.map(commandText),
  };
}

/** Replays exchanges [from, to) and checks each answer against the captured one. */
async function replay(c: Capture, from = 0, to = c.manifest.exchanges.length): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (const exchange of c.manifest.exchanges.slice(from, to)) {
    const reply = await post(c, exchange);
    expect(summary(reply.message), `answer to ${exchange.client}`).toEqual(summary(captured(c, exchange)));
    replies.push(reply);
  }
  return replies;
}

async function outcomes(ids: readonly number[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const id of ids) {
    const view = await t.api.command(DEVICE_ID, id);
    out.push([view.state, view.status, view.results.map((r) => r.data)]);
  }
  return out;
}

describe('libdmclient against this server: what works (regression guards)', () => {
  it('XML, basic both ways, credentials up front: 212 at once; Get/Add/Replace/Exec/Delete; Generic Alert 1226 from Exec', async () => {
    const c = capture('xml-basic');
    await register('basic');
    const ids = await enqueue(MANAGEMENT);
    const [p2] = await replay(c);
    // It answers libdmclient's legacy application/vnd.syncml+xml with the DM 1.2 type.
    expect(p2?.contentType).toBe('application/vnd.syncml.dm+xml');
    expect(await outcomes(ids)).toEqual(MANAGEMENT_OUTCOME);
    const alerts = await t.api.call<{
      items: { code: number; items: { source: string; type: string; format: string; data: string }[] }[];
    }>('GET', `/devices/${DEVICE_ID}/alerts`);
    // libdmclient's test Exec swaps Format and Type in its Generic Alert; the server stores them as sent.
    expect(alerts.body.items).toMatchObject([
      {
        code: 1226,
        items: [{ source: './test/execute', type: 'urn:test', format: 'text/plain', data: '200' }],
      },
    ]);
  });

  it('WBXML, basic both ways: the same session in WBXML', async () => {
    const c = capture('wbxml-basic');
    await register('basic');
    const ids = await enqueue(MANAGEMENT);
    const [p2] = await replay(c);
    expect(p2?.contentType).toBe('application/vnd.syncml.dm+wbxml');
    expect(await outcomes(ids)).toEqual(MANAGEMENT_OUTCOME);
  });

  for (const [name, encoding] of [
    ['xml-md5-challenged', 'XML'],
    ['wbxml-md5-challenged', 'WBXML'],
  ] as const) {
    it(`${encoding}, md5 both ways, challenged: 401 + Chal, Package 1 again with md5 on the decoded nonce, 212; the client's md5 challenge of the server answered`, async () => {
      const c = capture(name);
      random.push(c.manifest.serverRandom16);
      await register('md5');
      const ids = await enqueue(MANAGEMENT);
      const [first, second] = await replay(c);
      expect(first?.message.body[0]).toMatchObject({
        kind: 'Status',
        cmd: 'SyncHdr',
        code: 401,
        chal: { meta: { type: 'syncml:auth-md5', format: 'b64' } },
      });
      expect(second?.message.body[0]).toMatchObject({ kind: 'Status', cmd: 'SyncHdr', code: 212 });
      // The server's md5 Cred in its first answer uses the (empty) nonce libdmclient starts with: accepted
      // only once libdmclient has issued a nonce (its Chal in message 2): that one is answered in message 2.
      expect(await outcomes(ids)).toEqual(MANAGEMENT_OUTCOME);
    });
  }

  it('md5 in a later session: a stale nonce is challenged again; with the stored nonce, 212 on the first message both ways', async () => {
    const d = capture('wbxml-md5-challenged');
    const stale = capture('xml-md5-stale-nonce');
    const upfront = capture('xml-md5-upfront');
    random.push([
      ...d.manifest.serverRandom16,
      ...stale.manifest.serverRandom16,
      ...upfront.manifest.serverRandom16,
    ]);
    await register('md5');
    await enqueue(MANAGEMENT);
    await replay(d);
    // libdmclient's test account cannot store nonces (static MO): its next session starts from the empty nonce.
    const [again] = await replay(stale);
    expect(again?.message.body[0]).toMatchObject({ cmd: 'SyncHdr', code: 401 });
    // With the nonces it was given (client: the server's last NextNonce; server: its own Chal) set in its account.
    const [id] = await enqueue([{ command: 'Get', target: './DevInfo/Man' }]);
    const [p2] = await replay(upfront);
    expect(p2?.message.body[0]).toMatchObject({ cmd: 'SyncHdr', code: 212 });
    expect(await outcomes([id!])).toEqual([['done', 200, ['test manufacturer']]]);
    const device = await t.api.call<{ failedAuthCount: number; lockedUntil: string | null }>(
      'GET',
      `/devices/${DEVICE_ID}`,
    );
    expect(device.body).toMatchObject({ failedAuthCount: 0, lockedUntil: null });
  });

  it('server credentials refused by the client (it holds another server secret): new Cred with its NextNonce each time, bounded, then the session ends and the Get is queued again', async () => {
    const c = capture('xml-md5-server-refused');
    random.push(c.manifest.serverRandom16);
    await register('md5');
    const [id] = await enqueue([{ command: 'Get', target: './DevInfo/Mod' }]);
    const replies = await replay(c);
    const last = replies.at(-1)!.message;
    expect(last.body.map((cmd) => cmd.kind)).toEqual(['Status']);
    expect(last.final).toBe(true);
    expect((await t.api.command(DEVICE_ID, id!)).state).toBe('queued');
  });

  it('UI alerts: 1100 answered 200, 1101 declined (304) recorded as failed', async () => {
    const c = capture('xml-basic-ui-large-object');
    await register('basic');
    const ids = await enqueue(UI_AND_LARGE_OBJECT);
    // Only the first two exchanges: the large object is covered by its own test below.
    await replay(c, 0, 2);
    expect((await outcomes(ids.slice(0, 2))).map((o) => (o as unknown[]).slice(0, 2))).toEqual([
      ['done', 200],
      ['failed', 304],
    ]);
  });

  it('large object toward libdmclient: chunks respect its MaxMsgSize 16384 (Size on the first chunk only)', async () => {
    const c = capture('xml-basic-ui-large-object');
    await register('basic');
    await enqueue(UI_AND_LARGE_OBJECT);
    const replies = await replay(c);
    const sizes = c.manifest.exchanges.map((e) => c.bytes(e.server).byteLength);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(16384);
    const chunks = replies.flatMap((r) => r.message.body.filter((cmd) => cmd.kind === 'Add'));
    // libdmclient refuses chunk 2 (418): that ends the transfer (protocol.md §8, below).
    expect(
      chunks.map((a) => (a.kind === 'Add' ? [a.items[0]?.meta?.size, a.items[0]?.moreData === true] : [])),
    ).toEqual([
      [30000, true],
      [undefined, true],
    ]);
  });
});

describe('libdmclient against this server: deviations found in the first capture, fixed (regression guards)', () => {
  it('protocol.md §5.2: after challenging Package 1 the server keeps counting MsgIDs in the same session', async () => {
    const c = capture('xml-md5-challenged');
    random.push(c.manifest.serverRandom16);
    await register('md5');
    await enqueue(MANAGEMENT);
    const replies = await replay(c);
    // libdmclient stays in SessionID 1 (MsgID 1, 2, 3); the first capture had the server answer MsgID 1, 1, 2.
    expect(replies.map((r) => r.message.header.sessionId)).toEqual(['1', '1', '1']);
    expect(replies.map((r) => r.message.header.msgId)).toEqual([1, 2, 3]);
    // …and libdmclient's MsgRefs point at them: its Statuses for the engine's commands reference our MsgID 2.
    const client3 = decodeMessage(c.bytes(c.manifest.exchanges[2]!.client), 'application/vnd.syncml+xml');
    expect(new Set(client3.body.flatMap((cmd) => (cmd.kind === 'Status' ? [cmd.msgRef] : [])))).toEqual(
      new Set([2]),
    );
  });

  it('protocol.md §10 / security.md §6: repeated wrong credentials end the session; libdmclient stops resending', async () => {
    // libdmclient with a wrong password resends Package 1 with the same Cred after every 401 (it re-queues every
    // element whose Status is 401/407): in the first capture it went on for 128 messages, each one challenged.
    // Now: one challenge and 3 more (maxAuthAttempts), then 401 without Chal and 215 for its commands; libdmclient
    // has nothing left to resend and its session ends after its 5th message.
    const c = capture('xml-basic-wrong-password');
    await register('basic');
    const replies = await replay(c);
    expect(c.manifest.exchanges).toHaveLength(5);
    const challenged = (m: SyncMLMessage): boolean => {
      const header = m.body[0];
      return header?.kind === 'Status' && header.cmd === 'SyncHdr' && header.chal !== undefined;
    };
    expect(replies.map((r) => challenged(r.message))).toEqual([true, true, true, true, false]);
    const last = replies.at(-1)!.message;
    expect(last.body.map(commandText)).toEqual([
      'Status SyncHdr#0 401',
      'Status Alert#2 215',
      'Status Replace#3 215',
    ]);
    expect(last.final).toBe(true);
    const device = await t.api.call<{ failedAuthCount: number }>('GET', `/devices/${DEVICE_ID}`);
    expect(device.body.failedAuthCount).toBe(5);
  });

  it("security.md §6 / §2, §9: libdmclient's default account (client basic, server md5) — the server answers its md5 challenge with md5 and the Get is delivered", async () => {
    // tests/mgtobj/DmAcc as shipped: toserver AAuthType BASIC, toclient AAuthType DIGEST. Registered basic (both
    // ways), the server sends basic Cred and gets 401 + Chal md5: it answers with md5 on the NextNonce and sends
    // the refused Get again (the first capture ended the session there and left the Get queued).
    const c = capture('xml-default-account');
    await register('basic');
    const [id] = await enqueue([{ command: 'Get', target: './DevInfo/Mod' }]);
    const exchanges = c.manifest.exchanges;
    const client2 = decodeMessage(c.bytes(exchanges[1]!.client), exchanges[1]!.clientContentType);
    const hdrStatus = client2.body[0];
    expect(hdrStatus).toMatchObject({
      kind: 'Status',
      cmd: 'SyncHdr',
      code: 401,
      chal: { meta: { type: 'syncml:auth-md5' } },
    });
    const nonce = hdrStatus?.kind === 'Status' ? hdrStatus.chal?.meta.nextNonce : undefined;
    const [first, second] = await replay(c);
    expect(first?.message.header.cred?.meta?.type).toBe('syncml:auth-basic');
    expect(second?.message.header.cred).toMatchObject({
      meta: { type: 'syncml:auth-md5', format: 'b64' },
      data: md5Credential(SERVER_ID, SERVER_PASSWORD, fromB64(nonce ?? '')),
    });
    expect(second?.message.body.map((cmd) => cmd.kind)).toContain('Get');
    expect(await outcomes([id!])).toEqual([['done', 200, ['test model']]]);
  });

  it('security.md §2/§9: registered with serverAuthType md5, the same account is answered in md5 from the start (no challenge)', async () => {
    const c = capture('xml-default-account-server-md5');
    await register('basic', 'md5');
    const [id] = await enqueue([{ command: 'Get', target: './DevInfo/Mod' }]);
    const [first] = await replay(c);
    expect(first?.message.header.cred?.meta?.type).toBe('syncml:auth-md5');
    expect(c.manifest.exchanges).toHaveLength(2);
    expect(await outcomes([id!])).toEqual([['done', 200, ['test model']]]);
  });

  it('protocol.md §8: a chunked Add the client did not buffer (200 on chunk 1, then 418) is recorded failed with 418', async () => {
    // libdmclient advertises DevDetail/LrgObj=true but ignores MoreData: it stores chunk 1 (14202 of 30000 chars),
    // answers 200, and 418 to the next chunk. The command's status is its last chunk's: the 200 was no final word,
    // the 418 is, and it stops the transfer (the first capture recorded the Add as done/200).
    const c = capture('xml-basic-ui-large-object');
    await register('basic');
    const ids = await enqueue(UI_AND_LARGE_OBJECT);
    await replay(c);
    expect(await t.api.command(DEVICE_ID, ids[2]!)).toMatchObject({ state: 'failed', status: 418 });
  });

  for (const [name, encoding] of [
    ['xml-basic-nul-in-data', 'XML'],
    ['wbxml-basic-atomic', 'WBXML'],
  ] as const) {
    it(`${encoding}: libdmclient's NUL-terminated Data (\`chr\\0\`, \`b1/a2/a1\\0\`) accepted, the NUL dropped: the same outcomes in both encodings`, async () => {
      // In XML the first capture was answered with HTTP 400 (xml-illegal-char), losing every result; in WBXML the
      // NUL reached the stored values. libdmclient sends no Status for either Atomic: both go back to the queue.
      const c = capture(name);
      await register('basic');
      const ids = await enqueue(ATOMIC_AND_PROPERTIES);
      await replay(c);
      expect(await outcomes(ids)).toEqual(ATOMIC_AND_PROPERTIES_OUTCOME);
      const tree = await t.api.call<{ items: { uri: string; data: string | null }[] }>(
        'GET',
        `/devices/${DEVICE_ID}/tree?path=./Vendor/memory`,
      );
      expect(tree.body.items.find((v) => v.uri === './Vendor/memory')?.data).toBe('b1/a2/a1');
    });
  }
});
