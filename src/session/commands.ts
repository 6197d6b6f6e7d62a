/** Builders shared by both engines: headers, Status, Chal, CmdID assignment. Pure functions over the model. */
import type { Chal, Command, Item, LocRef, MetInf, Status, SyncHdr } from '../syncml/model.js';
import { VER_DTD, VER_PROTO } from '../syncml/model.js';
import { AUTH_TYPE_BY_NAME, type AuthName } from '../syncml/constants.js';
import { RemoteProtocolError } from '../errors.js';

/** A command whose CmdID (and those of its children) is assigned when it is packed into a message. */
export type Unnumbered = Command;

export interface HeaderInput {
  readonly sessionId: string;
  readonly msgId: number;
  readonly target: LocRef;
  readonly source: LocRef;
  readonly cred?: SyncHdr['cred'];
  readonly meta?: MetInf;
  readonly respUri?: string;
}

export function buildHeader(input: HeaderInput): SyncHdr {
  return {
    verDtd: VER_DTD,
    verProto: VER_PROTO,
    sessionId: input.sessionId,
    msgId: input.msgId,
    target: input.target,
    source: input.source,
    ...(input.respUri === undefined ? {} : { respUri: input.respUri }),
    ...(input.cred === undefined ? {} : { cred: input.cred }),
    ...(input.meta === undefined || Object.keys(input.meta).length === 0 ? {} : { meta: input.meta }),
  };
}

/** representation.md / protocol.md §1 and §5.2: version checks on every received header. */
export function checkHeader(header: SyncHdr, sender: 'client' | 'server'): void {
  if (header.verDtd !== VER_DTD) {
    throw new RemoteProtocolError(
      'unsupported-dtd',
      `${sender} sent VerDTD ${header.verDtd}; only ${VER_DTD} is supported`,
      {
        status: 505,
      },
    );
  }
  if (header.verProto !== VER_PROTO) {
    throw new RemoteProtocolError(
      'unsupported-protocol',
      `${sender} sent VerProto ${header.verProto}; only ${VER_PROTO} is supported`,
      { status: 513 },
    );
  }
}

export function challenge(auth: AuthName, nonce: string | undefined): Chal {
  return {
    meta: {
      type: AUTH_TYPE_BY_NAME[auth],
      format: 'b64',
      ...(nonce === undefined ? {} : { nextNonce: nonce }),
    },
  };
}

/** Status for a received SyncHdr: CmdRef 0, TargetRef/SourceRef = the header's Target/Source (protocol.md §5.4). */
export function headerStatus(header: SyncHdr, code: number, chal?: Chal): Status {
  return {
    kind: 'Status',
    cmdId: 0,
    msgRef: header.msgId,
    cmdRef: 0,
    cmd: 'SyncHdr',
    targetRefs: [header.target.locUri],
    sourceRefs: [header.source.locUri],
    ...(chal === undefined ? {} : { chal }),
    code,
    items: [],
  };
}

function itemsOf(command: Command): readonly Item[] {
  return 'items' in command ? command.items : [];
}

/** Status for a received command (protocol.md §5.5): TargetRef/SourceRef copied from its items. */
export function commandStatus(
  command: Command,
  msgRef: number,
  code: number,
  extra: { items?: readonly Item[]; chal?: Chal } = {},
): Status {
  const items = command.kind === 'Status' ? [] : itemsOf(command);
  const targetRefs = items.flatMap((item) => (item.target === undefined ? [] : [item.target.locUri]));
  const sourceRefs = items.flatMap((item) => (item.source === undefined ? [] : [item.source.locUri]));
  return {
    kind: 'Status',
    cmdId: 0,
    msgRef,
    cmdRef: command.cmdId,
    cmd: command.kind,
    targetRefs,
    sourceRefs,
    ...(extra.chal === undefined ? {} : { chal: extra.chal }),
    code,
    items: extra.items ?? [],
  };
}

/**
 * One Status per command, recursively into Atomic/Sequence (protocol.md §5.5), all with the same code. Results
 * are included only for an error code (Results are answered only when something went wrong).
 */
export function statusesForAll(commands: readonly Command[], msgRef: number, code: number): Status[] {
  const out: Status[] = [];
  const error = code < 200 || code >= 300;
  for (const command of commands) {
    if (command.kind === 'Status' || (command.kind === 'Results' && !error)) continue;
    if (command.kind !== 'Results' && command.noResp === true) continue;
    out.push(commandStatus(command, msgRef, code));
    if (command.kind === 'Atomic' || command.kind === 'Sequence')
      out.push(...statusesForAll(command.commands, msgRef, code));
  }
  return out;
}

/** Assigns CmdIDs 1, 2, … in document order (containers before their children); never 0 (protocol.md §5.3). */
export function numberCommands(
  commands: readonly Command[],
  first = 1,
): { commands: Command[]; next: number } {
  let next = first;
  const assign = (command: Command): Command => {
    const cmdId = next++;
    if (command.kind === 'Atomic')
      return { ...command, cmdId, commands: command.commands.map((c) => assign(c) as typeof c) };
    if (command.kind === 'Sequence')
      return { ...command, cmdId, commands: command.commands.map((c) => assign(c) as typeof c) };
    return { ...command, cmdId };
  };
  return { commands: commands.map(assign), next };
}

export function alert(code: number, items: readonly Item[] = []): Command {
  return { kind: 'Alert', cmdId: 0, code, items };
}

/** Whether a received body holds anything that needs an answer (a command other than Status). */
export function needsAnswer(body: readonly Command[]): boolean {
  return body.some(
    (command) => command.kind !== 'Status' && !('noResp' in command && command.noResp === true),
  );
}
