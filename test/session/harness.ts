/**
 * Test support: a real ClientSession and a real ServerSession joined by encoded bytes (XML or WBXML), the
 * server frozen to a JSON snapshot and restored between every request as the stateless DM server does.
 */
import { decodeMessage, encodeMessage } from '../../src/syncml/codec.js';
import { contentTypeFor } from '../../src/syncml/content-type.js';
import type { Command, Item, Status, SyncMLMessage } from '../../src/syncml/model.js';
import { textData } from '../../src/syncml/model.js';
import type { CommandExecutor, CommandOutcome } from '../../src/syncml/command-outcome.js';
import { ManualClock } from '../../src/platform/clock.js';
import { SeededRandom } from '../../src/platform/random.js';
import { MemoryNonceStore } from '../../src/security/nonce.js';
import {
  ClientSession,
  ServerSession,
  type ClientEvent,
  type ClientSessionOptions,
  type DeviceAccount,
  type Json,
  type Outgoing,
  type ServerEvent,
  type ServerSessionOptions,
} from '../../src/session/index.js';

export type Encoding = 'xml' | 'wbxml';
export const ENCODINGS: readonly Encoding[] = ['xml', 'wbxml'];

/** Real bytes through the codec entry point, with the content type a peer would send. */
export function encode(message: SyncMLMessage, encoding: Encoding): Uint8Array {
  return encodeMessage(message, contentTypeFor(encoding));
}
export function decode(bytes: Uint8Array, encoding: Encoding): SyncMLMessage {
  return decodeMessage(bytes, contentTypeFor(encoding));
}

/** A management tree over a Map: real Get/Add/Replace/Delete/Atomic/Sequence semantics, enough for sessions. */
export class MapTree implements CommandExecutor {
  readonly nodes = new Map<string, string>();
  readonly log: string[] = [];
  constructor(initial: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(initial)) this.nodes.set(k, v);
  }
  execute(command: Command): CommandOutcome {
    this.log.push(command.kind);
    switch (command.kind) {
      case 'Get': {
        const results: Item[] = [];
        for (const item of command.items) {
          const uri = item.target?.locUri ?? '';
          const value = this.nodes.get(uri);
          if (value === undefined) return { code: 404 };
          results.push({
            source: { locUri: uri },
            meta: { format: 'chr', type: 'text/plain' },
            data: textData(value),
          });
        }
        return { code: 200, results };
      }
      case 'Add':
      case 'Replace': {
        for (const item of command.items) {
          const uri = item.target?.locUri ?? '';
          if (command.kind === 'Add' && this.nodes.has(uri)) return { code: 418 };
          const data = item.data;
          this.nodes.set(
            uri,
            data?.kind === 'text'
              ? data.text
              : data?.kind === 'binary'
                ? Buffer.from(data.bytes).toString('latin1')
                : '',
          );
        }
        return { code: 200 };
      }
      case 'Delete': {
        for (const item of command.items)
          if (!this.nodes.delete(item.target?.locUri ?? '')) return { code: 404 };
        return { code: 200 };
      }
      case 'Exec':
        return { code: 200 };
      case 'Atomic': {
        const before = new Map(this.nodes);
        const children = command.commands.map((child) => this.execute(child));
        if (children.every((c) => c.code >= 200 && c.code < 300)) return { code: 200, children };
        this.nodes.clear();
        for (const [k, v] of before) this.nodes.set(k, v);
        return {
          code: 507,
          children: children.map((c) => (c.code >= 200 && c.code < 300 ? { code: 216 } : c)),
        };
      }
      case 'Sequence':
        return { code: 200, children: command.commands.map((child) => this.execute(child)) };
      default:
        return { code: 406 };
    }
  }
}

export const SERVER_URI = 'http://127.0.0.1:18080/dm';
export const DEVICE_ID = 'IMEI:359000000000001';
export const SERVER_ID = 'omadm-test';

export const DEV_INFO: readonly Item[] = [
  ['DevId', DEVICE_ID],
  ['Man', 'ACME'],
  ['Mod', 'X1'],
  ['DmV', '1.2'],
  ['Lang', 'en-US'],
].map(([leaf, value]) => ({ source: { locUri: `./DevInfo/${leaf!}` }, data: textData(value!) }));

export interface Exchange {
  readonly from: 'client' | 'server';
  readonly url: string | undefined;
  readonly bytes: Uint8Array;
  readonly hmac: string | undefined;
  readonly message: SyncMLMessage;
}

export interface PairOptions {
  readonly encoding: Encoding;
  readonly account: DeviceAccount;
  readonly client?: Partial<ClientSessionOptions>;
  readonly server?: Partial<ServerSessionOptions>;
  readonly tree?: MapTree;
  readonly seed?: number;
  /** Called before the server receives each client message (enqueue commands here). */
  readonly beforeServer?: (server: ServerSession, turn: number) => void;
  /** Rewrites client bytes in flight (for negative tests). */
  readonly tamperClient?: (message: SyncMLMessage, turn: number) => SyncMLMessage;
  readonly tamperServer?: (message: SyncMLMessage, turn: number) => SyncMLMessage;
}

export class Pair {
  readonly clientNonces = new MemoryNonceStore();
  readonly serverNonces = new MemoryNonceStore();
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly tree: MapTree;
  readonly transcript: Exchange[] = [];
  readonly clientEvents: ClientEvent[] = [];
  readonly serverEvents: ServerEvent[] = [];
  readonly client: ClientSession;
  snapshot: Json | undefined;
  readonly #serverOptions: ServerSessionOptions;

  constructor(readonly options: PairOptions) {
    const random = new SeededRandom(options.seed ?? 1234);
    this.tree = options.tree ?? new MapTree({ './DevInfo/Mod': 'X1', './Vendor/Setting': 'on' });
    const measure = (m: SyncMLMessage): number => encode(m, options.encoding).length;
    const clientCreds = options.account.client;
    const serverCreds = options.account.server;
    this.client = new ClientSession({
      serverUri: SERVER_URI,
      serverId: SERVER_ID,
      deviceId: DEVICE_ID,
      sessionId: '1A',
      devInfo: DEV_INFO,
      ...(clientCreds === undefined ? {} : { credentials: clientCreds }),
      ...(serverCreds === undefined ? {} : { serverCredentials: serverCreds }),
      executor: this.tree,
      nonces: this.clientNonces,
      random,
      clock: this.clock,
      measure,
      ...options.client,
    });
    const account = options.account;
    this.#serverOptions = {
      serverUri: SERVER_URI,
      credentials: { lookup: (deviceId) => (deviceId === DEVICE_ID ? account : undefined) },
      nonces: this.serverNonces,
      random: new SeededRandom((options.seed ?? 1234) + 1),
      clock: this.clock,
      measure,
      ...options.server,
    };
  }

  /** A fresh engine from the stored snapshot, as a stateless server process would build it. */
  server(): ServerSession {
    return this.snapshot === undefined
      ? new ServerSession(this.#serverOptions)
      : ServerSession.restore(this.snapshot, this.#serverOptions);
  }

  record(
    from: 'client' | 'server',
    outgoing: Outgoing,
    turn: number,
  ): { bytes: Uint8Array; hmac: string | undefined; message: SyncMLMessage } {
    const tamper = from === 'client' ? this.options.tamperClient : this.options.tamperServer;
    const message = tamper === undefined ? outgoing.message : tamper(outgoing.message, turn);
    const bytes = encode(message, this.options.encoding);
    const hmac = outgoing.hmacHeader(bytes);
    const decoded = decode(bytes, this.options.encoding);
    this.transcript.push({ from, url: outgoing.url, bytes, hmac, message: decoded });
    return { bytes, hmac, message: decoded };
  }

  /** Runs the whole session; returns when the client has nothing more to send. */
  async run(maxTurns = 40): Promise<this> {
    let step = await this.client.start();
    this.clientEvents.push(...step.events);
    for (let turn = 1; step.outgoing !== undefined; turn++) {
      if (turn > maxTurns) throw new Error(`session did not end within ${maxTurns} turns`);
      const sent = this.record('client', step.outgoing, turn);
      const server = this.server();
      this.options.beforeServer?.(server, turn);
      if (server.state === 'ended') break;
      const reply = await server.receive(sent.message, {
        body: sent.bytes,
        ...(sent.hmac === undefined ? {} : { hmac: sent.hmac }),
      });
      this.snapshot = JSON.parse(JSON.stringify(server.snapshot())) as Json;
      this.serverEvents.push(...reply.events);
      if (reply.outgoing === undefined) break;
      const back = this.record('server', reply.outgoing, turn);
      if (this.client.state === 'ended') break;
      step = await this.client.receive(back.message, {
        body: back.bytes,
        ...(back.hmac === undefined ? {} : { hmac: back.hmac }),
      });
      this.clientEvents.push(...step.events);
    }
    return this;
  }

  messages(from: 'client' | 'server'): SyncMLMessage[] {
    return this.transcript.filter((e) => e.from === from).map((e) => e.message);
  }
  serverState(): string {
    return this.server().state;
  }
}

export function statusesOf(
  message: SyncMLMessage,
): { cmd: string; cmdRef: number; code: number; msgRef: number | undefined }[] {
  return message.body.flatMap((c) =>
    c.kind === 'Status' ? [{ cmd: c.cmd, cmdRef: c.cmdRef, code: c.code, msgRef: c.msgRef }] : [],
  );
}

export function kinds(message: SyncMLMessage): string[] {
  return message.body.map((c) => (c.kind === 'Alert' ? `Alert ${String(c.code)}` : c.kind));
}

/** A client driven by hand-written server messages (each encoded and decoded on the way, both directions). */
export class ScriptedPeer {
  readonly nonces = new MemoryNonceStore();
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly tree: MapTree;
  readonly client: ClientSession;
  readonly sent: SyncMLMessage[] = [];
  readonly urls: (string | undefined)[] = [];
  readonly events: ClientEvent[] = [];
  #msgId = 0;

  constructor(
    readonly encoding: Encoding,
    overrides: Partial<ClientSessionOptions> = {},
    tree?: MapTree,
  ) {
    this.tree = tree ?? new MapTree({ './DevInfo/Mod': 'X1', './Vendor/Setting': 'on' });
    this.client = new ClientSession({
      serverUri: SERVER_URI,
      serverId: SERVER_ID,
      deviceId: DEVICE_ID,
      sessionId: '1A',
      devInfo: DEV_INFO,
      executor: this.tree,
      nonces: this.nonces,
      random: new SeededRandom(99),
      clock: this.clock,
      measure: (m) => encode(m, encoding).length,
      ...overrides,
    });
  }

  #take(step: { outgoing: Outgoing | undefined; events: readonly ClientEvent[] }): SyncMLMessage | undefined {
    this.events.push(...step.events);
    if (step.outgoing === undefined) return undefined;
    const message = decode(encode(step.outgoing.message, this.encoding), this.encoding);
    this.sent.push(message);
    this.urls.push(step.outgoing.url);
    return message;
  }

  async start(): Promise<SyncMLMessage> {
    return this.#take(await this.client.start())!;
  }

  /** The header Status a server writes for the client's last message. */
  hdrStatus(code: number, chal?: Status['chal']): Status {
    const last = this.sent.at(-1)!;
    return {
      kind: 'Status',
      cmdId: 0,
      msgRef: last.header.msgId,
      cmdRef: 0,
      cmd: 'SyncHdr',
      targetRefs: [SERVER_URI],
      sourceRefs: [DEVICE_ID],
      ...(chal === undefined ? {} : { chal }),
      code,
      items: [],
    };
  }

  /** Status for command `cmdRef` of the client's last message. */
  status(cmdRef: number, cmd: string, code: number): Status {
    return {
      kind: 'Status',
      cmdId: 0,
      msgRef: this.sent.at(-1)!.header.msgId,
      cmdRef,
      cmd,
      targetRefs: [],
      sourceRefs: [],
      code,
      items: [],
    };
  }

  /** Sends a server message; CmdIDs are numbered here. Returns the client's answer, if any. */
  async reply(
    body: readonly Command[],
    options: {
      final?: boolean;
      cred?: SyncMLMessage['header']['cred'];
      respUri?: string;
      hmac?: string;
      locName?: string;
      maxMsgSize?: number;
    } = {},
  ): Promise<SyncMLMessage | undefined> {
    let id = 1;
    const number = (c: Command): Command =>
      c.kind === 'Atomic' || c.kind === 'Sequence'
        ? ({ ...c, cmdId: id++, commands: c.commands.map((child) => number(child)) } as Command)
        : { ...c, cmdId: id++ };
    const message: SyncMLMessage = {
      header: {
        verDtd: '1.2',
        verProto: 'DM/1.2',
        sessionId: '1A',
        msgId: ++this.#msgId,
        target: { locUri: DEVICE_ID },
        source: {
          locUri: SERVER_URI,
          ...(options.locName === undefined ? {} : { locName: options.locName }),
        },
        ...(options.respUri === undefined ? {} : { respUri: options.respUri }),
        ...(options.cred === undefined ? {} : { cred: options.cred }),
        ...(options.maxMsgSize === undefined ? {} : { meta: { maxMsgSize: options.maxMsgSize } }),
      },
      body: body.map(number),
      final: options.final ?? true,
    };
    const bytes = encode(message, this.encoding);
    const step = await this.client.receive(decode(bytes, this.encoding), {
      body: bytes,
      ...(options.hmac === undefined ? {} : { hmac: options.hmac }),
    });
    return this.#take(step);
  }

  ended(): ClientEvent | undefined {
    return this.events.find((e) => e.type === 'ended');
  }
}
