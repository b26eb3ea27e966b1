// The parser micro-benchmark (issue 8): the final chapter's pure parser (HeadReader,
// parseRequestHead, BodyReader, ChunkedDecoder) fed heads of 1, 4 and 16 KiB, bodies of 1
// and 16 MiB, and reads holding 16 or 1024 pipelined requests, whole and in small pieces.
// It proves the parser linear: a parser that scans again, or copies again, what it already
// holds costs more per byte the more bytes it holds, so the cost per byte of the largest
// case is compared with that of the smallest, and must stay within FLAT_LIMIT.
//
// No socket, no server: the numbers are the parser's alone, so a learner's protocol.ts can
// be measured as easily as the reference (`--mine`).

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ROOT, listChapters } from '../chapters.ts';
import { runTs } from '../spawn.ts';
import { encodeChunked } from '../../test/harness/chunked.ts';
import { median } from './results.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

export const HEAD_SIZES = [1 * KiB, 4 * KiB, 16 * KiB];
export const BODY_SIZES = [1 * MiB, 16 * MiB];
export const PIPELINED_COUNTS = [16, 1024];
/** The largest case may cost at most this many times the smallest one, per byte (or request). */
export const FLAT_LIMIT = 1.5;

// MAX_HEAD_BYTES is exactly 16 KiB, the largest head measured: a larger limit keeps the
// limit itself out of what is measured.
const HEAD_LIMIT = 64 * KiB;
const PARSE_LIMITS = { maxTargetBytes: 8192, maxHeaderFields: 10_000 };
// The data in each chunk of a chunked body: about a streaming server's write, and not a power
// of two, so that the 4007-byte frames drift 39 bytes against the 64-byte pieces each chunk
// and the pieces cut the size lines and the CRLFs at every offset.
export const CHUNK_BYTES = 4000;
// A body is delivered in 64-byte pieces rather than one byte at a time: 16 MiB one byte at a
// time is 16 million pushes, seconds for a single parse, and 64-byte pieces already cut the
// body a thousand times more finely than TCP reads do (64 KiB), so any work redone per push
// still shows.
const BODY_PIECE_BYTES = 64;
export const PIPELINED_REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';

// --- The parser, as this benchmark sees it ---------------------------------------------
// Typed by shape rather than imported from a chapter: the file is chosen at run time, and a
// learner's may differ from the reference in everything but these.

interface HeadPartsLike {
  head: Buffer;
  rest: Buffer;
}

interface BodyPartsLike {
  body: Buffer;
  rest: Buffer;
}

export interface ParserModule {
  HeadReader: new (limit?: number) => { push(chunk: Buffer): HeadPartsLike | null };
  parseRequestHead(head: Buffer, limits?: typeof PARSE_LIMITS): { method: string; target: string; headers: { entries(): Array<[string, string]> } };
  BodyReader: new (length: number) => { push(chunk: Buffer): BodyPartsLike | null };
  ChunkedDecoder: new (maxBody?: number) => { push(chunk: Buffer): BodyPartsLike | null };
}

// --- Inputs (pure, tested in parser.test.ts) ----------------------------------------------

const HEAD_START = 'GET / HTTP/1.1\r\nHost: example.com\r\n';
/** Every field line but the last is this long, CRLF included: about what a browser sends. */
const FIELD_LINE_BYTES = 64;
/** `X-Field-001: v` and its CRLF: the shortest field line. */
const SHORTEST_FIELD_LINE = 16;
/** The smallest head buildHead() makes: the request line, Host, one field and the empty line. */
export const SMALLEST_HEAD = HEAD_START.length + SHORTEST_FIELD_LINE + 2;

/** One field line of exactly `bytes` bytes, CRLF included. */
function fieldLine(index: number, bytes: number): string {
  const name = `X-Field-${String(index).padStart(3, '0')}`;
  const value = 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(bytes / 26)).slice(0, bytes - name.length - 4); // ": " and CRLF
  return `${name}: ${value}\r\n`;
}

/**
 * A request head of exactly `bytes` bytes, its final CRLFCRLF included: the request line,
 * Host, and as many `X-Field-NNN` lines as it takes, the last one padded to the size.
 */
export function buildHead(bytes: number): Buffer {
  if (!Number.isInteger(bytes) || bytes < SMALLEST_HEAD) throw new RangeError(`a head takes at least ${SMALLEST_HEAD} bytes, not ${bytes}`);
  let left = bytes - HEAD_START.length - 2;
  let text = HEAD_START;
  // Whole lines while two would still fit, then one line that takes what is left (between one
  // and two lines' worth): so the last line is never too short to hold a field.
  for (let index = 1; left > 0; index++) {
    const line = fieldLine(index, left >= 2 * FIELD_LINE_BYTES ? FIELD_LINE_BYTES : left);
    text += line;
    left -= line.length;
  }
  return Buffer.from(`${text}\r\n`, 'latin1');
}

/** One read holding `count` small requests back to back, as a pipelining client sends them. */
export function buildPipelined(count: number): Buffer {
  return Buffer.from(PIPELINED_REQUEST.repeat(count), 'latin1');
}

/** A body of `bytes` bytes of text, made fast (filled, not generated byte by byte). */
function buildBody(bytes: number): Buffer {
  return Buffer.alloc(bytes, 'The quick brown fox jumps over the lazy dog. 0123456789\n', 'latin1');
}

// --- Results (pure, tested) ---------------------------------------------------------------

export interface ParserRow {
  /** What was parsed: `head`, `body (Content-Length)`, `body (chunked)`, `pipelined heads`. */
  case: string;
  /** The bytes fed to the parser. */
  size: number;
  /** How they were fed: `whole`, `1 byte at a time`, `64 bytes at a time`, `one read`. */
  delivery: string;
  nsPerByte: number;
  /** Pipelined reads only: the requests the bytes hold, and what each one cost. */
  requests?: number;
  nsPerRequest?: number;
  /** Why the case could not be measured (a learner's parser that throws, say). */
  error?: string;
}

export interface FlatnessVerdict {
  case: string;
  delivery: string;
  /** The rows compared: the smallest and the largest of the case, for that delivery. */
  small: ParserRow;
  large: ParserRow;
  unit: 'byte' | 'request';
  /** The large row's cost per unit over the small one's. */
  ratio: number;
  flat: boolean;
  error?: string;
}

export interface ParserReport {
  protocolFile: string;
  quick: boolean;
  /** The timed runs per row; each row's cost is their median. */
  runs: number;
  rows: ParserRow[];
  verdicts: FlatnessVerdict[];
  /** Whether every verdict is flat: the parser is linear time. */
  flat: boolean;
  seconds: number;
}

/**
 * For each case and delivery, the largest size's cost per byte (per request, for pipelined
 * reads) over the smallest's. Flat means at most `limit`: only a cost that grows with the
 * size betrays work redone on bytes already seen. A cost per byte that falls as sizes grow
 * is fine: it is a fixed cost per message (a reader, a Fields, a Buffer.concat call) spread
 * over more bytes.
 */
export function evaluateFlatness(rows: ParserRow[], limit = FLAT_LIMIT): FlatnessVerdict[] {
  const keys = [...new Set(rows.map((row) => `${row.case}\0${row.delivery}`))];
  return keys.flatMap((key) => {
    const group = rows.filter((row) => `${row.case}\0${row.delivery}` === key).sort((a, b) => a.size - b.size);
    if (group.length < 2) return [];
    const small = group[0]!;
    const large = group.at(-1)!;
    const unit = small.requests !== undefined ? 'request' : 'byte';
    const cost = (row: ParserRow) => (unit === 'request' ? (row.nsPerRequest ?? Number.NaN) : row.nsPerByte);
    const ratio = cost(large) / cost(small);
    const error = small.error ?? large.error;
    // NaN (a case not measured) fails the comparison, as it should.
    return [{ case: small.case, delivery: small.delivery, small, large, unit, ratio, flat: !error && ratio <= limit, ...(error ? { error } : {}) }];
  });
}

/** `1 KiB`, `16 MiB`, or bytes when the size is neither. */
export function sizeLabel(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

/** Three significant digits; tiny costs (a body handed on without a copy) in exponent form. */
function nanoseconds(value: number | undefined): string {
  if (value === undefined) return '';
  if (Number.isNaN(value)) return 'n/a';
  if (value >= 1000) return String(Math.round(value));
  return value !== 0 && value < 0.001 ? value.toExponential(2) : value.toPrecision(3);
}

function rowSize(row: ParserRow): string {
  return row.requests === undefined ? sizeLabel(row.size) : `${row.requests} × ${PIPELINED_REQUEST.length} B`;
}

export function parserTable(rows: ParserRow[]): string {
  const header = ['case', 'size', 'delivery', 'ns/byte', 'ns/request'];
  // Why a row was not measured is said once, on its verdict line, not on each of its sizes.
  const cells = rows.map((row) => [row.case, rowSize(row), row.delivery, row.error ? 'not measured' : nanoseconds(row.nsPerByte), row.error ? '' : nanoseconds(row.nsPerRequest)]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...cells.map(line)].join('\n');
}

export function verdictLine(verdict: FlatnessVerdict, limit = FLAT_LIMIT): string {
  const mark = verdict.flat ? '✓' : '✗';
  const what = `${verdict.case}, ${verdict.delivery}`;
  if (verdict.error) return `  ${mark} ${what}: not measured (${verdict.error})`;
  const compared =
    verdict.unit === 'request'
      ? `${verdict.large.requests} requests cost ${verdict.ratio.toFixed(2)}x per request what ${verdict.small.requests} do`
      : `${sizeLabel(verdict.large.size)} costs ${verdict.ratio.toFixed(2)}x per byte what ${sizeLabel(verdict.small.size)} does`;
  return `  ${mark} ${what}: ${compared} (at most ${limit}x)`;
}

// --- Measuring ------------------------------------------------------------------------------

/** One size of one case: its row, and how to make its input (only when its group runs). */
interface CaseSpec {
  row: Omit<ParserRow, 'nsPerByte' | 'nsPerRequest'>;
  prepare(parser: ParserModule): Prepared;
}

interface Prepared {
  /** Parses the input once; what it returns is summed, so the work cannot be optimised away. */
  run(): number;
  /** Parses it once more, untimed, and throws if the parser got it wrong. */
  check(): void;
}

/**
 * Pushes `bytes` into `reader` in pieces of `pieceBytes` (all at once by default), each a
 * fresh view, as reads from a socket come; returns what the reader returned once complete.
 */
export function feed<T>(reader: { push(chunk: Buffer): T | null }, bytes: Buffer, pieceBytes = bytes.length): T | null {
  let parts: T | null = null;
  for (let at = 0; at < bytes.length; at += pieceBytes) parts = reader.push(bytes.subarray(at, at + pieceBytes)) ?? parts;
  return parts;
}

function deliveryLabel(pieceBytes: number | undefined): string {
  if (pieceBytes === undefined) return 'whole';
  return pieceBytes === 1 ? '1 byte at a time' : `${pieceBytes} bytes at a time`;
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

function headSpec(size: number, pieceBytes: number | undefined): CaseSpec {
  return {
    row: { case: 'head', size, delivery: deliveryLabel(pieceBytes) },
    prepare: (parser) => {
      const head = buildHead(size);
      const parse = () => {
        const parts = feed(new parser.HeadReader(HEAD_LIMIT), head, pieceBytes);
        if (!parts) throw new Error(`HeadReader found no end in a head of ${size} bytes`);
        return { parts, request: parser.parseRequestHead(parts.head, PARSE_LIMITS) };
      };
      return {
        run: () => parse().request.target.length,
        check: () => {
          const { parts, request } = parse();
          expect(parts.head.length === size - 4 && parts.rest.length === 0, `HeadReader split a head of ${size} bytes into ${parts.head.length} + ${parts.rest.length}, not ${size - 4} + the empty line`);
          const fields = head.toString('latin1').split('\r\n').length - 3;
          expect(request.method === 'GET' && request.headers.entries().length === fields, `parseRequestHead read ${request.headers.entries().length} fields, not ${fields}`);
        },
      };
    },
  };
}

function bodySpec(framing: 'length' | 'chunked', size: number, pieceBytes: number | undefined): CaseSpec {
  return {
    row: { case: framing === 'length' ? 'body (Content-Length)' : 'body (chunked)', size, delivery: deliveryLabel(pieceBytes) },
    prepare: (parser) => {
      const body = buildBody(size);
      const bytes = framing === 'length' ? body : encodeChunked(body, [CHUNK_BYTES]);
      const parse = () => {
        const reader = framing === 'length' ? new parser.BodyReader(size) : new parser.ChunkedDecoder(2 * size);
        const parts = feed(reader, bytes, pieceBytes);
        if (!parts) throw new Error(`the reader did not finish a body of ${size} bytes`);
        return parts;
      };
      return {
        run: () => parse().body.length,
        check: () => {
          const parts = parse();
          expect(parts.body.equals(body) && parts.rest.length === 0, `the reader returned a body of ${parts.body.length} bytes that is not the ${size} sent`);
        },
      };
    },
  };
}

function pipelinedSpec(count: number): CaseSpec {
  return {
    row: { case: 'pipelined heads', size: count * PIPELINED_REQUEST.length, delivery: 'one read', requests: count },
    prepare: (parser) => {
      const read = buildPipelined(count);
      // As a server reads: the whole read once, then each rest, until no request is left.
      const split = () => {
        const reader = new parser.HeadReader(HEAD_LIMIT);
        let heads = 0;
        for (let parts = reader.push(read); parts; parts = parts.rest.length > 0 ? reader.push(parts.rest) : null) heads++;
        return heads;
      };
      return {
        run: split,
        check: () => {
          const heads = split();
          expect(heads === count, `HeadReader found ${heads} heads in a read of ${count}`);
        },
      };
    },
  };
}

/** The cases, a group for each comparison: a group's inputs are made, checked and timed, then dropped. */
const GROUPS: CaseSpec[][] = [
  HEAD_SIZES.map((size) => headSpec(size, undefined)),
  HEAD_SIZES.map((size) => headSpec(size, 1)),
  ...(['length', 'chunked'] as const).flatMap((framing) => [
    BODY_SIZES.map((size) => bodySpec(framing, size, undefined)),
    BODY_SIZES.map((size) => bodySpec(framing, size, BODY_PIECE_BYTES)),
  ]),
  PIPELINED_COUNTS.map(pipelinedSpec),
];

interface Settings {
  /** Each timed run lasts at least this long. */
  runMs: number;
  /** Each case runs this long before anything counts, so the JIT has compiled it. */
  warmupMs: number;
  runs: number;
}

const FULL: Settings = { runMs: 50, warmupMs: 50, runs: 7 };
const QUICK: Settings = { runMs: 8, warmupMs: 10, runs: 5 };
/**
 * One parse of a smaller size that takes longer than this stops its group: the reference
 * takes a few milliseconds for the largest case, and a quadratic reader fed 16 MiB in 64-byte
 * pieces would copy petabytes, so the larger sizes would never end.
 */
const SLOW_PARSE_MS = 500;

let sink = 0;

/** Runs `fn` `times` times; the elapsed nanoseconds. */
function time(fn: () => number, times: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < times; i++) sink += fn();
  return Number(process.hrtime.bigint() - start);
}

/**
 * The median nanoseconds per parse of each case, measured one case after the other: each
 * warms up (which also clears away the garbage the case before it left), then runs. Taking
 * the sizes in turns would leave each size's garbage for the next to collect: a 1 MiB run
 * after a 16 MiB one would pay for the larger body's collections.
 */
function measure(cases: Prepared[], settings: Settings): number[] {
  return cases.map((entry) => {
    let runs = 0;
    let elapsed = 0;
    // At least once more than the check did: a 16 MiB parse can outlast the whole warm-up.
    while (runs < 1 || elapsed < settings.warmupMs * 1e6) {
      elapsed += time(entry.run, 1);
      runs++;
    }
    const repeats = Math.max(1, Math.ceil((settings.runMs * 1e6) / (elapsed / runs)));
    const samples: number[] = [];
    for (let run = 0; run < settings.runs; run++) samples.push(time(entry.run, repeats) / repeats);
    return median(samples);
  });
}

/** Makes and checks each size of a group, smallest first; stops before a size that would take too long. */
function prepareGroup(group: CaseSpec[], parser: ParserModule): Prepared[] {
  return group.map((spec, i) => {
    const prepared = spec.prepare(parser);
    const start = process.hrtime.bigint();
    prepared.check();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const next = group[i + 1];
    if (next && ms > SLOW_PARSE_MS) {
      const what = (row: CaseSpec['row']) => (row.requests === undefined ? sizeLabel(row.size) : `${row.requests} requests`);
      throw new Error(`one parse of ${what(spec.row)} took ${Math.round(ms)} ms, where a linear parser takes a few: ${what(next.row)} was not run`);
    }
    return prepared;
  });
}

// glibc's malloc hands a freed body of megabytes back to the kernel, and the next one is
// page-faulted in again, page by page: on a virtual machine that costs about as much as
// parsing the bytes, more often for 16 MiB than for 1 MiB, and whatever the parser does.
// Told to keep freed memory (blocks up to 32 MiB from its heap, which it never trims), it
// leaves the parser's own cost to be measured. Other C libraries ignore the variable.
const ALLOCATOR = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824';
/** Set in the process that measures, started by runParserBench(). */
const MEASURING = 'COURSE_PARSER_BENCH_MEASURING';

/**
 * Measures the parser in `protocolFile` (relative to the repository, or absolute) and logs a
 * heading, a table and one verdict line per case; returns every row and verdict. It measures
 * in a process of its own, so that neither the caller's heap nor the C allocator's habits
 * (ALLOCATOR) weigh on the numbers. `quick` takes fewer and shorter runs (about 3 s instead
 * of 10), for a first look.
 */
export async function runParserBench(options: { protocolFile: string; log: (line: string) => void; quick?: boolean }): Promise<ParserReport> {
  const protocolFile = path.resolve(ROOT, options.protocolFile);
  const quick = options.quick ?? false;
  if (process.env[MEASURING] === '1') return measureHere(protocolFile, options.log, quick);

  const started = process.hrtime.bigint();
  const self = path.relative(ROOT, fileURLToPath(import.meta.url));
  const running = runTs(self, ['--protocol', protocolFile, '--json', ...(quick ? ['--quick'] : [])], { [MEASURING]: '1', GLIBC_TUNABLES: ALLOCATOR });
  // The child's table comes line by line on stderr, as it is measured; the report on stdout.
  let partial = '';
  running.child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) options.log(line);
  });
  const { stdout, stderr } = await running.finished;
  if (partial) options.log(partial);
  let parsed: ParserReport | { error: string };
  try {
    // JSON has no NaN: a cost that was not measured comes back as null.
    parsed = JSON.parse(stdout, (_, value: unknown) => (value === null ? Number.NaN : value)) as ParserReport | { error: string };
  } catch {
    throw new Error(`the parser benchmark stopped without a report:\n${stderr.trim()}`);
  }
  if ('error' in parsed) throw new Error(parsed.error);
  return { ...parsed, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function measureHere(protocolFile: string, log: (line: string) => void, quick: boolean): Promise<ParserReport> {
  const started = process.hrtime.bigint();
  const settings = quick ? QUICK : FULL;
  const shown = path.relative(ROOT, protocolFile).split(path.sep).join('/');
  const loaded = (await import(pathToFileURL(protocolFile).href)) as Partial<ParserModule>;
  const missing = (['HeadReader', 'parseRequestHead', 'BodyReader', 'ChunkedDecoder'] as const).filter((name) => typeof loaded[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`${shown} does not export ${missing.join(', ')}: the parser benchmark needs the final chapter's HeadReader, parseRequestHead, BodyReader and ChunkedDecoder`);
  }
  const parser = loaded as ParserModule;

  log(`Parser: ${shown} (median of ${settings.runs} runs of at least ${settings.runMs} ms per row${quick ? ', quick' : ''})`);
  const rows: ParserRow[] = [];
  // Inputs are made one group at a time and dropped after it, so that no group's garbage
  // collections walk another group's 16 MiB.
  for (const group of GROUPS) {
    try {
      const costs = measure(prepareGroup(group, parser), settings);
      group.forEach(({ row }, i) => {
        const nsPerParse = costs[i]!;
        rows.push({ ...row, nsPerByte: nsPerParse / row.size, ...(row.requests === undefined ? {} : { nsPerRequest: nsPerParse / row.requests }) });
      });
    } catch (error) {
      // A parser that throws or parses wrong is reported on its rows, and the others still run.
      const message = error instanceof Error ? error.message : String(error);
      for (const { row } of group) rows.push({ ...row, nsPerByte: Number.NaN, ...(row.requests === undefined ? {} : { nsPerRequest: Number.NaN }), error: message });
    }
  }

  const verdicts = evaluateFlatness(rows);
  const flat = verdicts.every((verdict) => verdict.flat);
  log('');
  log(parserTable(rows));
  log('');
  log(`Cost per byte (per request, pipelined) of the largest size over the smallest, at most ${FLAT_LIMIT}x:`);
  for (const verdict of verdicts) log(verdictLine(verdict));
  const notFlat = verdicts.filter((verdict) => !verdict.flat).length;
  log(
    notFlat === 0
      ? `Flat: ${verdicts.length} of ${verdicts.length}: the parser's cost grows in proportion to its input (linear time)`
      : `Not flat: ${notFlat} of ${verdicts.length} (✗ above): the parser's cost per byte grows with its input`,
  );
  // Read once, so that no engine may drop the parses as unused.
  if (sink < 0) log(String(sink));
  return { protocolFile: shown, quick, runs: settings.runs, rows, verdicts, flat, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      mine: { type: 'boolean' },
      protocol: { type: 'string' },
      json: { type: 'boolean' },
      quick: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(`npx tsx tools/bench/parser.ts [--mine | --protocol FILE] [--json] [--quick]
  Measures the last chapter's parser (the reference's protocol.ts, or yours with --mine):
  heads of 1, 4 and 16 KiB whole and one byte at a time, bodies of 1 and 16 MiB (by
  Content-Length and chunked) whole and 64 bytes at a time, and reads of 16 and 1024
  pipelined requests. Prints the cost per byte of each, and whether it stays flat as the
  sizes grow (the largest at most ${FLAT_LIMIT}x the smallest): flat is linear time.
  Exits 1 when a case is not flat.
    --protocol FILE   measure this protocol.ts instead
    --json            print the report as JSON, for tools (the table goes to stderr)
    --quick           fewer and shorter runs: about 3 s instead of 10`);
    return 0;
  }
  const last = listChapters().at(-1)!;
  const protocolFile = values.protocol ?? path.join(values.mine ? last.chapterDir : last.solutionDir, 'protocol.ts');
  const log = values.json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => console.log(line);
  try {
    const report = await runParserBench({ protocolFile, log, quick: values.quick ?? false });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    return report.flat ? 0 : 1;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (values.json) console.log(JSON.stringify({ error: message }));
    else console.error(message);
    return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
