// Chapter 04: a client that sends and reads bodies.
//
// It sends a body with a Content-Length counted in bytes, and reads the response body by
// RFC 9112 §6.3: exactly Content-Length bytes (without waiting for the server to close),
// nothing for HEAD, 204 and 304, or everything until the close when there is no length. A
// close before the announced bytes have come is reported as a cut-off response.
//
// Run it:   npm run client -- 4 --data 'héllo' http://127.0.0.1:8080/echo   (the reference: add --solution)
//           npm run client -- 4 --json '{"a":1}' http://127.0.0.1:8080/json
// Grade it: npm run check -- 4
//
// Written for you: request() frames the response body with responseBodyLength() and
// BodyReader from protocol.ts, which are yours to write (TODO(ch04)).

import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BodyReader,
  HeadReader,
  HttpError,
  MAX_HEAD_BYTES,
  ResponseError,
  buildRequest,
  parseResponseHead,
  responseBodyLength,
  type Fields,
} from './protocol.ts';

export interface RequestOptions {
  /** GET unless you say otherwise. */
  method?: string;
  /** Extra field lines to send, in order. */
  headers?: Array<[string, string]>;
  /** A body to send, with a Content-Length counted in bytes. */
  body?: Buffer | string;
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
    const method = options.method ?? 'GET';
    const chunks: Buffer[] = [];
    const heads = new HeadReader();
    let head: { version: string; status: number; reason: string; headers: Fields } | undefined;
    // Set once the head is in: a reader for exactly N bytes, or until the server closes.
    let body: BodyReader | 'until-close' | undefined;
    const untilClose: Buffer[] = [];
    let settled = false;
    const socket = net.connect({ host: target.host, port: target.port }, () => {
      options.onSend?.(bytes);
      socket.write(bytes);
    });
    const fail = (error: unknown): void => {
      settled = true;
      reject(error);
      socket.destroy();
    };
    const finish = (bodyBytes: Buffer): void => {
      settled = true;
      resolve({ raw: Buffer.concat(chunks), version: head!.version, status: head!.status, reason: head!.reason, headers: head!.headers, body: bodyBytes });
      // We have all we asked for; the server closes too, as we said Connection: close.
      socket.end();
    };
    const feedBody = (chunk: Buffer): void => {
      if (body === 'until-close') {
        untilClose.push(chunk);
        return;
      }
      const parts = body!.push(chunk);
      // Bytes past Content-Length are not part of this response (RFC 9112 §6.3): dropped.
      if (parts) finish(parts.body);
    };
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      chunks.push(chunk);
      options.onData?.(chunk);
      if (body) {
        feedBody(chunk);
        return;
      }
      try {
        let pending = chunk;
        for (;;) {
          const parts = heads.push(pending);
          if (!parts) return; // not the whole head yet
          const parsed = parseResponseHead(parts.head);
          // RFC 9110 §15.2: a 1xx (100 Continue, 103 Early Hints) is an interim response;
          // the final one follows on the same connection.
          if (parsed.status < 200) {
            pending = parts.rest;
            continue;
          }
          head = parsed;
          const length = responseBodyLength(method, head.status, head.headers);
          body = length === 'until-close' ? length : new BodyReader(length);
          feedBody(parts.rest);
          return;
        }
      } catch (error) {
        const tooLong = error instanceof HttpError && error.status === 431;
        fail(tooLong ? new ResponseError(`the response head is longer than this client accepts (${MAX_HEAD_BYTES} bytes)`) : error);
      }
    });
    socket.on('end', () => {
      if (settled) return;
      const raw = Buffer.concat(chunks);
      if (!head) {
        fail(
          new ResponseError(
            raw.length === 0
              ? 'the server closed the connection without sending a response'
              : `the server closed the connection before the end of the response head (${raw.length} bytes, no empty line)`,
          ),
        );
      } else if (body === 'until-close') {
        finish(Buffer.concat(untilClose)); // RFC 9112 §6.3 rule 8: the close ends the body
      } else {
        // RFC 9112 §8: a message cut off before its Content-Length is incomplete, never complete.
        const reader = body as BodyReader;
        fail(
          new ResponseError(
            `the response was cut off: Content-Length is ${reader.length}, but the server closed the connection after ${reader.length - reader.missing} body bytes`,
          ),
        );
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
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
                 [--data TEXT | --json JSON | --file PATH]
  url       default http://127.0.0.1:8080/
  -X        the method (default GET, or POST when there is a body)
  -H        an extra header field; repeat for more
  --raw     show the exact bytes both ways, with \\r and \\n visible
  --data    send TEXT as the body (UTF-8)
  --json    send JSON as the body, with Content-Type: application/json
  --file    send the bytes of the file at PATH as the body`;

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        method: { type: 'string', short: 'X' },
        header: { type: 'string', short: 'H', multiple: true },
        raw: { type: 'boolean' },
        data: { type: 'string', short: 'd' },
        json: { type: 'string' },
        file: { type: 'string' },
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
  const given = [args.values.data, args.values.json, args.values.file].filter((value) => value !== undefined);
  if (given.length > 1) {
    console.error('error: send one body: --data, --json or --file');
    process.exitCode = 2;
    return;
  }
  let body: Buffer | string | undefined = args.values.data;
  if (args.values.json !== undefined) {
    try {
      JSON.parse(args.values.json);
    } catch (error) {
      console.error(`error: --json takes valid JSON: ${(error as Error).message}`);
      process.exitCode = 2;
      return;
    }
    body = args.values.json;
    if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) headers.push(['Content-Type', 'application/json']);
  }
  if (args.values.file !== undefined) {
    try {
      body = readFileSync(args.values.file);
    } catch (error) {
      console.error(`error: cannot read ${args.values.file}: ${(error as Error).message}`);
      process.exitCode = 2;
      return;
    }
  }
  try {
    const response = await request(url, {
      method: args.values.method ?? (body === undefined ? 'GET' : 'POST'),
      body,
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
