// Chapter 07: concurrency. One thread serves every connection, so a handler that waits (on a
// timer) must not hold up the others, and CPU work goes to a pool of worker threads with a
// bounded queue (503 with Retry-After when it is full; 500 when a job fails, and the pool
// lives on). Answers on one connection still go out in request order (RFC 9112 §9.3.2),
// and only safe requests are worked on in parallel. shutdown() finishes what is in flight;
// CLUSTER_WORKERS=N runs N processes on one port. The client fetches many URLs over at most
// K connections per host.
//
// No test here measures a duration: each one checks an order of events (which answer came
// first), with jobs long enough that only a blocked thread could change that order.

import { createHash } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawConnection,
  callClient,
  contentLengthResponseEnd,
  fail,
  failServer,
  fieldValues,
  loadImplementation,
  readHead,
  splitResponses,
  startScriptedServer,
  startServerUnderTest,
  statusOf,
  type ScriptedConnection,
  type ServerContract,
  type ServerUnderTest,
} from './harness/index.ts';
import { runTs } from '../tools/spawn.ts';

interface ServerOptions {
  poolSize?: number;
  queueLimit?: number;
  idleTimeoutMs?: number;
}
interface Fetched {
  url: string;
  response?: { status: number; body: Buffer };
  error?: Error;
  lane: number;
}
interface Client {
  request(url: string): Promise<unknown>;
  fetchAll(urls: string[], options?: { connections?: number }): Promise<Fetched[]>;
}

const required = { server: ['startServer'], client: ['request', 'fetchAll'] } as const;
const impl = await loadImplementation<ServerContract<ServerOptions>, Client>('07-concurrency', required);

/** Rounds of SHA-256 that keep a thread busy for a good fraction of a second: far longer than a GET / takes. */
const LONG_JOB = 300_000;
/**
 * sha256Rounds(LONG_JOB), written down (change it with LONG_JOB): hashing it in the test would
 * take as long as the job, on the thread that also runs the server under test.
 */
const LONG_JOB_SHA256 = '50870b1fde453ed4ae362774497d24a9fd0927a4f958740bc933d048f3c3c717';
/** The answer to n rounds of SHA-256, starting from the empty string, as the server must compute it. */
const sha256Rounds = (n: number): string => {
  if (n === LONG_JOB) return LONG_JOB_SHA256;
  let digest = Buffer.alloc(0);
  for (let round = 0; round < n; round++) digest = createHash('sha256').update(digest).digest();
  return digest.toString('hex');
};

const get = (port: number, path: string, close = true): string =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
const oneResponse = (raw: Buffer): boolean => contentLengthResponseEnd(raw) !== null;
const bodyOf = (raw: Buffer): string => {
  const head = readHead(raw);
  return head ? raw.subarray(head.bodyAt).toString('utf8') : '';
};

/** Opens a connection and sends one request, without reading. */
async function start(port: number, path: string): Promise<RawConnection> {
  const connection = await RawConnection.open(port);
  await connection.send(get(port, path));
  return connection;
}

/**
 * Reads one whole response, or fails with what came, and the server's errors (a TODO among
 * them). With `status`, a response with another status fails the same way.
 */
async function answerOf(server: ServerUnderTest, connection: RawConnection, what: string, status?: number, timeoutMs = 10_000): Promise<Buffer> {
  const outcome = await connection.read(oneResponse, timeoutMs);
  const complete = oneResponse(connection.bytes);
  if (!complete || (status !== undefined && statusOf(connection.bytes) !== status)) {
    failServer(server, {
      expected: status === undefined || !complete ? what : `${what} (wanted status ${status}, got ${statusOf(connection.bytes)})`,
      sent: connection.sentBytes,
      received: connection.bytes,
      outcome: complete ? 'complete' : outcome,
    });
  }
  return connection.bytes;
}

describe.concurrent(`chapter 07 server (${impl.label}/server.ts)`, () => {
  let server: ServerUnderTest;
  beforeAll(async () => {
    server = await startServerUnderTest(impl, { poolSize: 2 });
  });
  afterAll(() => server.close());

  it('answers GET /slow?ms=N after a timer, while GET / on another connection is answered at once', async () => {
    const slow = await start(server.port, '/slow?ms=1000');
    const fast = await start(server.port, '/');
    try {
      const quick = await answerOf(server, fast, 'GET / on a second connection should be answered while /slow?ms=1000 waits on the first.', 200, 3000);
      const slowHadAnswered = slow.bytes.length > 0;
      const waited = await answerOf(server, slow, 'GET /slow?ms=1000 should be answered 200 once its timer fires.', 200);
      expect(
        { fast: statusOf(quick), slowAnsweredFirst: slowHadAnswered, slow: statusOf(waited), body: bodyOf(waited) },
        'GET / (sent after /slow?ms=1000, on another connection) is answered before /slow, which then says how long it waited',
      ).toEqual({ fast: 200, slowAnsweredFirst: false, slow: 200, body: 'waited 1000 ms\n' });
    } finally {
      slow.close();
      fast.close();
    }
  });

  it('answers 400 to /slow with a wait that is not a whole number of milliseconds up to a minute', async () => {
    const answers: Record<string, number | undefined> = {};
    for (const ms of ['-1', 'abc', '1.5', '60001', '0']) {
      const connection = await start(server.port, `/slow?ms=${ms}`);
      try {
        answers[ms] = statusOf(await answerOf(server, connection, `GET /slow?ms=${ms} should be answered.`, ms === '0' ? 200 : 400));
      } finally {
        connection.close();
      }
    }
    expect(answers, 'the status for each ms= (0 is a valid wait: no wait at all)').toEqual({ '-1': 400, abc: 400, '1.5': 400, '60001': 400, '0': 200 });
  });

  it('answers pipelined GET /slow then GET / in request order, though / is ready first', async () => {
    const connection = await RawConnection.open(server.port);
    try {
      await connection.send(get(server.port, '/slow?ms=300', false) + get(server.port, '/'));
      const outcome = await connection.read((raw) => splitResponses(raw).length >= 2, 5000);
      const responses = splitResponses(connection.bytes).map(bodyOf);
      if (responses.length < 2) {
        failServer(server, { expected: 'Two pipelined requests, GET /slow?ms=300 and GET /, should get two answers.', sent: connection.sentBytes, received: connection.bytes, outcome });
      }
      expect(responses, 'the bodies of the two answers, in the order they came: RFC 9112 §9.3.2 wants them in request order').toEqual(['waited 300 ms\n', 'Hello, World!']);
    } finally {
      connection.close();
    }
  });

  it('does not start a POST pipelined behind a slow GET until the GET is answered (RFC 9112 §9.3.2)', async () => {
    // Only safe requests may be worked on in parallel: the POST must not have run while the
    // GET before it is still waiting, so another connection cannot see what it stored yet.
    const own = await startServerUnderTest(impl, { poolSize: 1 });
    const connection = await RawConnection.open(own.port);
    try {
      await connection.send(
        `${get(own.port, '/slow?ms=500', false)}POST /data HTTP/1.1\r\nHost: 127.0.0.1:${own.port}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`,
      );
      await sleep(100); // long enough for a server that starts the POST at once to have done so
      const peek = await start(own.port, '/data');
      const during = bodyOf(await answerOf(own, peek, 'GET /data on another connection should be answered.', 200));
      peek.close();
      const outcome = await connection.read((raw) => splitResponses(raw).length >= 2, 5000);
      const statuses = splitResponses(connection.bytes).map(statusOf);
      if (statuses.length < 2) {
        failServer(own, { expected: 'GET /slow?ms=500 and the POST /data pipelined behind it should both be answered.', sent: connection.sentBytes, received: connection.bytes, outcome });
      }
      expect({ during, statuses }, 'what GET /data showed while the GET before the POST still waited, and the statuses of the GET and the POST').toEqual({
        during: '[]\n',
        statuses: [200, 201],
      });
    } finally {
      connection.close();
      await own.close();
    }
  });

  it('does not close a connection as idle while its answer is still being made', async () => {
    const own = await startServerUnderTest(impl, { idleTimeoutMs: 200 });
    const connection = await start(own.port, '/slow?ms=600');
    try {
      const answer = await answerOf(own, connection, 'GET /slow?ms=600 with an idle timeout of 200 ms should still be answered: a connection waiting for its answer is not idle.', 200);
      expect(statusOf(answer), 'the status of GET /slow?ms=600 with a 200 ms idle timeout').toBe(200);
    } finally {
      connection.close();
      await own.close();
    }
  });

  it('computes /cpu?n=N on the pool: N rounds of SHA-256, and 400 for an N that is not from 1 to 10000000', async () => {
    const answers: Record<string, unknown> = {};
    for (const n of ['3', '1000', '0', 'abc', '10000001']) {
      const connection = await start(server.port, `/cpu?n=${n}`);
      try {
        const raw = await answerOf(server, connection, `GET /cpu?n=${n} should be answered.`, /^[1-9]\d{0,6}$/.test(n) ? 200 : undefined);
        answers[n] = statusOf(raw) === 200 ? (JSON.parse(bodyOf(raw)) as { sha256: unknown }).sha256 : statusOf(raw);
      } finally {
        connection.close();
      }
    }
    expect(answers, 'the sha256 in the JSON answer for each good n, the status for each bad one').toEqual({
      '3': sha256Rounds(3),
      '1000': sha256Rounds(1000),
      '0': 400,
      abc: 400,
      '10000001': 400,
    });
  });

  it('answers GET / on another connection while a long /cpu job runs on the pool; with poolSize 0 GET / waits for the job', async () => {
    const blocking = await startServerUnderTest(impl, { poolSize: 0 });
    try {
      const orders: Record<string, string> = {};
      for (const [name, target] of [
        ['with a pool', server],
        ['with poolSize 0', blocking],
      ] as const) {
        const job = await start(target.port, `/cpu?n=${LONG_JOB}`);
        // A server that computes on its only thread also stops this timer, since the tests
        // run in its process: GET / then goes out only after the job is done.
        await sleep(100);
        const fast = await start(target.port, '/');
        try {
          await answerOf(target, fast, `GET / (${name}) should be answered.`, 200);
          const jobDone = oneResponse(job.bytes);
          const answer = await answerOf(target, job, `GET /cpu?n=${LONG_JOB} (${name}) should be answered.`, 200, 20_000);
          orders[name] = statusOf(answer) !== 200 ? `the job was answered ${statusOf(answer)}` : jobDone ? 'the job, then GET /' : 'GET /, then the job';
        } finally {
          job.close();
          fast.close();
        }
      }
      expect(orders, `which answer came first: a long /cpu job, or a GET / sent 100 ms after it on another connection`).toEqual({
        'with a pool': 'GET /, then the job',
        'with poolSize 0': 'the job, then GET /',
      });
    } finally {
      await blocking.close();
    }
  });

  it('runs two jobs at once on two threads, and gives each its own answer', async () => {
    // The long job is sent first and finishes last: a pool that hands out replies in the
    // order jobs were given, not by the thread that sent them, swaps the two digests.
    const long = await start(server.port, `/cpu?n=${LONG_JOB}`);
    await sleep(50);
    const short = await start(server.port, '/cpu?n=3');
    try {
      const answers = await Promise.all([
        answerOf(server, short, 'GET /cpu?n=3, sent while a long job runs on another thread, should be answered.', 200),
        answerOf(server, long, `GET /cpu?n=${LONG_JOB} should be answered.`, 200, 20_000),
      ]);
      const digests = answers.map((raw) => (JSON.parse(bodyOf(raw)) as { n: number; sha256: string }));
      expect(
        digests.map(({ n, sha256 }) => ({ n, matches: sha256 === sha256Rounds(n) })),
        'each answer: the n it names, and whether its digest is the right one for that n',
      ).toEqual([
        { n: 3, matches: true },
        { n: LONG_JOB, matches: true },
      ]);
    } finally {
      long.close();
      short.close();
    }
  });

  it('answers 503 with Retry-After to the third concurrent /cpu when one thread is busy and one job waits', async () => {
    const own = await startServerUnderTest(impl, { poolSize: 1, queueLimit: 1 });
    const jobs = await Promise.all([1, 2, 3].map(() => start(own.port, `/cpu?n=${LONG_JOB}`)));
    try {
      const answers = await Promise.all(jobs.map((job, i) => answerOf(own, job, `concurrent /cpu job ${i + 1} of 3 should be answered.`, undefined, 20_000)));
      const refused = answers.filter((raw) => statusOf(raw) === 503);
      const retryAfter = refused.map((raw) => fieldValues(readHead(raw)!, 'retry-after')[0] ?? '(none)');
      expect(
        { statuses: answers.map(statusOf).sort(), retryAfter: retryAfter.map((value) => /^\d+$/.test(value) || !Number.isNaN(Date.parse(value))) },
        'three concurrent jobs, one thread, a queue of one: two are done, one is refused 503 with a Retry-After in seconds or a date (RFC 9110 §10.2.3)',
      ).toEqual({ statuses: [200, 200, 503], retryAfter: [true] });
    } finally {
      jobs.forEach((job) => job.close());
      await own.close();
    }
  });

  it.each([
    ['throws', 'throw'],
    ['ends its thread', 'exit'],
  ])('answers 500 to a job that %s, and the next job on the same pool succeeds', async (_, how) => {
    const own = await startServerUnderTest(impl, { poolSize: 1 });
    try {
      const statuses: unknown[] = [];
      for (const path of [`/cpu?n=10&fail=${how}`, '/cpu?n=3', `/cpu?n=10&fail=${how}`, '/cpu?n=3']) {
        const connection = await start(own.port, path);
        try {
          const raw = await answerOf(own, connection, `GET ${path} should be answered.`, path.includes('fail') ? 500 : 200, 5000);
          statuses.push(statusOf(raw) === 200 ? (JSON.parse(bodyOf(raw)) as { sha256: unknown }).sha256 : statusOf(raw));
        } finally {
          connection.close();
        }
      }
      expect(statuses, `a pool of one thread: a job with fail=${how}, a good one, the same again (500, the digest, 500, the digest)`).toEqual([500, sha256Rounds(3), 500, sha256Rounds(3)]);
    } finally {
      await own.close();
    }
  });

  it('shutdown() closes idle connections at once, finishes the request in flight, then refuses new connections', async () => {
    const own = await startServerUnderTest(impl);
    const idle = await RawConnection.open(own.port);
    const busy = await RawConnection.open(own.port);
    try {
      await idle.send(get(own.port, '/', false));
      await answerOf(own, idle, 'GET / (kept alive) should be answered.', 200);
      await busy.send(get(own.port, '/slow?ms=1000', false));
      // The request is in flight once the server has read it. Nothing shows that from outside,
      // and a busy machine can take a while to get there: 50 ms was not always enough.
      await sleep(300);
      const stopping = own.shutdown(8_000).then(() => 'resolved', (error: Error) => `rejected: ${error.message}`);
      const idleOutcome = await idle.read(undefined, 3000);
      idle.close(); // as a client does once the server has closed
      const busyOutcome = await busy.read((raw) => oneResponse(raw), 5000);
      const busyClosed = await busy.read(undefined, 3000);
      busy.close();
      const stopped = await Promise.race([stopping, sleep(5000).then(() => 'still pending')]);
      const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect(own.port, '127.0.0.1');
        socket.once('connect', () => (socket.destroy(), resolve(false)));
        socket.once('error', () => resolve(true));
      });
      expect(
        { idle: idleOutcome, busy: busyOutcome, answer: bodyOf(busy.bytes), then: busyClosed, stopped, refused },
        'during shutdown(): the idle kept-alive connection is closed; GET /slow?ms=1000 in flight is answered, then closed; shutdown() resolves; a new connection is refused',
      ).toEqual({ idle: 'closed', busy: 'complete', answer: 'waited 1000 ms\n', then: 'closed', stopped: 'resolved', refused: true });
    } finally {
      idle.close();
      busy.close();
      await own.close();
    }
  });
});

describe(`chapter 07 cluster (${impl.label}/server.ts with CLUSTER_WORKERS=2)`, () => {
  it('answers from more than one process over many connections, and SIGTERM finishes the request in flight and leaves no process behind', async () => {
    const running = runTs(`${impl.dir}/server.ts`, [], { PORT: '0', CLUSTER_WORKERS: '2', POOL_SIZE: '1' });
    const report = (expected: string) =>
      fail({ expected, received: Buffer.from(`stdout:\n${running.stdout()}\nstderr:\n${running.stderr()}`), receivedLabel: 'the server printed' });
    try {
      const port = Number((await running.waitFor(/listening on http:\/\/[^\s]*:(\d+)/, 15_000).catch(() => report('With CLUSTER_WORKERS=2 the server should print "listening on http://HOST:PORT" once its workers listen.')))[1]);
      const pids = new Set<number>();
      for (let i = 0; i < 12; i++) {
        const connection = await start(port, '/info');
        const outcome = await connection.read(oneResponse, 5000);
        connection.close();
        if (outcome !== 'complete' && !oneResponse(connection.bytes)) report(`GET /info number ${i + 1} should be answered.`);
        pids.add((JSON.parse(bodyOf(connection.bytes)) as { pid: number }).pid);
      }
      const slow = await start(port, '/slow?ms=500');
      await sleep(100);
      running.child.kill('SIGTERM');
      const answer = await slow.read(oneResponse, 5000);
      slow.close();
      const finished = await Promise.race([running.finished, sleep(15_000).then(() => null)]);
      const alive = [...pids].filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      expect(
        { processes: pids.size > 1, primaryServed: pids.has(running.child.pid!), inFlight: answer === 'complete' ? bodyOf(slow.bytes) : answer, exit: finished?.code ?? 'still running', alive },
        'pids that answered GET /info (more than one, none the primary), the answer to /slow?ms=500 sent before SIGTERM, the exit code, and the workers still alive after',
      ).toEqual({ processes: true, primaryServed: false, inFlight: 'waited 500 ms\n', exit: 0, alive: [] });
    } finally {
      running.child.kill('SIGKILL');
    }
  });
});

describe.concurrent(`chapter 07 client (${impl.label}/client.ts fetchAll)`, () => {
  /** Answers every request on a connection with its own path, after a pause that shuffles the order they finish in. */
  const echoPaths = () =>
    startScriptedServer(async (connection: ScriptedConnection) => {
      for (;;) {
        const request = await connection.nextRequest(3000);
        if (!request) return;
        const path = request.toString('latin1').split(' ')[1]!;
        await sleep(Number(path.split('/').at(-1)) % 3 * 10);
        await connection.send(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
      }
    });

  it.each([
    ['by default', 'six connections', undefined, 6],
    ['with connections: 1', 'one connection', 1, 1],
    ['with connections: 3', 'three connections', 3, 3],
  ])('%s, fetches 20 URLs over %s (no more), and matches every answer to its URL', async (_, __, connections, most) => {
    const scripted = await echoPaths();
    try {
      const urls = Array.from({ length: 20 }, (_, i) => scripted.url(`/item/${i + 1}`));
      const results = await callClient(`fetchAll() of 20 URLs${connections ? ` with connections: ${connections}` : ''}`, () =>
        impl.client.fetchAll(urls, connections === undefined ? {} : { connections }),
        { timeoutMs: 10_000 },
      );
      expect(
        {
          opened: scripted.connections.length,
          matched: results.map((result) => (result.response ? `${result.url} -> ${result.response.body.toString()}` : `${result.url} -> ${result.error?.message}`)),
        },
        `the connections the server accepted, and each result's URL with the body it got (the server answers with the path)`,
      ).toEqual({ opened: most, matched: urls.map((url) => `${url} -> ${new URL(url).pathname}`) });
    } finally {
      await scripted.close();
    }
  });

  it('sends on several connections at once: a server that answers only when three requests are in is answered', async () => {
    // This server holds every answer until requests have come on three connections: a
    // client that waits for one answer before it sends the next request waits forever.
    let arrived = 0;
    let allArrived = (): void => {};
    const all = new Promise<void>((resolve) => (allArrived = resolve));
    const scripted = await startScriptedServer(async (connection) => {
      const request = await connection.nextRequest(3000);
      if (!request) return;
      if (++arrived === 3) allArrived();
      await Promise.race([all, sleep(3000)]);
      const path = request.toString('latin1').split(' ')[1]!;
      await connection.send(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
    });
    try {
      const urls = ['/a', '/b', '/c'].map((path) => scripted.url(path));
      const results = await callClient('fetchAll() of three URLs with connections: 3', () => impl.client.fetchAll(urls, { connections: 3 }), { timeoutMs: 6000 });
      expect(
        { arrivedTogether: arrived, bodies: results.map((result) => result.response?.body.toString() ?? result.error?.message) },
        'how many requests had arrived before the first answer went out, and the bodies',
      ).toEqual({ arrivedTogether: 3, bodies: ['/a', '/b', '/c'] });
    } finally {
      await scripted.close();
    }
  });

  it('prints one line per URL with its answer and connection, and a total, from the command line', async () => {
    const scripted = await echoPaths();
    try {
      const urls = ['/x/1', '/x/2', '/x/3'].map((path) => scripted.url(path));
      const { code, stdout, stderr } = await runTs(`${impl.dir}/client.ts`, ['--connections', '2', ...urls]).finished;
      const lines = urls.map((url) => stdout.split('\n').find((line) => line.includes(url)) ?? '');
      const wanted = { code: 0, answered: lines.map((line) => /200 OK/.test(line)), total: /3 requests over 2 connections/.test(stdout) };
      const seen = { code, answered: lines.map((line) => /200 OK/.test(line)), total: /3 requests over 2 connections/.test(stdout) };
      if (JSON.stringify(seen) !== JSON.stringify(wanted)) {
        fail({
          expected: 'client.ts --connections 2 URL URL URL should print a line per URL with "200 OK", then "3 requests over 2 connections ...", and exit 0.',
          received: Buffer.from(stdout + stderr),
          receivedLabel: `the client printed (exit code ${code})`,
        });
      }
    } finally {
      await scripted.close();
    }
  });
});
