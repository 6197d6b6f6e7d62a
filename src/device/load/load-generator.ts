/**
 * The load generator: N simulated devices, each a full DeviceRuntime (own tree, own credentials, in-memory
 * state), running DM sessions against a server as fast as it answers, C at a time, until a duration has passed
 * or K sessions have run. Nothing is shortcut: every session is `DeviceRuntime.runSession`, the path a real
 * device takes (encode, HTTP, decode, ClientSession, tree). Optionally registers the devices first through the
 * server's REST API (`POST /api/v1/devices`).
 *
 * Device i (1-based) uses id `<prefix><i>`, user name `<prefix><i>` and password `<prefix><i>/client`
 * (server password `<prefix><i>/server`), so an operator can register the same devices by other means.
 */
import { performance } from 'node:perf_hooks';
import { OmadmError } from '../../errors.js';
import type { AuthName } from '../../syncml/constants.js';
import type { Encoding } from '../../syncml/content-type.js';
import { DeviceRuntime } from '../device-runtime.js';
import type { DeviceProfile } from '../profiles/profile.js';
import { genericProfile } from '../profiles/profiles.js';
import type { SessionSummary } from '../session-summary.js';
import { summarizeLatencies, type LatencySummary } from './latency-stats.js';

/** Hard bounds: a load run is always finite and sized for one process. */
export const LOAD_LIMITS = {
  maxDevices: 100_000,
  maxConcurrency: 10_000,
  maxDurationMs: 24 * 3600_000,
  maxSessions: 100_000_000,
} as const;

export interface LoadOptions {
  /** The DM endpoint, e.g. http://127.0.0.1:8080/dm. */
  readonly serverUrl: string;
  readonly devices: number;
  /** Sessions in flight at once (capped at `devices`: a device runs one session at a time). Default 10. */
  readonly concurrency?: number;
  /** Stop starting sessions after this long. Default 10 s when `sessions` is not given. */
  readonly durationMs?: number;
  /** Stop after this many sessions in total. */
  readonly sessions?: number;
  readonly encoding?: Encoding;
  readonly auth?: AuthName;
  readonly serverId?: string;
  /** Device id prefix. Default `LOAD-`. */
  readonly prefix?: string;
  readonly profile?: DeviceProfile;
  /** Register the devices through the REST API first. */
  readonly register?: { readonly apiUrl: string; readonly adminToken: string };
  /** Called about every `progressIntervalMs` while sessions run. */
  readonly onProgress?: (progress: LoadProgress) => void;
  readonly progressIntervalMs?: number;
  /** Per HTTP request. Default 30 s. */
  readonly httpTimeoutMs?: number;
  /** Aborting stops starting sessions (those in flight finish) and the report covers what ran. */
  readonly signal?: AbortSignal;
}

export interface LoadProgress {
  readonly elapsedMs: number;
  readonly sessions: number;
  readonly failed: number;
  readonly inFlight: number;
  readonly sessionsPerSecond: number;
}

export interface LoadReport {
  readonly devices: number;
  readonly concurrency: number;
  readonly encoding: Encoding;
  readonly auth: AuthName;
  readonly registered?: { readonly created: number; readonly existing: number; readonly durationMs: number };
  /** Wall time from the first session started to the last one finished. */
  readonly durationMs: number;
  readonly sessions: number;
  readonly completed: number;
  readonly failed: number;
  readonly messages: number;
  readonly bytes: number;
  readonly sessionsPerSecond: number;
  readonly messagesPerSecond: number;
  /** Session latency in milliseconds (Package 1 sent → session over), all sessions. */
  readonly latencyMs: LatencySummary;
  /** Failed sessions by cause (`outcome` or `outcome: errorCode`). */
  readonly failures: Readonly<Record<string, number>>;
  /** One example reason per cause, to say what went wrong. */
  readonly failureExamples: Readonly<Record<string, string>>;
}

export function deviceCredentials(
  prefix: string,
  index: number,
): { deviceId: string; username: string; password: string; serverPassword: string } {
  const deviceId = `${prefix}${index}`;
  return {
    deviceId,
    username: deviceId,
    password: `${deviceId}/client`,
    serverPassword: `${deviceId}/server`,
  };
}

export class LoadError extends OmadmError {
  constructor(code: string, message: string) {
    super(code, message, { httpStatus: 400 });
  }
}

function check(options: LoadOptions): void {
  const int = (name: string, value: number | undefined, min: number, max: number): void => {
    if (value !== undefined && (!Number.isInteger(value) || value < min || value > max)) {
      throw new LoadError('bad-load-option', `${name} must be an integer from ${min} to ${max}`);
    }
  };
  int('devices', options.devices, 1, LOAD_LIMITS.maxDevices);
  int('concurrency', options.concurrency, 1, LOAD_LIMITS.maxConcurrency);
  int('sessions', options.sessions, 1, LOAD_LIMITS.maxSessions);
  if (
    options.durationMs !== undefined &&
    !(options.durationMs > 0 && options.durationMs <= LOAD_LIMITS.maxDurationMs)
  ) {
    throw new LoadError(
      'bad-load-option',
      `duration must be more than 0 and at most ${LOAD_LIMITS.maxDurationMs / 1000} s`,
    );
  }
}

/** Runs the load; resolves with the report. Throws LoadError for bad options or a failed registration. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  check(options);
  const prefix = options.prefix ?? 'LOAD-';
  const auth = options.auth ?? 'md5';
  const encoding = options.encoding ?? 'xml';
  const concurrency = Math.min(options.concurrency ?? 10, options.devices);
  const durationMs = options.durationMs ?? (options.sessions === undefined ? 10_000 : undefined);

  const registered =
    options.register === undefined ? undefined : await registerAll(options, prefix, auth, concurrency);
  const runtimes = await pool(options.devices, Math.min(concurrency, 64), async (i) => {
    const c = deviceCredentials(prefix, i + 1);
    return DeviceRuntime.open({
      deviceId: c.deviceId,
      account: {
        serverId: options.serverId ?? 'omadm',
        serverUrl: options.serverUrl,
        auth,
        username: c.username,
        password: c.password,
        serverPassword: c.serverPassword,
      },
      encoding,
      profile: options.profile ?? genericProfile,
      ...(options.httpTimeoutMs === undefined ? {} : { httpTimeoutMs: options.httpTimeoutMs }),
    });
  });

  const latencies: number[] = [];
  const failures = new Map<string, number>();
  const examples = new Map<string, string>();
  let started = 0;
  let finished = 0;
  let failed = 0;
  let messages = 0;
  let bytes = 0;
  let inFlight = 0;
  let next = 0;
  const t0 = performance.now();
  const deadline = durationMs === undefined ? Infinity : t0 + durationMs;
  const more = (): boolean =>
    options.signal?.aborted !== true &&
    performance.now() < deadline &&
    (options.sessions === undefined || started < options.sessions);

  const record = (summary: SessionSummary, ms: number): void => {
    finished++;
    latencies.push(ms);
    messages += summary.messages.sent + summary.messages.received;
    bytes += summary.bytes.sent + summary.bytes.received;
    if (!summary.ok) {
      failed++;
      const cause =
        summary.errorCode === undefined ? summary.outcome : `${summary.outcome}: ${summary.errorCode}`;
      failures.set(cause, (failures.get(cause) ?? 0) + 1);
      if (!examples.has(cause)) examples.set(cause, summary.reason ?? '');
    }
  };

  // Workers take devices round-robin; with concurrency ≤ devices no device ever runs two sessions at once.
  const worker = async (): Promise<void> => {
    while (more()) {
      started++;
      inFlight++;
      const runtime = runtimes[next++ % runtimes.length]!;
      const begin = performance.now();
      const summary = await runtime.runSession();
      inFlight--;
      record(summary, performance.now() - begin);
    }
  };
  const progress = (): LoadProgress => {
    const elapsedMs = performance.now() - t0;
    return {
      elapsedMs,
      sessions: finished,
      failed,
      inFlight,
      sessionsPerSecond: elapsedMs > 0 ? (finished * 1000) / elapsedMs : 0,
    };
  };
  const timer =
    options.onProgress === undefined
      ? undefined
      : setInterval(() => options.onProgress?.(progress()), options.progressIntervalMs ?? 250);
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    if (timer !== undefined) clearInterval(timer);
  }
  const elapsed = performance.now() - t0;
  options.onProgress?.(progress());
  const perSecond = (n: number): number => Math.round((elapsed > 0 ? (n * 1000) / elapsed : 0) * 10) / 10;
  return {
    devices: options.devices,
    concurrency,
    encoding,
    auth,
    ...(registered === undefined ? {} : { registered }),
    durationMs: Math.round(elapsed),
    sessions: finished,
    completed: finished - failed,
    failed,
    messages,
    bytes,
    sessionsPerSecond: perSecond(finished),
    messagesPerSecond: perSecond(messages),
    latencyMs: summarizeLatencies(latencies),
    failures: Object.fromEntries([...failures].sort(([, a], [, b]) => b - a)),
    failureExamples: Object.fromEntries(examples),
  };
}

/** POST /api/v1/devices for every device; 409 (already registered) counts as existing. */
async function registerAll(
  options: LoadOptions,
  prefix: string,
  auth: AuthName,
  concurrency: number,
): Promise<{ created: number; existing: number; durationMs: number }> {
  const { apiUrl, adminToken } = options.register!;
  const url = `${apiUrl.replace(/\/+$/, '')}/devices`;
  const t0 = performance.now();
  let created = 0;
  let existing = 0;
  await pool(options.devices, Math.min(concurrency, 32), async (i) => {
    const c = deviceCredentials(prefix, i + 1);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          deviceId: c.deviceId,
          username: c.username,
          password: c.password,
          authType: auth,
          serverPassword: c.serverPassword,
        }),
        signal: AbortSignal.timeout(options.httpTimeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new LoadError(
        'register-failed',
        `registering ${c.deviceId} at ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const text = await response.text();
    if (response.status === 201) created++;
    else if (response.status === 409) existing++;
    else
      throw new LoadError(
        'register-failed',
        `registering ${c.deviceId}: HTTP ${response.status} ${text.slice(0, 200).replace(/\s+/g, ' ')}`,
      );
  });
  return { created, existing, durationMs: Math.round(performance.now() - t0) };
}

/** Maps 0..count-1 through `work`, at most `width` at a time, keeping order. */
async function pool<T>(count: number, width: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await work(i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, count)) }, lane));
  return out;
}
