// `npm run bench -- --memory`: what the course's server holds in memory. Two measurements:
//   - resident memory with 1000 keep-alive connections open and idle (each has made one
//     request), against the same server at rest: what a connection costs;
//   - the growth of resident memory while 1 GiB is uploaded to POST /sha256, which hashes
//     the body as it arrives: a body streamed to its handler must not be held, so memory
//     stays flat however large the body is (target: under 64 MiB of growth). The digest the
//     server answers is checked against one computed here.
// Resident memory (RSS) is read from /proc on Linux and from `ps` elsewhere, every 50 ms.

import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { runTs } from '../spawn.ts';

const MiB = 1024 * 1024;
/** Enough connections to see what one costs above the noise of a garbage-collected heap. */
export const IDLE_CONNECTIONS = 1000;
/** A body far larger than the 1 MiB the server keeps whole: only streaming can take it. */
export const UPLOAD_BYTES = 1024 * MiB;
/** The issue's bound on growth during the upload: a server that held the body would grow by 1 GiB. */
export const UPLOAD_GROWTH_LIMIT = 64 * MiB;
/** The size of each write: a typical socket buffer's worth. */
const BLOCK_BYTES = 64 * 1024;

/** The resident memory of a process, in bytes. */
export function residentBytes(pid: number): number {
  try {
    // Linux: "VmRSS:   123456 kB" in /proc/PID/status.
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // Not Linux: ps says the same, in KiB.
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024;
}

export interface MemoryReport {
  restBytes: number;
  idle: { connections: number; bytes: number; perConnectionBytes: number } | { error: string };
  upload: { bytes: number; seconds: number; peakGrowthBytes: number; digestMatches: boolean; withinTarget: boolean } | { error: string };
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
const row = (label: string, value: string): string => `  ${`${label}:`.padEnd(42)} ${value}`;

/**
 * Sends one request and reads its whole answer (Content-Length framed), keeping the
 * connection open. (Not `for await` over the socket: leaving that loop destroys the socket.)
 */
function requestOn(socket: net.Socket, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const done = (error?: Error): void => {
      socket.off('data', onData).off('error', done).off('end', ended);
      if (error) reject(error);
      else resolve(received);
    };
    const ended = (): void => done(new Error(`the server closed the connection after ${received.length} bytes`));
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(received)?.[1];
      if (end >= 0 && length !== undefined && received.length >= end + 4 + Number(length)) done();
    };
    socket.on('data', onData).on('error', done).on('end', ended);
    socket.write(request);
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.off('error', reject);
      // An idle connection the server resets later (it is killed at the end) must not crash the bench.
      socket.on('error', () => socket.destroy());
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Opens `count` keep-alive connections, each after one request, and returns them, idle. */
async function openIdle(port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  try {
    // In batches, so the server's accept queue (its listen backlog) never overflows.
    for (let at = 0; at < count; at += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, count - at) }, () => connect(port)));
      sockets.push(...batch);
      await Promise.all(batch.map((socket) => requestOn(socket, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)));
    }
    return sockets;
  } catch (error) {
    sockets.forEach((socket) => socket.destroy());
    throw error;
  }
}

/** Uploads `bytes` to POST /sha256 and returns the digest the server answered. */
async function upload(port: number, block: Buffer, bytes: number): Promise<string> {
  const socket = await connect(port);
  const answer = new Promise<string>((resolve, reject) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
  socket.write(`POST /sha256 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n`);
  for (let sent = 0; sent < bytes; sent += block.length) {
    // Wait for the kernel to take what we wrote: the bench must not hold the body either.
    if (!socket.write(sent + block.length <= bytes ? block : block.subarray(0, bytes - sent))) await once(socket, 'drain');
  }
  const received = await answer;
  const body = received.slice(received.indexOf('\r\n\r\n') + 4).trim();
  if (!received.startsWith('HTTP/1.1 200')) throw new Error(`POST /sha256 was answered: ${JSON.stringify(received.slice(0, 200))}`);
  return body;
}

export async function runMemoryBench(options: { courseFile: string; log: (line: string) => void }): Promise<MemoryReport> {
  const { courseFile, log } = options;
  // Idle connections must outlive the measurement (the default idle timeout is 5 s), and
  // 1000 of them must fit under the connection cap (900 by default).
  const server = runTs(courseFile, [], {
    HOST: '127.0.0.1',
    PORT: '0',
    POOL_SIZE: '1',
    IDLE_TIMEOUT_MS: '600000',
    MAX_CONNECTIONS: String(IDLE_CONNECTIONS + 100),
  });
  try {
    const url = new URL((await server.waitFor(/listening on (http:\/\/[^\s]+)/, 20_000))[1]!);
    const port = Number(url.port);
    const pid = server.child.pid!;
    // Warm up: the first requests load and compile the code that every later one runs.
    const warm = await openIdle(port, 50);
    warm.forEach((socket) => socket.destroy());
    await sleep(300);
    const restBytes = residentBytes(pid);
    log(`Memory of ${courseFile} (resident, as the operating system counts it)`);
    log(row('at rest, after 50 requests', mib(restBytes)));

    let idle: MemoryReport['idle'];
    try {
      const sockets = await openIdle(port, IDLE_CONNECTIONS);
      await sleep(500);
      const bytes = residentBytes(pid);
      // Counted, not assumed: a connection the server (or this process) closed costs nothing.
      const open = sockets.filter((socket) => !socket.destroyed && !socket.readableEnded).length;
      if (open < sockets.length) throw new Error(`only ${open} of ${sockets.length} connections were still open when measured`);
      idle = { connections: open, bytes, perConnectionBytes: (bytes - restBytes) / open };
      log(row(`with ${IDLE_CONNECTIONS} idle keep-alive connections`, `${mib(bytes)} (+${mib(bytes - restBytes)}, about ${(idle.perConnectionBytes / 1024).toFixed(1)} KiB each)`));
      sockets.forEach((socket) => socket.destroy());
    } catch (error) {
      // EMFILE: this process may open fewer files than 1000 sockets need (ulimit -n).
      idle = { error: (error as Error).message };
      log(`  ${IDLE_CONNECTIONS} idle connections: could not open them (${idle.error}); try ulimit -n 4096`);
    }
    await sleep(500);

    let uploadReport: MemoryReport['upload'];
    try {
      const block = randomBytes(BLOCK_BYTES);
      const hash = createHash('sha256');
      for (let sent = 0; sent < UPLOAD_BYTES; sent += block.length) hash.update(sent + block.length <= UPLOAD_BYTES ? block : block.subarray(0, UPLOAD_BYTES - sent));
      const expected = hash.digest('hex');
      const before = residentBytes(pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, residentBytes(pid))), 50);
      const started = process.hrtime.bigint();
      let answered: string;
      try {
        answered = await upload(port, block, UPLOAD_BYTES);
      } finally {
        clearInterval(sampler);
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      peak = Math.max(peak, residentBytes(pid));
      const growth = peak - before;
      uploadReport = { bytes: UPLOAD_BYTES, seconds, peakGrowthBytes: growth, digestMatches: answered === expected, withinTarget: growth < UPLOAD_GROWTH_LIMIT };
      log(row(`1 GiB uploaded to POST /sha256`, `in ${seconds.toFixed(1)} s (${(UPLOAD_BYTES / MiB / seconds).toFixed(0)} MiB/s)`));
      log(row('growth while it was uploaded, at most', `${mib(growth)} (target: under ${mib(UPLOAD_GROWTH_LIMIT)}) ${uploadReport.withinTarget ? '✓' : '✗'}`));
      log(row('the digest it answered', `${answered}${uploadReport.digestMatches ? ' ✓ (computed here too)' : ` ✗ (not ${expected})`}`));
    } catch (error) {
      uploadReport = { error: (error as Error).message };
      log(`  1 GiB upload to POST /sha256 failed: ${uploadReport.error} ✗`);
    }
    return { restBytes, idle, upload: uploadReport };
  } finally {
    server.child.kill('SIGKILL');
  }
}
