// Chapter 03: the HTTP/1.1 message grammar, as pure functions over bytes, and a reader that
// collects a head from a stream that arrives in pieces of any size.
//
// Nothing in this file touches a socket: it turns bytes into values and values into bytes,
// and says precisely what is wrong with bytes it cannot accept. server.ts and client.ts do
// the I/O. Every rule names the section of RFC 9112 (message syntax) or RFC 9110 (semantics)
// it comes from.

/** A request the server cannot serve, with the status code to answer it with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Fields the answer must carry, such as Allow on a 405. */
    readonly headers: Array<[string, string]> = [],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

// RFC 9110 §5.6.2:
//   token  = 1*tchar
//   tchar  = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//            "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// RFC 9110 §5.5: field-value = *field-content; field-vchar = VCHAR / obs-text. Inside a
// value, SP and HTAB may separate visible characters. CR, LF and NUL may never appear.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Header fields: names compared without regard to case (RFC 9110 §5.1), order kept. */
export class Fields {
  private readonly lines: Array<[name: string, value: string]> = [];
  /** The values again, by lower-case name: a lookup costs one step, not a walk over every line. */
  private readonly byName = new Map<string, string[]>();

  append(name: string, value: string): void {
    this.lines.push([name, value]);
    const key = name.toLowerCase();
    const values = this.byName.get(key);
    if (values) values.push(value);
    else this.byName.set(key, [value]);
  }

  /** Every value of the field, in the order received. */
  getAll(name: string): string[] {
    return this.byName.get(name.toLowerCase())?.slice() ?? [];
  }

  /** The field's values joined with ", " (RFC 9110 §5.3), or undefined if it is absent. */
  get(name: string): string | undefined {
    return this.byName.get(name.toLowerCase())?.join(', ');
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  /** The field lines as received: names in their original case. */
  entries(): Array<[string, string]> {
    return this.lines.map(([name, value]) => [name, value]);
  }
}

export interface RequestHead {
  method: string;
  /** The request target exactly as sent. */
  target: string;
  /** The path of the target, without the query: `/search` for `/search?q=1`. */
  path: string;
  /** The query with its `?`, or an empty string. */
  query: string;
  /** `HTTP/1.1` or `HTTP/1.0`: the version the client speaks. */
  version: string;
  headers: Fields;
}

// RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT, HTTP-name = %s"HTTP"
// (case-sensitive).
const VERSION = /^HTTP\/(\d)\.(\d)$/;

// RFC 9112 §3.2: a request target never holds spaces, controls or bytes above 0x7e (those
// must be %-encoded). RFC 3986 allows fewer still (no ", <, >, \, ^, `, {, |, }), but
// Node's parser and most servers let those through, and so does this one.
const VISIBLE = /^[\x21-\x7e]+$/;
// RFC 9112 §3.2.1: origin-form = absolute-path [ "?" query ]
// RFC 9112 §3.2.2: absolute-form = absolute-URI; this server knows the http and https
// schemes. Its path and query are taken as sent, exactly as in the origin-form: cleaning up
// one form and not the other would make two parsers of one server disagree.
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]+)([^?#]*)(\?[^#]*)?$/i;
// RFC 9112 §3.2.3: authority-form = uri-host ":" port, for CONNECT only.
const AUTHORITY_FORM = /^[^/?#]+:\d+$/;
// RFC 9110 §7.2: Host = uri-host [ ":" port ]: a name, an IPv4 address or an [IPv6] one.
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::\d*)?$/;

function fail(status: number, message: string): never {
  throw new HttpError(status, message);
}

/** The most bytes a head may take, from its first byte to the end of the empty line. */
export const MAX_HEAD_BYTES = 16 * 1024; // what Node allows; nginx allows 8 KiB a line, 32 KiB in all

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/** A complete head, and whatever arrived after it (a body, or the next message). */
export interface HeadParts {
  /** The head without the empty line that ends it: what parseRequestHead() reads. */
  head: Buffer;
  rest: Buffer;
}

/**
 * Collects the bytes of a head as they arrive, in pieces of any size, until the empty line
 * that ends it (RFC 9112 §2.1). TCP delivers a stream: one read may hold half a head, or a
 * head and the start of what follows.
 *
 * Two things keep it cheap whatever the peer does. It searches only the bytes it has not
 * searched before (less three, for a CRLFCRLF split across reads), so a head that arrives
 * one byte at a time costs time in proportion to its length, not to its length squared. And
 * once MAX_HEAD_BYTES have come without an end it refuses the head: a peer that never sends
 * the empty line gets a 431 (RFC 6585 §5), and holds at most the limit plus one read of
 * our memory.
 */
export class HeadReader {
  private buffer = Buffer.alloc(256);
  private length = 0;
  /** Where the head starts: after the empty lines, if any, that came before it. */
  private start = 0;
  /** Where the next search begins: no CRLFCRLF starts before this offset. */
  private searched = 0;
  /** Set once the limit is passed: a reader that refused a head refuses all that follows. */
  private failed: HttpError | undefined;

  constructor(private readonly limit = MAX_HEAD_BYTES) {}

  /** The first bytes of the head so far, to answer a head refused before it was whole (asksForHead()). */
  peek(count: number): Buffer {
    return Buffer.from(this.buffer.subarray(this.start, Math.min(this.length, this.start + count)));
  }

  /** Adds a chunk; returns the head and the rest once the head is complete, else null. */
  push(chunk: Buffer): HeadParts | null {
    if (this.failed) throw this.failed;
    this.append(chunk);
    // RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request line.
    // Skipping resumes where it stopped, so it is linear too.
    while (this.start + 1 < this.length && this.buffer[this.start] === 0x0d && this.buffer[this.start + 1] === 0x0a) {
      this.start += 2;
    }
    const end = this.buffer.subarray(0, this.length).indexOf(CRLF_CRLF, Math.max(this.start, this.searched));
    if (end < 0 || end + 4 > this.limit) {
      // Without an end in sight, any head would be longer than the bytes we already have.
      if (this.length >= this.limit) {
        this.failed = new HttpError(431, `the head is longer than ${this.limit} bytes`);
        throw this.failed;
      }
      // The last three bytes may begin a CRLFCRLF that the next chunk completes.
      this.searched = Math.max(this.start, this.length - 3);
      return null;
    }
    // Copies, so the parts outlive this reader's buffer.
    const head = Buffer.from(this.buffer.subarray(this.start, end));
    const rest = Buffer.from(this.buffer.subarray(end + 4, this.length));
    this.length = 0;
    this.start = 0;
    this.searched = 0;
    return { head, rest };
  }

  /** Appends a chunk, doubling the buffer when it is full: each byte is copied O(1) times on average. */
  private append(chunk: Buffer): void {
    if (this.length + chunk.length > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + chunk.length));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    chunk.copy(this.buffer, this.length);
    this.length += chunk.length;
  }
}

/**
 * Parses a request head: the request line and the field lines, without the empty line that
 * ends them. The bytes are read as latin1, so every byte stays one character and nothing
 * is silently replaced.
 *
 * RFC 9112 §2.1:
 *   HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
 */
export function parseRequestHead(head: Buffer): RequestHead {
  const text = head.toString('latin1');
  // A CR or LF that is not part of a CRLF pair is how requests get smuggled past a proxy
  // that reads line endings differently from us (RFC 9112 §2.2): refuse both.
  const bare = /\r(?!\n)|(?<!\r)\n/.exec(text);
  if (bare) fail(400, `a bare ${bare[0] === '\r' ? 'CR' : 'LF'} at byte ${bare.index}: every line ends in CRLF`);
  const [requestLine = '', ...fieldLines] = text.split('\r\n');

  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
  // One space, exactly: the RFC lets a server be lenient, but lenient parsers disagree with
  // each other, and the disagreement is what smuggling exploits.
  const parts = requestLine.split(' ');
  if (parts.length !== 3) {
    fail(400, `the request line must be "method SP target SP version", not "${requestLine}"`);
  }
  const [method, target, version] = parts as [string, string, string];
  if (!TOKEN.test(method)) fail(400, `"${method}" is not a valid method (a token, RFC 9110 §5.6.2)`);
  const versionMatch = VERSION.exec(version);
  if (!versionMatch) fail(400, `"${version}" is not an HTTP version like HTTP/1.1 (RFC 9112 §2.3)`);
  // RFC 9110 §15.6.6: 505 for a major version we do not support. A higher minor version
  // is answered as the highest 1.x we know (RFC 9110 §6.2).
  if (versionMatch[1] !== '1') fail(505, `HTTP/${versionMatch[1]}.x is not supported; this server speaks HTTP/1.1`);

  if (!VISIBLE.test(target)) fail(400, 'the request target holds a byte that must be %-encoded (RFC 9112 §3.2)');
  let path: string;
  let query = '';
  const absolute = target.startsWith('/') ? null : ABSOLUTE_FORM.exec(target);
  if (target.startsWith('/')) {
    const mark = target.indexOf('?');
    path = mark < 0 ? target : target.slice(0, mark);
    query = mark < 0 ? '' : target.slice(mark);
  } else if (absolute && HOST_VALUE.test(absolute[1]!)) {
    // RFC 9112 §3.2.2: a server MUST accept the absolute-form (which proxies send).
    path = absolute[2] || '/';
    query = absolute[3] ?? '';
  } else if (method === 'CONNECT' && AUTHORITY_FORM.test(target)) {
    // RFC 9112 §3.2.3: authority-form (host:port) is valid only for CONNECT. The request is
    // well-formed; whether CONNECT is served is for routing to say.
    path = '';
  } else if (target === '*' && method === 'OPTIONS') {
    // RFC 9112 §3.2.4: asterisk-form is only for a server-wide OPTIONS, which we do not do.
    fail(501, 'server-wide OPTIONS (the target "*") is not implemented');
  } else {
    fail(400, `"${target}" is not a request target: it must start with "/" (RFC 9112 §3.2)`);
  }

  // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
  const headers = new Fields();
  for (const line of fieldLines) {
    // RFC 9112 §5.2: obs-fold (a line that continues the previous value) is obsolete; a
    // server may reject it with 400, and §2.2 forbids whitespace before the first field.
    if (line.startsWith(' ') || line.startsWith('\t')) {
      fail(400, `a field line starts with whitespace (obsolete line folding): "${line}"`);
    }
    const colon = line.indexOf(':');
    if (colon < 0) fail(400, `"${line}" is not a field line: it has no colon`);
    const name = line.slice(0, colon);
    // RFC 9112 §5.1: no whitespace between the field name and the colon; a server MUST
    // reject such a request with 400, since proxies disagree about what it means.
    if (!TOKEN.test(name)) fail(400, `"${name}" is not a valid field name (a token, no spaces before the colon)`);
    // OWS = *( SP / HTAB ) around the value is not part of it (RFC 9112 §5.1).
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!FIELD_VALUE.test(value)) fail(400, `the value of ${name} has a control character in it`);
    headers.append(name, value);
  }

  // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without exactly one Host.
  const hosts = headers.getAll('host');
  if (versionMatch[2] !== '0' && hosts.length === 0) fail(400, 'an HTTP/1.1 request must have a Host field');
  if (hosts.length > 1) fail(400, 'a request must not have more than one Host field');
  if (hosts.length === 1 && !HOST_VALUE.test(hosts[0]!)) fail(400, `"${hosts[0]}" is not a valid Host (RFC 9110 §7.2)`);

  return { method, target, path, query, version: versionMatch[2] === '0' ? 'HTTP/1.0' : 'HTTP/1.1', headers };
}

/**
 * Whether a head asks for HEAD, read from its first bytes: the answer to a HEAD has no body
 * (RFC 9110 §9.3.2), error answers too, even when the rest of the head cannot be parsed.
 */
export function asksForHead(head: Buffer): boolean {
  return head.subarray(0, 5).toString('latin1') === 'HEAD ';
}

export const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

export interface Response {
  status: number;
  /** Defaults to the usual phrase for the status (RFC 9110 §15). */
  reason?: string;
  /** Field lines to send, in order. Content-Length and Connection are added for you. */
  headers?: Array<[string, string]>;
  body?: Buffer | string;
}

/**
 * The bytes of a response. Every response goes through here, errors too, so every one has
 * the same shape: a status line, the fields, a Content-Length that counts the body's bytes
 * (RFC 9110 §8.6), Connection: close (this server closes after each response, RFC 9112
 * §9.6), the empty line, and the body, unless `omitBody` says the request was HEAD: a
 * response to HEAD has the fields a GET would get, and no body (RFC 9110 §9.3.2).
 */
export function serializeResponse(response: Response, omitBody = false): Buffer {
  const body = typeof response.body === 'string' ? Buffer.from(response.body, 'utf8') : (response.body ?? Buffer.alloc(0));
  const reason = response.reason ?? REASONS[response.status] ?? '';
  let head = `HTTP/1.1 ${response.status} ${reason}\r\n`;
  for (const [name, value] of response.headers ?? []) head += `${name}: ${value}\r\n`;
  head += `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  const headBytes = Buffer.from(head, 'latin1');
  return omitBody ? headBytes : Buffer.concat([headBytes, body]);
}

/** A plain-text response; error responses use it too, with the reason in the body. */
export function textResponse(status: number, text: string, headers: Array<[string, string]> = []): Response {
  return { status, headers: [['Content-Type', 'text/plain'], ...headers], body: text };
}

// --- The client's side ---------------------------------------------------------------

export interface RequestOptions {
  method?: string;
  /** Extra field lines, sent after Host. */
  headers?: Array<[string, string]>;
}

/**
 * The bytes of a request: the request line (RFC 9112 §3), Host (required, §3.2), the
 * extra fields, Connection: close (we read the response until the server closes, §9.6),
 * and the empty line.
 */
export function buildRequest(target: { path: string; authority: string }, options: RequestOptions = {}): Buffer {
  const method = options.method ?? 'GET';
  if (!TOKEN.test(method)) throw new Error(`"${method}" is not a valid method: a method is a token, like GET`);
  let head = `${method} ${target.path} HTTP/1.1\r\nHost: ${target.authority}\r\n`;
  for (const [name, value] of options.headers ?? []) {
    if (!TOKEN.test(name)) throw new Error(`"${name}" is not a valid field name`);
    if (!FIELD_VALUE.test(value)) throw new Error(`the value of ${name} may not contain CR, LF or NUL`);
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}Connection: close\r\n\r\n`, 'latin1');
}

export interface ResponseHead {
  version: string;
  status: number;
  /** The reason phrase; may be empty (RFC 9112 §4). */
  reason: string;
  headers: Fields;
}

/** A response the client could not understand. */
export class ResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResponseError';
  }
}

// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
//              status-code = 3DIGIT
// Many servers leave out the SP when there is no reason phrase; accepting that is harmless.
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

/** Parses a response head (status line and field lines, without the empty line). */
export function parseResponseHead(head: Buffer): ResponseHead {
  const [statusLine = '', ...fieldLines] = head.toString('latin1').split('\r\n');
  const match = STATUS_LINE.exec(statusLine);
  if (!match) {
    throw new ResponseError(`malformed status line: "${statusLine}" (expected something like "HTTP/1.1 200 OK")`);
  }
  const headers = new Fields();
  for (const line of fieldLines) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon);
    if (!TOKEN.test(name)) throw new ResponseError(`malformed field line in the response: "${line}"`);
    headers.append(name, line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, ''));
  }
  return { version: `HTTP/${match[1]}.${match[2]}`, status: Number(match[3]), reason: match[4] ?? '', headers };
}
