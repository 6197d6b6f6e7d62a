/**
 * `omadm device`: one simulated (or scripted) OMA DM device. Runs one client-initiated session against any DM
 * server, or with --listen waits for Package 0 notifications and runs the session each valid one asks for.
 * Exit status: 0 when every session completed, 1 when one did not (one line on stderr says why), 2 for bad usage.
 */
import { parseArgs } from 'node:util';
import { DeviceRuntime, sessionRequestFor } from '../device/device-runtime.js';
import { listenForNotifications } from '../device/notification-listener.js';
import { PROFILES, profileNamed } from '../device/profiles/profiles.js';
import type { SessionSummary } from '../device/session-summary.js';
import { defaultStatePath, PrivateFileTreeStore } from '../device/state-file.js';
import { UI_POLICIES, uiHandlerFor, type UiPolicy } from '../device/ui-policy.js';
import { formatWireMessage } from '../device/verbose.js';
import type { UiHandler } from '../session/ui-alert.js';
import { OmadmError } from '../errors.js';
import type { AuthName } from '../syncml/constants.js';
import type { CliIo } from './io.js';

const HELP = `Usage: omadm device --server URL --device-id ID --username U --password P [options]

Run one OMA DM 1.2 client-initiated session as a device against the DM server at URL (e.g.
http://127.0.0.1:8080/dm), executing the server's commands on the device's management tree.

Required:
  --server URL              the server's DM endpoint (DMAcc AppAddr)
  --device-id ID            ./DevInfo/DevId and SyncHdr Source, e.g. IMEI:490154203237518
  --username U              the device's user name toward the server (DMAcc CLCRED AAuthName)
  --password P              the device's password toward the server (DMAcc CLCRED AAuthSecret)

Options:
  --auth md5|basic|hmac     authentication scheme (default md5)
  --server-id ID            the server's ServerID (DMAcc ServerID, ACLs, Package 0) (default omadm)
  --server-password P       the server's password toward the device (DMAcc SRVCRED); verifies Package 0
  --require-server-auth     the server must authenticate itself with --server-password in every session
  --wbxml                   send WBXML instead of XML
  --state FILE              keep the tree, the DM account and both nonces in FILE between runs
                            (default $XDG_DATA_HOME/omadm/devices/<id>.json or
                            ~/.local/share/omadm/devices/<id>.json)
  --profile NAME            device model: ${Object.keys(PROFILES).join(', ')} (default generic)
  --ui POLICY               answer to server UI alerts: auto-accept, auto-reject or prompt (asks on this
                            terminal) (default auto-accept)
  --listen ADDR             instead of one session, wait for Package 0 on udp://IP:PORT or
                            http://IP:PORT/path and run the session each valid notification asks for
                            (Alert 1200 with the trigger's session id); invalid ones are reported on stderr.
                            A trigger with ui-mode user-interaction asks first (per --ui).
                            Runs until interrupted (Ctrl-C) or --sessions sessions have run.
  --sessions K              with --listen: stop after K sessions
  --accept-nonce-resync     with --listen: when a notification's digest fails with the stored server nonce,
                            retry with the special resync nonce (4 zero bytes) and, if that matches, run the
                            session on it: credentials built on that nonce, the server verified on it, both
                            nonces refreshed (security.md §8.3). Off by default: a device that accepts resync
                            lets whoever knows the server password start a session without the current nonce
  --json                    print each session's summary as one JSON line on stdout
  -v, --verbose             print every message (decoded, secrets hidden) on stderr, both directions
  -h, --help                show this help

Profiles:
${Object.values(PROFILES)
  .map((p) => `  ${p.name.padEnd(9)} ${p.summary}`)
  .join('\n')}

Exit status: 0 when every session completed, 1 when a session failed (one line on stderr says why),
2 for invalid options.
`;

class UsageError extends Error {}

interface DeviceOptions {
  readonly server: string;
  readonly deviceId: string;
  readonly username: string;
  readonly password: string;
  readonly auth: AuthName;
  readonly serverId: string;
  readonly serverPassword: string | undefined;
  readonly requireServerAuth: boolean;
  readonly wbxml: boolean;
  readonly state: string;
  readonly profile: string;
  readonly ui: UiPolicy;
  readonly listen: string | undefined;
  readonly sessions: number | undefined;
  readonly acceptNonceResync: boolean;
  readonly json: boolean;
  readonly verbose: boolean;
}

function parse(args: string[]): DeviceOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'string' },
        'device-id': { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        auth: { type: 'string' },
        'server-id': { type: 'string' },
        'server-password': { type: 'string' },
        'require-server-auth': { type: 'boolean' },
        wbxml: { type: 'boolean' },
        state: { type: 'string' },
        profile: { type: 'string' },
        ui: { type: 'string' },
        listen: { type: 'string' },
        sessions: { type: 'string' },
        'accept-nonce-resync': { type: 'boolean' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return 'help';
  const required = (name: 'server' | 'device-id' | 'username' | 'password'): string => {
    const v = values[name];
    if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
    return v;
  };
  const server = required('server');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server ${JSON.stringify(server)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError('--server must be an http:// or https:// URL');
  const auth = values.auth ?? 'md5';
  if (auth !== 'md5' && auth !== 'basic' && auth !== 'hmac')
    throw new UsageError(`--auth must be md5, basic or hmac, not ${JSON.stringify(auth)}`);
  const profile = values.profile ?? 'generic';
  if (profileNamed(profile) === undefined)
    throw new UsageError(
      `unknown --profile ${JSON.stringify(profile)}: use ${Object.keys(PROFILES).join(', ')}`,
    );
  const ui = values.ui ?? 'auto-accept';
  if (!(UI_POLICIES as readonly string[]).includes(ui))
    throw new UsageError(`--ui must be ${UI_POLICIES.join(', ')}, not ${JSON.stringify(ui)}`);
  const serverPassword = values['server-password'];
  const requireServerAuth = values['require-server-auth'] === true;
  if (requireServerAuth && serverPassword === undefined)
    throw new UsageError('--require-server-auth needs --server-password');
  if (values.listen !== undefined && serverPassword === undefined) {
    throw new UsageError('--listen needs --server-password to verify notifications (security.md §8.2)');
  }
  let sessions: number | undefined;
  if (values.sessions !== undefined) {
    if (values.listen === undefined) throw new UsageError('--sessions only applies with --listen');
    sessions = Number(values.sessions);
    if (!Number.isInteger(sessions) || sessions < 1)
      throw new UsageError('--sessions must be a positive integer');
  }
  const acceptNonceResync = values['accept-nonce-resync'] === true;
  if (acceptNonceResync && values.listen === undefined)
    throw new UsageError('--accept-nonce-resync only applies with --listen');
  const deviceId = required('device-id');
  return {
    server,
    deviceId,
    username: required('username'),
    password: required('password'),
    auth,
    serverId: values['server-id'] ?? 'omadm',
    serverPassword,
    requireServerAuth,
    wbxml: values.wbxml === true,
    state: values.state ?? defaultStatePath(deviceId),
    profile,
    ui: ui as UiPolicy,
    listen: values.listen,
    sessions,
    acceptNonceResync,
    json: values.json === true,
    verbose: values.verbose === true,
  };
}

export async function runDevice(args: string[], io: CliIo): Promise<number> {
  let options: DeviceOptions | 'help';
  try {
    options = parse(args);
  } catch (error) {
    io.stderr.write(
      `omadm device: ${oneLine(error instanceof Error ? error.message : String(error))} (see omadm device --help)\n`,
    );
    return 2;
  }
  if (options === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  const ui = uiHandlerFor(options.ui, { input: io.stdin, output: io.stderr });
  try {
    const runtime = await openRuntime(options, io, ui.handle);
    if (options.listen === undefined) {
      const summary = await runtime.runSession();
      return report(summary, options, io) ? 0 : 1;
    }
    return await listen(runtime, options, io, ui.handle);
  } catch (error) {
    const message = error instanceof OmadmError || error instanceof Error ? error.message : String(error);
    io.stderr.write(`omadm device: ${oneLine(message)}\n`);
    return 1;
  } finally {
    ui.close();
  }
}

async function openRuntime(options: DeviceOptions, io: CliIo, ui: UiHandler): Promise<DeviceRuntime> {
  const verbose = options.verbose;
  return DeviceRuntime.open({
    deviceId: options.deviceId,
    account: {
      serverId: options.serverId,
      serverUrl: options.server,
      auth: options.auth,
      username: options.username,
      password: options.password,
      ...(options.serverPassword === undefined ? {} : { serverPassword: options.serverPassword }),
    },
    requireServerAuth: options.requireServerAuth,
    encoding: options.wbxml ? 'wbxml' : 'xml',
    profile: profileNamed(options.profile)!,
    store: new PrivateFileTreeStore(options.state),
    ui,
    ...(verbose
      ? {
          onMessage: (wire) => io.stderr.write(formatWireMessage(wire)),
          log: (line: string) => io.stderr.write(`device: ${line}\n`),
        }
      : {}),
  });
}

/** Prints a session's result; returns whether it completed. */
function report(summary: SessionSummary, options: DeviceOptions, io: CliIo): boolean {
  if (!summary.ok)
    io.stderr.write(
      `omadm device: session ${summary.sessionId} ${summary.outcome}: ${summary.reason ?? 'no reason given'}\n`,
    );
  if (options.json) {
    io.stdout.write(`${JSON.stringify(summary)}\n`);
  } else if (summary.ok) {
    const commands = Object.entries(summary.commands)
      .map(
        ([kind, codes]) =>
          `${kind} ${Object.entries(codes)
            .map(([code, n]) => `${code}×${n}`)
            .join(' ')}`,
      )
      .join(', ');
    io.stdout.write(
      `session ${summary.sessionId} (${summary.initiator}-initiated) completed in ${summary.durationMs} ms: ` +
        `${summary.packages.sent} packages sent, ${summary.packages.received} received, ${summary.messages.sent + summary.messages.received} messages; ` +
        `commands: ${commands === '' ? 'none' : commands}; challenges: ${summary.challenges}` +
        `${summary.alerts.sent > 0 ? `; generic alerts sent: ${summary.alerts.sent}, acknowledged: ${summary.alerts.acknowledged}` : ''}\n`,
    );
  }
  return summary.ok;
}

/** --listen: sessions on demand until interrupted or --sessions have run. */
async function listen(
  runtime: DeviceRuntime,
  options: DeviceOptions,
  io: CliIo,
  ui: UiHandler,
): Promise<number> {
  let failures = 0;
  let sessions = 0;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const listener = await listenForNotifications({
    listen: options.listen!,
    credentials: (serverId) =>
      serverId === runtime.serverId ? runtime.serverCredentials(serverId) : undefined,
    // security.md §8.3 step 1: the special nonce is tried only when the user enabled resync.
    resync: options.acceptNonceResync ? 'zero-bytes' : 'off',
    runSession: async (notification) => {
      const request = sessionRequestFor(notification);
      const { serverId, uiMode } = notification.trigger;
      if (options.verbose)
        io.stderr.write(
          `device: Package 0 from ${serverId}, session ${notification.sessionIdText}, ui-mode ${uiMode}` +
            `${notification.nonceUsed === 'resync' ? ', on the resync nonce' : ''}\n`,
        );
      // DG-NOT-04 (security.md §8.1 ui-mode): 'user-interaction' asks the user before the session starts;
      // 'informative' tells the user; 'background' and 'not-specified' run silently.
      if (uiMode === 'informative')
        io.stderr.write(
          `omadm device: ${serverId} started a management session (${notification.sessionIdText})\n`,
        );
      if (uiMode === 'user-interaction' && !(await consents(ui, serverId))) {
        io.stderr.write(
          `omadm device: the user declined the management session ${notification.sessionIdText} requested by ${serverId}\n`,
        );
        if (options.sessions !== undefined && ++sessions >= options.sessions) stop();
        return;
      }
      const summary = await runtime.runSession(request);
      if (!report(summary, options, io)) failures++;
      if (options.sessions !== undefined && ++sessions >= options.sessions) stop();
    },
    onInvalid: (error, source) =>
      io.stderr.write(`omadm device: ignored notification from ${source}: ${oneLine(error.message)}\n`),
    onEvent: (event) => {
      if (event.kind === 'replayed')
        io.stderr.write(
          `omadm device: ignored repeated notification for session ${event.notification.sessionIdText}\n`,
        );
      if (event.kind === 'session-failed')
        io.stderr.write(`omadm device: session failed: ${oneLine(String(event.error))}\n`);
    },
  });
  io.stderr.write(`omadm device: ${options.deviceId} listening for Package 0 on ${listener.address}\n`);
  const onSignal = (): void => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await stopped;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await listener.close();
  }
  return failures === 0 ? 0 : 1;
}

/** Asks the device's user (through the UI policy) whether a server may start a session now. */
async function consents(ui: UiHandler, serverId: string): Promise<boolean> {
  const answer = await ui({
    kind: 'confirm',
    code: 1101,
    options: {},
    text: `${serverId} requests a device management session. Allow it?`,
    choices: [],
  });
  return answer.type === 'confirm' && answer.accepted;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
