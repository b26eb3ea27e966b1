// The grader's own chunked coding (RFC 9112 §7.1), apart from any chapter's: to build chunked
// requests and responses for the code under test, and to read what it sends.

import { readHead } from './http-check.ts';

/** Encodes `data` as chunks of the given sizes (the last size repeats), each with an optional extension. */
export function encodeChunked(data: Buffer, sizes: number[], options: { extension?: string; trailers?: string } = {}): Buffer {
  const parts: Buffer[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = Math.max(1, sizes[Math.min(i, sizes.length - 1)] ?? data.length);
    const piece = data.subarray(offset, offset + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}${options.extension ?? ''}\r\n`, 'latin1'), piece, Buffer.from('\r\n'));
    offset += piece.length;
  }
  parts.push(Buffer.from(`0\r\n${options.trailers ?? ''}\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

/** Decodes a chunked body at the start of `raw`: its data and where it ends, or null if incomplete or malformed. */
export function decodeChunked(raw: Buffer): { data: Buffer; trailers: string; end: number } | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const size = parseInt(raw.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (Number.isNaN(size)) return null;
    at = lineEnd + 2;
    if (size === 0) {
      const end = raw.indexOf('\r\n\r\n', at - 2);
      if (end < 0) return null;
      return { data: Buffer.concat(parts), trailers: raw.subarray(at, end + 2).toString('latin1'), end: end + 4 };
    }
    if (raw.length < at + size + 2) return null;
    parts.push(raw.subarray(at, at + size));
    at += size + 2;
  }
}

/** Where the first response in `raw` ends if its body is chunked, or null while it is incomplete. */
export function chunkedResponseEnd(raw: Buffer): number | null {
  const head = readHead(raw);
  if (!head) return null;
  const decoded = decodeChunked(raw.subarray(head.bodyAt));
  return decoded ? head.bodyAt + decoded.end : null;
}
