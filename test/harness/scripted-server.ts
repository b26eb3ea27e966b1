// A raw server for grading clients: it answers with exact bytes (in pieces, with pauses, if
// the test asks), records every byte each connection sent, and counts connections.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestEnd } from './http-check.ts';
import { Wakeup } from './wakeup.ts';
import { READ_TIMEOUT_MS } from './wire.ts';

export class ScriptedConnection {
  private chunks: Buffer[] = [];
  private ended = false;
  private readonly changed = new Wakeup();

  constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.changed.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.changed.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.changed.notify();
    });
    socket.on('error', () => {});
  }

  /** Every byte the client has sent on this connection so far. */
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Waits until `until` holds for what the client sent; false if the client stopped or time ran out. */
  waitFor(until: (received: Buffer) => boolean, timeoutMs = READ_TIMEOUT_MS): Promise<boolean> {
    return this.changed.until(() => (until(this.received) ? true : this.ended ? false : undefined), timeoutMs, false);
  }

  private consumed = 0;

  /**
   * Waits for the next complete request on this connection (head and Content-Length body)
   * and returns its bytes, or null if the client stopped sending or time ran out.
   */
  async nextRequest(timeoutMs?: number): Promise<Buffer | null> {
    if (!(await this.waitFor((received) => requestEnd(received, this.consumed) !== null, timeoutMs))) return null;
    const end = requestEnd(this.received, this.consumed)!;
    const request = this.received.subarray(this.consumed, end);
    this.consumed = end;
    return request;
  }

  /** Waits for a complete request head (up to the blank line). */
  waitForHead(timeoutMs?: number): Promise<boolean> {
    return this.waitFor((received) => received.includes('\r\n\r\n'), timeoutMs);
  }

  /** Sends bytes whole, or as the given pieces with a pause before each piece after the first. */
  async send(bytes: Buffer | string | Array<Buffer | string>, pauseMs = 0): Promise<void> {
    const pieces = Array.isArray(bytes) ? bytes : [bytes];
    for (const [i, piece] of pieces.entries()) {
      if (i > 0 && pauseMs > 0) await sleep(pauseMs);
      if (this.socket.destroyed) return;
      await new Promise<void>((resolve) => {
        this.socket.write(typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece, () => resolve());
      });
    }
  }

  /** Closes our side cleanly (a FIN), as a server does after `Connection: close`. */
  end(): void {
    this.socket.end();
  }
}

export interface ScriptedServer {
  port: number;
  /** `http://127.0.0.1:PORT` followed by `path`. */
  url(path?: string): string;
  /** Every connection accepted so far, in order. */
  connections: ScriptedConnection[];
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1, port 0, that runs `script` for each connection. An error in
 * the script is kept and rethrown by `close()`, so it fails the test instead of vanishing.
 */
export async function startScriptedServer(
  script: (connection: ScriptedConnection, index: number) => Promise<void>,
): Promise<ScriptedServer> {
  const connections: ScriptedConnection[] = [];
  const failures: unknown[] = [];
  const running = new Set<Promise<void>>();
  const server = net.createServer((socket) => {
    const connection = new ScriptedConnection(socket);
    connections.push(connection);
    const run = script(connection, connections.length - 1)
      .catch((error: unknown) => {
        failures.push(error);
      })
      .finally(() => running.delete(run));
    running.add(run);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    connections,
    async close() {
      for (const connection of connections) connection.socket.destroy();
      await Promise.allSettled([...running]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (failures.length > 0) throw failures[0];
    },
  };
}
