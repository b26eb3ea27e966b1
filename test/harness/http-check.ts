// The grader's own reading of a response. It is deliberately separate from any chapter's
// code (a learner's parser must not grade itself) and tolerant: instead of rejecting bad
// bytes it finds the first thing that is wrong and says where, so the report can put a caret
// under it.

import { escapeBytes, firstDifference } from './bytes.ts';

export interface FieldLine {
  name: string;
  value: string;
  /** Offset of the line's first byte in the response. */
  at: number;
  /** Offset of the value's first byte. */
  valueAt: number;
}

export interface MessageHead {
  statusLine: string;
  fields: FieldLine[];
  /** Offset of the first body byte: just after `\r\n\r\n`. */
  bodyAt: number;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');

/** Splits a message head off `raw`, or returns null while the blank line has not arrived. */
export function readHead(raw: Buffer): MessageHead | null {
  const end = raw.indexOf(CRLF_CRLF);
  if (end < 0) return null;
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const fields: FieldLine[] = [];
  let at = lines[0]!.length + 2;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const rawValue = colon < 0 ? '' : line.slice(colon + 1);
    const leading = rawValue.length - rawValue.trimStart().length;
    fields.push({ name, value: rawValue.trim(), at, valueAt: at + colon + 1 + leading });
    at += line.length + 2;
  }
  return { statusLine: lines[0]!, fields, bodyAt: end + 4 };
}

/** The status code of the response at the start of `raw`, or undefined if its head has not come whole. */
export function statusOf(raw: Buffer): number | undefined {
  const status = Number(readHead(raw)?.statusLine.split(' ')[1]);
  return Number.isInteger(status) ? status : undefined;
}

export function fieldValues(head: MessageHead, name: string): string[] {
  const lower = name.toLowerCase();
  return head.fields.filter((field) => field.name.toLowerCase() === lower).map((field) => field.value);
}

/**
 * The length of the first complete response in `raw` when it is framed by Content-Length, or
 * null while it is incomplete or has no Content-Length. Used to stop reading without
 * waiting for a close.
 */
export function contentLengthResponseEnd(raw: Buffer): number | null {
  const head = readHead(raw);
  if (!head) return null;
  const [length] = fieldValues(head, 'content-length');
  if (length === undefined || !/^\d+$/.test(length)) return null;
  const end = head.bodyAt + Number(length);
  return raw.length >= end ? end : null;
}

/**
 * Where the request that starts at `from` ends (its head, and a body of Content-Length
 * bytes), or null while it is incomplete. For scripted servers that read several requests.
 */
export function requestEnd(raw: Buffer, from = 0): number | null {
  const head = readHead(raw.subarray(from));
  if (!head) return null;
  const [length = '0'] = fieldValues(head, 'content-length');
  const end = from + head.bodyAt + Number(length);
  return raw.length >= end ? end : null;
}

/** Splits `raw` into the complete Content-Length-framed responses at its start. */
export function splitResponses(raw: Buffer): Buffer[] {
  const responses: Buffer[] = [];
  let rest = raw;
  for (let end = contentLengthResponseEnd(rest); end !== null; end = contentLengthResponseEnd(rest)) {
    responses.push(rest.subarray(0, end));
    rest = rest.subarray(end);
  }
  return responses;
}

export interface ExpectedResponse {
  status: number;
  /** The exact reason phrase; leave out to accept any. */
  reason?: string;
  /** Field values that must be present (case-insensitive names; values compared exactly). */
  headers?: Record<string, string>;
  /** The exact body. An empty string means no body at all. */
  body?: string | Buffer;
  /**
   * The response has no body whatever its Content-Length says: the answer to HEAD, or a
   * 204 or 304 (RFC 9112 §6.3 rule 1).
   */
  noBody?: boolean;
}

export interface Problem {
  /** One sentence: what is wrong. */
  summary: string;
  /** Byte offset in the received bytes to put the caret under. */
  at: number;
  /** The short note printed beside the caret. */
  note: string;
}

/**
 * The checks every message head must pass: CRLF line endings, the expected start line, an
 * empty line at the end, and field lines of the form "name: value".
 */
function findHeadProblem(raw: Buffer, startLine: string, exact: boolean, what: string): Problem | null {
  if (raw.length === 0) {
    return { summary: 'Nothing came.', at: 0, note: `expected the ${what} here` };
  }
  const headEnd = raw.indexOf(CRLF_CRLF);
  const searchEnd = headEnd < 0 ? raw.length : headEnd;
  for (let i = 0; i < searchEnd; i++) {
    if (raw[i] === 0x0a && raw[i - 1] !== 0x0d) {
      return {
        summary: 'A line of the head ends in a bare \\n. Every line ends in \\r\\n (RFC 9112 §2.1).',
        at: i,
        note: 'expected \\r\\n here, found \\n',
      };
    }
  }

  const lineEnd = raw.indexOf('\r\n');
  const line = raw.subarray(0, lineEnd < 0 ? raw.length : lineEnd);
  const diff = firstDifference(exact ? line : line.subarray(0, startLine.length), Buffer.from(startLine, 'latin1'));
  if (diff >= 0) {
    return {
      summary: `The ${what} should be "${startLine.trimEnd()}"${exact ? '' : ' (any reason phrase)'}.`,
      at: diff,
      note: diff < startLine.length ? `expected "${escapeBytes(startLine.slice(diff, diff + 20))}" here` : 'expected \\r\\n here',
    };
  }

  const head = readHead(raw);
  if (!head) {
    return {
      summary: 'The head never ended: after the last field line comes an empty line, so the head ends in \\r\\n\\r\\n (RFC 9112 §2.1).',
      at: raw.length,
      note: 'expected \\r\\n\\r\\n by here',
    };
  }
  for (const field of head.fields) {
    if (!raw.subarray(field.at, field.valueAt).includes(':')) {
      return { summary: 'Each field line is "name: value" (RFC 9112 §5.1).', at: field.at, note: 'no colon on this line' };
    }
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(field.name)) {
      return {
        summary: 'A field name is a token, with the colon right after it: no spaces (RFC 9112 §5.1).',
        at: field.at,
        note: 'this field name is not a token',
      };
    }
  }
  return null;
}

function findFieldProblem(head: MessageHead, expected: Record<string, string>): Problem | null {
  for (const [name, value] of Object.entries(expected)) {
    const matches = head.fields.filter((field) => field.name.toLowerCase() === name.toLowerCase());
    if (matches.length === 0) {
      return {
        summary: `The head needs a "${name}: ${value}" field.`,
        at: head.bodyAt - 2,
        note: `expected "${name}: ${value}" before the empty line`,
      };
    }
    const wrong = matches.find((field) => field.value !== value);
    if (wrong) {
      return { summary: `"${name}" should be "${value}", not "${wrong.value}".`, at: wrong.valueAt, note: `expected "${value}"` };
    }
  }
  return null;
}

export interface ExpectedRequest {
  /** The exact request line, e.g. `GET / HTTP/1.1`. */
  requestLine: string;
  /** Field values that must be present (case-insensitive names; values compared exactly). */
  headers?: Record<string, string>;
  /** The exact body; an empty string (the default) means nothing after the empty line. */
  body?: string | Buffer;
}

/** Finds the first way in which `raw` is not the expected request, or returns null. */
export function findRequestProblem(raw: Buffer, expected: ExpectedRequest): Problem | null {
  const problem = findHeadProblem(raw, expected.requestLine, true, 'request line');
  if (problem) return problem;
  const head = readHead(raw)!;
  const fieldProblem = findFieldProblem(head, expected.headers ?? {});
  if (fieldProblem) return fieldProblem;
  const want = typeof expected.body === 'string' ? Buffer.from(expected.body, 'utf8') : (expected.body ?? Buffer.alloc(0));
  const body = raw.subarray(head.bodyAt);
  const diff = firstDifference(body, want);
  if (diff < 0) return null;
  return {
    summary: want.length === 0 ? 'Nothing comes after the empty line of this request: it has no body.' : 'The body is not what was expected.',
    at: head.bodyAt + diff,
    note: diff < want.length ? `expected "${escapeBytes(want.subarray(diff, diff + 20))}" here` : 'expected the request to end here',
  };
}

/**
 * Finds the first way in which `raw` is not the expected response, or returns null.
 * `closed` says whether the server closed the connection after these bytes, which is the
 * only case where every byte of the body is known to be here.
 */
export function findProblem(raw: Buffer, expected: ExpectedResponse, closed: boolean): Problem | null {
  const statusLine = `HTTP/1.1 ${expected.status} ${expected.reason ?? ''}`;
  const problem = findHeadProblem(raw, statusLine, expected.reason !== undefined, 'status line');
  if (problem) return problem;
  const head = readHead(raw)!;
  const fieldProblem = findFieldProblem(head, expected.headers ?? {});
  if (fieldProblem) return fieldProblem;

  const rest = raw.subarray(head.bodyAt);
  if (expected.noBody) {
    if (closed && rest.length > 0) {
      return {
        summary: 'This response has no body, whatever its Content-Length says: nothing comes after the empty line (RFC 9112 §6.3).',
        at: head.bodyAt,
        note: 'expected the response to end here',
      };
    }
    return null;
  }
  const lengths = head.fields.filter((field) => field.name.toLowerCase() === 'content-length');
  let body = rest;
  if (lengths.length > 1) {
    return { summary: 'Send Content-Length once.', at: lengths[1]!.at, note: 'a second Content-Length' };
  }
  if (lengths.length === 1) {
    const field = lengths[0]!;
    if (!/^\d+$/.test(field.value)) {
      return {
        summary: 'Content-Length is the number of body bytes, in decimal digits (RFC 9110 §8.6).',
        at: field.valueAt,
        note: 'expected digits only',
      };
    }
    const declared = Number(field.value);
    if (closed && rest.length !== declared) {
      return {
        summary: `Content-Length says ${declared}, but ${rest.length} bytes came after the empty line. It counts the body's bytes (RFC 9110 §8.6).`,
        at: field.valueAt,
        note: `the body has ${rest.length} bytes`,
      };
    }
    if (rest.length < declared) {
      return {
        summary: `Content-Length says ${declared}, but only ${rest.length} body bytes came.`,
        at: raw.length,
        note: `expected ${declared - rest.length} more bytes`,
      };
    }
    body = rest.subarray(0, declared);
  }

  if (expected.body !== undefined) {
    const want = typeof expected.body === 'string' ? Buffer.from(expected.body, 'utf8') : expected.body;
    const bodyDiff = firstDifference(body, want);
    if (bodyDiff >= 0) {
      return {
        summary:
          want.length === 0
            ? 'This response has no body.'
            : `The body should be "${escapeBytes(want.subarray(0, 60))}" (${want.length} bytes).`,
        at: head.bodyAt + bodyDiff,
        note:
          bodyDiff < want.length
            ? `expected "${escapeBytes(want.subarray(bodyDiff, bodyDiff + 20))}" here`
            : 'expected the body to end here',
      };
    }
  }
  return null;
}
