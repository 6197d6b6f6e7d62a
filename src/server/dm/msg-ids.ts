/**
 * Server MsgIDs across a stateless challenge (protocol.md §5.2, DG-SES-06: each side's MsgIDs increase by 1 within
 * a session). A challenge is answered without saving a session, so the engine that takes over afterwards would
 * number its first message 1 again. The client tells us how many messages we sent: its Status for our SyncHdr
 * carries our last MsgID as MsgRef. This layer numbers the challenge after it, and shifts the engine's numbering by
 * the same offset both ways: MsgIDs out, MsgRefs in.
 */
import type { Command, SyncMLMessage } from '../../syncml/model.js';

/** Our last MsgID as the client acknowledges it (MsgRef of its Status for our SyncHdr), or 0. */
export function lastServerMsgId(message: SyncMLMessage): number {
  let last = 0;
  for (const command of message.body) {
    if (command.kind === 'Status' && command.cmdRef === 0 && command.msgRef !== undefined)
      last = Math.max(last, command.msgRef);
  }
  return last;
}

/**
 * How many messages we already sent in this session by the client's own account: our last MsgID it acknowledges,
 * or, failing that, its own MsgID minus one (each of its messages answers one of ours). While the client is not
 * authenticated every one of them was a challenge.
 */
export function challengesSeen(message: SyncMLMessage): number {
  return Math.max(lastServerMsgId(message), message.header.msgId - 1);
}

/** The client's message with its references to our messages moved into the engine's numbering. */
export function toEngineRefs(message: SyncMLMessage, offset: number): SyncMLMessage {
  if (offset === 0) return message;
  const shift = (command: Command): Command =>
    (command.kind === 'Status' || command.kind === 'Results') && command.msgRef !== undefined
      ? { ...command, msgRef: command.msgRef - offset }
      : command;
  return { ...message, body: message.body.map(shift) };
}

/** The engine's message numbered after the challenges this layer sent. */
export function fromEngineIds(message: SyncMLMessage, offset: number): SyncMLMessage {
  if (offset === 0) return message;
  return { ...message, header: { ...message.header, msgId: message.header.msgId + offset } };
}
