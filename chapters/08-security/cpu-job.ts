// Chapter 07: the CPU-bound job behind GET /cpu, and the loop that runs it in a worker thread.
//
// The job is deliberately dull: SHA-256, applied n times, each round hashing the digest of
// the round before. Nothing in it waits, so while it runs the thread that runs it does
// nothing else, and its result is easy to check (the tests compute the same digest).
//
// This file is the entry point of every worker thread in pool.ts. Loaded on the main
// thread (by server.ts, for a server without a pool), it only exports runJob().

import { createHash } from 'node:crypto';
import { isMainThread, parentPort, threadId } from 'node:worker_threads';

export interface Job {
  /** How many rounds of SHA-256. */
  n: number;
  /** Make the job go wrong on purpose, to see what the server does: throw, or end the thread. */
  fail?: 'throw' | 'exit';
}

export interface JobResult {
  n: number;
  /** The hex digest after n rounds, starting from the empty string. */
  sha256: string;
  /** The thread that ran it: 0 is the main thread, the one that serves every connection. */
  thread: number;
  /** How long the job itself took, in milliseconds. */
  ms: number;
}

export function runJob(job: Job): JobResult {
  const started = performance.now();
  if (job.fail === 'throw') throw new Error(`job failed on purpose (fail=throw, n=${job.n})`);
  if (job.fail === 'exit') {
    // In a worker thread, process.exit() ends that thread only. On the main thread it would
    // end the whole server, every connection with it: that is the point of a pool.
    if (isMainThread) throw new Error('fail=exit would end the whole server: without a pool the job runs on its only thread');
    process.exit(1);
  }
  let digest = Buffer.alloc(0);
  for (let round = 0; round < job.n; round++) digest = createHash('sha256').update(digest).digest();
  return { n: job.n, sha256: digest.toString('hex'), thread: threadId, ms: Math.round(performance.now() - started) };
}

/** What a worker sends back for each job: its result, or why it failed. */
export type Reply = { result: JobResult } | { error: string };

if (!isMainThread && parentPort) {
  const port = parentPort;
  // One job at a time: the pool sends the next only after this one's reply.
  port.on('message', (job: Job) => {
    let reply: Reply;
    try {
      reply = { result: runJob(job) };
    } catch (error) {
      // A job that throws must not take the thread down with it: the thread is reused.
      reply = { error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}
