/**
 * Verbose mode: each message as decoded, in both directions, rendered as indented XML whatever went over the
 * wire (WBXML included). Secrets never reach the output: Cred data and the values of AAuthSecret / AAuthData
 * nodes are replaced with `***` (Basic credentials are just Base64 of `user:password`).
 */
import { encodeXml } from '../syncml/xml/index.js';
import type { Command, Item, SyncMLMessage } from '../syncml/model.js';
import { redactUrl } from './http-transport.js';
import type { WireMessage } from './device-runtime.js';

const SECRET_NODE = /\/(AAuthSecret|AAuthData)(\?|$)/;
const HIDDEN = { kind: 'text', text: '***' } as const;

function redactItem(item: Item): Item {
  const uri = item.target?.locUri ?? item.source?.locUri ?? '';
  return item.data !== undefined && SECRET_NODE.test(uri) ? { ...item, data: HIDDEN } : item;
}

function redactCommand(command: Command): Command {
  switch (command.kind) {
    case 'Atomic':
      return { ...command, commands: command.commands.map((c) => redactCommand(c) as typeof c) };
    case 'Sequence':
      return { ...command, commands: command.commands.map((c) => redactCommand(c) as typeof c) };
    default: {
      const withoutCred =
        'cred' in command && command.cred !== undefined
          ? { ...command, cred: { ...command.cred, data: '***' } }
          : command;
      return 'items' in withoutCred
        ? { ...withoutCred, items: withoutCred.items.map(redactItem) }
        : withoutCred;
    }
  }
}

/** The message with every secret replaced by `***`. */
export function redactMessage(message: SyncMLMessage): SyncMLMessage {
  const { header } = message;
  return {
    ...message,
    header: header.cred === undefined ? header : { ...header, cred: { ...header.cred, data: '***' } },
    body: message.body.map(redactCommand),
  };
}

/** Indents compact XML one element per line (text and CDATA stay inline with their element). */
export function indentXml(xml: string): string {
  const tokens = xml.match(/<!\[CDATA\[[\s\S]*?\]\]>|<[^>]+>|[^<]+/g) ?? [];
  const lines: string[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.startsWith('<?')) {
      lines.push(token);
    } else if (token.startsWith('</')) {
      depth = Math.max(0, depth - 1);
      lines.push(`${'  '.repeat(depth)}${token}`);
    } else if (token.startsWith('<') && !token.startsWith('<![CDATA[')) {
      const selfClosing = token.endsWith('/>');
      // <a>text</a> on one line
      const text = tokens[i + 1];
      const close = tokens[i + 2];
      if (!selfClosing && text !== undefined && !text.startsWith('<') && close?.startsWith('</') === true) {
        lines.push(`${'  '.repeat(depth)}${token}${text}${close}`);
        i += 2;
        continue;
      }
      lines.push(`${'  '.repeat(depth)}${token}`);
      if (!selfClosing) depth++;
    } else {
      lines.push(`${'  '.repeat(depth)}${token}`);
    }
  }
  return lines.join('\n');
}

/** One message for a human: a header line (direction, URL without tokens, size, encoding) and the XML. */
export function formatWireMessage(wire: WireMessage): string {
  const arrow = wire.direction === 'out' ? `>>> device → ${redactUrl(wire.url)}` : `<<< server → device`;
  const encoding = /wbxml/i.test(wire.contentType) ? 'WBXML' : 'XML';
  const head = `${arrow} (MsgID ${wire.message.header.msgId}, ${wire.bytes.length} bytes ${encoding}${wire.message.final ? ', Final' : ''})`;
  const xml = new TextDecoder().decode(encodeXml(redactMessage(wire.message)));
  return `${head}\n${indentXml(xml)}\n`;
}
