// The parser benchmark's inputs and verdicts, without timing anything: the heads are the
// size they claim and parse, the chunked encoding decodes back to its body, and flatness is
// judged as the issue asks.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeChunked } from '../../test/harness/chunked.ts';
import { ROOT, listChapters } from '../chapters.ts';
import {
  CHUNK_BYTES,
  HEAD_SIZES,
  PIPELINED_REQUEST,
  SMALLEST_HEAD,
  buildHead,
  buildPipelined,
  evaluateFlatness,
  feed,
  parserTable,
  sizeLabel,
  verdictLine,
  type ParserModule,
  type ParserRow,
} from './parser.ts';

// The final chapter's reference: the parser the benchmark measures by default.
const reference = (await import(pathToFileURL(path.join(ROOT, listChapters().at(-1)!.solutionDir, 'protocol.ts')).href)) as ParserModule;

describe('the parser benchmark: inputs', () => {
  it.each([...HEAD_SIZES, SMALLEST_HEAD, SMALLEST_HEAD + 1, 127, 128, 129, 1000, 1023, 64 * 1024])('builds a head of exactly %i bytes, ending in its one empty line', (size) => {
    const head = buildHead(size);
    expect(head.length).toBe(size);
    expect(head.indexOf('\r\n\r\n')).toBe(size - 4);
  });

  it('refuses a size too small for a head with a field', () => {
    expect(() => buildHead(SMALLEST_HEAD - 1)).toThrow(RangeError);
  });

  it.each(HEAD_SIZES)('builds a head of %i bytes that HeadReader and parseRequestHead accept, whole and byte by byte', (size) => {
    const head = buildHead(size);
    for (const pieceBytes of [undefined, 1]) {
      const parts = feed(new reference.HeadReader(64 * 1024), head, pieceBytes);
      expect(parts?.head.length).toBe(size - 4);
      expect(parts?.rest.length).toBe(0);
      const request = reference.parseRequestHead(parts!.head, { maxTargetBytes: 8192, maxHeaderFields: 10_000 });
      const fields = request.headers.entries();
      expect([request.method, request.target, fields[0]]).toEqual(['GET', '/', ['Host', 'example.com']]);
      // Every line but the request line, the last CRLF and the empty line is a field.
      expect(fields).toHaveLength(head.toString('latin1').split('\r\n').length - 3);
      expect(new Set(fields.map(([name]) => name)).size).toBe(fields.length);
    }
  });

  it('encodes a chunked body (with the harness) that ChunkedDecoder decodes back to the body, whole or in pieces', () => {
    const body = Buffer.from('0123456789abcdef'.repeat(1000).slice(0, 3 * CHUNK_BYTES + 123), 'latin1');
    const encoded = encodeChunked(body, [CHUNK_BYTES]);
    expect(encoded.subarray(0, 5).toString('latin1')).toBe(`${CHUNK_BYTES.toString(16)}\r\n`);
    // Three full chunks, then one of the 123 bytes left (0x7b), then the last chunk.
    expect(encoded.length).toBe(3 * (5 + CHUNK_BYTES + 2) + (4 + 123 + 2) + 5);
    expect(encoded.includes('\r\n7b\r\n')).toBe(true);
    expect(encoded.subarray(-5).toString('latin1')).toBe('0\r\n\r\n');
    for (const pieceBytes of [undefined, 7, 64]) {
      const parts = feed(new reference.ChunkedDecoder(1024 * 1024), encoded, pieceBytes);
      expect(parts?.body.equals(body)).toBe(true);
      expect(parts?.rest.length).toBe(0);
    }
    expect(encodeChunked(Buffer.alloc(0), [CHUNK_BYTES]).toString('latin1')).toBe('0\r\n\r\n');
  });

  it('puts pipelined requests back to back in one read, which HeadReader splits one by one', () => {
    const read = buildPipelined(16);
    expect(read.length).toBe(16 * PIPELINED_REQUEST.length);
    const reader = new reference.HeadReader();
    let heads = 0;
    for (let parts = reader.push(read); parts; parts = parts.rest.length > 0 ? reader.push(parts.rest) : null) heads++;
    expect(heads).toBe(16);
  });

  it('feeds the bytes as fresh views of the size asked, the last one shorter', () => {
    const seen: Buffer[] = [];
    const bytes = Buffer.from('abcdefghij');
    const result = feed({ push: (chunk: Buffer) => (seen.push(chunk), seen.length === 4 ? 'done' : null) }, bytes, 3);
    expect(result).toBe('done');
    expect(seen.map((chunk) => chunk.toString())).toEqual(['abc', 'def', 'ghi', 'j']);
    expect(seen[0]!.buffer).toBe(bytes.buffer);
  });
});

describe('the parser benchmark: verdicts', () => {
  const row = (name: string, size: number, delivery: string, nsPerByte: number, extra: Partial<ParserRow> = {}): ParserRow => ({ case: name, size, delivery, nsPerByte, ...extra });

  it('compares the largest size with the smallest, per byte, for each case and delivery', () => {
    const verdicts = evaluateFlatness([
      row('head', 16 * 1024, 'whole', 14),
      row('head', 1024, 'whole', 10),
      row('head', 4096, 'whole', 30), // only the smallest and the largest are compared
      row('head', 1024, '1 byte at a time', 100),
      row('head', 16 * 1024, '1 byte at a time', 160),
    ]);
    expect(verdicts.map((verdict) => [verdict.case, verdict.delivery, verdict.small.size, verdict.large.size, verdict.unit, verdict.flat])).toEqual([
      ['head', 'whole', 1024, 16 * 1024, 'byte', true],
      ['head', '1 byte at a time', 1024, 16 * 1024, 'byte', false],
    ]);
    expect(verdicts[0]!.ratio).toBeCloseTo(1.4, 10);
    expect(verdicts[1]!.ratio).toBeCloseTo(1.6, 10);
  });

  it('counts a cost per byte that falls as the size grows as flat: a fixed cost per message, spread', () => {
    const [verdict] = evaluateFlatness([row('body (Content-Length)', 1 << 20, 'whole', 1e-4), row('body (Content-Length)', 16 << 20, 'whole', 1e-5)]);
    expect(verdict!.flat).toBe(true);
  });

  it('compares pipelined reads per request, not per byte', () => {
    const [verdict] = evaluateFlatness([
      row('pipelined heads', 16 * 27, 'one read', 12, { requests: 16, nsPerRequest: 300 }),
      row('pipelined heads', 1024 * 27, 'one read', 99, { requests: 1024, nsPerRequest: 450 }),
    ]);
    expect([verdict!.unit, verdict!.ratio, verdict!.flat]).toEqual(['request', 1.5, true]);
    expect(verdictLine(verdict!)).toBe('  ✓ pipelined heads, one read: 1024 requests cost 1.50x per request what 16 do (at most 1.5x)');
  });

  it('is not flat when a size could not be measured, and says why', () => {
    const [verdict] = evaluateFlatness([
      row('body (chunked)', 1 << 20, '64 bytes at a time', Number.NaN, { error: 'boom' }),
      row('body (chunked)', 16 << 20, '64 bytes at a time', Number.NaN, { error: 'boom' }),
    ]);
    expect(verdict!.flat).toBe(false);
    expect(verdictLine(verdict!)).toBe('  ✗ body (chunked), 64 bytes at a time: not measured (boom)');
  });

  it('prints a verdict line with the ratio, and a table with one row per size', () => {
    const rows = [row('head', 1024, 'whole', 10), row('head', 16 * 1024, 'whole', 16)];
    expect(verdictLine(evaluateFlatness(rows)[0]!)).toBe('  ✗ head, whole: 16 KiB costs 1.60x per byte what 1 KiB does (at most 1.5x)');
    const table = parserTable([...rows, row('body (Content-Length)', 1 << 20, 'whole', 1.234e-5), row('pipelined heads', 432, 'one read', 12.04, { requests: 16, nsPerRequest: 321.4 })]);
    expect(table.split('\n')[0]).toMatch(/^case +size +delivery +ns\/byte +ns\/request$/);
    expect(table).toMatch(/\nhead +1 KiB +whole +10\.0\n/);
    expect(table).toMatch(/\nbody \(Content-Length\) +1 MiB +whole +1\.23e-5\n/);
    expect(table).toMatch(/\npipelined heads +16 × 27 B +one read +12\.0 +321$/);
  });

  it.each([
    [1024, '1 KiB'],
    [16 * 1024 * 1024, '16 MiB'],
    [432, '432 B'],
    [1536, '1536 B'],
  ])('names %i bytes %s', (bytes, label) => {
    expect(sizeLabel(bytes)).toBe(label);
  });
});
