// Chapter 07: a fixed pool of worker threads for CPU work, with a bounded queue.
//
// One thread serves every connection. A job that computes for a second on that thread stops
// every connection for that second: no reads, no writes, no timers. The pool moves such
// jobs to other threads. It starts at most `size` threads, each running one job at a time,
// and keeps at most `queueLimit` jobs waiting for one; a job beyond that is refused at once,
// and the server answers 503. A queue without a bound only hides overload: every waiting
// job costs memory, and its client has given up long before its turn comes.
//
// A thread that dies (its job ended it, or it ran out of memory) fails its job, and the next
// job gets a new thread: the pool never shrinks for good.
//
// Yours to write: run() for a pool of threads, stats() and close(), marked TODO(ch07). A pool
// of size 0 works already: it runs each job on the calling thread (and blocks it).
// startWorker() below starts a thread for you.

import { Worker } from 'node:worker_threads';
import { runJob, type Job, type JobResult, type Reply } from './cpu-job.ts';

/** The pool cannot take another job now: the server answers 503 with Retry-After. */
export class PoolFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoolFullError';
  }
}

/** The job threw, or the thread running it stopped: the server answers 500. */
export class JobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobError';
  }
}

export interface PoolOptions {
  /** Threads, at most. 0 means no pool: each job runs on the caller's thread and blocks it. */
  size: number;
  /** Jobs that may wait for a free thread; the next one is refused. */
  queueLimit: number;
}

export interface PoolStats {
  size: number;
  /** Threads running a job now. */
  busy: number;
  /** Jobs waiting for a thread. */
  queued: number;
  queueLimit: number;
  /** Threads started so far, replacements included. */
  started: number;
}

interface Task {
  job: Job;
  resolve: (result: JobResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  /** The job it runs now, if any. */
  task?: Task;
  /** What the thread threw, if it died of an exception. */
  error?: Error;
}

export class WorkerPool {
  constructor(private readonly options: PoolOptions) {}

  /** Runs a job on a free thread, or queues it; rejects with PoolFullError when the queue is full. */
  run(job: Job): Promise<JobResult> {
    if (this.options.size === 0) {
      // No pool: the job runs here, and nothing else on this thread runs until it is done.
      try {
        return Promise.resolve(runJob(job));
      } catch (error) {
        return Promise.reject(new JobError((error as Error).message));
      }
    }
    // TODO(ch07): start threads as jobs need them (startWorker(new URL('./cpu-job.ts',
    // import.meta.url))), at most options.size, one job each at a time: postMessage(job),
    // then the thread's 'message' is its Reply. Queue up to options.queueLimit jobs when all
    // are busy; refuse the next with PoolFullError. A thread's 'exit' while it runs a job
    // fails that job with a JobError, and a waiting job gets a new thread.
    return Promise.reject(
      new Error(`TODO(ch07): WorkerPool.run() in chapters/07-concurrency/pool.ts is not written yet: no thread ran the job (n=${job.n}).`),
    );
  }

  stats(): PoolStats {
    // TODO(ch07): count the threads that are busy and the jobs that wait.
    return { size: this.options.size, busy: 0, queued: 0, queueLimit: this.options.queueLimit, started: 0 };
  }

  /** Refuses new jobs, fails the waiting ones and stops every thread (a running job with it). */
  async close(): Promise<void> {
    // TODO(ch07): reject the waiting jobs with a JobError, and terminate() every thread.
  }
}

/**
 * Starts a worker thread on a TypeScript file. `new Worker(file)` is all it should take, but
 * Node 20 does not apply tsx's loader inside worker threads (nodejs/node#47747), so the
 * thread starts from two lines of JavaScript that register tsx in it first. Node 22.18 and
 * later read TypeScript themselves, and there `new Worker(file)` works as it is.
 */
function startWorker(file: URL): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(file.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`));
}
