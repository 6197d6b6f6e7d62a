/**
 * `omadm server`: options (each also from an environment variable) → `startServer`, then wait for SIGTERM/SIGINT
 * and drain. With no options: ./omadm.db (SQLite, created and migrated), a generated admin token printed once.
 * `--demo` (what `npm start` runs) also makes sure a demo device exists and prints how to connect it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CliIo } from './io.js';
import { startServer, isPostgresLocation, type RunningServer, type ServerConfig } from '../server/app.js';
import { clientSecretDigest } from '../server/store/index.js';
import type { Store } from '../server/store/index.js';

export const DEMO_DEVICE = {
  deviceId: 'demo-device',
  username: 'demo',
  password: 'demo-password',
  authType: 'md5',
  serverPassword: 'demo-server-password',
} as const;

const OPTIONS = {
  host: { type: 'string', env: 'OMADM_HOST', arg: 'ADDR', help: 'address to listen on (default 127.0.0.1)' },
  port: { type: 'string', env: 'OMADM_PORT', arg: 'N', help: 'TCP port (default 8080; 0 picks a free one)' },
  db: {
    type: 'string',
    env: 'OMADM_DB',
    arg: 'FILE|URL',
    help: 'SQLite file (default ./omadm.db) or postgres://user@host/db[?schema=NAME]',
  },
  'admin-token': {
    type: 'string',
    env: 'OMADM_ADMIN_TOKEN',
    arg: 'TOKEN',
    help: 'bearer token for /api/v1 (default: generated and printed once)',
  },
  'server-id': {
    type: 'string',
    env: 'OMADM_SERVER_ID',
    arg: 'ID',
    help: 'ServerID: SyncHdr Source and user name of the server credentials (default omadm)',
  },
  'public-url': {
    type: 'string',
    env: 'OMADM_PUBLIC_URL',
    arg: 'URL',
    help: 'URL devices reach this server at; sent as RespURI <URL>/dm',
  },
  'tls-cert': {
    type: 'string',
    env: 'OMADM_TLS_CERT',
    arg: 'FILE',
    help: 'PEM certificate: serve HTTPS (with --tls-key)',
  },
  'tls-key': { type: 'string', env: 'OMADM_TLS_KEY', arg: 'FILE', help: 'PEM private key for --tls-cert' },
  demo: {
    type: 'boolean',
    env: undefined,
    arg: undefined,
    help: 'also create the demo device (idempotent) and print how to connect it',
  },
  help: { type: 'boolean', env: undefined, arg: undefined, help: 'show this help' },
} as const;

type Name = keyof typeof OPTIONS;

export function serverHelp(): string {
  const rows = (Object.keys(OPTIONS) as Name[]).map((name) => {
    const o = OPTIONS[name];
    const flag = `--${name}${o.arg === undefined ? '' : ` ${o.arg}`}`;
    return `  ${flag.padEnd(24)} ${o.help}${o.env === undefined ? '' : ` [${o.env}]`}`;
  });
  return [
    'Usage: omadm server [options]',
    '',
    'Runs the OMA DM server: POST /dm for devices, the REST API under /api/v1, the console at /, GET /healthz.',
    'Every option can also come from the environment variable in brackets; the command line wins.',
    'SIGTERM or SIGINT drains the requests in flight and exits 0.',
    '',
    'Options:',
    ...rows,
    '',
  ].join('\n');
}

class UsageError extends Error {}

function option(values: Record<string, unknown>, name: Name): string | undefined {
  const v = values[name];
  if (typeof v === 'string') return v;
  const env = OPTIONS[name].env;
  const fromEnv = env === undefined ? undefined : process.env[env];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/** Turns arguments and environment into a ServerConfig (no I/O but reading the TLS files). */
export function parseServerArgs(args: string[]): {
  config: Omit<ServerConfig, 'adminToken'> & { adminToken?: string };
  demo: boolean;
  help: boolean;
} {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: Object.fromEntries(
        (Object.keys(OPTIONS) as Name[]).map((name) => [name, { type: OPTIONS[name].type }]),
      ),
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const values = parsed.values as Record<string, unknown>;
  const help = values['help'] === true;
  const demo = values['demo'] === true;
  const portText = option(values, 'port');
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
      throw new UsageError(`--port: ${JSON.stringify(portText)} is not a port number (0-65535)`);
    port = Number(portText);
  }
  const cert = option(values, 'tls-cert');
  const key = option(values, 'tls-key');
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  const publicUrl = option(values, 'public-url');
  if (publicUrl !== undefined && !/^https?:\/\/[^/]/i.test(publicUrl))
    throw new UsageError(`--public-url: ${JSON.stringify(publicUrl)} is not an http(s) URL`);
  const read = (file: string, flag: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new UsageError(
        `${flag}: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };
  const host = option(values, 'host');
  const db = option(values, 'db');
  const adminToken = option(values, 'admin-token');
  const serverId = option(values, 'server-id');
  const config = {
    ...(host === undefined ? {} : { host }),
    ...(port === undefined ? {} : { port }),
    ...(db === undefined ? {} : { db }),
    ...(adminToken === undefined ? {} : { adminToken }),
    ...(serverId === undefined ? {} : { serverId }),
    ...(publicUrl === undefined ? {} : { publicUrl }),
    ...(cert === undefined || key === undefined || help
      ? {}
      : { tls: { cert: read(cert, '--tls-cert'), key: read(key, '--tls-key') } }),
  };
  return { config, demo, help };
}

/** Creates the demo device unless it exists; returns the lines telling how to connect it. */
export async function ensureDemoDevice(
  store: Store,
  server: RunningServer,
  serverId: string,
): Promise<string[]> {
  let device = await store.getDevice(DEMO_DEVICE.deviceId);
  if (device === undefined) {
    try {
      device = await store.createDevice(DEMO_DEVICE);
    } catch {
      device = await store.getDevice(DEMO_DEVICE.deviceId); // another process created it first
    }
  }
  if (device === undefined) return ['demo device: could not be created'];
  if (
    device.clientSecretDigest !== clientSecretDigest(DEMO_DEVICE.username, DEMO_DEVICE.password) ||
    device.authType !== DEMO_DEVICE.authType
  ) {
    return [
      `demo device: ${DEMO_DEVICE.deviceId} exists with credentials changed since it was created; left as it is`,
    ];
  }
  const command = [
    'npx omadm device',
    `--server ${server.url}/dm`,
    `--device-id ${DEMO_DEVICE.deviceId}`,
    `--username ${DEMO_DEVICE.username}`,
    `--password ${DEMO_DEVICE.password}`,
    `--auth ${DEMO_DEVICE.authType}`,
    `--server-id ${serverId}`,
    `--server-password ${device.serverPassword}`,
  ].join(' ');
  return [
    `demo device:  ${DEMO_DEVICE.deviceId} (user ${DEMO_DEVICE.username}, password ${DEMO_DEVICE.password}, auth ${DEMO_DEVICE.authType}, server password ${device.serverPassword})`,
    `connect it:   ${command}`,
  ];
}

export async function runServer(args: string[], io: CliIo): Promise<number> {
  const started = performance.now();
  let options;
  try {
    options = parseServerArgs(args);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`omadm server: ${error.message}\n\n${serverHelp()}`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    io.stdout.write(serverHelp());
    return 0;
  }
  const generated = options.config.adminToken === undefined;
  const adminToken = options.config.adminToken ?? randomBytes(24).toString('base64url');
  const serverId = options.config.serverId ?? 'omadm';
  let server: RunningServer;
  try {
    server = await startServer({
      ...options.config,
      adminToken,
      log: (line) => io.stderr.write(`omadm server: ${line}\n`),
    });
  } catch (error) {
    io.stderr.write(
      `omadm server: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  const db = options.config.db ?? './omadm.db';
  const lines = [
    `omadm server listening on ${server.url} (${isPostgresLocation(db) ? 'PostgreSQL' : `SQLite ${db}`})`,
    `DM endpoint:  ${server.url}/dm`,
    `REST API:     ${server.url}/api/v1 (OpenAPI: ${server.url}/api/v1/openapi.json)`,
    `console:      ${server.url}/`,
  ];
  if (generated)
    lines.push(`admin token:  ${adminToken} (generated; set --admin-token or OMADM_ADMIN_TOKEN to keep one)`);
  if (options.demo) lines.push(...(await ensureDemoDevice(server.store, server, serverId)));
  lines.push(`ready in ${Math.round(performance.now() - started)} ms`);
  io.stdout.write(`${lines.join('\n')}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      io.stdout.write(`omadm server: ${signal}: draining requests in flight\n`);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  await server.close();
  io.stdout.write('omadm server: stopped\n');
  return 0;
}
