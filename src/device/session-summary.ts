/** What one DM session came to, built from the messages actually exchanged (nothing estimated). */
import type { SyncMLMessage } from '../syncml/model.js';

export type SessionOutcome =
  | 'completed'
  | 'aborted-by-peer'
  | 'aborted'
  | 'auth-failed'
  | 'peer-auth-failed'
  | 'timeout'
  | 'transport-error'
  | 'protocol-error'
  | 'internal-error';

export interface SessionSummary {
  readonly deviceId: string;
  readonly serverId: string;
  readonly sessionId: string;
  readonly initiator: 'client' | 'server';
  /** True only for `completed`: the session ran to its normal end (protocol.md §10). */
  readonly ok: boolean;
  readonly outcome: SessionOutcome;
  /** One line saying why, when not ok. */
  readonly reason?: string;
  /** Stable error code of the failure (OmadmError.code), when there was one. */
  readonly errorCode?: string;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Packages = messages carrying Final (protocol.md §1). */
  readonly packages: { readonly sent: number; readonly received: number };
  readonly messages: { readonly sent: number; readonly received: number };
  readonly bytes: { readonly sent: number; readonly received: number };
  /** Server commands by type, then by the status code the device answered (`{ Get: { "200": 3 } }`). */
  readonly commands: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Authentication challenges the server issued in this session (0 when stored nonces were good). */
  readonly challenges: number;
  readonly authenticated: boolean;
  /** Whether the server authenticated itself; undefined when the device did not require it. */
  readonly serverAuthenticated?: boolean;
  /** The session answered a trigger accepted only through the special nonce (security.md §8.3). */
  readonly nonceResync?: true;
  /** Generic Alerts sent, and how many of them the server acknowledged with a 2xx status. */
  readonly alerts: { readonly sent: number; readonly acknowledged: number };
}

/** Accumulates counts while the session runs. */
export class SummaryBuilder {
  readonly #commands = new Map<string, Map<string, number>>();
  packagesSent = 0;
  packagesReceived = 0;
  messagesSent = 0;
  messagesReceived = 0;
  bytesSent = 0;
  bytesReceived = 0;
  challenges = 0;
  alertsSent = 0;
  alertsAcknowledged = 0;

  sent(message: SyncMLMessage, bytes: number): void {
    this.messagesSent++;
    this.bytesSent += bytes;
    if (message.final) this.packagesSent++;
    for (const command of message.body) {
      if (command.kind === 'Status' && command.cmdRef !== 0) {
        const byCode = this.#commands.get(command.cmd) ?? new Map<string, number>();
        byCode.set(String(command.code), (byCode.get(String(command.code)) ?? 0) + 1);
        this.#commands.set(command.cmd, byCode);
      }
    }
  }

  received(message: SyncMLMessage, bytes: number): void {
    this.messagesReceived++;
    this.bytesReceived += bytes;
    if (message.final) this.packagesReceived++;
  }

  commands(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [kind, byCode] of [...this.#commands].sort(([a], [b]) => a.localeCompare(b)))
      out[kind] = Object.fromEntries(byCode);
    return out;
  }
}
