// Chapter 02: a client that understands the response.
//
// It sends any method with extra header fields, keeps every byte until the server closes
// (as in chapter 01), then parses the status line and the header fields (protocol.ts) into
// a value: status, reason, fields you can look up in any case, and the body.
//
// Run it:   npm run client -- 2 http://127.0.0.1:8080/hello       (the reference: add --solution)
//           npm run client -- 2 --raw -X HEAD http://127.0.0.1:8080/
// Grade it: npm run check -- 2
//
// Written for you: this file is chapter 01's client, plus methods, fields and --raw. What
// you write is parseResponseHead() in protocol.ts (TODO(ch02)), which request() calls.

import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ResponseError, buildRequest, parseResponseHead, type Fields } from './protocol.ts';

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

/** Splits what the server sent into the parsed head and the body (everything after it). */
export function parseResponse(raw: Buffer): ClientResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) {
    throw new ResponseError(
      raw.length === 0
        ? 'the server closed the connection without sending a response'
        : `the server closed the connection before the end of the response head (${raw.length} bytes, no empty line)`,
    );
  }
  const head = parseResponseHead(raw.subarray(0, end));
  return { raw, version: head.version, status: head.status, reason: head.reason, headers: head.headers, body: raw.subarray(end + 4) };
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
    const socket = net.connect({ host: target.host, port: target.port }, () => {
      options.onSend?.(bytes);
      socket.write(bytes);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      options.onData?.(chunk);
    });
    // The server's FIN: we asked it to close after the response, so that is where it ends.
    socket.on('end', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
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
