/**
 * The contract between a session engine and whatever executes management commands (the device's tree).
 * It lives here, below both, so `session/` never imports `tree/` and `tree/` never imports `session/`.
 */
import type { Command, Item } from './model.js';

/** Who asks: the authenticated server (its ServerID from DMAcc), used for ACL checks. */
export interface CommandContext {
  readonly serverId: string;
}

/** What one command came to. */
export interface CommandOutcome {
  /** The status code for the command itself (Atomic/Sequence: the container's code, e.g. 507). */
  readonly code: number;
  /** Items of the Results answering a Get (each with Source/LocURI, Meta Format/Type, Data). */
  readonly results?: readonly Item[];
  /** Items to carry in the Status (e.g. the Target of the node an implicit Add failed on). */
  readonly statusItems?: readonly Item[];
  /** Atomic/Sequence: one outcome per child command, in order (216 for children rolled back). */
  readonly children?: readonly CommandOutcome[];
}

/**
 * Executes one command on the management tree. Large objects arrive here already reassembled; the
 * session engine answers 213 per chunk itself. May be async (plugins read hardware, Exec runs handlers).
 */
export interface CommandExecutor {
  execute(command: Command, context: CommandContext): CommandOutcome | Promise<CommandOutcome>;
}
