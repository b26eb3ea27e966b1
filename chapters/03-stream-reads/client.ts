// Chapter 03: a client that reads a stream.
//
// It collects the response head with the same HeadReader the server uses, however the
// server splits it, then keeps the body until the server closes. A close before the head
// is complete is an error that says so, never half a response.
//
// Run it:   npm run client -- 3 http://127.0.0.1:8080/hello       (the reference: add --solution)
//           npm run client -- 3 --raw -X HEAD http://127.0.0.1:8080/
// Grade it: npm run check -- 3
//
// Written for you: request() now collects the head with the HeadReader you write in
// protocol.ts (TODO(ch03)), as the server does.

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  HeadReader,
  HttpError,
  MAX_HEAD_BYTES,
  ResponseError,
  buildRequest,
  parseResponseHead,
  type Fields,
  type HeadParts,
} from './protocol.ts';

export interface RequestOptions {
  /** GET unless you say otherwise. */
  method?: string;
  /** Extra field lines to send, in order. */
  headers?: Array<[string, string]>;
  /** Called with each piece of the response as it arrives. */
  onData?: (chunk: Buffer) => void;
  /** Called once with the exact bytes of the request, before they are sent. */
  onSend?: (bytes: Buffer) => void;
}

export interface ClientResponse {
  /** Every byte the server sent, in order. */
  raw: Buffer;
  /** The version the server speaks, e.g. `HTTP/1.1`. */
  version: string;
  status: number;
  reason: string;
  /** Look fields up by name in any case: `headers.get('content-type')`. */
  headers: Fields;
  body: Buffer;
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

export function request(url: string, options: RequestOptions = {}): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    let target: Target;
    let bytes: Buffer;
    try {
      target = parseTarget(url);
      bytes = buildRequest(target, options);
    } catch (error) {
      reject(error);
      return;
    }
    const chunks: Buffer[] = [];
    const reader = new HeadReader();
    let head: HeadParts | null = null;
    const body: Buffer[] = [];
    const socket = net.connect({ host: target.host, port: target.port }, () => {
      options.onSend?.(bytes);
      socket.write(bytes);
    });
    const fail = (error: unknown): void => {
      reject(error);
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      options.onData?.(chunk);
      if (head) {
        body.push(chunk);
        return;
      }
      try {
        head = reader.push(chunk);
      } catch (error) {
        const tooLong = error instanceof HttpError && error.status === 431;
        fail(tooLong ? new ResponseError(`the response head is longer than this client accepts (${MAX_HEAD_BYTES} bytes)`) : error);
        return;
      }
      if (head) body.push(head.rest);
    });
    // The server's FIN: we asked it to close after the response, so that is where it ends.
    socket.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (!head) {
        fail(
          new ResponseError(
            raw.length === 0
              ? 'the server closed the connection without sending a response'
              : `the server closed the connection before the end of the response head (${raw.length} bytes, no empty line)`,
          ),
        );
        return;
      }
      try {
        const parsed = parseResponseHead(head.head);
        resolve({ raw, version: parsed.version, status: parsed.status, reason: parsed.reason, headers: parsed.headers, body: Buffer.concat(body) });
      } catch (error) {
        fail(error);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') {
        reject(new Error(`could not connect to ${target.authority}: connection refused (is the server running?)`));
      } else {
        reject(error);
      }
    });
  });
}

/** Bytes with CR and LF made visible, one line of the message per line of output. */
export function showRaw(bytes: Buffer, prefix: string): string {
  const escaped = bytes
    .toString('latin1')
    .replace(/\\/g, '\\\\')
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n\n')
    .replace(/[\x00-\x08\x0b-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped
    .split('\n')
    .filter((line, i, lines) => line !== '' || i < lines.length - 1)
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

const USAGE = `usage: client.ts [url] [-X METHOD] [-H "Name: value"]... [--raw]
  url       default http://127.0.0.1:8080/
  -X        the method (default GET)
  -H        an extra header field; repeat for more
  --raw     show the exact bytes both ways, with \\r and \\n visible`;

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        method: { type: 'string', short: 'X' },
        header: { type: 'string', short: 'H', multiple: true },
        raw: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`error: ${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (args.values.help) {
    console.log(USAGE);
    return;
  }
  const url = args.positionals[0] ?? 'http://127.0.0.1:8080/';
  const headers: Array<[string, string]> = [];
  for (const header of args.values.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) {
      console.error(`error: -H takes "Name: value", not "${header}"`);
      process.exitCode = 2;
      return;
    }
    headers.push([header.slice(0, colon).trim(), header.slice(colon + 1).trim()]);
  }
  const raw = args.values.raw === true;
  try {
    const response = await request(url, {
      method: args.values.method,
      headers,
      onSend: raw ? (bytes) => console.log(showRaw(bytes, '> ')) : undefined,
    });
    if (raw) {
      console.log(showRaw(response.raw, '< '));
      return;
    }
    console.log(`${response.version} ${response.status} ${response.reason}`.trimEnd());
    for (const [name, value] of response.headers.entries()) console.log(`${name}: ${value}`);
    console.log('');
    process.stdout.write(response.body);
    if (response.body.length > 0 && response.body[response.body.length - 1] !== 0x0a) process.stdout.write('\n');
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
