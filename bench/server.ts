/**
 * `npx tsx bench/server.ts [--seconds 2] [--rounds 5] [--concurrency 32] [--devices 64] [--profile DIR]
 *   [--db sqlite|postgres://…]`
 *
 * The real server (`omadm server`, SQLite or with `--db` PostgreSQL, its own process) over loopback, beside a bare node:http server (its own
 * process) answering a body of the same size, measured in the same run with the same HTTP client (this process, so
 * the load client never shares a process with either server). Both servers run for the whole bench and are measured
 * in interleaved rounds (bare, basic, md5, one-Get, bare, …); the figures are medians over the rounds and the ratio is
 * the median of each round's ratio to that round's bare figure, so a noisy neighbour slows both sides alike.
 * `--profile DIR` runs the server with `--cpu-prof` (the profile is written to DIR when it exits).
 * The server runs as it is deployed: compiled by `npm run build` (tsc, into dist/), which the bench runs first;
 * `--from src` runs the TypeScript sources through tsx instead (as `npm start` does in a checkout). `--node-flags "…"`
 * passes Node.js flags to the server process.
 *
 * - idle check-ins/s, basic: Package 1 with basic credentials (the same bytes every time), nothing queued;
 * - idle check-ins/s, md5: a new digest per check-in over the nonce the server issued last (lean client: the real
 *   engine's Package 1 with SessionID and digest replaced; the answer's 212 and NextNonce checked);
 * - one-Get sessions/s: enqueue a Get through the REST API, then a session of two round trips that returns it;
 * - bare node:http requests/s with an equal-sized request and response body.
 *
 * Target (issue 5): idle check-ins ≥ half the bare server's requests/s.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { hash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ClientSession } from '../src/session/index.js';
import { MemoryNonceStore } from '../src/security/nonce.js';
import { cryptoRandom } from '../src/platform/random.js';
import { systemClock } from '../src/platform/clock.js';
import { decodeMessage, encodeMessage } from '../src/syncml/codec.js';
import type { AuthName } from '../src/syncml/constants.js';
import type { Item, SyncMLMessage } from '../src/syncml/model.js';
import { md5CredentialFromKey, md5Key } from '../src/security/digest.js';
import type { CommandExecutor } from '../src/syncml/command-outcome.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    profile: { type: 'string' },
    only: { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    devices: { type: 'string', default: '64' },
    from: { type: 'string', default: 'dist' },
    'node-flags': { type: 'string', default: '' },
    db: { type: 'string', default: 'sqlite' },
  },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Math.max(1, Number(values.rounds));
/** `--only basic|md5|get`: measure only bare and that figure (for profiling one path). */
const ONLY = values.only;
const CONCURRENCY = Number(values.concurrency);
const DEVICES = Math.max(Number(values.devices), CONCURRENCY);
const TOKEN = 'bench-token';
const TYPE = 'application/vnd.syncml.dm+xml';
const BIN = fileURLToPath(new URL('../bin/omadm.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST_MAIN = new URL('../dist/src/cli/main.js', import.meta.url).href;
if (values.from !== 'dist' && values.from !== 'src') throw new Error('--from is dist or src');
const FROM_DIST = values.from === 'dist';
/**
 * `--db postgres://user@host/db`: the server on PostgreSQL instead (a throwaway schema, dropped at the end);
 * default `sqlite` (a temporary file).
 */
const DB = values.db;
if (DB !== 'sqlite' && !/^postgres(ql)?:\/\//.test(DB))
  throw new Error('--db is sqlite or a postgres:// URL');
const PG_SCHEMA = `omadm_bench_${process.pid}`;
/** `--node-flags "--max-semi-space-size=64"`: extra Node.js flags for the server process (for A/B runs). */
const NODE_FLAGS = values['node-flags'].split(' ').filter((flag) => flag !== '');

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

interface Reply {
  readonly status: number;
  readonly body: Uint8Array;
  readonly headers: Record<string, string | string[] | undefined>;
}

function post(url: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: new Uint8Array(Buffer.concat(chunks)),
            headers: res.headers,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function api(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
  return response.json();
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = pattern.exec(out);
      if (match !== null) resolve(match);
    });
    child.once('exit', (code) => reject(new Error(`child exited (${String(code)}): ${out}`)));
  });
}

/** CPU time (user + system) a process has used, in µs, from /proc (Linux); undefined elsewhere. */
function cpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15 (clock ticks, 100 Hz).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

interface Measured {
  readonly rate: number;
  /** CPU µs per operation used by the measured server process and by this (client) process. */
  readonly serverCpu: number | undefined;
  readonly clientCpu: number;
}

/** Runs `loop` on CONCURRENCY workers for `seconds`; returns operations per second and CPU per operation. */
async function measure(
  loop: (worker: number) => Promise<void>,
  seconds: number,
  serverPid?: number,
): Promise<Measured> {
  let count = 0;
  let failures = 0;
  const server0 = cpuMicros(serverPid);
  const client0 = process.cpuUsage();
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (performance.now() < until) {
        try {
          await loop(worker);
          count++;
        } catch (error) {
          if (++failures === 1) console.error(`bench: first failure: ${String(error)}`);
        }
      }
    }),
  );
  if (failures > 0) console.error(`bench: ${failures} failed operations`);
  const server1 = cpuMicros(serverPid);
  const client = process.cpuUsage(client0);
  return {
    rate: count / ((performance.now() - started) / 1000),
    serverCpu: server0 === undefined || server1 === undefined ? undefined : (server1 - server0) / count,
    clientCpu: (client.user + client.system) / count,
  };
}

interface BenchDevice {
  readonly deviceId: string;
  readonly username: string;
  readonly password: string;
  readonly auth: AuthName;
  readonly nonces: MemoryNonceStore;
  readonly values: Map<string, string>;
  /** Package 1 built once by the real engine, as text around what changes (the lean md5 check-in's template). */
  template?: Md5Template;
}

const devInfo = (deviceId: string): Item[] =>
  Object.entries({ DevId: deviceId, Man: 'Acme', Mod: 'B1', DmV: '1.2', Lang: 'en-US' }).map(([k, v]) => ({
    source: { locUri: `./DevInfo/${k}` },
    meta: { format: 'chr', type: 'text/plain' },
    data: { kind: 'text', text: v },
  }));

const executorFor = (device: BenchDevice): CommandExecutor => ({
  execute: (command) => {
    if (command.kind !== 'Get') return { code: 406 };
    const uri = command.items[0]?.target?.locUri ?? '';
    const value = device.values.get(uri);
    return value === undefined
      ? { code: 404 }
      : {
          code: 200,
          results: [
            { source: { locUri: uri }, meta: { format: 'chr' }, data: { kind: 'text', text: value } },
          ],
        };
  },
});

let sessionSeq = 0;
/** One session with the real client engine; returns the number of messages it sent. */
async function session(dm: string, device: BenchDevice): Promise<number> {
  const client = new ClientSession({
    serverUri: dm,
    serverId: 'omadm',
    deviceId: device.deviceId,
    sessionId: (++sessionSeq % 0xffff || 1).toString(16).toUpperCase(),
    devInfo: devInfo(device.deviceId),
    credentials: { auth: device.auth, username: device.username, password: device.password },
    executor: executorFor(device),
    nonces: device.nonces,
    random: cryptoRandom,
    clock: systemClock,
  });
  let step = await client.start();
  let sent = 0;
  while (step.outgoing !== undefined) {
    const body = encodeMessage(step.outgoing.message, TYPE);
    const reply = await post(dm, body, { 'content-type': TYPE });
    sent++;
    if (reply.status !== 200)
      throw new Error(`HTTP ${reply.status}: ${new TextDecoder().decode(reply.body)}`);
    step = await client.receive(decodeMessage(reply.body, TYPE), { body: reply.body });
  }
  const ended = step.events.find((e) => e.type === 'ended');
  if (ended?.type === 'ended' && ended.reason !== 'completed')
    throw new Error(`session ended: ${ended.reason}`);
  return sent;
}

/**
 * An md5 check-in as a lean load client sends it: the Package 1 the real engine built for the device, encoded once
 * with markers where what changes per session goes (SessionID and the digest over the nonce the server issued
 * last); the server's answer is checked (SyncHdr Status 212, Final) and its NextNonce kept for the next check-in.
 * The real engine costs the load client ≈ 3 × what this does, which made the md5 figure measure the client.
 */
async function leanMd5CheckIn(dm: string, device: BenchDevice): Promise<void> {
  const template = (device.template ??= await md5Template(dm, device));
  const nonce = device.nonces.get('omadm', 'client-to-server');
  if (nonce === undefined) throw new Error('no nonce yet');
  const sessionId = (++sessionSeq % 0xffff || 1).toString(16).toUpperCase();
  // security.md §4: B64(H(B64(H(user:pass)) ":" nonce)), the key and ':' as bytes once, the nonce's octets.
  const digest = hash('md5', Buffer.concat([template.keyColon, Buffer.from(nonce, 'base64')]), 'base64');
  const body = Buffer.concat([
    template.before,
    Buffer.from(sessionId, 'latin1'),
    template.between,
    Buffer.from(digest, 'latin1'),
    template.after,
  ]);
  const reply = await post(dm, body, { 'content-type': TYPE });
  const bytes = Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength);
  // The first Status answers the SyncHdr (representation.md §5): it must say 212.
  const statusEnd = bytes.indexOf(MARK.statusEnd);
  const status = bytes.subarray(bytes.indexOf(MARK.status), statusEnd);
  const accepted = status.includes(MARK.syncHdr) && status.includes(MARK.accepted);
  const open = bytes.indexOf(MARK.gt, bytes.indexOf(MARK.nextNonce)) + 1;
  const next = open > 0 ? bytes.toString('latin1', open, bytes.indexOf(MARK.nextNonceEnd, open)) : '';
  if (reply.status !== 200 || !accepted || next === '' || !bytes.includes(MARK.final)) {
    throw new Error(`md5 check-in not accepted: HTTP ${reply.status} ${bytes.toString('latin1', 0, 200)}`);
  }
  device.nonces.set('omadm', 'client-to-server', next);
}

/** What the lean client looks for in the answer, as bytes (searched without decoding the answer to a string). */
const MARK = {
  status: Buffer.from('<Status>'),
  statusEnd: Buffer.from('</Status>'),
  syncHdr: Buffer.from('<Cmd>SyncHdr</Cmd>'),
  accepted: Buffer.from('<Data>212</Data>'),
  nextNonce: Buffer.from('<NextNonce'),
  nextNonceEnd: Buffer.from('</NextNonce>'),
  gt: Buffer.from('>'),
  final: Buffer.from('<Final/>'),
};

interface Md5Template {
  readonly before: Buffer;
  readonly between: Buffer;
  readonly after: Buffer;
  /** B64(MD5(user:pass)) ":" as bytes: the digest's key, computed once. */
  readonly keyColon: Buffer;
}

async function md5Template(dm: string, device: BenchDevice): Promise<Md5Template> {
  const message = await packageOne(dm, device);
  if (message.header.cred === undefined) throw new Error('Package 1 without credentials');
  const marked: SyncMLMessage = {
    ...message,
    header: { ...message.header, sessionId: 'SESSION-ID', cred: { ...message.header.cred, data: 'DIGEST' } },
  };
  const xml = new TextDecoder().decode(encodeMessage(marked, TYPE));
  const [before, rest] = xml.split('<SessionID>SESSION-ID</SessionID>') as [string, string];
  const [between, after] = rest.split('<Data>DIGEST</Data>') as [string, string];
  const key = md5Key(device.username, device.password);
  const keyColon = Buffer.from(`${key}:`);
  // The shortcut computes the library's formula (checked once per device on a sample nonce).
  const sample = Buffer.from('bench-sample-nonce');
  if (hash('md5', Buffer.concat([keyColon, sample]), 'base64') !== md5CredentialFromKey(key, sample)) {
    throw new Error('the lean md5 digest differs from md5CredentialFromKey');
  }
  return {
    before: Buffer.from(`${before}<SessionID>`),
    between: Buffer.from(`</SessionID>${between}<Data>`),
    after: Buffer.from(`</Data>${after}`),
    keyColon,
  };
}

/** The device's Package 1 as the real client engine builds it (nothing is sent). */
async function packageOne(dm: string, device: BenchDevice): Promise<SyncMLMessage> {
  const client = new ClientSession({
    serverUri: dm,
    serverId: 'omadm',
    deviceId: device.deviceId,
    sessionId: '1',
    devInfo: devInfo(device.deviceId),
    credentials: { auth: device.auth, username: device.username, password: device.password },
    executor: executorFor(device),
    nonces: device.nonces,
    random: cryptoRandom,
    clock: systemClock,
  });
  return (await client.start()).outgoing!.message;
}

async function dropSchema(connection: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: connection });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'omadm-bench-'));
  const children: ChildProcess[] = [];
  try {
    // ── the real server ──────────────────────────────────────────────────────────────────────────────────────────
    if (FROM_DIST) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
    // The compiled CLI, started the way bin/omadm.js starts it when installed (no tsx in the process).
    const entry = FROM_DIST
      ? [
          '--input-type=module',
          '-e',
          `const { main } = await import(${JSON.stringify(DIST_MAIN)}); process.exitCode = await main(process.argv.slice(1));`,
        ]
      : [BIN];
    const server = spawn(
      process.execPath,
      [
        ...(values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.profile}`]),
        ...NODE_FLAGS,
        ...entry,
        'server',
        '--port',
        '0',
        '--db',
        DB === 'sqlite' ? join(dir, 'bench.db') : `${DB}${DB.includes('?') ? '&' : '?'}schema=${PG_SCHEMA}`,
        '--admin-token',
        TOKEN,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(server);
    const base = (await waitForLine(server, /^DM endpoint:\s+(\S+)\/dm$/m))[1]!;
    const dm = `${base}/dm`;
    const md5Devices: BenchDevice[] = [];
    const basicBodies: Uint8Array[] = [];
    for (let i = 0; i < DEVICES; i++) {
      for (const auth of ['md5', 'basic'] as const) {
        const device: BenchDevice = {
          deviceId: `bench-${auth}-${i}`,
          username: `u${i}`,
          password: `p${i}-secret`,
          auth,
          nonces: new MemoryNonceStore(),
          values: new Map([['./DevInfo/Mod', 'B1']]),
        };
        await api(base, 'POST', '/devices', {
          deviceId: device.deviceId,
          username: device.username,
          password: device.password,
          authType: auth,
          serverPassword: `s${i}`,
        });
        await session(dm, device); // first contact: challenge, then a nonce for the next sessions
        if (auth === 'md5') md5Devices.push(device);
        else {
          const client = new ClientSession({
            serverUri: dm,
            serverId: 'omadm',
            deviceId: device.deviceId,
            sessionId: '1',
            devInfo: devInfo(device.deviceId),
            credentials: { auth, username: device.username, password: device.password },
            executor: executorFor(device),
            nonces: device.nonces,
            random: cryptoRandom,
            clock: systemClock,
          });
          basicBodies.push(encodeMessage((await client.start()).outgoing!.message, TYPE));
        }
      }
    }
    const probe = await post(dm, basicBodies[0]!, { 'content-type': TYPE });
    const requestSize = basicBodies[0]!.byteLength;
    const responseSize = probe.body.byteLength;

    // ── the bare node:http baseline: same request size, same response size, same client ────────────────────────
    const bareScript = `
      const http = require('node:http');
      const body = Buffer.alloc(${responseSize}, 120);
      http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          Buffer.concat(chunks);
          res.writeHead(200, { 'content-type': '${TYPE}', 'content-length': body.length, 'cache-control': 'no-store' });
          res.end(body);
        });
      }).listen(0, '127.0.0.1', function () { console.log('port ' + this.address().port); });`;
    const bare = spawn(process.execPath, ['-e', bareScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(bare);
    const barePort = (await waitForLine(bare, /port (\d+)/))[1]!;
    const bareUrl = `http://127.0.0.1:${barePort}/dm`;
    const bareBody = new Uint8Array(requestSize).fill(120);

    const figures = {
      bare: async () => {
        const reply = await post(bareUrl, bareBody, { 'content-type': TYPE });
        if (reply.body.byteLength !== responseSize) throw new Error('bare server answered a different size');
      },
      basic: async (w: number) => {
        const reply = await post(dm, basicBodies[w % basicBodies.length]!, { 'content-type': TYPE });
        if (reply.status !== 200) throw new Error(`HTTP ${reply.status}`);
      },
      md5: async (w: number) => {
        await leanMd5CheckIn(dm, md5Devices[w % md5Devices.length]!);
      },
      get: async (w: number) => {
        const device = md5Devices[w % md5Devices.length]!;
        await api(base, 'POST', `/devices/${encodeURIComponent(device.deviceId)}/commands`, {
          command: 'Get',
          target: './DevInfo/Mod',
        });
        const sent = await session(dm, device);
        if (sent !== 2) throw new Error(`a one-Get session took ${sent} messages`);
      },
    };
    type Figure = keyof typeof figures;
    const all: Figure[] = ['bare', 'basic', 'md5', 'get'];
    if (ONLY !== undefined && !all.includes(ONLY as Figure)) throw new Error('--only is basic, md5 or get');
    const order: Figure[] = ONLY === undefined ? all : ['bare', ONLY as Figure];
    // Warm both servers up (JIT, SQLite page cache), then measure in interleaved rounds.
    const pidOf = (name: Figure): number | undefined => (name === 'bare' ? bare.pid : server.pid);
    for (const name of order) await measure(figures[name], Math.min(SECONDS, 2), pidOf(name));
    const rates: Record<Figure, number[]> = { bare: [], basic: [], md5: [], get: [] };
    const serverCpu: Record<Figure, number[]> = { bare: [], basic: [], md5: [], get: [] };
    const clientCpu: Record<Figure, number[]> = { bare: [], basic: [], md5: [], get: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order each round so neither side always runs first after a pause.
      const sequence = round % 2 === 0 ? order : [...order].reverse();
      for (const name of sequence) {
        const m = await measure(figures[name], SECONDS, pidOf(name));
        rates[name].push(m.rate);
        if (m.serverCpu !== undefined) serverCpu[name].push(m.serverCpu);
        clientCpu[name].push(m.clientCpu);
      }
    }
    server.kill('SIGTERM');
    bare.kill('SIGTERM');
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(0)))),
    );

    const median = (xs: readonly number[]): number => {
      const sorted = [...xs].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    };
    const ratio = (name: Figure): number => median(rates[name].map((r, i) => r / rates.bare[i]!));
    const spread = (xs: readonly number[]): string =>
      `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
    const row = (name: Figure, label: string, unit: string): string =>
      rates[name].length === 0
        ? ''
        : `${label.padEnd(48)} ${median(rates[name]).toFixed(0).padStart(7)} ${unit.padEnd(11)} ${ratio(name).toFixed(2).padStart(5)} × bare` +
          `  server ${serverCpu[name].length === 0 ? '?' : median(serverCpu[name]).toFixed(0)} µs CPU/op, client ${median(clientCpu[name]).toFixed(0)} µs` +
          `  (rounds ${spread(rates[name])}/s)`;
    console.log(
      [
        `omadm bench/server: ${ROUNDS} interleaved rounds of ${SECONDS} s per figure, medians; ${CONCURRENCY} concurrent clients, loopback, ${DB === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, Node ${process.version}, server from ${FROM_DIST ? 'dist (tsc)' : 'src (tsx)'}${NODE_FLAGS.length === 0 ? '' : ` with ${NODE_FLAGS.join(' ')}`}`,
        `check-in request ${requestSize} B, response ${responseSize} B (the bare server answers the same sizes)`,
        '',
        row('bare', 'bare node:http (equal-sized body)', 'req/s'),
        row('basic', 'idle check-ins, basic (same bytes each time)', 'check-ins/s'),
        row('md5', 'idle check-ins, md5 (new digest each time)', 'check-ins/s'),
        row('get', 'one-Get sessions (REST enqueue + 2 round trips)', 'sessions/s'),
        '',
        `target: idle check-ins ≥ 0.50 × bare → ` +
          (['basic', 'md5'] as const)
            .filter((name) => rates[name].length > 0)
            .map((name) => `${name} ${ratio(name).toFixed(2)}`)
            .join(', '),
      ]
        .filter((line, i, all) => line !== '' || all[i - 1] !== '')
        .join('\n'),
    );
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
    if (DB !== 'sqlite') await dropSchema(DB, PG_SCHEMA);
  }
}

await main();
