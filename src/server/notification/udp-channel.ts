import { createSocket, type SocketType } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { NotificationDeliveryError, parseTarget, type NotificationChannel } from './notification-channel.js';

/**
 * Sends each notification as one UDP datagram to `udp://host:port` (`udp://[::1]:port` for IPv6). A socket
 * lives only for one send, so an idle server holds no UDP handles.
 */
export class UdpNotificationChannel implements NotificationChannel {
  async deliver(target: string, bytes: Uint8Array): Promise<void> {
    const { host, port } = udpEndpoint(target);
    let address = host;
    let family: 4 | 6;
    const literal = isIP(host);
    if (literal === 4 || literal === 6) {
      family = literal;
    } else {
      try {
        const resolved = await lookup(host);
        address = resolved.address;
        family = resolved.family === 6 ? 6 : 4;
      } catch (cause) {
        throw new NotificationDeliveryError(
          'notification-delivery-failed',
          target,
          `cannot resolve ${host}`,
          { cause },
        );
      }
    }
    const type: SocketType = family === 6 ? 'udp6' : 'udp4';
    const socket = createSocket(type);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.send(bytes, port, address, (error) => (error ? reject(error) : resolve()));
      });
    } catch (cause) {
      throw new NotificationDeliveryError(
        'notification-delivery-failed',
        target,
        `UDP send to ${target} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    } finally {
      socket.close();
    }
  }
}

/** host (brackets stripped) and port of a `udp://` target; throws NotificationDeliveryError otherwise. */
export function udpEndpoint(target: string): { host: string; port: number } {
  const url = parseTarget(target);
  const port = Number(url.port);
  if (url.protocol !== 'udp:' || url.hostname === '' || !(port >= 1 && port <= 65535)) {
    throw new NotificationDeliveryError(
      'notification-target-invalid',
      target,
      `UDP notification target ${JSON.stringify(target)} must look like udp://host:port`,
    );
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.username !== '') {
    throw new NotificationDeliveryError(
      'notification-target-invalid',
      target,
      `UDP notification target ${JSON.stringify(target)} may not carry a path, query or user`,
    );
  }
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}
