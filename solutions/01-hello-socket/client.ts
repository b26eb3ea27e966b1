// Chapter 01: the smallest HTTP/1.1 client.
//
// It connects, sends one GET request that asks the server to close afterwards, and keeps
// every byte the server sends until the server closes. It does not parse the response yet:
// chapter 02 does.
//
// Run it:   npm run client -- 1 http://127.0.0.1:8080/   (the reference: add --solution)
// Grade it: npm run check -- 1

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RequestOptions {
  /** Called with each piece of the response as it arrives (the command line prints them). */
  onData?: (chunk: Buffer) => void;
}

export interface ClientResponse {
  /** Every byte the server sent, in order. */
  raw: Buffer;
}

/** The parts of a URL that the request is built from. */
export interface Target {
  host: string;
  port: number;
  /** The request target: the path and the query, e.g. `/search?q=1` (RFC 9112 §3.2.1). */
  path: string;
  /** What the Host header says: the host, and the port unless it is 80 (RFC 9110 §7.2). */
  authority: string;
}

export function parseTarget(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`not a URL: "${url}" (try http://127.0.0.1:8080/)`);
  }
  if (parsed.protocol !== 'http:') {
    throw new Error(`only http:// URLs are supported, not ${parsed.protocol}// (TLS is not in this course)`);
  }
  const port = parsed.port === '' ? 80 : Number(parsed.port);
  return {
    // URL keeps the brackets around an IPv6 address; the socket wants the bare address.
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    path: `${parsed.pathname}${parsed.search}`,
    authority: parsed.host,
  };
}

// RFC 9112 §3: request-line = method SP request-target SP HTTP-version, then CRLF.
// Host is required in every HTTP/1.1 request (RFC 9112 §3.2); Connection: close asks the
// server to close after its response (RFC 9112 §9.6), which is how we know it has ended.
export function buildRequest(target: Target): Buffer {
  return Buffer.from(
    `GET ${target.path} HTTP/1.1\r\n` +
      `Host: ${target.authority}\r\n` +
      'Connection: close\r\n' +
      '\r\n',
    'latin1',
  );
}

export function request(url: string, options: RequestOptions = {}): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    let target: Target;
    try {
      target = parseTarget(url);
    } catch (error) {
      reject(error);
      return;
    }
    const chunks: Buffer[] = [];
    const socket = net.connect({ host: target.host, port: target.port }, () => {
      socket.write(buildRequest(target));
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      options.onData?.(chunk);
    });
    // The server's FIN: with no Content-Length to go by, the close is the end of the response.
    socket.on('end', () => resolve({ raw: Buffer.concat(chunks) }));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') {
        reject(new Error(`could not connect to ${target.authority}: connection refused (is the server running?)`));
      } else {
        reject(error);
      }
    });
  });
}

async function main(): Promise<void> {
  const url = process.argv[2] ?? 'http://127.0.0.1:8080/';
  try {
    const { raw } = await request(url, { onData: (chunk) => process.stdout.write(chunk) });
    // In a terminal, end on a new line so the prompt does not land after the body.
    if (process.stdout.isTTY && raw.length > 0 && raw[raw.length - 1] !== 0x0a) process.stdout.write('\n');
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
