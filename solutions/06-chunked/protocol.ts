// Chapter 06: the HTTP/1.1 message grammar, as pure functions over bytes; readers that
// collect a head and a body, of a known length or chunked (RFC 9112 §7.1), from a stream
// that arrives in pieces of any size; and the rules that decide whether a connection stays
// open after a message (RFC 9112 §9.3, §9.6).
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
const NOTHING: Buffer = Buffer.alloc(0);

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
  private buffer = NOTHING;
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
    if (this.length === 0) {
      // Nothing is kept from earlier reads: the chunk becomes the buffer, uncopied. Copying
      // each read, and the rest after each head, would copy a read that holds many pipelined
      // requests once for each of them: a cost that grows with the square of their number.
      this.buffer = chunk;
      this.length = chunk.length;
    } else {
      this.append(chunk);
    }
    // RFC 9112 §2.2: a server SHOULD ignore empty lines received before the request line.
    // Skipping resumes where it stopped, so it is linear too.
    while (this.start + 1 < this.length && this.buffer[this.start] === 0x0d && this.buffer[this.start + 1] === 0x0a) {
      this.start += 2;
    }
    // Search only what has arrived: a grown buffer is longer than what it holds.
    const received = this.length === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.length);
    const end = received.indexOf(CRLF_CRLF, Math.max(this.start, this.searched));
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
    // Views, not copies: the parts keep the buffer, and the next head starts a new one.
    const head = this.buffer.subarray(this.start, end);
    const rest = this.buffer.subarray(end + 4, this.length);
    this.buffer = NOTHING;
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
  // The lines are found with indexOf() and sliced one at a time. split() reads more simply,
  // but costs more than all the rest of the parse: each call builds an array of new strings.
  const requestEnd = text.indexOf('\r\n');
  const requestLine = requestEnd < 0 ? text : text.slice(0, requestEnd);

  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
  // One space, exactly: the RFC lets a server be lenient, but lenient parsers disagree with
  // each other, and the disagreement is what smuggling exploits.
  const space = requestLine.indexOf(' ');
  const secondSpace = requestLine.indexOf(' ', space + 1);
  if (space < 0 || secondSpace < 0 || requestLine.includes(' ', secondSpace + 1)) {
    fail(400, `the request line must be "method SP target SP version", not "${requestLine}"`);
  }
  const method = requestLine.slice(0, space);
  const target = requestLine.slice(space + 1, secondSpace);
  const version = requestLine.slice(secondSpace + 1);
  if (!TOKEN.test(method)) fail(400, `"${method}" is not a valid method (a token, RFC 9110 §5.6.2)`);
  if (!VERSION.test(version)) fail(400, `"${version}" is not an HTTP version like HTTP/1.1 (RFC 9112 §2.3)`);
  const major = version.charAt(5);
  const minor = version.charAt(7);
  // RFC 9110 §15.6.6: 505 for a major version we do not support. A higher minor version
  // is answered as the highest 1.x we know (RFC 9110 §6.2).
  if (major !== '1') fail(505, `HTTP/${major}.x is not supported; this server speaks HTTP/1.1`);

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
  for (let end = requestEnd; end >= 0; ) {
    const start = end + 2;
    end = text.indexOf('\r\n', start);
    const line = end < 0 ? text.slice(start) : text.slice(start, end);
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
    const value = trimOws(line, colon + 1);
    if (!FIELD_VALUE.test(value)) fail(400, `the value of ${name} has a control character in it`);
    headers.append(name, value);
  }

  // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without exactly one Host.
  const hosts = headers.getAll('host');
  if (minor !== '0' && hosts.length === 0) fail(400, 'an HTTP/1.1 request must have a Host field');
  if (hosts.length > 1) fail(400, 'a request must not have more than one Host field');
  if (hosts.length === 1 && !HOST_VALUE.test(hosts[0]!)) fail(400, `"${hosts[0]}" is not a valid Host (RFC 9110 §7.2)`);

  return { method, target, path, query, version: minor === '0' ? 'HTTP/1.0' : 'HTTP/1.1', headers };
}

// RFC 9112 §5.1: OWS = *( SP / HTAB )
const isOws = (code: number): boolean => code === 0x20 || code === 0x09;

/** The line from `start` on, without the whitespace around it (a regex replace costs more). */
function trimOws(line: string, start: number): string {
  let end = line.length;
  while (start < end && isOws(line.charCodeAt(start))) start++;
  while (end > start && isOws(line.charCodeAt(end - 1))) end--;
  return line.slice(start, end);
}

/**
 * Whether a head asks for HEAD, read from its first bytes: the answer to a HEAD has no body
 * (RFC 9110 §9.3.2), error answers too, even when the rest of the head cannot be parsed.
 */
export function asksForHead(head: Buffer): boolean {
  return head.subarray(0, 5).toString('latin1') === 'HEAD ';
}

export const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  417: 'Expectation Failed',
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
  /** A body whose length is not known in advance, sent piece by piece as it is made. */
  stream?: AsyncIterable<Buffer | string>;
}

export interface SerializeOptions {
  /** The request was HEAD: the fields a GET would get, and no body (RFC 9110 §9.3.2). */
  omitBody?: boolean;
  /**
   * The Connection field to send: 'close' exactly when the server closes after this
   * response (RFC 9112 §9.6), 'keep-alive' to an HTTP/1.0 client that asked to keep the
   * connection (§9.3, Appendix C.2.2), none otherwise.
   */
  connection?: 'close' | 'keep-alive';
}

/**
 * The bytes of a response. Every response goes through here, errors too, so every one has
 * the same shape: a status line, the fields, a Content-Length that counts the body's bytes
 * (RFC 9110 §8.6), the Connection field if any, the empty line, and the body.
 * A 204 has no body at all, so it gets no Content-Length either (RFC 9110 §8.6, §15.3.5).
 */
export function serializeResponse(response: Response, options: SerializeOptions = {}): Buffer {
  const body = response.body ?? '';
  const length = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  const reason = response.reason ?? REASONS[response.status] ?? '';
  const bodiless = response.status === 204 || response.status === 304;
  let head = `HTTP/1.1 ${response.status} ${reason}\r\n`;
  for (const [name, value] of response.headers ?? []) head += `${name}: ${value}\r\n`;
  if (!bodiless) head += `Content-Length: ${length}\r\n`;
  if (options.connection) head += `Connection: ${options.connection}\r\n`;
  head += '\r\n';
  // One buffer for head and body, written in place: a buffer for each, then a third to join
  // them, cost more than all the rest. latin1 is one byte per character, so head.length is
  // its size in bytes.
  const sent = options.omitBody || bodiless ? 0 : length;
  const bytes = Buffer.allocUnsafe(head.length + sent);
  bytes.write(head, 0, 'latin1');
  if (sent === 0) return bytes;
  if (typeof body === 'string') bytes.write(body, head.length, 'utf8');
  else bytes.set(body, head.length);
  return bytes;
}

/**
 * The head of a streamed response: no Content-Length, since the length is not known.
 * Chunked for an HTTP/1.1 client (RFC 9112 §7.1); an HTTP/1.0 client knows no chunks, so it
 * gets the bare bytes and the close marks their end (§6.3 rule 8): `chunked` false means
 * the connection must close after the body.
 */
export function serializeStreamHead(response: Response, options: SerializeOptions & { chunked: boolean }): Buffer {
  const reason = response.reason ?? REASONS[response.status] ?? '';
  let head = `HTTP/1.1 ${response.status} ${reason}\r\n`;
  for (const [name, value] of response.headers ?? []) head += `${name}: ${value}\r\n`;
  if (options.chunked) head += 'Transfer-Encoding: chunked\r\n';
  if (options.connection) head += `Connection: ${options.connection}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/** The options of a Connection field, in lower case (RFC 9110 §7.6.1: a list of tokens). */
export function connectionOptions(headers: Fields): Set<string> {
  const options = new Set<string>();
  for (const value of headers.getAll('connection')) {
    for (const option of value.split(',')) {
      const name = option.trim().toLowerCase();
      if (name) options.add(name);
    }
  }
  return options;
}

/**
 * Whether the connection stays open after answering this request (RFC 9112 §9.3): not if
 * it says "close"; yes for HTTP/1.1; for HTTP/1.0 only if it says "keep-alive".
 */
export function keepsAlive(request: RequestHead): boolean {
  // Most requests carry no Connection field: then the version alone decides.
  if (!request.headers.has('connection')) return request.version === 'HTTP/1.1';
  const options = connectionOptions(request.headers);
  if (options.has('close')) return false;
  return request.version === 'HTTP/1.1' || options.has('keep-alive');
}

/** Sent before reading a body the client is waiting to send (RFC 9110 §10.1.1, §15.2.1). */
export const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** A plain-text response; error responses use it too, with the reason in the body. */
export function textResponse(status: number, text: string, headers: Array<[string, string]> = []): Response {
  return { status, headers: [['Content-Type', 'text/plain'], ...headers], body: text };
}

/** The largest request body the server accepts. */
export const MAX_BODY_BYTES = 1024 * 1024; // nginx's client_max_body_size; Node sets none

// RFC 9110 §8.6: Content-Length = 1*DIGIT
const DIGITS = /^\d+$/;

/**
 * How a request body is framed, by RFC 9112 §6.3, as the reader that will collect it:
 *   - Transfer-Encoding and Content-Length together: rule 3 lets a server reject this, and
 *     it must: two framings are how a request is smuggled past a proxy that reads the other
 *     one (§6.1, §11.2). 400.
 *   - Transfer-Encoding in an HTTP/1.0 request: its framing is faulty (§6.1). 400.
 *   - Transfer-Encoding: rule 4. If chunked is not the last coding, nothing says where the
 *     body ends: 400; chunked twice is malformed too (§6.1): 400. Chunked alone is decoded; any other coding (gzip, ...) is not
 *     implemented here: 501 (§6.1). Coding names are case-insensitive (§7).
 *   - Content-Length, or neither: see requestBodyLength().
 */
export function requestBodyReader(request: RequestHead): BodyReader | ChunkedDecoder {
  const headers = request.headers;
  if (!headers.has('transfer-encoding')) return new BodyReader(requestBodyLength(headers));
  if (headers.has('content-length')) {
    throw new HttpError(400, 'Content-Length and Transfer-Encoding together: which one frames the body?');
  }
  if (request.version === 'HTTP/1.0') throw new HttpError(400, 'Transfer-Encoding in an HTTP/1.0 request: HTTP/1.0 has no chunks');
  const codings = headers
    .getAll('transfer-encoding')
    .flatMap((value) => value.split(','))
    .map((coding) => coding.trim().toLowerCase());
  if (codings.at(-1) !== 'chunked') throw new HttpError(400, 'Transfer-Encoding must end with chunked, or the body has no end');
  // §6.1: a sender MUST NOT apply chunked more than once; a list that does is malformed.
  if (codings.indexOf('chunked') < codings.length - 1) throw new HttpError(400, 'chunked may be applied only once, and last');
  if (codings.length > 1) throw new HttpError(501, `only the chunked transfer coding is implemented, not ${codings.slice(0, -1).join(', ')}`);
  return new ChunkedDecoder();
}

/**
 * How many body bytes follow a request head without Transfer-Encoding (RFC 9112 §6.3):
 *   - Content-Length: rule 5. Exactly one field, of digits only; anything else (a sign,
 *     hex, a list, spaces inside, two fields, even two equal ones) is 400. The digits are
 *     checked before they become a number, so no value can overflow into a small one.
 *   - Neither: rule 7. A request without them has no body.
 * A valid length over MAX_BODY_BYTES is 413 (RFC 9110 §15.5.14), decided before a single
 * body byte is read.
 */
export function requestBodyLength(headers: Fields): number {
  const values = headers.getAll('content-length');
  if (values.length === 0) return 0;
  if (values.length > 1) throw new HttpError(400, `${values.length} Content-Length fields; send exactly one`);
  const value = values[0]!;
  if (!DIGITS.test(value)) throw new HttpError(400, `Content-Length must be digits only, not "${value}"`);
  // More digits than any safe integer has: not a length we could count to.
  if (value.replace(/^0+(?=\d)/, '').length > 15) throw new HttpError(400, `Content-Length ${value} is too large to be a length`);
  const length = Number(value);
  if (length > MAX_BODY_BYTES) {
    throw new HttpError(413, `the body would be ${length} bytes; this server accepts at most ${MAX_BODY_BYTES}`);
  }
  return length;
}

/** A complete body, and whatever arrived after it (the next message, which is not ours). */
export interface BodyParts {
  body: Buffer;
  rest: Buffer;
}

/**
 * Collects exactly `length` body bytes from chunks of any size. It keeps the pieces and
 * joins them once, at the end: joining on every read would copy everything received so
 * far each time, which is quadratic (a 64 MiB body in 64 KiB reads copies 32 GiB).
 */
export class BodyReader {
  private readonly pieces: Buffer[] = [];
  private received = 0;

  constructor(readonly length: number) {}

  /** How many bytes are still to come. */
  get missing(): number {
    return this.length - this.received;
  }

  /** Adds a chunk; once `length` bytes have come, returns the body and the rest, else null. */
  push(chunk: Buffer): BodyParts | null {
    const take = Math.min(chunk.length, this.missing);
    if (take > 0) {
      this.pieces.push(chunk.subarray(0, take));
      this.received += take;
    }
    if (this.missing > 0) return null;
    // A body that came in one piece (or none) is handed on as it is, not copied.
    const body = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.length);
    return { body, rest: take === 0 ? chunk : chunk.subarray(take) };
  }
}


/** The longest line a chunked body may hold: a chunk size and its extensions. */
export const MAX_CHUNK_LINE_BYTES = 16 * 1024; // Node's limit for chunk extensions, then 413

/**
 * Collects one CRLF-terminated line from pieces of any size, no longer than `limit` bytes,
 * looking only at the new bytes of each piece (linear, like HeadReader).
 */
class LineReader {
  private pieces: Buffer[] = [];
  private length = 0;
  private lastByte = -1;

  constructor(
    private readonly limit: number,
    private readonly tooLong: () => HttpError,
  ) {}

  /** The line without its CRLF, and the bytes after it; null while the line goes on. */
  push(chunk: Buffer): { line: Buffer; rest: Buffer } | null {
    const lf = chunk.indexOf(0x0a);
    const end = lf < 0 ? chunk.length : lf;
    if (this.length + end > this.limit) throw this.tooLong();
    if (lf < 0) {
      this.pieces.push(chunk);
      this.length += chunk.length;
      if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1]!;
      return null;
    }
    const before = lf > 0 ? chunk[lf - 1]! : this.lastByte;
    // RFC 9112 §7.1: every line of a chunked body ends in CRLF; a bare LF is refused here as
    // in the head, for the same reason: two parsers must not see two different bodies.
    if (before !== 0x0d) throw new HttpError(400, 'a line of the chunked body ends in a bare LF');
    const line = Buffer.concat([...this.pieces, chunk.subarray(0, lf)]);
    this.pieces = [];
    this.length = 0;
    this.lastByte = -1;
    return { line: line.subarray(0, line.length - 1), rest: chunk.subarray(lf + 1) };
  }
}

// RFC 9112 §7.1:
//   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-size     = 1*HEXDIG
//   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// Extensions mean nothing to this server (§7.1.1: ignore the unknown ones); they are only
// checked for characters that have no place in a line.
const CHUNK_LINE = /^([0-9A-Fa-f]+)([ \t]*;[\t\x20-\x7e\x80-\xff]*)?$/;

/** A decoded chunked body, the trailer fields that followed it, and the bytes after it. */
export interface ChunkedParts extends BodyParts {
  /** Trailer fields (§7.1.2): kept apart, never merged into the header section. */
  trailers: Fields;
}

/**
 * Decodes a chunked body (RFC 9112 §7.1) as a state machine, so the bytes may arrive split
 * anywhere: in a size, between a chunk and its CRLF, inside the trailers.
 *
 *   chunked-body    = *chunk last-chunk trailer-section CRLF
 *   last-chunk      = 1*("0") [ chunk-ext ] CRLF
 *   trailer-section = *( field-line CRLF )
 *
 * Every part is bounded: a size line (extensions included) by MAX_CHUNK_LINE_BYTES (413),
 * the body by `maxBody` (413, decided from a chunk's size before its data is read), the
 * trailers by MAX_HEAD_BYTES (431).
 */
export class ChunkedDecoder {
  private state: 'size' | 'data' | 'data-end' | 'trailers' = 'size';
  private readonly pieces: Buffer[] = [];
  private received = 0;
  /** Bytes of chunk data still to come in the current chunk. */
  private remaining = 0;
  /** How many bytes of the CRLF after chunk data have come (0 or 1). */
  private endSeen = 0;
  private readonly sizes = new LineReader(MAX_CHUNK_LINE_BYTES, () => new HttpError(413, `a chunk-size line is longer than ${MAX_CHUNK_LINE_BYTES} bytes`));
  private readonly trailerLines = new LineReader(MAX_HEAD_BYTES, () => new HttpError(431, 'the trailer section is too large'));
  private trailerBytes = 0;
  private readonly trailers = new Fields();
  /** A chunked body always has at least its last chunk to come: the 100 Continue is due. */
  readonly length = Infinity;

  constructor(
    private readonly maxBody = MAX_BODY_BYTES,
    /** Called with the data of each chunk as it is decoded (a client's --stream). */
    private readonly onData?: (data: Buffer) => void,
  ) {}

  push(chunk: Buffer): ChunkedParts | null {
    let pending = chunk;
    for (;;) {
      switch (this.state) {
        case 'size': {
          const line = this.sizes.push(pending);
          if (!line) return null;
          const match = CHUNK_LINE.exec(line.line.toString('latin1'));
          if (!match) throw new HttpError(400, `"${line.line.toString('latin1').slice(0, 40)}" is not a chunk size (hex digits, then ;extensions)`);
          // More than 13 hex digits is more than 2^52 bytes: no size we could count to.
          if (match[1]!.replace(/^0+(?=.)/, '').length > 13) throw new HttpError(400, `the chunk size ${match[1]} is too large`);
          const size = parseInt(match[1]!, 16);
          if (this.received + size > this.maxBody) {
            throw new HttpError(413, `the chunked body would pass ${this.maxBody} bytes; this server accepts no more`);
          }
          this.remaining = size;
          this.state = size === 0 ? 'trailers' : 'data';
          pending = line.rest;
          break;
        }
        case 'data': {
          if (pending.length === 0) return null;
          const take = Math.min(pending.length, this.remaining);
          const data = pending.subarray(0, take);
          this.pieces.push(data);
          this.onData?.(data);
          this.received += take;
          this.remaining -= take;
          pending = pending.subarray(take);
          if (this.remaining === 0) this.state = 'data-end';
          break;
        }
        case 'data-end': {
          // Exactly CR, then LF, after chunk data, perhaps one byte per read. Any other byte
          // means the size lied: refuse it at once, not after reading on to some LF.
          if (pending.length === 0) return null;
          if (pending[0] !== (this.endSeen === 0 ? 0x0d : 0x0a)) {
            throw new HttpError(400, 'chunk data is not followed by CRLF: the chunk size was wrong');
          }
          pending = pending.subarray(1);
          if (++this.endSeen === 2) {
            this.endSeen = 0;
            this.state = 'size';
          }
          break;
        }
        case 'trailers': {
          const line = this.trailerLines.push(pending);
          if (!line) return null;
          pending = line.rest;
          this.trailerBytes += line.line.length + 2;
          if (this.trailerBytes > MAX_HEAD_BYTES) throw new HttpError(431, 'the trailer section is too large');
          if (line.line.length === 0) {
            return { body: Buffer.concat(this.pieces, this.received), trailers: this.trailers, rest: pending };
          }
          const text = line.line.toString('latin1');
          const colon = text.indexOf(':');
          const name = colon < 0 ? '' : text.slice(0, colon);
          const value = text.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
          if (!TOKEN.test(name) || !FIELD_VALUE.test(value)) throw new HttpError(400, `"${text.slice(0, 40)}" is not a trailer field line`);
          this.trailers.append(name, value);
          break;
        }
      }
    }
  }
}

/** One chunk of data, framed (§7.1). Never call it with no data: that is the last chunk. */
export function encodeChunk(data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data, Buffer.from('\r\n', 'latin1')]);
}

/** The last chunk and an empty trailer section: the end of a chunked body. */
export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

// --- The client's side ---------------------------------------------------------------

export interface RequestOptions {
  method?: string;
  /** Extra field lines, sent after Host. */
  headers?: Array<[string, string]>;
  /** A body to send; its Content-Length is counted in bytes for you. */
  body?: Buffer | string;
  /** Keep the connection for more requests: leave out Connection: close (RFC 9112 §9.3). */
  keepAlive?: boolean;
  /** The body follows in chunks, its length unknown: Transfer-Encoding: chunked (§7). */
  chunked?: boolean;
}

/**
 * The bytes of a request: the request line (RFC 9112 §3), Host (required, §3.2), the
 * extra fields, Content-Length when there is a body (its bytes, RFC 9110 §8.6),
 * Connection: close unless the connection is kept for more (§9.6), the empty line, and
 * the body.
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
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  if (options.chunked) head += 'Transfer-Encoding: chunked\r\n';
  else if (body) head += `Content-Length: ${body.length}\r\n`;
  if (!options.keepAlive) head += 'Connection: close\r\n';
  const headBytes = Buffer.from(`${head}\r\n`, 'latin1');
  return body ? Buffer.concat([headBytes, body]) : headBytes;
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


/**
 * How a response body is framed, by RFC 9112 §6.3: a number of bytes, or 'until-close'.
 *   - rule 1: a response to HEAD, and every 1xx, 204 and 304, has no body, whatever its
 *     fields say;
 *   - rules 3 and 4: Transfer-Encoding wins; ending in chunked, the body is chunks;
 *   - rule 5: an invalid Content-Length is an error, not a guess;
 *   - rule 6: a valid Content-Length is the exact number of bytes;
 *   - rule 8: with neither, the body runs until the server closes the connection.
 */
export function responseBodyLength(method: string, status: number, headers: Fields): number | 'until-close' | 'chunked' {
  if (method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) return 0;
  if (headers.has('transfer-encoding')) {
    // Rules 3 and 4: Transfer-Encoding wins over Content-Length; chunked last means chunks,
    // anything else means the body runs until the close.
    const codings = headers.getAll('transfer-encoding').flatMap((value) => value.split(','));
    return codings.at(-1)?.trim().toLowerCase() === 'chunked' ? 'chunked' : 'until-close';
  }
  // Repeated fields and a list in one field are the same thing (RFC 9110 §5.3); rule 5 lets
  // a recipient accept identical values, which a client may do.
  const values = headers.getAll('content-length').flatMap((value) => value.split(',')).map((value) => value.trim());
  if (values.length === 0) return 'until-close';
  if (new Set(values).size > 1 || !DIGITS.test(values[0]!) || values[0]!.replace(/^0+(?=\d)/, '').length > 15) {
    throw new ResponseError(`invalid Content-Length in the response: ${values.map((value) => `"${value}"`).join(', ')}`);
  }
  return Number(values[0]);
}

/** A response, read whole. */
export interface ParsedResponse {
  /** The bytes of this response, head and body. */
  raw: Buffer;
  version: string;
  status: number;
  reason: string;
  headers: Fields;
  body: Buffer;
  /** Trailer fields after a chunked body (RFC 9112 §7.1.2); empty otherwise. */
  trailers: Fields;
}

/**
 * Reads one response from a stream, as the server reads requests: the head, then the body
 * by responseBodyLength(). What follows the response is handed back as `rest`: on a kept
 * connection, it is the start of the next response.
 */
export class ResponseReader {
  private readonly heads = new HeadReader();
  private readonly raw: Buffer[] = [];
  private head: ResponseHead | undefined;
  private body: BodyReader | ChunkedDecoder | 'until-close' | undefined;
  private readonly untilClose: Buffer[] = [];

  constructor(
    private readonly method: string,
    /** Called with the data of each chunk of a chunked body as it arrives. */
    private readonly onChunk?: (data: Buffer) => void,
  ) {}

  /** Whether any byte of the response has come. */
  get started(): boolean {
    return this.raw.length > 0;
  }

  /** Adds a chunk; returns the response and the bytes after it once it is complete, else null. */
  push(chunk: Buffer): { response: ParsedResponse; rest: Buffer } | null {
    if (chunk.length === 0) return null;
    this.raw.push(chunk);
    let bodyChunk = chunk;
    if (!this.head) {
      let parts: HeadParts | null;
      try {
        parts = this.heads.push(chunk);
      } catch (error) {
        if (error instanceof HttpError && error.status === 431) {
          throw new ResponseError(`the response head is longer than this client accepts (${MAX_HEAD_BYTES} bytes)`);
        }
        throw error;
      }
      if (!parts) return null;
      const head = parseResponseHead(parts.head);
      if (head.status < 200) {
        // RFC 9110 §15.2: a 1xx (100 Continue, 103 Early Hints) is an interim response; the
        // final one follows. Its bytes stay in `raw`, for whoever shows the exchange.
        this.trimRaw(parts.rest.length);
        return this.push(parts.rest);
      }
      this.head = head;
      const length = responseBodyLength(this.method, head.status, head.headers);
      this.body = length === 'until-close' ? length : length === 'chunked' ? new ChunkedDecoder(Infinity, this.onChunk) : new BodyReader(length);
      bodyChunk = parts.rest;
    }
    if (this.body === 'until-close') {
      this.untilClose.push(bodyChunk);
      return null;
    }
    let parts: BodyParts | ChunkedParts | null;
    try {
      parts = this.body!.push(bodyChunk);
    } catch (error) {
      throw error instanceof HttpError ? new ResponseError(`the chunked body of the response is malformed: ${error.message}`) : error;
    }
    if (!parts) return null;
    // The bytes after the body belong to the next response, not to this one's raw bytes.
    this.trimRaw(parts.rest.length);
    return { response: this.complete(parts.body, this.body instanceof ChunkedDecoder ? (parts as ChunkedParts).trailers : undefined), rest: parts.rest };
  }

  /** Drops the last `count` bytes from `raw`: they came in the last chunk, after this message. */
  private trimRaw(count: number): void {
    const last = this.raw.at(-1)!;
    this.raw[this.raw.length - 1] = last.subarray(0, last.length - count);
  }

  /** The server closed the connection: the response, if the close is what ends it. */
  end(): ParsedResponse {
    if (!this.head) {
      const received = Buffer.concat(this.raw).length;
      throw new ResponseError(
        received === 0
          ? 'the server closed the connection without sending a response'
          : `the server closed the connection before the end of the response head (${received} bytes, no empty line)`,
      );
    }
    if (this.body === 'until-close') return this.complete(Buffer.concat(this.untilClose));
    if (this.body instanceof ChunkedDecoder) {
      throw new ResponseError('the response was cut off: the server closed the connection before the last chunk');
    }
    // RFC 9112 §8: a message cut off before its Content-Length is incomplete, never complete.
    const reader = this.body as BodyReader;
    throw new ResponseError(
      `the response was cut off: Content-Length is ${reader.length}, but the server closed the connection after ${reader.length - reader.missing} body bytes`,
    );
  }

  private complete(body: Buffer, trailers = new Fields()): ParsedResponse {
    const head = this.head!;
    return { raw: Buffer.concat(this.raw), version: head.version, status: head.status, reason: head.reason, headers: head.headers, body, trailers };
  }
}
