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
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue: Task[] = [];
  private closed = false;
  private started = 0;

  constructor(private readonly options: PoolOptions) {}

  /** Runs a job on a free thread, or queues it; rejects with PoolFullError when the queue is full. */
  run(job: Job): Promise<JobResult> {
    if (this.closed) return Promise.reject(new JobError('the server is shutting down'));
    if (this.options.size === 0) {
      // No pool: the job runs here, and nothing else on this thread runs until it is done.
      try {
        return Promise.resolve(runJob(job));
      } catch (error) {
        return Promise.reject(new JobError((error as Error).message));
      }
    }
    return new Promise((resolve, reject) => {
      const task = { job, resolve, reject };
      // Threads start when the first jobs need them, not before: a server that never gets a
      // CPU job never pays for a thread.
      const slot = this.idle.pop() ?? (this.slots.size < this.options.size ? this.spawn() : undefined);
      if (slot) this.dispatch(slot, task);
      else if (this.queue.length < this.options.queueLimit) this.queue.push(task);
      else reject(new PoolFullError(`no thread is free (${this.options.size} in all) and the queue is full (${this.queue.length} waiting)`));
    });
  }

  stats(): PoolStats {
    const busy = [...this.slots].filter((slot) => slot.task).length;
    return { size: this.options.size, busy, queued: this.queue.length, queueLimit: this.options.queueLimit, started: this.started };
  }

  /** Refuses new jobs, fails the waiting ones and stops every thread (a running job with it). */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new JobError('the server is shutting down'));
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startWorker(new URL('./cpu-job.ts', import.meta.url)) };
    this.slots.add(slot);
    this.started += 1;
    slot.worker.on('message', (reply: Reply) => {
      const task = slot.task;
      slot.task = undefined;
      if (task) {
        if ('result' in reply) task.resolve(reply.result);
        else task.reject(new JobError(reply.error));
      }
      this.next(slot);
    });
    // An exception the thread did not catch (or a file it could not load); 'exit' follows.
    slot.worker.on('error', (error) => (slot.error = error));
    slot.worker.on('exit', (code) => {
      this.slots.delete(slot);
      const idle = this.idle.indexOf(slot);
      if (idle >= 0) this.idle.splice(idle, 1);
      const why = slot.error ? `: ${slot.error.message}` : '';
      slot.task?.reject(new JobError(`the thread running the job stopped (exit code ${code})${why}`));
      slot.task = undefined;
      // Its replacement starts now if jobs are waiting, else with the next job.
      const waiting = this.queue.shift();
      if (waiting && !this.closed) this.dispatch(this.spawn(), waiting);
    });
    return slot;
  }

  private dispatch(slot: Slot, task: Task): void {
    slot.task = task;
    slot.worker.postMessage(task.job);
  }

  private next(slot: Slot): void {
    const task = this.queue.shift();
    if (task) this.dispatch(slot, task);
    else this.idle.push(slot);
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
