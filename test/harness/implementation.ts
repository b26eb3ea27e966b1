// Which code a test file grades, and the helpers that turn what that code did into a verdict.
//
// A test file belongs to one chapter, but grades whichever implementation it is pointed at:
// COURSE_IMPL names a folder (`chapters/03-stream-reads`, `solutions/05-keep-alive`, ...).
// Without it, a test file grades the learner's own folder for its chapter. Because every
// chapter keeps the contract below, chapter 01's tests can grade chapter 08's code.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findProblem, type ExpectedResponse } from './http-check.ts';
import { fail, printfFormat, type FailureReport } from './report.ts';
import { READ_TIMEOUT_MS, type Exchange } from './wire.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What every chapter's server.ts exports (later chapters add options). */
export interface ServerContract<Options = object> {
  startServer(
    options: Options & { host?: string; port?: number; onError?: (error: unknown) => void },
  ): Promise<{ port: number; url: string; close(): Promise<void> }>;
}

export interface Implementation<Server, Client> {
  /** The folder, relative to the repository, with forward slashes. */
  dir: string;
  chapter: number;
  isSolution: boolean;
  /** For test names: `chapters/01-hello-socket`. */
  label: string;
  server: Server;
  client: Client;
  /** The command that starts this folder's server by hand on port 8080. */
  serverCommand: string;
  /** The command that runs this folder's client by hand. */
  clientCommand: string;
}

export interface Requirements<Server, Client> {
  server: ReadonlyArray<keyof Server & string>;
  client: ReadonlyArray<keyof Client & string>;
}

async function importModule(file: string, exports: ReadonlyArray<string>): Promise<Record<string, unknown>> {
  const relative = path.relative(REPO_ROOT, file).split(path.sep).join('/');
  if (!existsSync(file)) throw new Error(`${relative} is missing. Restore it with git, or copy it from solutions/.`);
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const missing = exports.filter((name) => typeof module[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(`${relative} must export ${missing.map((name) => `${name}()`).join(' and ')}: the tests call it.`);
  }
  return module;
}

/** Loads the server and client of the folder at `dir` (relative to the repository). */
export async function loadFolder<Server, Client>(
  dir: string,
  required: Requirements<Server, Client>,
): Promise<Implementation<Server, Client>> {
  const normalized = dir.split(/[\\/]+/).filter(Boolean).join('/');
  // .course/mutants/<name>/NN-name holds a reference with a mistake put in (see test/mutants).
  const match = /^(chapters|solutions|\.course\/mutants\/[a-z0-9-]+)\/(\d\d)-[a-z0-9-]+$/.exec(normalized);
  if (!match) throw new Error(`COURSE_IMPL must name a chapter folder such as chapters/01-hello-socket, not "${dir}"`);
  const isSolution = match[1] === 'solutions';
  const chapter = Number(match[2]);
  const absolute = path.join(REPO_ROOT, normalized);
  const [server, client] = await Promise.all([
    importModule(path.join(absolute, 'server.ts'), required.server),
    importModule(path.join(absolute, 'client.ts'), required.client),
  ]);
  const flag = isSolution ? ' --solution' : '';
  return {
    dir: normalized,
    chapter,
    isSolution,
    label: normalized,
    server: server as Server,
    client: client as Client,
    serverCommand: `npm run server -- ${chapter}${flag}`,
    clientCommand: `npm run client -- ${chapter}${flag}`,
  };
}

/** The implementation this test run grades: COURSE_IMPL, or the learner's folder for `chapter`. */
export function loadImplementation<Server, Client>(
  chapter: string,
  required: Requirements<Server, Client>,
): Promise<Implementation<Server, Client>> {
  return loadFolder(process.env.COURSE_IMPL ?? `chapters/${chapter}`, required);
}

/** The reference solution for the same chapter as `impl`, for differential grading. */
export function loadReference<Server, Client>(
  impl: Implementation<Server, Client>,
  required: Requirements<Server, Client>,
): Promise<Implementation<Server, Client>> {
  return loadFolder(`solutions/${impl.dir.split('/').at(-1)}`, required);
}

export interface ServerUnderTest {
  port: number;
  url: string;
  /** What the server reported through `onError` since the last `clearErrors()`, oldest first. */
  errors: unknown[];
  /** Forgets the errors so far; call it before each test that shares a server. */
  clearErrors(): void;
  impl: Implementation<ServerContract, unknown>;
  close(): Promise<void>;
  /** The server's graceful stop (chapter 07 on); rejects if the server has none. */
  shutdown(graceMs?: number): Promise<void>;
}

/** Starts the implementation's server on 127.0.0.1, on a port the system picks. */
export async function startServerUnderTest<Options extends object>(
  impl: Implementation<ServerContract<Options>, unknown>,
  options?: Options,
): Promise<ServerUnderTest> {
  const errors: unknown[] = [];
  const running = await impl.server.startServer({
    ...(options as Options),
    host: '127.0.0.1',
    port: 0,
    onError: (error: unknown) => errors.push(error),
  });
  return {
    port: running.port,
    url: `http://127.0.0.1:${running.port}`,
    errors,
    clearErrors: () => {
      errors.length = 0;
    },
    impl: impl as Implementation<ServerContract, unknown>,
    close: () => running.close(),
    shutdown: async (graceMs?: number) => {
      const { shutdown } = running as { shutdown?: (graceMs?: number) => Promise<void> };
      if (typeof shutdown !== 'function') throw new Error('startServer() must return an object with a shutdown() method (chapter 07)');
      await shutdown.call(running, graceMs);
    },
  };
}

/** Commands that replay `sent` against the server started by hand on port 8080. */
export function reproduce(impl: { serverCommand: string }, sent?: Buffer): string[] {
  const lines = [`${impl.serverCommand}      # in one terminal (starts the server on port 8080)`];
  if (!sent) return lines;
  const local = Buffer.from(sent.toString('latin1').replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:8080'), 'latin1');
  const simple = /^(GET|HEAD) (\/[^\s]*) HTTP\/1\.1\r\n[^]*?\r\n\r\n$/.exec(local.toString('latin1'));
  if (simple) {
    // Quoted when the shell would read a character of it (zsh expands "?" and "*").
    const url = `http://127.0.0.1:8080${simple[2]}`;
    const shown = /[?*&[\]{}()$;'"\\|<>!# ]/.test(url) ? `'${url.replaceAll("'", "'\\''")}'` : url;
    lines.push(`curl -v ${simple[1] === 'HEAD' ? '--head ' : ''}${shown}      # in another`);
  }
  lines.push(`printf '${printfFormat(local)}' | nc 127.0.0.1 8080`);
  return lines;
}

/**
 * fail() for a test of a server: the report carries what the server reported through
 * `onError`, and, when bytes were sent, the commands that send them again by hand.
 */
export function failServer(server: ServerUnderTest, report: FailureReport): never {
  return fail({ errors: server.errors, reproduce: report.sent ? reproduce(server.impl, report.sent) : undefined, ...report });
}

/** Fails with a full report unless `exchange` received the expected response. */
export function expectResponse(
  server: ServerUnderTest,
  exchange: Exchange,
  expected: ExpectedResponse,
  what: string,
): void {
  const problem = findProblem(exchange.received, expected, exchange.outcome === 'closed');
  if (!problem) return;
  failServer(server, { expected: what, problem, sent: exchange.sent, received: exchange.received, outcome: exchange.outcome });
}

/** Fails with a full report unless the server closed the connection after `exchange`. */
export function expectClosed(server: ServerUnderTest, exchange: Exchange, what: string): void {
  if (exchange.outcome === 'closed') return;
  failServer(server, { expected: what, sent: exchange.sent, received: exchange.received, outcome: exchange.outcome });
}

/**
 * Awaits a call into the learner's client, with a deadline; a rejection or a hang becomes a
 * report that says what the call was and what the scripted server received.
 */
export async function callClient<T>(
  what: string,
  call: () => Promise<T>,
  context: { received?: () => Buffer; timeoutMs?: number } = {},
): Promise<T> {
  const timeoutMs = context.timeoutMs ?? READ_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClientTimeout(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(call), deadline]);
  } catch (error) {
    const hung = error instanceof ClientTimeout;
    return fail({
      expected: `${what}: ${hung ? `it had not finished after ${timeoutMs / 1000} s` : 'it threw an error'}.`,
      sent: context.received?.(),
      sentLabel: 'the server received from the client',
      errors: hung ? [] : [error],
    });
  } finally {
    clearTimeout(timer);
  }
}

class ClientTimeout extends Error {
  constructor(ms: number) {
    super(`no result after ${ms} ms`);
  }
}

/**
 * What a call that should fail said: its error message, or a sentence saying that it
 * resolved instead (with what) or had not settled after `timeoutMs`. For expect(...).toMatch.
 */
export async function rejectionOf(call: () => Promise<unknown>, timeoutMs = READ_TIMEOUT_MS): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      Promise.resolve().then(call),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`(no answer: still waiting after ${timeoutMs / 1000} s)`)), timeoutMs);
      }),
    ]);
    const body = (value as { body?: unknown } | undefined)?.body;
    return `(it resolved instead${Buffer.isBuffer(body) ? `, with the body "${body.toString('latin1')}"` : ''})`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}
