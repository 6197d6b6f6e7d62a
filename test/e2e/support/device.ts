/**
 * E2E support: a real device — the real ClientSession engine over a real management tree (TreeCommandExecutor) —
 * talking to a real server over HTTP with node's fetch. Nothing is mocked; every message is encoded and decoded
 * by the real codecs.
 */
import {
  ClientSession,
  type ClientAlert,
  type ClientEvent,
  type UiHandler,
} from '../../../src/session/index.js';
import { MemoryNonceStore } from '../../../src/security/nonce.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import { systemClock } from '../../../src/platform/clock.js';
import { decodeMessage, encodeMessage } from '../../../src/syncml/codec.js';
import { ContentType } from '../../../src/syncml/content-type.js';
import type { AuthName } from '../../../src/syncml/constants.js';
import type { SyncMLMessage } from '../../../src/syncml/model.js';
import {
  DEVICE,
  ManagementTree,
  TreeCommandExecutor,
  devInfoItems,
  installStandardObjects,
  interior,
  leaf,
  type GenericAlert,
} from '../../../src/tree/index.js';

export interface TestDevice {
  readonly deviceId: string;
  readonly username: string;
  readonly password: string;
  readonly auth: AuthName;
  readonly serverPassword: string;
  readonly tree: ManagementTree;
  readonly executor: TreeCommandExecutor;
  /** Both nonce directions, kept between sessions like a DMAcc would. */
  readonly nonces: MemoryNonceStore;
  /** Generic Alerts raised by asynchronous Exec handlers, waiting for the next session. */
  readonly raised: GenericAlert[];
  reboots: number;
}

let deviceCounter = 0;

/** A device with DevInfo/DevDetail, a writable ./Vendor, and executable ./DevDetail/Ext/Ops/Reboot (200) and Update (202 + alert). */
export async function createTestDevice(
  init: {
    deviceId?: string;
    auth?: AuthName;
    password?: string;
    username?: string;
    serverPassword?: string;
  } = {},
): Promise<TestDevice> {
  const deviceId = init.deviceId ?? `IMEI:35900000000${String(++deviceCounter).padStart(4, '0')}`;
  const raised: GenericAlert[] = [];
  const tree = new ManagementTree({ onGenericAlert: (alert) => raised.push(alert) });
  await installStandardObjects(tree, {
    devInfo: { devId: deviceId, man: 'Acme', mod: 'R100', dmV: '1.2', lang: 'en-US' },
    devDetail: {
      devTyp: 'router',
      oem: 'Acme OEM',
      fwV: '1.0.0',
      swV: '2.1.0',
      hwV: 'rev3',
      lrgObj: true,
      maxDepth: 10,
      maxTotLen: 200,
      maxSegLen: 32,
    },
  });
  await tree.add('./Vendor', { format: 'node' }, DEVICE);
  await tree.replace('./Vendor?prop=ACL', { value: 'Add=*&Delete=*&Get=*&Replace=*&Exec=*' }, DEVICE);
  await tree.define(
    [
      interior(
        'Ops',
        [
          leaf('Reboot', { accessType: ['Exec'], format: 'null', types: [] }),
          leaf('Update', { accessType: ['Exec'], format: 'null', types: [] }),
        ],
        { accessType: ['Get'], acl: 'Get=*&Exec=*' },
      ),
    ],
    './DevDetail/Ext',
  );
  const device: TestDevice = {
    deviceId,
    username: init.username ?? `user-${deviceCounter}`,
    password: init.password ?? `secret-${deviceCounter}`,
    auth: init.auth ?? 'md5',
    serverPassword: init.serverPassword ?? `server-secret-${deviceCounter}`,
    tree,
    executor: new TreeCommandExecutor(tree),
    nonces: new MemoryNonceStore(),
    raised,
    reboots: 0,
  };
  tree.mount('./DevDetail/Ext/Ops/Reboot', { exec: () => (device.reboots++, 200) });
  tree.mount('./DevDetail/Ext/Ops/Update', {
    exec: ({ report }) => {
      queueMicrotask(() =>
        report({ type: 'org.openmobilealliance.dm.firmwareupdate.update', format: 'int', data: '200' }),
      );
      return 202;
    },
  });
  return device;
}

export interface SessionOptions {
  /** Where Package 1 goes; may be a function to pick the URL per message (two processes behind a "balancer"). */
  readonly url: string | ((messageIndex: number, respUri: string) => string);
  readonly encoding?: 'xml' | 'wbxml';
  /** Post the legacy `application/vnd.syncml+…` types, as libdmclient does. */
  readonly legacy?: boolean;
  readonly serverId?: string;
  /** Verify the server's credentials (DMAcc SRVCRED). Default true. */
  readonly verifyServer?: boolean;
  /** The scheme the device expects from the server (its SRVCRED AAuthType). Default: the device's `auth`. */
  readonly serverAuth?: AuthName;
  readonly password?: string;
  readonly sessionId?: string;
  readonly maxMsgSize?: number;
  readonly maxObjSize?: number;
  readonly ui?: UiHandler;
  readonly alerts?: readonly ClientAlert[];
  readonly credentialsUpFront?: boolean;
  /** Answer a trigger accepted only through this special nonce (security.md §8.3): credentials built on it. */
  readonly resyncNonce?: Uint8Array;
  /** Stop after this many messages were sent (a device that loses its connection mid-session). */
  readonly stopAfter?: number;
  /** Called before message `index` (0-based) is sent: lets a test crash and restart the server mid-session. */
  readonly beforeSend?: (index: number) => Promise<void>;
  /** Rewrites message `index` (0-based) before it is encoded: a device that misbehaves (e.g. never answers Atomic). */
  readonly tamper?: (message: SyncMLMessage, index: number) => SyncMLMessage;
}

export interface SessionRun {
  readonly events: readonly ClientEvent[];
  readonly ended: Extract<ClientEvent, { type: 'ended' }> | undefined;
  readonly sent: number;
  readonly responses: readonly {
    readonly status: number;
    readonly contentType: string | null;
    readonly hmac: string | null;
    readonly message?: SyncMLMessage;
  }[];
}

let sessionCounter = 0;

export async function runSession(device: TestDevice, options: SessionOptions): Promise<SessionRun> {
  const encoding = options.encoding ?? 'xml';
  const contentType =
    options.legacy === true
      ? encoding === 'xml'
        ? ContentType.LEGACY_XML
        : ContentType.LEGACY_WBXML
      : encoding === 'xml'
        ? ContentType.DM_XML
        : ContentType.DM_WBXML;
  const serverId = options.serverId ?? 'omadm';
  const firstUrl = typeof options.url === 'string' ? options.url : options.url(0, '');
  const client = new ClientSession({
    serverUri: firstUrl,
    serverId,
    deviceId: device.deviceId,
    sessionId: options.sessionId ?? (++sessionCounter).toString(16).toUpperCase(),
    devInfo: await devInfoItems(device.tree),
    credentials: {
      auth: device.auth,
      username: device.username,
      password: options.password ?? device.password,
    },
    ...(options.credentialsUpFront === undefined ? {} : { credentialsUpFront: options.credentialsUpFront }),
    ...(options.resyncNonce === undefined ? {} : { resyncNonce: options.resyncNonce }),
    ...(options.verifyServer === false
      ? {}
      : {
          serverCredentials: {
            auth: options.serverAuth ?? device.auth,
            username: serverId,
            password: device.serverPassword,
          },
        }),
    executor: device.executor,
    ...(options.ui === undefined ? {} : { ui: options.ui }),
    nonces: device.nonces,
    random: cryptoRandom,
    clock: systemClock,
    measure: (message) => encodeMessage(message, contentType).byteLength,
    ...(options.maxMsgSize === undefined ? {} : { maxMsgSize: options.maxMsgSize }),
    ...(options.maxObjSize === undefined ? {} : { maxObjSize: options.maxObjSize }),
  });
  for (const alert of options.alerts ?? []) client.addAlert(alert);
  const events: ClientEvent[] = [];
  const responses: {
    status: number;
    contentType: string | null;
    hmac: string | null;
    message?: SyncMLMessage;
  }[] = [];
  let step = await client.start();
  events.push(...step.events);
  let sent = 0;
  while (step.outgoing !== undefined) {
    if (options.stopAfter !== undefined && sent >= options.stopAfter) break;
    await options.beforeSend?.(sent);
    const outgoing =
      options.tamper === undefined ? step.outgoing.message : options.tamper(step.outgoing.message, sent);
    const body = encodeMessage(outgoing, contentType);
    const hmac = step.outgoing.hmacHeader(body);
    const url =
      typeof options.url === 'string'
        ? (step.outgoing.url ?? options.url)
        : options.url(sent, step.outgoing.url ?? '');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(hmac === undefined ? {} : { 'x-syncml-hmac': hmac }) },
      body,
    });
    sent++;
    const bytes = new Uint8Array(await response.arrayBuffer());
    const record = {
      status: response.status,
      contentType: response.headers.get('content-type'),
      hmac: response.headers.get('x-syncml-hmac'),
    };
    if (response.status !== 200) {
      responses.push(record);
      throw new Error(`server answered HTTP ${response.status}: ${new TextDecoder().decode(bytes)}`);
    }
    const message = decodeMessage(bytes, record.contentType ?? contentType);
    responses.push({ ...record, message });
    step = await client.receive(message, {
      body: bytes,
      ...(record.hmac === null ? {} : { hmac: record.hmac }),
    });
    events.push(...step.events);
  }
  const ended = events.find((e): e is Extract<ClientEvent, { type: 'ended' }> => e.type === 'ended');
  return { events, ended, sent, responses };
}
