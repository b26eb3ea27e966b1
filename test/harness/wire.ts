// A raw TCP peer for grading servers: sends exact bytes, split any way a test asks, and reads
// with a deadline, so a server that hangs fails its test in seconds with what it did send.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Wakeup } from './wakeup.ts';

/** How the bytes of a request are handed to the socket. */
export type Delivery =
  | 'whole'
  /** One write per byte, with a pause so each byte arrives in its own read. */
  | 'byte-by-byte'
  /** Writes of these sizes, in turn, with a pause between them (the last size repeats). */
  | { pieces: number[]; pauseMs?: number };

/** How a read ended. */
export type Outcome =
  /** `until` saw what it waited for; the connection may still be open. */
  | 'complete'
  /** The server closed the connection (a FIN). */
  | 'closed'
  /** The server reset the connection. */
  | 'reset'
  /** Neither happened before the deadline. */
  | 'timeout';

export const READ_TIMEOUT_MS = 2000; // far longer than any correct answer on loopback takes
const BYTE_PAUSE_MS = 1; // lets the event loop deliver each byte as its own read

export class RawConnection {
  readonly sent: Buffer[] = [];
  private received: Buffer[] = [];
  private receivedLength = 0;
  private ended: 'closed' | 'reset' | undefined;
  private reset = false;
  private readonly changed = new Wakeup();

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      this.receivedLength += chunk.length;
      this.changed.notify();
    });
    socket.on('end', () => {
      this.ended ??= 'closed';
      this.changed.notify();
    });
    socket.on('error', () => {
      this.ended = 'reset';
      this.reset = true;
      this.changed.notify();
    });
    socket.on('close', () => {
      this.ended ??= 'closed';
      this.changed.notify();
    });
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      // Half-open allowed: after the server's FIN we may still send, as a real client can.
      const socket = net.connect({ port, host, allowHalfOpen: true }, () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Everything received so far. */
  get bytes(): Buffer {
    if (this.received.length > 1) this.received = [Buffer.concat(this.received)];
    return this.received[0] ?? Buffer.alloc(0);
  }

  /** Whether the server reset the connection (RST) at any point, even after a clean FIN. */
  get wasReset(): boolean {
    return this.reset;
  }

  get sentBytes(): Buffer {
    return Buffer.concat(this.sent);
  }

  async send(bytes: Buffer | string, delivery: Delivery = 'whole'): Promise<void> {
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    this.sent.push(buffer);
    if (delivery === 'whole') {
      await this.write(buffer);
      return;
    }
    const sizes = delivery === 'byte-by-byte' ? [1] : delivery.pieces;
    const pause = delivery === 'byte-by-byte' ? BYTE_PAUSE_MS : (delivery.pauseMs ?? BYTE_PAUSE_MS);
    let offset = 0;
    for (let i = 0; offset < buffer.length; i++) {
      const size = Math.max(1, sizes[Math.min(i, sizes.length - 1)]!);
      if (this.ended) return; // the server hung up; the rest would only be refused
      await this.write(buffer.subarray(offset, offset + size));
      offset += size;
      if (offset < buffer.length) await sleep(pause);
    }
  }

  /**
   * Reads until `until` returns true for everything received so far, or the server closes
   * or resets, or the deadline passes. Without `until`, reads until the server closes.
   */
  async read(until?: (received: Buffer) => boolean, timeoutMs = READ_TIMEOUT_MS): Promise<Outcome> {
    return this.changed.until<Outcome>(() => (until?.(this.bytes) ? 'complete' : this.ended), timeoutMs, 'timeout');
  }

  close(): void {
    this.socket.destroy();
  }

  private write(buffer: Buffer): Promise<void> {
    return new Promise((resolve) => {
      // A write to a socket the server already closed fails; what was received still counts.
      if (this.socket.destroyed || this.socket.writableEnded) {
        resolve();
        return;
      }
      this.socket.write(buffer, () => resolve());
    });
  }
}

export interface Exchange {
  sent: Buffer;
  received: Buffer;
  outcome: Outcome;
}

/** Opens a connection, sends `bytes`, reads (see `RawConnection.read`) and closes. */
export async function exchange(
  port: number,
  bytes: Buffer | string,
  options: { delivery?: Delivery; until?: (received: Buffer) => boolean; timeoutMs?: number } = {},
): Promise<Exchange> {
  const connection = await RawConnection.open(port);
  try {
    // Bytes that arrive while we are still sending are kept; the deadline starts once all is sent.
    await connection.send(bytes, options.delivery);
    const outcome = await connection.read(options.until, options.timeoutMs);
    return { sent: connection.sentBytes, received: connection.bytes, outcome };
  } finally {
    connection.close();
  }
}
