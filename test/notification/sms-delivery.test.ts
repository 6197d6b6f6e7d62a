/**
 * sms: targets end to end on loopback: WapPushSmsChannel → KannelSmsGateway → an HTTP server speaking Kannel's
 * sendsms (the operator side) → reassembly and the push router check of a phone (decodeWapPushSms) → one UDP
 * datagram into the real device listener, standing in for the radio link.
 */
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildNotification, decodeWapPushSms, makeTrigger } from '../../src/notification/index.js';
import {
  createNotificationChannel,
  KannelSmsGateway,
  msisdnOf,
  NotificationDeliveryError,
  percentEncodeBytes,
} from '../../src/server/notification/index.js';
import { CREDENTIALS, ListenerHarness, SERVER_ID } from './support/listener-harness.js';

/** %XX and '+' decoding straight to bytes (URLSearchParams would force UTF-8 and mangle binary). */
function percentDecodeBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '%') {
      out.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c === '+' ? 0x20 : c.charCodeAt(0));
  }
  return new Uint8Array(out);
}

interface SentSms {
  readonly query: Record<string, string>;
  readonly userData: Uint8Array;
}

/** Accepts sendsms like Kannel; once a phone has all segments of a push, "delivers" it to `phone`. */
async function startKannel(
  phoneAddress: () => string,
  refuse = false,
): Promise<{ url: string; sent: SentSms[]; server: Server }> {
  const sent: SentSms[] = [];
  const inbox = new Map<string, Uint8Array[]>();
  const server = createServer((request, response) => {
    const rawQuery = (request.url ?? '').split('?')[1] ?? '';
    const query = Object.fromEntries(
      rawQuery.split('&').map((pair) => {
        const [k = '', v = ''] = pair.split('=');
        return [k, v];
      }),
    );
    if (refuse || query.username !== 'dm' || query.password !== 'pw%21') {
      response.writeHead(403).end('Authorization failed for sendsms');
      return;
    }
    const userData = new Uint8Array([
      ...percentDecodeBytes(query.udh ?? ''),
      ...percentDecodeBytes(query.text ?? ''),
    ]);
    sent.push({ query, userData });
    const to = decodeURIComponent(query.to ?? '');
    const segments = [...(inbox.get(to) ?? []), userData];
    inbox.set(to, segments);
    const total = userData[1] === 0x00 ? userData[4]! : 1;
    if (segments.length === total) {
      inbox.delete(to);
      const { port } = new URL(phoneAddress());
      const air = createSocket('udp4');
      air.send(decodeWapPushSms(segments), Number(port), '127.0.0.1', () => air.close());
    }
    response.writeHead(202).end('0: Accepted for delivery');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/cgi-bin/sendsms`, sent, server };
}

let harness: ListenerHarness | undefined;
let kannel: Server | undefined;
afterEach(async () => {
  await harness?.listener.close();
  await new Promise((resolve) => (kannel ? kannel.close(resolve) : resolve(undefined)));
  harness = undefined;
  kannel = undefined;
});

describe('Package 0 over SMS through a Kannel gateway (DG-NOT-05)', () => {
  it('a short notification is one binary SMS with the WAP push UDH, and starts a session on the device', async () => {
    harness = await ListenerHarness.start('udp://127.0.0.1:0');
    const gateway = await startKannel(() => harness!.address);
    kannel = gateway.server;
    const channel = createNotificationChannel({
      sms: new KannelSmsGateway({ url: gateway.url, username: 'dm', password: 'pw!' }),
    });
    const bytes = buildNotification(makeTrigger({ serverId: SERVER_ID, sessionId: 0x1234 }), CREDENTIALS);
    await channel.deliver('sms:+15550100', bytes);
    await harness.waitForKind('session-started');
    expect(harness.sessions[0]?.sessionIdText).toBe('1234');
    expect(gateway.sent).toHaveLength(1);
    const [sms] = gateway.sent;
    expect(sms!.query.coding).toBe('1');
    expect(sms!.query.udh).toBe('%06%05%04%0B%84%C0%02');
    expect(decodeURIComponent(sms!.query.to!)).toBe('+15550100');
  });

  it('a long notification goes as concatenated SMS and still verifies on the device', async () => {
    harness = await ListenerHarness.start('udp://127.0.0.1:0');
    const gateway = await startKannel(() => harness!.address);
    kannel = gateway.server;
    const channel = createNotificationChannel({
      sms: new KannelSmsGateway({ url: gateway.url, username: 'dm', password: 'pw!' }),
    });
    const vendorData = new Uint8Array(300).fill(0xa5);
    const bytes = buildNotification(
      makeTrigger({ serverId: SERVER_ID, sessionId: 0x2222, vendorData }),
      CREDENTIALS,
    );
    await channel.deliver('sms:+15550100?body=ignored', bytes);
    await harness.waitForKind('session-started');
    expect(gateway.sent.length).toBe(3);
    expect(harness.sessions[0]?.trigger.vendorData).toEqual(vendorData);
  });

  it('a gateway refusal is a typed delivery failure naming the gateway answer', async () => {
    const gateway = await startKannel(() => 'udp://127.0.0.1:9', true);
    kannel = gateway.server;
    const channel = createNotificationChannel({
      sms: new KannelSmsGateway({ url: gateway.url, username: 'dm', password: 'pw!' }),
    });
    const error = await channel.deliver('sms:+15550100', new Uint8Array(30)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotificationDeliveryError);
    expect((error as NotificationDeliveryError).code).toBe('notification-delivery-failed');
    expect((error as Error).message).toContain('Authorization failed');
  });

  it('sms: targets must carry a phone number', () => {
    expect(msisdnOf('sms:+15550100')).toBe('+15550100');
    expect(msisdnOf('SMS:0170123456')).toBe('0170123456');
    for (const bad of ['sms:', 'sms:alice', 'sms:+1', 'tel:+15550100']) {
      expect(() => msisdnOf(bad)).toThrow(NotificationDeliveryError);
    }
  });

  it('percent-encodes every byte that is not URL-unreserved, so binary survives exactly', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(percentDecodeBytes(percentEncodeBytes(all))).toEqual(all);
    expect(percentEncodeBytes(new Uint8Array([0x41, 0x20, 0x2b, 0x00]))).toBe('A%20%2B%00');
  });
});
